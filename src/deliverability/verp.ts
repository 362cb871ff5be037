/**
 * VERP: each message's envelope sender (the Return-Path a bounce goes back to) names its send row,
 * `bounces+<campaign>-<subscriber>-<signature>@BOUNCE_DOMAIN`. The signature is an HMAC with SECRET, so a forged
 * bounce cannot suppress anyone it names. Lowercase hex and base 36 only: mail systems may fold the local part's case.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SendRef {
  readonly campaignId: number;
  readonly subscriberId: number;
}

const PREFIX = 'bounces+';

function signature(secret: string, campaignId: number, subscriberId: number): string {
  return createHmac('sha256', secret).update(`verp:${campaignId}:${subscriberId}`).digest('hex').slice(0, 16);
}

export function verpToken(secret: string, ref: SendRef): string {
  return `${ref.campaignId.toString(36)}-${ref.subscriberId.toString(36)}-${signature(secret, ref.campaignId, ref.subscriberId)}`;
}

export function verpAddress(secret: string, bounceDomain: string, ref: SendRef): string {
  return `${PREFIX}${verpToken(secret, ref)}@${bounceDomain}`;
}

/** The send row a VERP address names, or null when it is not one or its signature is wrong. */
export function parseVerp(secret: string, address: string): SendRef | null {
  const m = /^bounces\+([0-9a-z]{1,12})-([0-9a-z]{1,12})-([0-9a-f]{16})@/i.exec(address.trim().replace(/^<|>$/g, ''));
  if (!m) return null;
  const campaignId = parseInt(m[1]!.toLowerCase(), 36);
  const subscriberId = parseInt(m[2]!.toLowerCase(), 36);
  if (!Number.isSafeInteger(campaignId) || !Number.isSafeInteger(subscriberId) || campaignId <= 0) return null;
  const expected = Buffer.from(signature(secret, campaignId, subscriberId));
  const given = Buffer.from(m[3]!.toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected) ? { campaignId, subscriberId } : null;
}

/** Every VERP-looking address in a text (headers of a bounce, a DSN's fields, the returned message). */
export function findVerpRefs(secret: string, text: string): SendRef[] {
  const found: SendRef[] = [];
  for (const m of text.matchAll(/bounces\+[0-9a-z]{1,12}-[0-9a-z]{1,12}-[0-9a-f]{16}@[a-z0-9.-]+/gi)) {
    const ref = parseVerp(secret, m[0]);
    if (ref && !found.some((f) => f.campaignId === ref.campaignId && f.subscriberId === ref.subscriberId)) found.push(ref);
  }
  return found;
}

/** Our own Message-ID `<campaign.subscriber.random@domain>` (src/mime/compose.ts): unsigned, so only a hint checked against the stored row. */
export function parseOwnMessageId(messageId: string): SendRef | null {
  const m = /<?([0-9a-z]{1,12})\.([0-9a-z]{1,12})\.[0-9a-f]{12}@[^>\s]+>?/i.exec(messageId);
  if (!m) return null;
  const campaignId = parseInt(m[1]!.toLowerCase(), 36);
  const subscriberId = parseInt(m[2]!.toLowerCase(), 36);
  return campaignId > 0 ? { campaignId, subscriberId } : null;
}

/** The Return-Path maker for campaign messages, when BOUNCE_DOMAIN is set. */
export function verpSigner(settings: { readonly secret: string; readonly bounceDomain?: string | null }): ((campaignId: number, subscriberId: number) => string) | undefined {
  const domain = settings.bounceDomain;
  if (!domain) return undefined;
  return (campaignId, subscriberId) => (campaignId > 0 ? verpAddress(settings.secret, domain, { campaignId, subscriberId }) : `${PREFIX.slice(0, -1)}@${domain}`);
}
