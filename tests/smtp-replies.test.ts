import { expect, test } from 'vitest';
import { backoffMs, enhancedCode, isHardBounce } from '../src/sending/smtp-replies.ts';
import { classifySmtpError } from '../src/smtp/smtp-transport.ts';

test.each([
  [550, '550 5.1.1 <a@b.c>: Recipient address rejected: User unknown', true],
  [550, '550 5.1.10 RESOLVER.ADR.RecipientNotFound', true],
  [553, '553 5.1.3 Bad destination mailbox address syntax', true],
  [550, '550 No such user here', true],
  [554, '554 5.7.1 Message rejected by policy', false],
  [552, '552 5.2.2 Mailbox full', false],
  [550, '550 Message rejected as spam', false],
  [451, '451 4.1.1 Temporary lookup failure', false],
])('isHardBounce(%i, %s) = %s', (code, response, expected) => {
  expect(isHardBounce(code, response)).toBe(expected);
});

test('enhancedCode', () => {
  expect(enhancedCode('550 5.1.1 nope')).toBe('5.1.1');
  expect(enhancedCode('250 OK')).toBeNull();
});

test('backoff grows exponentially with jitter and a cap', () => {
  expect(backoffMs(1, 1000, 3_600_000, () => 1)).toBe(1000);
  expect(backoffMs(3, 1000, 3_600_000, () => 1)).toBe(4000);
  expect(backoffMs(3, 1000, 3_600_000, () => 0)).toBe(2000);
  expect(backoffMs(30, 1000, 60_000, () => 1)).toBe(60_000);
});

test('SMTP errors sorted into temporary, permanent and unavailable', () => {
  expect(classifySmtpError(Object.assign(new Error('x'), { responseCode: 451, response: '451 4.7.1 Try again' }), 's').kind).toBe('temporary');
  expect(classifySmtpError(Object.assign(new Error('x'), { responseCode: 550, response: '550 5.1.1 no' }), 's').kind).toBe('permanent');
  expect(classifySmtpError(Object.assign(new Error('Invalid login'), { code: 'EAUTH', responseCode: 535 }), 's').kind).toBe('unavailable');
  expect(classifySmtpError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ESOCKET' }), 's').kind).toBe('unavailable');
  expect(classifySmtpError(Object.assign(new Error('Connection closed unexpectedly'), { code: 'ETIMEDOUT' }), 's').kind).toBe('temporary');
});
