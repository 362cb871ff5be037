/**
 * Bounces and complaints reported by sending providers over HTTP, each checked by its own signature scheme before
 * anything is believed:
 *   POST /webhooks/ses       Amazon SES via SNS: the SNS message signature (v1 SHA1 / v2 SHA256) checked against the
 *                            signing certificate, fetched only from https://sns.<region>.amazonaws.com; the topic must be
 *                            one of SES_SNS_TOPIC_ARNS; a SubscriptionConfirmation is confirmed by visiting its SubscribeURL.
 *   POST /webhooks/postmark  HTTP basic auth (POSTMARK_WEBHOOK_AUTH, user:password).
 *   POST /webhooks/sendgrid  ECDSA P-256 signature over timestamp + body (SENDGRID_WEBHOOK_PUBLIC_KEY).
 *   POST /webhooks/mailgun   HMAC-SHA256 of timestamp + token (MAILGUN_WEBHOOK_SIGNING_KEY).
 * A route exists only when its setting is set. Signed timestamps older than 15 minutes are refused (replays).
 */
import { createHmac, createPublicKey, createVerify, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DeliveryEventKind } from '../store/deliverability-store.ts';
import { processProviderEvent, type BounceServiceDeps, type ProviderEvent } from './bounce-service.ts';

const MAX_SKEW_MS = 15 * 60_000;

export interface ProviderWebhookSettings {
  readonly sesTopicArns: readonly string[];
  readonly postmarkWebhookAuth: string | null;
  readonly sendgridWebhookPublicKey: string | null;
  readonly mailgunWebhookSigningKey: string | null;
}

/** How SNS certificates and subscription confirmations are fetched; tests inject their own (and their own host rule). */
export interface SnsFetcher {
  /** Whether a SigningCertURL or SubscribeURL may be fetched at all. Default: https on sns.<region>.amazonaws.com only. */
  readonly urlAllowed: (url: URL) => boolean;
  readonly get: (url: string) => Promise<string>;
}

export function isAmazonSnsUrl(url: URL): boolean {
  return url.protocol === 'https:' && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(url.hostname) && (url.port === '' || url.port === '443');
}

export const defaultSnsFetcher: SnsFetcher = {
  urlAllowed: isAmazonSnsUrl,
  async get(url) {
    const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
    return response.text();
  },
};

// ---------------------------------------------------------------- pure verifiers

type SnsMessage = Record<string, unknown>;

const SNS_NOTIFICATION_FIELDS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
const SNS_SUBSCRIPTION_FIELDS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];

/** The string SNS signs: each present field's name and value, one per line, in its fixed order. */
export function snsStringToSign(message: SnsMessage): string {
  const fields = message.Type === 'Notification' ? SNS_NOTIFICATION_FIELDS : SNS_SUBSCRIPTION_FIELDS;
  return fields
    .filter((f) => typeof message[f] === 'string')
    .map((f) => `${f}\n${String(message[f])}\n`)
    .join('');
}

const certCache = new Map<string, string>();

/** Null when the SNS message is genuine, else why not. */
export async function verifySnsMessage(message: SnsMessage, fetcher: SnsFetcher): Promise<string | null> {
  const certUrl = typeof message.SigningCertURL === 'string' ? message.SigningCertURL : '';
  let parsed: URL;
  try {
    parsed = new URL(certUrl);
  } catch {
    return `SigningCertURL ${JSON.stringify(certUrl)} is not a URL`;
  }
  if (!fetcher.urlAllowed(parsed)) return `SigningCertURL ${JSON.stringify(certUrl)} is not an Amazon SNS address (https://sns.<region>.amazonaws.com/…)`;
  const version = String(message.SignatureVersion ?? '');
  if (version !== '1' && version !== '2') return `SignatureVersion ${JSON.stringify(version)} is not 1 or 2`;
  if (typeof message.Signature !== 'string') return 'no Signature';
  let cert = certCache.get(certUrl);
  if (!cert) {
    try {
      cert = await fetcher.get(certUrl);
    } catch (error) {
      return `the signing certificate could not be fetched: ${(error as Error).message}`;
    }
    if (!cert.includes('BEGIN CERTIFICATE')) return 'the signing certificate is not a PEM certificate';
    certCache.set(certUrl, cert);
  }
  const verifier = createVerify(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
  verifier.update(snsStringToSign(message), 'utf8');
  try {
    return verifier.verify(cert, message.Signature, 'base64') ? null : 'the signature does not match';
  } catch (error) {
    return `the signature could not be checked: ${(error as Error).message}`;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function verifyPostmarkAuth(header: string | undefined, expected: string): boolean {
  if (!header?.startsWith('Basic ')) return false;
  return safeEqual(Buffer.from(header.slice(6).trim(), 'base64').toString('utf8'), expected);
}

export function sendgridPublicKey(base64OrPem: string): KeyObject {
  const value = base64OrPem.trim();
  return value.includes('BEGIN PUBLIC KEY') ? createPublicKey(value) : createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' });
}

export function verifySendgrid(key: KeyObject, rawBody: string, signature: string | undefined, timestamp: string | undefined): boolean {
  if (!signature || !timestamp) return false;
  try {
    return verifySignature('sha256', Buffer.from(timestamp + rawBody, 'utf8'), { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

export function verifyMailgun(signingKey: string, signature: { timestamp?: unknown; token?: unknown; signature?: unknown } | undefined): boolean {
  if (!signature || typeof signature.timestamp !== 'string' || typeof signature.token !== 'string' || typeof signature.signature !== 'string') return false;
  const expected = createHmac('sha256', signingKey).update(signature.timestamp + signature.token).digest('hex');
  return safeEqual(expected, signature.signature.toLowerCase());
}

function fresh(seconds: number, now: Date): boolean {
  return Number.isFinite(seconds) && Math.abs(now.getTime() - seconds * 1000) <= MAX_SKEW_MS;
}

// ---------------------------------------------------------------- provider payloads → events

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function sesEvents(notification: Record<string, unknown>, snsMessageId: string, raw: string): ProviderEvent[] {
  const type = str(notification.notificationType || notification.eventType);
  const mail = obj(notification.mail);
  const common = obj(mail.commonHeaders);
  const messageId = str(common.messageId) || str(arr(mail.headers).map(obj).find((h) => str(h.name).toLowerCase() === 'message-id')?.value) || null;
  if (type === 'Bounce') {
    const bounce = obj(notification.bounce);
    const hard = str(bounce.bounceType) === 'Permanent';
    return arr(bounce.bouncedRecipients).map(obj).map((r) => ({
      provider: 'ses' as const,
      kind: (hard ? 'hard-bounce' : 'soft-bounce') as DeliveryEventKind,
      email: str(r.emailAddress),
      status: str(r.status) || (hard ? '5.0.0' : '4.0.0'),
      detail: str(r.diagnosticCode) || `${str(bounce.bounceType)}/${str(bounce.bounceSubType)}`,
      messageId,
      eventId: str(bounce.feedbackId) || snsMessageId,
      report: raw,
    }));
  }
  if (type === 'Complaint') {
    const complaint = obj(notification.complaint);
    return arr(complaint.complainedRecipients).map(obj).map((r) => ({
      provider: 'ses' as const,
      kind: 'complaint' as const,
      email: str(r.emailAddress),
      status: str(complaint.complaintFeedbackType) || 'abuse',
      detail: str(complaint.userAgent),
      messageId,
      eventId: str(complaint.feedbackId) || snsMessageId,
      report: raw,
    }));
  }
  return [];
}

export function postmarkEvents(body: Record<string, unknown>, raw: string): ProviderEvent[] {
  const record = str(body.RecordType);
  const email = str(body.Email);
  const eventId = str(body.ID) || str(body.MessageID);
  if (record === 'Bounce' && (body.Type === 'HardBounce' || body.Type === 'SoftBounce' || body.Type === 'Transient')) {
    const hard = body.Type === 'HardBounce';
    return [{ provider: 'postmark', kind: hard ? 'hard-bounce' : 'soft-bounce', email, status: hard ? '5.0.0' : '4.0.0', detail: str(body.Description) || str(body.Details), messageId: null, eventId, report: raw }];
  }
  if (record === 'SpamComplaint') return [{ provider: 'postmark', kind: 'complaint', email, status: 'abuse', detail: str(body.Description), messageId: null, eventId, report: raw }];
  return [];
}

export function sendgridEvents(body: unknown, raw: string): ProviderEvent[] {
  return arr(body)
    .map(obj)
    .flatMap((e): ProviderEvent[] => {
      const event = str(e.event);
      const status = str(e.status);
      const base = { provider: 'sendgrid' as const, email: str(e.email), detail: str(e.reason), messageId: str(e['smtp-id']) || null, eventId: str(e.sg_event_id), report: JSON.stringify(e) };
      if (event === 'bounce') {
        const hard = str(e.type) !== 'blocked' && !status.startsWith('4');
        return [{ ...base, kind: hard ? 'hard-bounce' : 'soft-bounce', status: status || (hard ? '5.0.0' : '4.0.0') }];
      }
      if (event === 'spamreport') return [{ ...base, kind: 'complaint', status: 'abuse' }];
      return [];
    })
    .map((e) => ({ ...e, report: e.report || raw }));
}

export function mailgunEvents(body: Record<string, unknown>, raw: string): ProviderEvent[] {
  const data = obj(body['event-data']);
  const event = str(data.event);
  const headers = obj(obj(data.message).headers);
  const messageId = str(headers['message-id']) || null;
  const base = { provider: 'mailgun' as const, email: str(data.recipient), messageId, eventId: str(data.id), report: raw };
  if (event === 'failed') {
    const hard = str(data.severity) === 'permanent';
    const status = obj(data['delivery-status']);
    const code = /\d\.\d{1,3}\.\d{1,3}/.exec(str(status.message) + ' ' + str(status.description))?.[0] ?? (hard ? '5.0.0' : '4.0.0');
    return [{ ...base, kind: hard ? 'hard-bounce' : 'soft-bounce', status: code, detail: `${str(status.code)} ${str(status.message) || str(status.description)}`.trim() }];
  }
  if (event === 'complained') return [{ ...base, kind: 'complaint', status: 'abuse', detail: '' }];
  return [];
}

// ---------------------------------------------------------------- routes

export interface ProviderWebhookDeps {
  readonly bounces: BounceServiceDeps;
  readonly settings: ProviderWebhookSettings;
  readonly clock: () => Date;
  readonly sns?: SnsFetcher;
  readonly log?: (line: string) => void;
}

function refuse(reply: FastifyReply, code: number, why: string): FastifyReply {
  return reply.code(code).type('text/plain; charset=utf-8').send(why);
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

async function applyAll(deps: ProviderWebhookDeps, events: readonly ProviderEvent[]): Promise<number> {
  let applied = 0;
  for (const event of events) {
    if (!event.email.includes('@')) continue;
    const result = await processProviderEvent(deps.bounces, event);
    if (result.action !== 'duplicate') applied += 1;
  }
  return applied;
}

/** Registers the provider routes (only those whose setting is set) in a scope of their own that keeps raw bodies. */
export function providerWebhookRoutes(deps: ProviderWebhookDeps) {
  const { settings } = deps;
  const log = deps.log ?? (() => undefined);
  const sns = deps.sns ?? defaultSnsFetcher;
  const sendgridKey = settings.sendgridWebhookPublicKey ? sendgridPublicKey(settings.sendgridWebhookPublicKey) : null;
  return async (scope: FastifyInstance): Promise<void> => {
    // Signatures are over the exact bytes received: every body is kept as the raw string.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, String(body)));
    const route = { bodyLimit: 1024 * 1024 };

    if (settings.sesTopicArns.length > 0) {
      scope.post('/webhooks/ses', route, async (request, reply) => {
        const raw = String(request.body ?? '');
        const message = obj(parseJson(raw));
        const problem = await verifySnsMessage(message, sns);
        if (problem) {
          log(`webhooks/ses: refused: ${problem}`);
          return refuse(reply, 401, `refused: ${problem}`);
        }
        const topic = str(message.TopicArn);
        if (!settings.sesTopicArns.includes(topic)) return refuse(reply, 403, `topic ${topic} is not one of SES_SNS_TOPIC_ARNS`);
        if (message.Type === 'SubscriptionConfirmation') {
          const url = str(message.SubscribeURL);
          let parsed: URL | null = null;
          try {
            parsed = new URL(url);
          } catch {
            parsed = null;
          }
          if (!parsed || !sns.urlAllowed(parsed)) return refuse(reply, 400, 'SubscribeURL is not an Amazon SNS address');
          await sns.get(url);
          log(`webhooks/ses: subscription to ${topic} confirmed`);
          return reply.code(200).send({ confirmed: true });
        }
        if (message.Type !== 'Notification') return reply.code(200).send({ ignored: str(message.Type) });
        const notification = obj(parseJson(str(message.Message)));
        const applied = await applyAll(deps, sesEvents(notification, str(message.MessageId), str(message.Message)));
        return reply.code(200).send({ applied });
      });
    }

    if (settings.postmarkWebhookAuth) {
      const expected = settings.postmarkWebhookAuth;
      scope.post('/webhooks/postmark', route, async (request, reply) => {
        if (!verifyPostmarkAuth(request.headers.authorization, expected)) return refuse(reply.header('www-authenticate', 'Basic realm="mailroom"'), 401, 'refused: wrong or missing basic auth');
        const raw = String(request.body ?? '');
        const body = parseJson(raw);
        if (body === undefined) return refuse(reply, 400, 'the body is not JSON');
        return reply.code(200).send({ applied: await applyAll(deps, postmarkEvents(obj(body), raw)) });
      });
    }

    if (sendgridKey) {
      scope.post('/webhooks/sendgrid', route, async (request, reply) => {
        const raw = String(request.body ?? '');
        const signature = request.headers['x-twilio-email-event-webhook-signature'];
        const timestamp = request.headers['x-twilio-email-event-webhook-timestamp'];
        const ts = typeof timestamp === 'string' ? timestamp : undefined;
        if (!verifySendgrid(sendgridKey, raw, typeof signature === 'string' ? signature : undefined, ts)) return refuse(reply, 401, 'refused: the event webhook signature does not match');
        if (!fresh(Number(ts), deps.clock())) return refuse(reply, 401, 'refused: the signed timestamp is more than 15 minutes off');
        const body = parseJson(raw);
        if (body === undefined) return refuse(reply, 400, 'the body is not JSON');
        return reply.code(200).send({ applied: await applyAll(deps, sendgridEvents(body, raw)) });
      });
    }

    if (settings.mailgunWebhookSigningKey) {
      const key = settings.mailgunWebhookSigningKey;
      scope.post('/webhooks/mailgun', route, async (request, reply) => {
        const raw = String(request.body ?? '');
        const body = obj(parseJson(raw));
        const signature = obj(body.signature);
        if (!verifyMailgun(key, signature)) return refuse(reply, 401, 'refused: the signature does not match');
        if (!fresh(Number(signature.timestamp), deps.clock())) return refuse(reply, 401, 'refused: the signed timestamp is more than 15 minutes off');
        return reply.code(200).send({ applied: await applyAll(deps, mailgunEvents(body, raw)) });
      });
    }
  };
}
