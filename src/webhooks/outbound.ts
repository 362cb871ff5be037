/**
 * Outbound webhooks, signed the Standard Webhooks way (https://www.standardwebhooks.com): headers `webhook-id`,
 * `webhook-timestamp` (seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the
 * endpoint's `whsec_…` secret. A delivery that fails (no 2xx, or no answer) is tried again with backoff for about a
 * day, then given up; every attempt's outcome is kept. Endpoints are reached only through the SSRF guard.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { MailroomError, quote } from '../core/errors.ts';
import { parseHttpUrl, resolveChecked, type FetchPolicy } from '../net/safe-fetch.ts';
import { safePost } from '../net/safe-post.ts';
import { WEBHOOK_EVENTS, type WebhookDelivery, type WebhookEndpoint, type WebhookEventType } from '../store/webhook-store.ts';

/** Seconds after the first attempt's failure, then after each next one (about 27 hours in all). */
export const RETRY_SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000, 36_000] as const;

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export function webhookMessageId(eventKey: string): string {
  return `msg_${createHash('sha256').update(eventKey).digest('hex').slice(0, 26)}`;
}

/** The three Standard Webhooks headers for one body. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): Record<string, string> {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}

export function parseEvents(raw: readonly string[] | string, where: string): WebhookEventType[] {
  const names = (Array.isArray(raw) ? raw : [raw]).flatMap((r) => String(r).split(/[\s,]+/)).filter(Boolean);
  if (names.length === 0 || names.includes('all')) return [...WEBHOOK_EVENTS];
  for (const n of names) {
    if (!(WEBHOOK_EVENTS as readonly string[]).includes(n)) throw new MailroomError('INVALID_INPUT', `${where} ${quote(n)}: not an event (one of: ${WEBHOOK_EVENTS.join(', ')}, or all)`);
  }
  return [...new Set(names)] as WebhookEventType[];
}

export type WebhookPolicy = Pick<FetchPolicy, 'access' | 'resolve' | 'timeoutMs' | 'userAgent'>;

/** Adds an endpoint after checking its URL: http(s), and an address the SSRF guard allows (checked again at every delivery). */
/** What adding an endpoint needs of the store (app.stores.webhooks has it). */
export interface WebhookEndpointWriter {
  addEndpoint(url: string, secret: string, events: readonly WebhookEventType[]): Promise<WebhookEndpoint>;
}

/** What delivering the outbound webhooks needs of the store (app.stores.webhooks has it). */
export interface WebhookQueue {
  scanAndQueue(): Promise<number>;
  listEndpoints(): Promise<WebhookEndpoint[]>;
  due(limit: number): Promise<WebhookDelivery[]>;
  recordAttempt(id: number, outcome: { delivered: boolean; status: number | null; error: string | null; nextAttemptAt: string | null }): Promise<void>;
}

export async function addWebhookEndpoint(store: WebhookEndpointWriter, policy: WebhookPolicy, url: string, events: readonly WebhookEventType[]): Promise<WebhookEndpoint> {
  const parsed = parseHttpUrl(url, 'webhook URL');
  await resolveChecked(parsed, { ...policy, maxBytes: 1024 }, `webhook URL ${parsed.toString()}`);
  return store.addEndpoint(parsed.toString(), newWebhookSecret(), events);
}

export interface DispatchResult {
  readonly queued: number;
  readonly delivered: number;
  readonly retrying: number;
  readonly failed: number;
}

/** One round: queue new events, then try every due delivery once. */
export async function dispatchWebhooks(store: WebhookQueue, policy: WebhookPolicy, clock: () => Date, options: { batch?: number; log?: (line: string) => void } = {}): Promise<DispatchResult> {
  const queued = await store.scanAndQueue();
  const endpoints = new Map((await store.listEndpoints()).map((e) => [e.id, e]));
  let delivered = 0;
  let retrying = 0;
  let failed = 0;
  for (const delivery of await store.due(options.batch ?? 100)) {
    const endpoint = endpoints.get(delivery.endpointId);
    if (!endpoint) continue;
    const now = clock();
    const headers = signWebhook(endpoint.secret, webhookMessageId(delivery.eventKey), Math.floor(now.getTime() / 1000), delivery.payload);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const result = await safePost(endpoint.url, policy, headers, delivery.payload);
      status = result.status;
      if (status < 200 || status > 299) error = `HTTP ${status}${result.body ? `: ${result.body.slice(0, 200)}` : ''}`;
    } catch (e) {
      error = (e as Error).message;
    }
    if (error === null) {
      delivered += 1;
      await store.recordAttempt(delivery.id, { delivered: true, status, error: null, nextAttemptAt: null });
      continue;
    }
    const wait = RETRY_SCHEDULE_SECONDS[delivery.attempts];
    if (wait === undefined) failed += 1;
    else retrying += 1;
    const nextAttemptAt = wait === undefined ? null : new Date(now.getTime() + wait * 1000).toISOString();
    await store.recordAttempt(delivery.id, { delivered: false, status, error, nextAttemptAt });
    options.log?.(`webhook ${endpoint.id} ${delivery.eventType}: ${error}${nextAttemptAt ? `; tried again at ${nextAttemptAt}` : '; given up'}`);
  }
  return { queued, delivered, retrying, failed };
}
