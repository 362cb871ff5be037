/** HMAC-signed, purpose-scoped tokens for the links in emails (unsubscribe, preferences, sign-up confirmation), verified in constant time. */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Purposes of links that stay valid as long as the secret does (they are in every campaign email). */
export type TokenPurpose = 'unsubscribe' | 'preferences';
/** Purposes of links that expire: the expiry is part of the token and of its MAC. */
export type ExpiringTokenPurpose = 'confirm';

export interface TokenSubject {
  readonly subscriberId: number;
  readonly listId: number;
}

const MAC_BYTES = 18;

function mac(secret: string, purpose: TokenPurpose, subject: TokenSubject): Buffer {
  return createHmac('sha256', secret).update(`mailroom:${purpose}:${subject.subscriberId}:${subject.listId}`).digest().subarray(0, MAC_BYTES);
}

/** `<subscriberId>.<listId>.<mac>`: short enough for a List-Unsubscribe header, useless for any other purpose. */
export function signToken(secret: string, purpose: TokenPurpose, subject: TokenSubject): string {
  return `${subject.subscriberId.toString(36)}.${subject.listId.toString(36)}.${mac(secret, purpose, subject).toString('base64url')}`;
}

/** The token's subject when it is genuine and for this purpose; null for anything else (tampered, foreign, malformed). */
export function verifyToken(secret: string, purpose: TokenPurpose, token: string): TokenSubject | null {
  const match = /^([0-9a-z]{1,12})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{24})$/.exec(token);
  if (!match) return null;
  const subject = { subscriberId: parseInt(match[1] as string, 36), listId: parseInt(match[2] as string, 36) };
  if (!Number.isSafeInteger(subject.subscriberId) || !Number.isSafeInteger(subject.listId)) return null;
  const given = Buffer.from(match[3] as string, 'base64url');
  const expected = mac(secret, purpose, subject);
  if (given.length !== expected.length) return null;
  return timingSafeEqual(given, expected) ? subject : null;
}

/** `<subscriberId>.<listId>.<expires, unix seconds>.<mac>`: like `signToken`, but the MAC also covers the expiry. */
export function signExpiringToken(secret: string, purpose: ExpiringTokenPurpose, subject: TokenSubject, expiresAt: Date): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  if (!Number.isSafeInteger(expires) || expires <= 0) throw new RangeError(`signExpiringToken: invalid expiry ${String(expiresAt)}`);
  return `${subject.subscriberId.toString(36)}.${subject.listId.toString(36)}.${expires.toString(36)}.${expiringMac(secret, purpose, subject, expires).toString('base64url')}`;
}

export interface VerifiedExpiringToken extends TokenSubject {
  readonly expiresAt: Date;
  /** Genuine, but past its expiry at `now`. */
  readonly expired: boolean;
}

/** The token's subject and expiry when it is genuine and for this purpose (expired or not); null for anything else. */
export function verifyExpiringToken(secret: string, purpose: ExpiringTokenPurpose, token: string, now: Date): VerifiedExpiringToken | null {
  const match = /^([0-9a-z]{1,12})\.([0-9a-z]{1,12})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{24})$/.exec(token);
  if (!match) return null;
  const subject = { subscriberId: parseInt(match[1] as string, 36), listId: parseInt(match[2] as string, 36) };
  const expires = parseInt(match[3] as string, 36);
  if (!Number.isSafeInteger(subject.subscriberId) || !Number.isSafeInteger(subject.listId) || !Number.isSafeInteger(expires)) return null;
  const given = Buffer.from(match[4] as string, 'base64url');
  const expected = expiringMac(secret, purpose, subject, expires);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return { ...subject, expiresAt: new Date(expires * 1000), expired: now.getTime() >= expires * 1000 };
}

function expiringMac(secret: string, purpose: ExpiringTokenPurpose, subject: TokenSubject, expires: number): Buffer {
  return createHmac('sha256', secret).update(`mailroom:${purpose}:${subject.subscriberId}:${subject.listId}:${expires}`).digest().subarray(0, MAC_BYTES);
}
