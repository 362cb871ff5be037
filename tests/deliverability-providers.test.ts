/**
 * Provider webhooks (issue 13): Amazon SES via SNS, Postmark, SendGrid and Mailgun, each with a valid and an invalid
 * signature, through the real HTTP server (fastify inject) into the real store.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, createSign, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultSnsFetcher, snsStringToSign, verifySnsMessage, type SnsFetcher } from '../src/deliverability/provider-webhooks.ts';
import { deliverabilityRoutes } from '../src/deliverability/runtime.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { DeliverabilityStore } from '../src/store/deliverability-store.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ses-bounces';
const CERT_URL = 'https://sns.test.invalid/SimpleNotificationService-test.pem';

function rsaCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-sns-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=sns.amazonaws.com'], { stdio: 'ignore', timeout: 30_000 });
    return { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('provider webhooks', () => {
  let sink: SmtpSink;
  let ws: Workspace;
  let http: FastifyInstance;
  const now = new Date('2026-12-04T09:00:00.000Z');
  const sns = rsaCert();
  const confirmed: string[] = [];
  // The test-only override: this test's own certificate host is allowed; everything else is fetched from nowhere.
  const fetcher: SnsFetcher = {
    urlAllowed: (url) => url.protocol === 'https:' && url.hostname === 'sns.test.invalid',
    get: async (url) => {
      if (url === CERT_URL) return sns.cert;
      confirmed.push(url);
      return '<ConfirmSubscriptionResponse/>';
    },
  };
  const sendgrid = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const sendgridPublic = sendgrid.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const store = () => new DeliverabilityStore(ws.app.stores.db);

  beforeAll(async () => {
    sink = await startSmtpSink();
    ws = await openWorkspace(
      {
        SMTP_URL: sink.url,
        BOUNCE_DOMAIN: 'bounces.example.com',
        SES_SNS_TOPIC_ARNS: TOPIC,
        POSTMARK_WEBHOOK_AUTH: 'postmark:hook-password',
        SENDGRID_WEBHOOK_PUBLIC_KEY: sendgridPublic,
        MAILGUN_WEBHOOK_SIGNING_KEY: 'mailgun-signing-key-0123',
      },
      { clock: () => now },
    );
    await loadDemoWorkspace(ws.app);
    await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    http = await buildHttpServer({ stores: ws.app.stores, publicUrl: 'https://news.example.com', secret: ws.app.config.secret, mediaDir: join(ws.dataDir, 'media'), inbox: null, plugins: deliverabilityRoutes(ws.app, { sns: fetcher }) });
  });

  afterAll(async () => {
    await http?.close();
    await sink?.close();
    await ws?.close();
  });

  function snsMessage(fields: Record<string, string>): Record<string, string> {
    const message: Record<string, string> = { MessageId: `m-${Math.random()}`, TopicArn: TOPIC, Timestamp: now.toISOString(), SignatureVersion: '2', SigningCertURL: CERT_URL, ...fields };
    const signer = createSign('RSA-SHA256');
    signer.update(snsStringToSign(message));
    return { ...message, Signature: signer.sign(sns.key, 'base64') };
  }

  const sesBounce = (email: string, type: 'Permanent' | 'Transient') =>
    JSON.stringify({ notificationType: 'Bounce', bounce: { bounceType: type, bounceSubType: 'General', feedbackId: `fb-${email}-${type}`, bouncedRecipients: [{ emailAddress: email, status: type === 'Permanent' ? '5.1.1' : '4.2.2', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }] }, mail: { commonHeaders: { messageId: '<not-ours@example.com>' } } });

  test('SES via SNS: a SubscriptionConfirmation is confirmed; a signed bounce applies; a tampered one and a non-Amazon certificate URL are refused', async () => {
    const subscribe = snsMessage({ Type: 'SubscriptionConfirmation', Token: 'tok', Message: 'confirm', SubscribeURL: 'https://sns.test.invalid/?Action=ConfirmSubscription&Token=tok' });
    const confirm = await http.inject({ method: 'POST', url: '/webhooks/ses', headers: { 'content-type': 'text/plain; charset=UTF-8' }, payload: JSON.stringify(subscribe) });
    expect(confirm.statusCode).toBe(200);
    expect(confirmed).toEqual(['https://sns.test.invalid/?Action=ConfirmSubscription&Token=tok']);

    const valid = snsMessage({ Type: 'Notification', Message: sesBounce('ada@example.com', 'Permanent') });
    const ok = await http.inject({ method: 'POST', url: '/webhooks/ses', headers: { 'content-type': 'text/plain; charset=UTF-8' }, payload: JSON.stringify(valid) });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ applied: 1 });
    expect(await store().eventsForEmail('ada@example.com')).toEqual([expect.objectContaining({ kind: 'hard-bounce', source: 'ses', campaignId: 1, action: 'suppressed' })]);

    const tampered = { ...snsMessage({ Type: 'Notification', Message: sesBounce('grace@example.com', 'Permanent') }) };
    tampered.Message = sesBounce('linus@example.org', 'Permanent');
    const refused = await http.inject({ method: 'POST', url: '/webhooks/ses', payload: JSON.stringify(tampered), headers: { 'content-type': 'application/json' } });
    expect(refused.statusCode).toBe(401);
    expect((await ws.app.stores.audience.findSubscriberByEmail('linus@example.org'))?.status).toBe('active');

    // Without the test's override, only https://sns.<region>.amazonaws.com certificates are fetched.
    expect(await verifySnsMessage({ ...valid, SigningCertURL: 'https://evil.example.com/cert.pem' }, defaultSnsFetcher)).toMatch(/not an Amazon SNS address/);
    expect(await verifySnsMessage({ ...valid, SigningCertURL: 'https://sns.us-east-1.amazonaws.com.evil.example/cert.pem' }, defaultSnsFetcher)).toMatch(/not an Amazon SNS address/);
    expect(await verifySnsMessage({ ...valid, SigningCertURL: 'http://sns.us-east-1.amazonaws.com/cert.pem' }, defaultSnsFetcher)).toMatch(/not an Amazon SNS address/);
  });

  test('Postmark: basic auth right applies a HardBounce; wrong auth is 401', async () => {
    const body = JSON.stringify({ RecordType: 'Bounce', Type: 'HardBounce', ID: 4323372036854775807, Email: 'grace@example.com', Description: 'The server was unable to deliver your message', MessageID: 'pm-1' });
    const wrong = await http.inject({ method: 'POST', url: '/webhooks/postmark', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('postmark:nope').toString('base64')}` }, payload: body });
    expect(wrong.statusCode).toBe(401);
    expect((await ws.app.stores.audience.findSubscriberByEmail('grace@example.com'))?.status).toBe('active');
    const ok = await http.inject({ method: 'POST', url: '/webhooks/postmark', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('postmark:hook-password').toString('base64')}` }, payload: body });
    expect(ok.statusCode).toBe(200);
    expect((await ws.app.stores.audience.findSubscriberByEmail('grace@example.com'))?.status).toBe('bounced');
  });

  test('SendGrid: a valid ECDSA signature applies a spam report (complaint); a wrong one is 401', async () => {
    const payload = JSON.stringify([{ email: 'linus@example.org', event: 'spamreport', sg_event_id: 'sg-1', timestamp: 1 }, { email: 'linus@example.org', event: 'open', sg_event_id: 'sg-2' }]);
    const timestamp = String(Math.floor(now.getTime() / 1000));
    const signature = sign('sha256', Buffer.from(timestamp + payload), { key: sendgrid.privateKey, dsaEncoding: 'der' }).toString('base64');
    const headers = { 'content-type': 'application/json', 'x-twilio-email-event-webhook-timestamp': timestamp };
    const bad = await http.inject({ method: 'POST', url: '/webhooks/sendgrid', headers: { ...headers, 'x-twilio-email-event-webhook-signature': signature }, payload: payload.replace('spamreport', 'spamreport ') });
    expect(bad.statusCode).toBe(401);
    const ok = await http.inject({ method: 'POST', url: '/webhooks/sendgrid', headers: { ...headers, 'x-twilio-email-event-webhook-signature': signature }, payload });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ applied: 1 });
    expect((await ws.app.stores.audience.findSubscriberByEmail('linus@example.org'))?.status).toBe('complained');
  });

  test('Mailgun: a valid HMAC applies a temporary failure (soft bounce); a wrong one is 401; an old timestamp is refused', async () => {
    const timestamp = String(Math.floor(now.getTime() / 1000));
    const token = 'a'.repeat(50);
    const good = createHmac('sha256', 'mailgun-signing-key-0123').update(timestamp + token).digest('hex');
    const event = { id: 'mg-1', event: 'failed', severity: 'temporary', recipient: 'margaret@example.net', 'delivery-status': { code: 452, message: '4.2.2 Mailbox full' }, message: { headers: { 'message-id': 'x@example.com' } } };
    const post = (signature: string, ts = timestamp) => http.inject({ method: 'POST', url: '/webhooks/mailgun', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ signature: { timestamp: ts, token, signature }, 'event-data': event }) });
    expect((await post('0'.repeat(64))).statusCode).toBe(401);
    const old = String(Number(timestamp) - 3600);
    expect((await post(createHmac('sha256', 'mailgun-signing-key-0123').update(old + token).digest('hex'), old)).statusCode).toBe(401);
    const ok = await post(good);
    expect(ok.statusCode).toBe(200);
    expect(await store().eventsForEmail('margaret@example.net')).toEqual([expect.objectContaining({ kind: 'soft-bounce', status: '4.2.2', source: 'mailgun', action: 'counted' })]);
  });

  test('a provider whose setting is unset has no route', async () => {
    const bare = await openWorkspace();
    try {
      const server = await buildHttpServer({ stores: bare.app.stores, publicUrl: 'https://news.example.com', secret: bare.app.config.secret, mediaDir: join(bare.dataDir, 'media'), inbox: null, plugins: deliverabilityRoutes(bare.app) });
      expect((await server.inject({ method: 'POST', url: '/webhooks/mailgun', payload: '{}' })).statusCode).toBe(404);
      await server.close();
    } finally {
      await bare.close();
    }
  });
});
