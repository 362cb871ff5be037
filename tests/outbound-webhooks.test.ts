/**
 * Outbound webhooks (issue 13): events found in the database, Standard Webhooks signatures checked the way a receiver
 * checks them, durable retries with backoff for about a day (store clock, no sleeps), a delivery log, and the SSRF guard.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { processInboundMessage } from '../src/deliverability/bounce-service.ts';
import { bounceServiceDeps } from '../src/deliverability/runtime.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { parsePrivateAccess } from '../src/net/address-policy.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { WebhookStore } from '../src/store/webhook-store.ts';
import { addWebhookEndpoint, dispatchWebhooks, parseEvents, RETRY_SCHEDULE_SECONDS, type WebhookPolicy } from '../src/webhooks/outbound.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';
import { hardBounceDsn } from './helpers/dsn.ts';

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What a receiver does with the Standard Webhooks headers (written from the spec, not from our code). */
function verifyStandardWebhook(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const id = String(headers['webhook-id']);
  const timestamp = String(headers['webhook-timestamp']);
  const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${id}.${timestamp}.${body}`).digest('base64');
  return String(headers['webhook-signature'])
    .split(' ')
    .some((s) => s === `v1,${expected}`);
}

describe('outbound webhooks', () => {
  let sink: SmtpSink;
  let ws: Workspace;
  let receiver: Server;
  let receiverUrl = '';
  const received: Received[] = [];
  let answer = 200;
  let now = new Date('2026-12-04T10:00:00.000Z');
  const clock = () => now;
  const allowLocal: WebhookPolicy = { access: parsePrivateAccess('127.0.0.1'), timeoutMs: 5000, userAgent: 'Mailroom/test' };
  const publicOnly: WebhookPolicy = { access: parsePrivateAccess(undefined), timeoutMs: 5000, userAgent: 'Mailroom/test' };
  let store: WebhookStore;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (c: Buffer) => (body += c.toString()));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(answer).end(answer === 200 ? 'ok' : 'try later');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hooks/mailroom`;
    sink = await startSmtpSink();
    ws = await openWorkspace({ SMTP_URL: sink.url, BOUNCE_DOMAIN: 'bounces.example.com' }, { clock });
    store = new WebhookStore(ws.app.stores.db, clock);
  });

  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
    await sink?.close();
    await ws?.close();
  });

  test('an endpoint on a private address is refused by the same guard as fetching; unknown events are named', async () => {
    await expect(addWebhookEndpoint(store, publicOnly, receiverUrl, ['subscriber.created'])).rejects.toThrow(/refused.*127\.0\.0\.1|loopback/i);
    await expect(addWebhookEndpoint(store, allowLocal, 'http://169.254.169.254/latest/meta-data', ['subscriber.created'])).rejects.toThrow(/refused/);
    await expect(addWebhookEndpoint(store, allowLocal, 'ftp://example.com/x', ['subscriber.created'])).rejects.toThrow(/webhook URL/);
    expect(() => parseEvents(['subscriber.created,subscriber.deleted'], '--events')).toThrow(/--events "subscriber.deleted": not an event/);
    expect(await store.listEndpoints()).toEqual([]);
  });

  test('events are delivered signed (Standard Webhooks): subscribers created, campaign started and finished, a bounce', async () => {
    const endpoint = await addWebhookEndpoint(store, allowLocal, receiverUrl, parseEvents([], '--events'));
    expect(endpoint.secret).toMatch(/^whsec_/);
    await loadDemoWorkspace(ws.app);
    await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    const ada = sink.messages.find((m) => m.envelopeTo.includes('ada@example.com'));
    const dsn = hardBounceDsn({ returnPath: ada?.envelopeFrom ?? '', recipient: 'ada@example.com', status: '5.1.1', messageId: 'd1@mx' });
    await processInboundMessage(bounceServiceDeps(ws.app), Buffer.from(dsn), 'smtp', [ada?.envelopeFrom ?? '']);

    const result = await dispatchWebhooks(store, allowLocal, clock);
    expect(result).toMatchObject({ delivered: result.queued, retrying: 0, failed: 0 });
    const types = received.map((r) => (JSON.parse(r.body) as { type: string }).type);
    expect(types.filter((t) => t === 'subscriber.created')).toHaveLength(5);
    expect(types).toEqual(expect.arrayContaining(['campaign.started', 'campaign.finished', 'subscriber.bounced']));
    for (const r of received) {
      expect(verifyStandardWebhook(endpoint.secret, r.headers, r.body)).toBe(true);
      expect(verifyStandardWebhook('whsec_' + Buffer.from('another key').toString('base64'), r.headers, r.body)).toBe(false);
    }
    const bounced = received.find((r) => r.body.includes('subscriber.bounced'));
    expect(JSON.parse(bounced?.body ?? '{}')).toMatchObject({ type: 'subscriber.bounced', data: { email: 'ada@example.com', reason: 'hard-bounce' } });
    // Nothing is sent twice: the next round finds the same events already queued.
    expect(await dispatchWebhooks(store, allowLocal, clock)).toMatchObject({ queued: 0, delivered: 0 });
  });

  test('a failing endpoint is retried with backoff for about a day, then given up; the delivery log shows each step', async () => {
    const [endpoint] = await store.listEndpoints();
    if (!endpoint) throw new Error('no endpoint');
    received.length = 0;
    answer = 503;
    const grace = (await ws.app.stores.audience.findSubscriberByEmail('grace@example.com'))?.id ?? 0;
    const { SubscriberStore } = await import('../src/store/subscriber-store.ts');
    now = new Date(now.getTime() + 60_000);
    await new SubscriberStore(ws.app.stores.db).unsubscribeAll(grace, now);

    expect(await dispatchWebhooks(store, allowLocal, clock)).toMatchObject({ queued: 1, delivered: 0, retrying: 1 });
    let [delivery] = await store.deliveries(endpoint.id, 1);
    expect(delivery).toMatchObject({ eventType: 'subscriber.unsubscribed', status: 'pending', attempts: 1, lastStatus: 503, nextAttemptAt: new Date(now.getTime() + 5000).toISOString() });
    // Not due yet: nothing is sent.
    expect(await dispatchWebhooks(store, allowLocal, clock)).toMatchObject({ delivered: 0, retrying: 0 });
    expect(received).toHaveLength(1);
    let elapsed = 0;
    for (const wait of RETRY_SCHEDULE_SECONDS) {
      now = new Date(now.getTime() + wait * 1000);
      elapsed += wait;
      await dispatchWebhooks(store, allowLocal, clock);
    }
    [delivery] = await store.deliveries(endpoint.id, 1);
    expect(delivery).toMatchObject({ status: 'failed', attempts: RETRY_SCHEDULE_SECONDS.length + 1, lastError: expect.stringContaining('HTTP 503') });
    expect(elapsed / 3600).toBeGreaterThanOrEqual(24);
    expect(elapsed / 3600).toBeLessThan(30);
    // Every attempt carried the same webhook-id (receivers deduplicate on it).
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    answer = 200;
  });

  test('a refusal during the SMTP transaction is a send.failed event (and a bounced one when permanent)', async () => {
    received.length = 0;
    answer = 200;
    now = new Date(now.getTime() + 60_000);
    sink.setRule((address) => (address === 'reader@example.com' ? '550 5.1.1 No such user' : undefined));
    await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly', issue: 1, resend: true });
    sink.setRule(null);
    await dispatchWebhooks(store, allowLocal, clock);
    const bodies = received.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
    expect(bodies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'send.failed', data: expect.objectContaining({ subscriber: expect.objectContaining({ email: 'reader@example.com' }) }) }),
        expect.objectContaining({ type: 'subscriber.bounced', data: expect.objectContaining({ email: 'reader@example.com' }) }),
      ]),
    );
  });

  test('a confirmation and a complaint are events too', async () => {
    received.length = 0;
    now = new Date(now.getTime() + 60_000);
    const { SubscriberStore } = await import('../src/store/subscriber-store.ts');
    const subscribers = new SubscriberStore(ws.app.stores.db);
    const listId = (await ws.app.stores.audience.findListByName('demo'))?.id ?? 0;
    const outcome = await subscribers.requestSignup({ listId, email: 'zoe@example.com', name: 'Zoe', firstName: 'Zoe', lastName: '', source: 'signup:form', ip: null, now });
    if (outcome.kind !== 'confirm') throw new Error(outcome.kind);
    await subscribers.confirmMembership(outcome.subscriberId, listId, null, now);
    const { DeliverabilityStore } = await import('../src/store/deliverability-store.ts');
    await new DeliverabilityStore(ws.app.stores.db, clock).recordEvent(
      { kind: 'complaint', email: 'linus@example.org', campaignId: null, subscriberId: null, status: 'abuse', detail: '', source: 'test', report: '', dedupeKey: 'complaint-linus' },
      { limit: 3, windowDays: 30 },
    );
    await dispatchWebhooks(store, allowLocal, clock);
    const bodies = received.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
    expect(bodies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'subscriber.created', data: { subscriber: expect.objectContaining({ email: 'zoe@example.com' }) } }),
        expect.objectContaining({ type: 'subscriber.confirmed', data: { subscriber: expect.objectContaining({ email: 'zoe@example.com' }), list: 'demo' } }),
        expect.objectContaining({ type: 'subscriber.complained', data: expect.objectContaining({ email: 'linus@example.org', reason: 'complaint' }) }),
        expect.objectContaining({ type: 'subscriber.unsubscribed', data: expect.objectContaining({ subscriber: expect.objectContaining({ email: 'linus@example.org' }) }) }),
      ]),
    );
  });
});
