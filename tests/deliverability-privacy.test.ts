/** Issue 13 and erasure: what the deliverability loop keeps about a person (bounce reports, webhook payloads, welcomes) goes with `subscribers erase`. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { processInboundMessage } from '../src/deliverability/bounce-service.ts';
import { bounceServiceDeps } from '../src/deliverability/runtime.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { parsePrivateAccess } from '../src/net/address-policy.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { SubscriberStore } from '../src/store/subscriber-store.ts';
import { WebhookStore } from '../src/store/webhook-store.ts';
import { eraseSubscriber, exportSubscriber } from '../src/subscribers/privacy.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';
import { hardBounceDsn } from './helpers/dsn.ts';

describe('erasure covers the deliverability loop', () => {
  let sink: SmtpSink;
  let ws: Workspace;

  beforeAll(async () => {
    sink = await startSmtpSink();
    ws = await openWorkspace({ SMTP_URL: sink.url, BOUNCE_DOMAIN: 'bounces.example.com' });
    await loadDemoWorkspace(ws.app);
  });

  afterAll(async () => {
    await sink?.close();
    await ws?.close();
  });

  test('bounce events and webhook payloads naming the person are deleted; the suppression stays, hashed', async () => {
    const webhooks = new WebhookStore(ws.app.stores.db);
    await webhooks.addEndpoint('http://127.0.0.1:9/hooks', 'whsec_dGVzdA==', ['subscriber.created', 'subscriber.bounced']);
    await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    const ada = sink.messages.find((m) => m.envelopeTo.includes('ada@example.com'));
    const dsn = hardBounceDsn({ returnPath: ada?.envelopeFrom ?? '', recipient: 'ada@example.com', status: '5.1.1', messageId: 'p1@mx' });
    await processInboundMessage(bounceServiceDeps(ws.app), Buffer.from(dsn), 'smtp', [ada?.envelopeFrom ?? '']);
    expect(await webhooks.scanAndQueue()).toBeGreaterThan(0);
    const mentions = async () => {
      const events = await ws.app.stores.db.withTables<{ delivery_events: { email: string } }>().selectFrom('delivery_events').select('email').where('email', '=', 'ada@example.com').execute();
      const payloads = (await webhooks.deliveries(1, 1000)).filter((d) => d.payload.includes('ada@example.com'));
      return events.length + payloads.length;
    };
    expect(await mentions()).toBeGreaterThan(0);
    // The export (right of access) shows the bounce with its report, and the welcome emails.
    const exported = await exportSubscriber(new SubscriberStore(ws.app.stores.db), 'ada@example.com', new Date());
    expect(exported.deliveryEvents).toEqual([expect.objectContaining({ kind: 'hard-bounce', status: '5.1.1', campaignId: 1, report: expect.stringContaining('Final-Recipient: rfc822; ada@example.com') })]);
    expect(exported.notes.join(' ')).not.toMatch(/does not track opens or clicks/);
    await eraseSubscriber(new SubscriberStore(ws.app.stores.db), 'ada@example.com', new Date());
    expect(await mentions()).toBe(0);
    const suppression = await ws.app.stores.db.selectFrom('suppressions').select(['email', 'reason']).where('reason', '=', 'hard-bounce').execute();
    expect(suppression).toEqual([{ email: null, reason: 'hard-bounce' }]);
  });
});
