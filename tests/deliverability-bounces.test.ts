/**
 * Issue 13, the deliverability loop: a signed VERP Return-Path per recipient; DSNs (Postfix, Exim, Microsoft,
 * Gmail) and ARF complaints read from a real IMAP mailbox (Dovecot) and from the inbound SMTP listener; a hard bounce
 * that arrives 5 minutes after the 250 keeps the person out of the next campaign.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { processInboundMessage } from '../src/deliverability/bounce-service.ts';
import { startBounceSmtpListener, type BounceSmtpListener } from '../src/deliverability/bounce-smtp.ts';
import { pollBounceMailbox } from '../src/deliverability/imap-poller.ts';
import { readInboundReport } from '../src/deliverability/inbound-report.ts';
import { bounceServiceDeps } from '../src/deliverability/runtime.ts';
import { parseVerp, verpAddress } from '../src/deliverability/verp.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { DeliverabilityStore } from '../src/store/deliverability-store.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from './helpers/dovecot.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, REPO_ROOT, type Workspace } from './helpers/workspace.ts';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const FIXTURES = join(REPO_ROOT, 'tests', 'fixtures', 'dsn');

function fixture(name: string, values: { verp: string; rcpt: string; messageId: string }): string {
  return readFileSync(join(FIXTURES, `${name}.eml`), 'utf8')
    .replaceAll('{{VERP}}', values.verp)
    .replaceAll('{{RCPT}}', values.rcpt)
    .replaceAll('{{RCPT_LOCAL}}', values.rcpt.split('@')[0] ?? '')
    .replaceAll('{{MESSAGE_ID}}', values.messageId)
    .replace(/\r?\n/g, '\r\n');
}

describe('DSN and ARF fixtures (RFC 3464, RFC 5965, several MTAs)', () => {
  const values = { verp: verpAddress(SECRET, 'bounces.example.com', { campaignId: 7, subscriberId: 42 }), rcpt: 'ada@example.com', messageId: '<7.16.0123456789ab@example.com>' };

  test.each([
    ['postfix-hard', '5.1.1', true, 'rfc3464'],
    ['microsoft-hard', '5.1.10', true, 'rfc3464'],
    ['gmail-hard', '5.1.1', true, 'rfc3464'],
    ['exim-hard', '5.1.1', true, 'plain-text'],
    ['postfix-delayed', '4.4.1', false, 'rfc3464'],
  ])('%s: a bounce for the recipient, status %s, hard %s', async (name, status, hard, format) => {
    const report = await readInboundReport(fixture(name, values));
    expect(report.kind).toBe('bounce');
    if (report.kind !== 'bounce') return;
    expect(report.format).toBe(format);
    expect(report.recipients).toEqual([expect.objectContaining({ email: 'ada@example.com', status, hard })]);
    expect(report.addresses.join(' ')).toContain(values.verp);
    expect(report.originalMessageId).toBe(values.messageId);
  });

  test('an ARF report is a complaint naming the recipient and the original message', async () => {
    const report = await readInboundReport(fixture('arf-complaint', values));
    expect(report).toMatchObject({ kind: 'complaint', feedbackType: 'abuse', email: 'ada@example.com', originalMessageId: values.messageId });
  });

  test('an auto-reply is not a bounce', async () => {
    expect((await readInboundReport(fixture('vacation-reply', values))).kind).toBe('other');
  });

  test('the VERP token is signed: another secret, or an edited id, is refused', () => {
    expect(parseVerp(SECRET, values.verp)).toEqual({ campaignId: 7, subscriberId: 42 });
    expect(parseVerp(SECRET, values.verp.toUpperCase())).toEqual({ campaignId: 7, subscriberId: 42 });
    expect(parseVerp('another-secret-that-is-long-enough-000000', values.verp)).toBeNull();
    expect(parseVerp(SECRET, values.verp.replace('bounces+7-16-', 'bounces+7-17-'))).toBeNull();
  });
});

describe('bounces after the 250', () => {
  let sink: SmtpSink;
  let ws: Workspace;
  let dovecot: Dovecot | null = null;
  let listener: BounceSmtpListener;
  let now = new Date('2026-12-04T06:00:00.000Z');
  const clock = () => now;
  const received = (email: string) => sink.messages.filter((m) => m.envelopeTo.includes(email));

  beforeAll(async () => {
    sink = await startSmtpSink();
    if (dovecotAvailable()) dovecot = await startDovecot();
    ws = await openWorkspace({ SMTP_URL: sink.url, BOUNCE_DOMAIN: 'bounces.example.com', SOFT_BOUNCE_LIMIT: '2', SOFT_BOUNCE_WINDOW_DAYS: '7', ...(dovecot ? { BOUNCE_IMAP_URL: dovecot.url } : {}) }, { clock });
    await loadDemoWorkspace(ws.app);
    const demo = (await ws.app.stores.audience.findListByName('demo'))?.id ?? 0;
    for (const email of ['ivy@example.com', 'jon@example.net', 'kim@example.org']) await ws.app.stores.audience.addSubscriber(demo, { email, name: '', firstName: '', lastName: '', attributes: {} }, 'test');
    listener = await startBounceSmtpListener(bounceServiceDeps(ws.app), { host: '127.0.0.1', port: 0, bounceDomain: 'bounces.example.com' });
    const report = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(report.counts).toMatchObject({ sent: 8 });
  });

  afterAll(async () => {
    await listener?.close();
    await dovecot?.stop();
    await sink?.close();
    await ws?.close();
  });

  function sent(email: string) {
    const message = received(email)[0];
    if (!message) throw new Error(`nothing was sent to ${email}`);
    return { verp: message.envelopeFrom, rcpt: email, messageId: message.parsed.messageId ?? '' };
  }

  test('each message carries its own signed Return-Path naming its send row', async () => {
    const ada = sent('ada@example.com');
    expect(ada.verp).toMatch(/^bounces\+[0-9a-z]+-[0-9a-z]+-[0-9a-f]{16}@bounces\.example\.com$/);
    const ref = parseVerp(ws.app.config.secret, ada.verp);
    const subscriber = await ws.app.stores.audience.findSubscriberByEmail('ada@example.com');
    expect(ref).toEqual({ campaignId: 1, subscriberId: subscriber?.id });
    expect(new Set(sink.messages.map((m) => m.envelopeFrom)).size).toBe(8);
  });

  test.skipIf(!dovecotAvailable())('IMAP: a hard bounce 5 minutes after the 250 suppresses at once; the next campaign does not mail them; other mail is left alone', async () => {
    if (!dovecot) throw new Error('dovecot did not start');
    const ada = sent('ada@example.com');
    now = new Date('2026-12-04T06:05:00.000Z');
    const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false });
    await client.connect();
    try {
      // Several MTAs' formats and a feedback-loop complaint, all through the mailbox; and one message that is none of these.
      await client.append('INBOX', fixture('postfix-hard', ada));
      await client.append('INBOX', fixture('exim-hard', sent('ivy@example.com')));
      await client.append('INBOX', fixture('gmail-hard', sent('jon@example.net')));
      await client.append('INBOX', fixture('arf-complaint', sent('kim@example.org')));
      await client.append('INBOX', fixture('vacation-reply', { ...sent('linus@example.org'), rcpt: 'linus@example.org' }));
      const summary = await pollBounceMailbox(bounceServiceDeps(ws.app), dovecot.url);
      expect(summary).toMatchObject({ read: 5, applied: 4, ignored: 1, unmatched: 0 });
      // Polled again: nothing is read twice.
      expect(await pollBounceMailbox(bounceServiceDeps(ws.app), dovecot.url)).toMatchObject({ read: 0 });
      const lock = await client.getMailboxLock('INBOX');
      try {
        const flags: Record<string, string[]> = {};
        for await (const m of client.fetch('1:*', { flags: true, envelope: true })) flags[m.envelope?.subject ?? ''] = [...(m.flags ?? [])];
        expect(flags['Undelivered Mail Returned to Sender']).toContain('\\Seen');
        expect(flags['Out of office: This week']).toEqual([]);
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
    const store = new DeliverabilityStore(ws.app.stores.db);
    const events = await store.eventsForEmail('ada@example.com');
    expect(events).toEqual([expect.objectContaining({ kind: 'hard-bounce', status: '5.1.1', source: 'imap', campaignId: 1, action: 'suppressed', createdAt: '2026-12-04T06:05:00.000Z' })]);
    expect((await ws.app.stores.audience.findSubscriberByEmail('ada@example.com'))?.status).toBe('bounced');
    expect((await store.eventsForEmail('ivy@example.com'))[0]).toMatchObject({ kind: 'hard-bounce', status: '5.1.1', source: 'imap' });
    expect((await store.eventsForEmail('jon@example.net'))[0]).toMatchObject({ kind: 'hard-bounce', status: '5.1.1', source: 'imap' });
    expect((await store.eventsForEmail('kim@example.org'))[0]).toMatchObject({ kind: 'complaint', status: 'abuse', source: 'imap', action: 'unsubscribed' });
    expect((await ws.app.stores.audience.findSubscriberByEmail('kim@example.org'))?.status).toBe('complained');

    const next = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly', issue: 1, resend: true });
    expect(next.mode).toBe('campaign');
    for (const gone of ['ada@example.com', 'ivy@example.com', 'jon@example.net', 'kim@example.org']) expect(received(gone)).toHaveLength(1);
    expect(received('grace@example.com').length).toBeGreaterThanOrEqual(2);
  });

  test('SMTP listener: a hard bounce (Microsoft format) to the VERP address suppresses; the next campaign does not mail them', async () => {
    const margaret = sent('margaret@example.net');
    now = new Date(now.getTime() + 5 * 60_000);
    const transport = createTransport({ host: '127.0.0.1', port: listener.port, secure: false, ignoreTLS: true });
    await transport.sendMail({ envelope: { from: '', to: [margaret.verp] }, raw: fixture('microsoft-hard', margaret) });
    // Mail for another domain is refused (the listener is no open relay).
    await expect(transport.sendMail({ envelope: { from: 'x@example.org', to: ['someone@example.org'] }, raw: 'Subject: x\r\n\r\nx\r\n' })).rejects.toThrow(/550|relay/);
    transport.close();
    const events = await new DeliverabilityStore(ws.app.stores.db).eventsForEmail('margaret@example.net');
    expect(events).toEqual([expect.objectContaining({ kind: 'hard-bounce', status: '5.1.10', source: 'smtp', action: 'suppressed' })]);
    const before = received('margaret@example.net').length;
    await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly', issue: 1, resend: true });
    expect(received('margaret@example.net')).toHaveLength(before);
  });

  test('a forged bounce (VERP signed with another secret, unknown Message-ID) changes nothing', async () => {
    const forged = verpAddress('another-secret-that-is-long-enough-000000', 'bounces.example.com', { campaignId: 1, subscriberId: 2 });
    const result = await processInboundMessage(bounceServiceDeps(ws.app), Buffer.from(fixture('gmail-hard', { verp: forged, rcpt: 'grace@example.com', messageId: '<1.2.0123456789ab@example.com>' })), 'smtp', [forged]);
    expect(result.outcome).toBe('unmatched');
    expect((await ws.app.stores.audience.findSubscriberByEmail('grace@example.com'))?.status).toBe('active');
  });

  test('soft bounces count, and suppress after SOFT_BOUNCE_LIMIT within the window; the same report twice counts once', async () => {
    const linus = sent('linus@example.org');
    const deps = bounceServiceDeps(ws.app);
    const first = fixture('postfix-delayed', linus);
    expect(await processInboundMessage(deps, Buffer.from(first), 'smtp', [linus.verp])).toMatchObject({ outcome: 'applied', events: [expect.objectContaining({ kind: 'soft-bounce', action: 'counted' })] });
    expect(await processInboundMessage(deps, Buffer.from(first), 'smtp', [linus.verp])).toMatchObject({ events: [expect.objectContaining({ action: 'duplicate' })] });
    expect((await ws.app.stores.audience.findSubscriberByEmail('linus@example.org'))?.status).toBe('active');
    now = new Date(now.getTime() + 3600_000);
    const second = first.replace('<20261204070500.A1B2C3D4E5@mail.example.net>', '<20261204080500.B2C3D4E5F6@mail.example.net>');
    expect(await processInboundMessage(deps, Buffer.from(second), 'smtp', [linus.verp])).toMatchObject({ events: [expect.objectContaining({ kind: 'soft-bounce', action: 'suppressed' })] });
    expect((await ws.app.stores.audience.findSubscriberByEmail('linus@example.org'))?.status).toBe('bounced');
  });

  test('Exim and Gmail bounces through the SMTP listener; an ARF complaint unsubscribes from every list and suppresses, the report kept', async () => {
    const deps = bounceServiceDeps(ws.app);
    const grace = sent('grace@example.com');
    expect(await processInboundMessage(deps, Buffer.from(fixture('exim-hard', grace)), 'smtp', [grace.verp])).toMatchObject({ outcome: 'applied', events: [expect.objectContaining({ kind: 'hard-bounce', status: '5.1.1' })] });
    const reader = sent('reader@example.com');
    // Found by the exact Message-ID of the send when no VERP address is left in the report.
    const gmail = fixture('gmail-hard', { ...reader, verp: 'news@example.com' });
    expect(await processInboundMessage(deps, Buffer.from(gmail), 'imap')).toMatchObject({ outcome: 'applied', events: [expect.objectContaining({ kind: 'hard-bounce', email: 'reader@example.com' })] });

    const ws2Store = new DeliverabilityStore(ws.app.stores.db, clock);
    const ada = sent('ada@example.com');
    const complaint = await processInboundMessage(deps, Buffer.from(fixture('arf-complaint', ada)), 'imap');
    expect(complaint).toMatchObject({ outcome: 'applied', events: [expect.objectContaining({ kind: 'complaint', status: 'abuse', action: 'unsubscribed' })] });
    const subscriber = await ws.app.stores.audience.findSubscriberByEmail('ada@example.com');
    expect(subscriber?.status).toBe('complained');
    const memberships = await ws.app.stores.db.selectFrom('list_memberships').select('status').where('subscriber_id', '=', subscriber?.id ?? 0).execute();
    expect(memberships.every((m) => m.status === 'unsubscribed')).toBe(true);
    const suppression = await ws.app.stores.db.selectFrom('suppressions').select('reason').where('email', '=', 'ada@example.com').executeTakeFirst();
    expect(suppression?.reason).toBe('complaint');
    const event = (await ws2Store.eventsForEmail('ada@example.com')).find((e) => e.kind === 'complaint');
    expect(await ws2Store.eventReport(event?.id ?? 0)).toContain('Feedback-Type: abuse');
  });
});
