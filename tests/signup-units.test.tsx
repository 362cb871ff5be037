/**
 * The pieces under sign-up, one by one: expiring confirmation tokens, the per-IP key, TRUST_PROXY and the other new
 * settings, `serve` refusing to run on defaults outside local development, and the confirmation email template.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HtmlValidate } from 'html-validate';
import { describe, expect, test } from 'vitest';
import ConfirmEmail, { confirmEmailSubject, type ConfirmEmailProps } from '../emails/confirm.tsx';
import { checkServeSettings, isLoopbackUrl, loadConfig, parseTrustProxy } from '../src/config.ts';
import { isMailroomError } from '../src/core/errors.ts';
import { signExpiringToken, signToken, verifyExpiringToken, verifyToken } from '../src/core/tokens.ts';
import { startService } from '../src/service.ts';
import { composeConfirmationMessage, renderConfirmationEmail } from '../src/subscribers/confirmation-mail.ts';
import { clientKey } from '../src/subscribers/signup.ts';

const secret = 's'.repeat(40);

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'mailroom-signup-units-'));
}

describe('confirmation tokens', () => {
  const subject = { subscriberId: 42, listId: 7 };
  const now = new Date('2026-03-02T09:00:00.000Z');
  const expires = new Date('2026-03-09T09:00:00.000Z');

  test('round trip, expiry included in the MAC, and valid for their purpose only', () => {
    const token = signExpiringToken(secret, 'confirm', subject, expires);
    expect(verifyExpiringToken(secret, 'confirm', token, now)).toEqual({ ...subject, expiresAt: expires, expired: false });
    expect(verifyExpiringToken(secret, 'confirm', token, new Date(expires.getTime() - 1))?.expired).toBe(false);
    expect(verifyExpiringToken(secret, 'confirm', token, expires)?.expired).toBe(true);
    // Not an unsubscribe or preferences token, and those are not confirm tokens.
    expect(verifyToken(secret, 'unsubscribe', token)).toBeNull();
    expect(verifyToken(secret, 'preferences', token)).toBeNull();
    expect(verifyExpiringToken(secret, 'confirm', signToken(secret, 'preferences', subject), now)).toBeNull();
    expect(verifyExpiringToken('t'.repeat(40), 'confirm', token, now)).toBeNull();
  });

  test('pushing the expiry, or changing any part, is refused', () => {
    const token = signExpiringToken(secret, 'confirm', subject, expires);
    const [sid, lid, exp, mac] = token.split('.') as [string, string, string, string];
    const later = Math.floor(expires.getTime() / 1000 + 86400 * 365).toString(36);
    for (const bad of [`${sid}.${lid}.${later}.${mac}`, `${(43).toString(36)}.${lid}.${exp}.${mac}`, `${sid}.${(8).toString(36)}.${exp}.${mac}`, `${sid}.${lid}.${exp}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`, `${sid}.${lid}.${mac}`, '', 'a.b.c.d', `${token}.x`]) {
      expect(verifyExpiringToken(secret, 'confirm', bad, now)).toBeNull();
    }
    expect(() => signExpiringToken(secret, 'confirm', subject, new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('client IP keys', () => {
  test('IPv4 and its IPv6-mapped form count as one client; an IPv6 /64 is one client; no address is stored', () => {
    expect(clientKey(secret, '203.0.113.9')).toBe(clientKey(secret, '::ffff:203.0.113.9'));
    expect(clientKey(secret, '203.0.113.9')).not.toBe(clientKey(secret, '203.0.113.10'));
    expect(clientKey(secret, '2001:db8:1:2::1')).toBe(clientKey(secret, '2001:db8:1:2:ffff:1:2:3'));
    expect(clientKey(secret, '2001:db8:1:2::1')).not.toBe(clientKey(secret, '2001:db8:1:3::1'));
    expect(clientKey(secret, '203.0.113.9')).not.toContain('203');
    expect(clientKey('other-secret'.repeat(3), '203.0.113.9')).not.toBe(clientKey(secret, '203.0.113.9'));
  });
});

describe('settings', () => {
  test('TRUST_PROXY: off by default, hops, addresses and ranges; "true" and junk are refused', () => {
    expect(parseTrustProxy(undefined)).toBe(false);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('0')).toBe(false);
    expect(parseTrustProxy('1')).toBe(1);
    expect(parseTrustProxy('127.0.0.1, 10.0.0.0/8 ,loopback,::1')).toEqual(['127.0.0.1', '10.0.0.0/8', 'loopback', '::1']);
    expect(() => parseTrustProxy('true')).toThrow(/TRUST_PROXY="true".*any client pick its own IP/);
    expect(() => parseTrustProxy('10.0.0.0/99')).toThrow(/"10.0.0.0\/99" is not an IP address/);
    expect(() => parseTrustProxy('proxy.example')).toThrow(/TRUST_PROXY/);
    expect(() => parseTrustProxy('50')).toThrow(/more than 10/);
  });

  test('SIGNUP_RECORD_IP and SIGNUP_RATE_PER_MINUTE', () => {
    const config = loadConfig({ SIGNUP_RECORD_IP: 'yes', SIGNUP_RATE_PER_MINUTE: '20', TRUST_PROXY: '2' }, dir());
    expect(config).toMatchObject({ signupRecordIp: true, signupRatePerMinute: 20, trustProxy: 2 });
    expect(loadConfig({}, dir())).toMatchObject({ signupRecordIp: false, signupRatePerMinute: 5, trustProxy: false });
    expect(() => loadConfig({ SIGNUP_RECORD_IP: 'maybe' }, dir())).toThrow(/SIGNUP_RECORD_IP="maybe".*true or false/);
    expect(() => loadConfig({ SIGNUP_RATE_PER_MINUTE: '0' }, dir())).toThrow(/SIGNUP_RATE_PER_MINUTE/);
  });

  test('local development: NODE_ENV is not production and PUBLIC_URL is unset or this machine', () => {
    expect(loadConfig({}, dir()).localDevelopment).toBe(true);
    expect(loadConfig({ PUBLIC_URL: 'http://127.0.0.1:3000' }, dir()).localDevelopment).toBe(true);
    expect(loadConfig({ PUBLIC_URL: 'http://mailroom.localhost:3000' }, dir()).localDevelopment).toBe(true);
    expect(loadConfig({ PUBLIC_URL: 'http://[::1]:3000' }, dir()).localDevelopment).toBe(true);
    expect(loadConfig({ PUBLIC_URL: 'https://news.example.com' }, dir()).localDevelopment).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production' }, dir()).localDevelopment).toBe(false);
    expect(isLoopbackUrl('http://127.9.9.9/')).toBe(true);
    expect(isLoopbackUrl('http://10.0.0.1/')).toBe(false);
    expect(isLoopbackUrl('http://localhost.example.com/')).toBe(false);
  });

  test('serve refuses to start outside local development without a SECRET and a PUBLIC_URL, and says what to set', () => {
    const strong = 'x'.repeat(32);
    const problems = (env: Record<string, string>): string[] => {
      try {
        checkServeSettings(loadConfig(env, dir()));
        return [];
      } catch (error) {
        if (!isMailroomError(error)) throw error;
        expect(error.code).toBe('CONFIG');
        return [error.message, ...error.details];
      }
    };
    expect(problems({})).toEqual([]);
    expect(problems({ PUBLIC_URL: 'http://localhost:3000' })).toEqual([]);
    const production = problems({ NODE_ENV: 'production' });
    expect(production[0]).toContain('refusing to serve outside local development (NODE_ENV=production)');
    expect(production.some((p) => p.startsWith('SECRET is not set'))).toBe(true);
    expect(production.some((p) => p.startsWith('PUBLIC_URL is not set'))).toBe(true);
    const publicHost = problems({ PUBLIC_URL: 'https://news.example.com' });
    expect(publicHost).toHaveLength(3);
    expect(publicHost[1]).toContain('SECRET is not set');
    // Without SMTP_URL the built-in inbox would publish every message at /inbox.
    expect(publicHost[2]).toContain('SMTP_URL is not set');
    const smtp = 'smtp://user:pass@mail.example.com:587';
    expect(problems({ PUBLIC_URL: 'https://news.example.com', SECRET: strong, SMTP_URL: smtp })).toEqual([]);
    expect(problems({ NODE_ENV: 'production', PUBLIC_URL: 'https://news.example.com', SECRET: strong, SMTP_URL: smtp })).toEqual([]);
    expect(problems({ NODE_ENV: 'production', PUBLIC_URL: 'http://localhost:3000', SECRET: strong }).join('\n')).toContain('points at this machine');
    // A short SECRET is refused everywhere, by loadConfig itself.
    expect(() => loadConfig({ SECRET: 'short' }, dir())).toThrow(/at least 32 bytes/);
  });

  test('startService checks before it opens anything', async () => {
    const cwd = dir();
    const config = loadConfig({ NODE_ENV: 'production', PUBLIC_URL: 'https://news.example.com', PORT: '0' }, cwd);
    await expect(startService(config, { loadDemo: false, log: () => undefined })).rejects.toThrow(/refusing to serve/);
  });
});

describe('the confirmation email template', () => {
  // Fixed props (the template's PreviewProps are dated today): the expiry line is checked below.
  const props: ConfirmEmailProps = {
    ...ConfirmEmail.PreviewProps,
    brand: { ...ConfirmEmail.PreviewProps.brand, postalAddress: 'Mailroom Weekly, 548 Market St #12345, San Francisco, CA 94104, USA' },
    listLabel: 'Tom & "Jerry" <script>alert(1)</script>',
    actionUrl: 'https://news.example.com/confirm/1.1.tgyt6o.preview-token-000000000',
    expiresAt: '2025-12-04T09:00:00.000Z',
    requestedAt: '2025-11-27T09:00:00.000Z',
  };

  test('renders valid HTML and text on the shared layout, escapes every value, and carries no subscription links', async () => {
    const rendered = await renderConfirmationEmail(props);
    expect(rendered.subject).toBe('Confirm your subscription to Tom & "Jerry" <script>alert(1)</script>');
    expect(rendered.html).not.toContain('<script>alert(1)');
    expect(rendered.html).toContain('Tom &amp; &quot;Jerry&quot; &lt;script&gt;');
    expect(rendered.html).toContain(`href="${props.actionUrl}"`);
    expect(rendered.html).not.toContain('View in browser');
    expect(rendered.html).not.toContain('Unsubscribe');
    expect(rendered.html).not.toContain('Issue #');
    expect(rendered.html).toContain(props.brand.postalAddress);
    expect(rendered.text).toContain(props.actionUrl);
    expect(rendered.text).toContain('The link works until December 4, 2025.');
    const validator = new HtmlValidate({
      extends: ['html-validate:recommended'],
      rules: { 'doctype-html': 'off', 'no-inline-style': 'off', 'no-deprecated-attr': 'off', 'prefer-native-element': 'off', 'attr-case': 'off', 'void-style': 'off', 'attribute-boolean-style': 'off', 'no-conditional-comment': 'off' },
    });
    const report = await validator.validateString((await renderConfirmationEmail(ConfirmEmail.PreviewProps)).html);
    expect(report.results.flatMap((r) => r.messages.map((m) => `${m.ruleId}: ${m.message}`))).toEqual([]);
  });

  test('the "already subscribed" notice points at the preferences page; the message is transactional', async () => {
    const notice = await renderConfirmationEmail({ ...props, kind: 'already-subscribed', actionUrl: 'https://news.example.com/p/1.1.abc' });
    expect(notice.subject).toBe(confirmEmailSubject({ kind: 'already-subscribed', listLabel: props.listLabel }));
    expect(notice.html).toContain('Manage your subscription');
    expect(notice.html).toContain('href="https://news.example.com/p/1.1.abc"');
    const sender = {
      id: 1,
      slug: 'weekly',
      name: 'Weekly',
      fromName: 'Weekly\r\nBcc: evil@example.com',
      fromEmail: 'news@mailroom.example',
      replyTo: 'editor@mailroom.example',
      listId: 1,
      template: 'digest' as const,
      postalAddress: 'x',
      logoUrl: '',
      subjectTemplate: '{title}',
      maxArticles: 5,
      language: 'en',
      createdAt: '',
    };
    const message = composeConfirmationMessage(sender, 'ada@example.com', notice, new Date('2026-01-01T00:00:00Z'));
    expect(message.envelopeTo).toBe('ada@example.com');
    expect(message.options.from).toEqual({ name: 'Weekly Bcc: evil@example.com', address: 'news@mailroom.example' });
    expect(message.options.headers).toEqual({ 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' });
    expect(message.options.list).toBeUndefined();
    expect(String(message.options.messageId)).toMatch(/^<confirm\.[0-9a-f]{18}@mailroom\.example>$/);
  });
});
