import { describe, expect, test } from 'vitest';
import { signToken, verifyToken } from '../src/core/tokens.ts';

const secret = 'x'.repeat(40);

describe('tokens', () => {
  test('round trip for its purpose only', () => {
    const token = signToken(secret, 'unsubscribe', { subscriberId: 42, listId: 7 });
    expect(verifyToken(secret, 'unsubscribe', token)).toEqual({ subscriberId: 42, listId: 7 });
    expect(verifyToken(secret, 'preferences', token)).toBeNull();
    expect(verifyToken('y'.repeat(40), 'unsubscribe', token)).toBeNull();
  });

  test('tampering with any part is refused', () => {
    const token = signToken(secret, 'unsubscribe', { subscriberId: 42, listId: 7 });
    const [sid, lid, mac] = token.split('.') as [string, string, string];
    expect(verifyToken(secret, 'unsubscribe', `${(41).toString(36)}.${lid}.${mac}`)).toBeNull();
    expect(verifyToken(secret, 'unsubscribe', `${sid}.${(8).toString(36)}.${mac}`)).toBeNull();
    expect(verifyToken(secret, 'unsubscribe', `${sid}.${lid}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    for (const bad of ['', '...', 'a.b', `${token}.x`, token.toUpperCase(), '1.1.' + 'A'.repeat(200)]) {
      expect(verifyToken(secret, 'unsubscribe', bad)).toBeNull();
    }
  });
});
