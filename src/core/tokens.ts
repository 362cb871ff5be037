/** HMAC-signed, purpose-scoped tokens for the links in emails (unsubscribe, preferences), verified in constant time. */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TokenPurpose = 'unsubscribe' | 'preferences';

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
