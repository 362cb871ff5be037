/** Tests for email address normalization and the practical validity check. */

import { describe, expect, it } from 'vitest';
import { checkEmail, normalizeEmail } from '../src/core/email-address.ts';

describe('normalizeEmail', () => {
  it('trims, strips surrounding angle brackets and lowercases the whole address', () => {
    expect(normalizeEmail('  Bob.Smith@Example.COM \t')).toBe('bob.smith@example.com');
    expect(normalizeEmail('<BOB@EXAMPLE.COM>')).toBe('bob@example.com');
    expect(normalizeEmail(' < bob@example.com > ')).toBe('bob@example.com');
  });

  it('leaves a lone or unbalanced bracket for checkEmail to reject', () => {
    expect(normalizeEmail('<bob@example.com')).toBe('<bob@example.com');
  });

  it('converts an internationalized domain to punycode', () => {
    expect(normalizeEmail('user@Bücher.de')).toBe('user@xn--bcher-kva.de');
    expect(normalizeEmail('user@例え。テスト')).toBe('user@xn--r8jz45g.xn--zckzah');
    // Full-width letters are mapped by IDNA.
    expect(normalizeEmail('user@ｅｘａｍｐｌｅ.com')).toBe('user@example.com');
  });

  it('applies NFC, so decomposed and composed input normalize alike', () => {
    expect(normalizeEmail('Jose\u0301@example.com')).toBe('jos\u00e9@example.com');
    expect(normalizeEmail('user@bu\u0308cher.de')).toBe('user@xn--bcher-kva.de');
  });

  it('keeps a domain IDNA cannot convert, so checkEmail can say why', () => {
    expect(normalizeEmail('user@a b.dé')).toBe('user@a b.dé');
  });

  it('is idempotent', () => {
    for (const raw of ['<Bob@Bücher.DE>', ' x@Y.com ', 'a@b']) {
      const once = normalizeEmail(raw);
      expect(normalizeEmail(once)).toBe(once);
    }
  });
});

describe('checkEmail', () => {
  it.each([
    'bob@example.com',
    'bob.smith+newsletter@mail.example.co.uk',
    "o'brien@example.ie",
    'a@b.co',
    'first_last-1@x-y.example',
    "!#$%&'*+-/=?^_`{|}~@example.com",
    'user@xn--bcher-kva.de',
    'user@123.example.com',
    `${'a'.repeat(64)}@example.com`,
    `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`, // 254 characters
  ])('accepts %s', (address) => {
    expect(checkEmail(address)).toBeNull();
  });

  it.each([
    ['', 'is empty'],
    ['bob', 'is not an email address'],
    ['bob@', 'is not an email address'],
    ['@x.com', 'is not an email address'],
    ['@', 'is not an email address'],
    ['a b@x.com', 'contains spaces'],
    ['bob@exa mple.com', 'contains spaces'],
    ['bob@example.com\u00a0', 'contains spaces'],
    ['x@y', 'domain has no dot'],
    ['bob@localhost', 'domain has no dot'],
    [`${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.com`, 'is longer than 254 characters'],
    [`${'a'.repeat(65)}@example.com`, 'has more than 64 characters before the @'],
    ['a@b@example.com', 'has more than one @'],
    ['"bob"@example.com', 'has a quoted local part, which is not accepted'],
    ['.bob@example.com', 'starts or ends with a dot before the @'],
    ['bob.@example.com', 'starts or ends with a dot before the @'],
    ['bo..b@example.com', 'has two dots in a row before the @'],
    ['bo(b)@example.com', 'has characters before the @ that are not allowed in an address'],
    ['josé@example.com', 'has non-ASCII characters before the @'],
    ['bob@example..com', 'domain has an empty part (two dots in a row, or a dot at the start or end)'],
    ['bob@example.com.', 'domain has an empty part (two dots in a row, or a dot at the start or end)'],
    ['bob@.example.com', 'domain has an empty part (two dots in a row, or a dot at the start or end)'],
    ['bob@-example.com', 'domain may only contain letters, digits and hyphens (not at the start or end of a part)'],
    ['bob@example-.com', 'domain may only contain letters, digits and hyphens (not at the start or end of a part)'],
    ['bob@ex_ample.com', 'domain may only contain letters, digits and hyphens (not at the start or end of a part)'],
    [`bob@${'a'.repeat(64)}.com`, 'domain has a part longer than 63 characters'],
    ['bob@1.2.3.4', 'domain ends in a number (an IP address is not accepted)'],
    ['bob@[1.2.3.4]', 'has an IP address instead of a domain'],
    ['bob@a b.dé', 'contains spaces'],
    ['bob@exämple.com', 'has a domain that is not a valid internationalized domain name'],
    ['a,b@example.com', 'contains a comma or semicolon (more than one address?)'],
    ['a@example.com;b@example.com', 'contains a comma or semicolon (more than one address?)'],
    ['bob<evil@example.com', 'contains < or > (only the address itself is accepted)'],
    ['bob@example.com>', 'contains < or > (only the address itself is accepted)'],
    ['bob@example.com\r\nbcc: x@example.com', 'contains a line break'],
    ['bob@example.com\n', 'contains a line break'],
    ['bob\u2028@example.com', 'contains a line break'],
    ['bob\u0000@example.com', 'contains control characters'],
    ['bob\u007f@example.com', 'contains control characters'],
  ])('rejects %j: %s', (address, reason) => {
    expect(checkEmail(address)).toBe(reason);
  });

  it('works on the output of normalizeEmail for messy but valid input', () => {
    for (const raw of ['  <BOB@Example.COM> ', 'Anna@Bücher.de', 'x@ｅｘａｍｐｌｅ.com']) {
      expect(checkEmail(normalizeEmail(raw))).toBeNull();
    }
  });
});
