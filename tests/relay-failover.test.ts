/**
 * A relay that answers 421 ("service not available", at the greeting or to a command) is unavailable: the message
 * goes to the next relay, nobody is marked failed; a greeting that refuses service is the relay's problem, not the
 * recipient's. Real smtp-server instances on loopback, a real campaign on a real SQLite file.
 */
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, test } from 'vitest';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { resumeCampaign } from '../src/sending/send-newsletter.ts';
import type { OutgoingMessage } from '../src/sending/ports.ts';
import { createRelayTransport, parseRelays, type RelayTransport } from '../src/smtp/relays.ts';
import { classifySmtpError } from '../src/smtp/smtp-transport.ts';
import type { ImportRowResult } from '../src/store/store-types.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

interface RefusingServer {
  readonly url: string;
  /** Connections, and MAIL FROM commands answered. */
  readonly seen: { connections: number; mailFrom: number };
}

/** A relay that answers 421: to every greeting, or to every MAIL FROM (then closes, as RFC 5321 says it should). */
async function startRefusingServer(when: 'greeting' | 'mail-from', reply = '4.3.2 Service not available, closing transmission channel', code = 421): Promise<RefusingServer> {
  const seen = { connections: 0, mailFrom: 0 };
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    onConnect(_session, callback) {
      seen.connections += 1;
      if (when === 'greeting') return callback(Object.assign(new Error(reply), { responseCode: code }));
      callback();
    },
    onMailFrom(_address, _session, callback) {
      seen.mailFrom += 1;
      callback(Object.assign(new Error(reply), { responseCode: code }));
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `smtp://127.0.0.1:${port}`, seen };
}

async function sink(): Promise<SmtpSink> {
  const s = await startSmtpSink({ countOnly: true });
  cleanups.push(() => s.close());
  return s;
}

function relays(setting: string): RelayTransport {
  const transport = createRelayTransport(parseRelays(setting), { poolSize: 2, dkim: null, defaultRatePerSecond: null, timeoutSeconds: 5 });
  cleanups.push(() => transport.close());
  return transport;
}

const message = (i: number): OutgoingMessage => ({
  envelopeTo: `reader${i}@example.com`,
  options: { envelope: { from: 'news@example.com', to: [`reader${i}@example.com`] }, raw: Buffer.from(`From: news@example.com\r\nTo: reader${i}@example.com\r\nSubject: Hi\r\n\r\nHello\r\n`), messageId: `<${i}@example.com>` },
});

async function* rows(n: number): AsyncGenerator<ImportRowResult> {
  for (let i = 1; i <= n; i += 1) yield { line: i + 1, ok: true, row: { email: `r${i}@failover.example`, name: '', firstName: '', lastName: '', attributes: {} } };
}

async function campaignOf(ws: Workspace, extra: number): Promise<number> {
  await loadDemoWorkspace(ws.app);
  const newsletter = await ws.app.stores.newsletters.findNewsletter('weekly');
  if (!newsletter) throw new Error('no newsletter');
  await ws.app.stores.audience.importSubscribers(newsletter.listId, rows(extra), { source: 'generated' });
  const { issue } = await buildIssue(ws.app.stores, newsletter, { publicUrl: ws.app.config.publicUrl });
  const { campaign } = await ws.app.stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: newsletter.listId });
  return campaign.id;
}

describe('421: the relay is unavailable', () => {
  test('classified as unavailable wherever it comes, and so is a greeting that refuses service', () => {
    const where = 'SMTP server smtp://a.example:25';
    const cases = [
      // The greeting (nodemailer: EPROTOCOL on CONN), EHLO, MAIL FROM / RCPT TO (EENVELOPE), after the data (EMESSAGE), a close with a 421.
      { code: 'EPROTOCOL', command: 'CONN', response: '421 4.3.2 Service not available', responseCode: 421 },
      { code: 'ECONNECTION', command: 'EHLO', response: '421 4.7.0 Too many connections', responseCode: 421 },
      { code: 'EENVELOPE', command: 'MAIL FROM', response: '421 4.3.2 System shutting down', responseCode: 421 },
      { code: 'EENVELOPE', command: 'RCPT TO', response: '421 4.7.0 Try again later, closing connection', responseCode: 421 },
      { code: 'EMESSAGE', command: 'DATA', response: '421 4.3.0 Out of resources', responseCode: 421 },
      { code: 'ECONNECTION', command: 'CONN', response: '421 4.4.2 Timeout, closing', responseCode: 421 },
      { code: 'EPROTOCOL', command: 'CONN', response: '554 5.3.2 No SMTP service here', responseCode: 554 },
    ];
    for (const c of cases) {
      const error = classifySmtpError(Object.assign(new Error(`failed: ${c.response}`), c), where);
      expect(error.kind, c.response).toBe('unavailable');
      expect(error.message, c.response).toBe(`${where} is not available: ${c.response}`);
      expect(error.responseCode, c.response).toBe(c.responseCode);
    }
    // A 4xx to one recipient is still that recipient's, a 5xx to RCPT TO a bounce, and a 5xx before closing a refusal of that message.
    expect(classifySmtpError(Object.assign(new Error('Connection closed unexpectedly: 554 5.7.1 Rejected as spam'), { code: 'ECONNECTION', command: 'CONN', responseCode: 554, response: '554 5.7.1 Rejected as spam' }), where).kind).toBe('permanent');
    expect(classifySmtpError(Object.assign(new Error('x'), { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 450, response: '450 4.2.0 Mailbox busy' }), where).kind).toBe('temporary');
    expect(classifySmtpError(Object.assign(new Error('x'), { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550, response: '550 5.1.1 No such user' }), where).kind).toBe('permanent');
  });

  test('a relay answering 421 at the greeting or to MAIL FROM: every message goes through the next relay, once', async () => {
    for (const when of ['greeting', 'mail-from'] as const) {
      const refusing = await startRefusingServer(when);
      const good = await sink();
      const transport = relays(`${refusing.url}?name=busy, ${good.url}?name=good`);
      for (let i = 0; i < 10; i += 1) await transport.send(message(i));
      expect(good.arrivals.map((a) => a.envelopeTo[0]), when).toEqual(Array.from({ length: 10 }, (_, i) => `reader${i}@example.com`));
      expect(refusing.seen.connections, when).toBeGreaterThan(0);
      const [busy, other] = transport.status();
      expect(busy, when).toMatchObject({ name: 'busy', up: false, failures: 1, lastError: expect.stringContaining('421') });
      expect(other, when).toMatchObject({ name: 'good', up: true, sent: 10 });
    }
  });

  test('a campaign over a relay that answers 421 and a good one: everyone is sent through the good one, nobody failed', async () => {
    const refusing = await startRefusingServer('mail-from');
    const good = await sink();
    const ws = await openWorkspace({ SMTP_URL: `${refusing.url}?name=busy, ${good.url}?name=good` });
    cleanups.push(() => ws.close());
    const id = await campaignOf(ws, 15);
    const result = await resumeCampaign(ws.app.sendDeps(), id);
    expect(result.status).toBe('sent');
    expect(result.counts).toMatchObject({ sent: 20, failed: 0, deferred: 0 });
    expect(good.arrivals).toHaveLength(20);
    expect(refusing.seen.mailFrom).toBeGreaterThan(0);
  });

  test('with only that relay, the campaign pauses for the SMTP server and nobody is failed', async () => {
    const refusing = await startRefusingServer('greeting');
    const ws = await openWorkspace({ SMTP_URL: refusing.url });
    cleanups.push(() => ws.close());
    const id = await campaignOf(ws, 0);
    const result = await resumeCampaign(ws.app.sendDeps(), id);
    expect(result.status).toBe('paused');
    expect(result.error).toContain('421 4.3.2 Service not available');
    expect(await ws.app.stores.campaigns.countSends(id)).toMatchObject({ failed: 0, sent: 0 });
  });
});
