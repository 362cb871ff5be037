/**
 * Issue 13 through `serve` (in-process startService): with BOUNCE_IMAP_URL and BOUNCE_SMTP_PORT set, the service
 * polls the bounce mailbox (a real Dovecot) and listens for bounces over SMTP; a hard bounce through either keeps the
 * person out of the next campaign.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startService, type Service } from '../src/service.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from './helpers/dovecot.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { REPO_ROOT } from './helpers/workspace.ts';
import { hardBounceDsn } from './helpers/dsn.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const dsn = (verp: string, rcpt: string) =>
  hardBounceDsn({ returnPath: verp, recipient: rcpt, status: '5.1.1', messageId: `${rcpt.replace('@', '.')}.dsn@mx.example.net`, diagnostic: '550 5.1.1 user unknown' });

describe.skipIf(!dovecotAvailable())('serve runs the bounce loop', () => {
  let sink: SmtpSink;
  let dovecot: Dovecot;
  let service: Service;
  let dir: string;
  const logs: string[] = [];
  let bouncePort = 0;

  beforeAll(async () => {
    sink = await startSmtpSink();
    dovecot = await startDovecot();
    dir = mkdtempSync(join(tmpdir(), 'mailroom-deliv-serve-'));
    cpSync(join(REPO_ROOT, 'data', 'articles'), join(dir, 'data', 'articles'), { recursive: true });
    bouncePort = await freePort();
    const config = loadConfig(
      {
        DATA_DIR: join(dir, 'data'),
        PORT: '0',
        SECRET: 'serve-deliv-test-secret-0123456789abcdefgh',
        SMTP_URL: sink.url,
        BOUNCE_DOMAIN: 'bounces.example.com',
        BOUNCE_IMAP_URL: dovecot.url,
        BOUNCE_POLL_SECONDS: '3600',
        BOUNCE_SMTP_PORT: String(bouncePort),
        BOUNCE_SMTP_HOST: '127.0.0.1',
        FEED_POLL_MINUTES: '0',
        SCHEDULER_TICK: '0 0 1 1 *',
      },
      dir,
    );
    service = await startService(config, { loadDemo: true, log: (line) => logs.push(line) });
  });

  afterAll(async () => {
    await service?.close();
    await dovecot?.stop();
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a hard bounce through the mailbox and one through the SMTP listener: neither person gets the next campaign', async () => {
    expect(logs.join('\n')).toContain(`Bounce receiver (SMTP) on 127.0.0.1:${bouncePort}`);
    expect(logs.join('\n')).toMatch(/Bounce mailbox imap:\/\/…@127\.0\.0\.1:\d+\/INBOX polled every 3600 s/);
    await sendNewsletter(service.app.sendDeps(), { newsletter: 'weekly' });
    const verpOf = (email: string) => sink.messages.find((m) => m.envelopeTo.includes(email))?.envelopeFrom ?? '';

    const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false });
    await client.connect();
    await client.append('INBOX', dsn(verpOf('ada@example.com'), 'ada@example.com'));
    await client.logout();
    await service.deliverability.pollNow();

    const transport = createTransport({ host: '127.0.0.1', port: bouncePort, secure: false, ignoreTLS: true });
    await transport.sendMail({ envelope: { from: '', to: [verpOf('grace@example.com')] }, raw: dsn(verpOf('grace@example.com'), 'grace@example.com') });
    transport.close();

    expect((await service.app.stores.audience.findSubscriberByEmail('ada@example.com'))?.status).toBe('bounced');
    expect((await service.app.stores.audience.findSubscriberByEmail('grace@example.com'))?.status).toBe('bounced');
    await sendNewsletter(service.app.sendDeps(), { newsletter: 'weekly', issue: 1, resend: true });
    expect(sink.countFor('ada@example.com')).toBe(1);
    expect(sink.countFor('grace@example.com')).toBe(1);
    expect(sink.countFor('linus@example.org')).toBe(2);
  });
});
