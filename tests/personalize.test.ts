import { describe, expect, test } from 'vitest';
import { MailroomError } from '../src/core/errors.ts';
import { buildRecipientContext, compileIssue, toHeaderValue } from '../src/personalization/personalize.ts';

const urls = { unsubscribeUrl: 'https://x.test/u/1?a=1&b=2', preferencesUrl: 'https://x.test/p/1', webVersionUrl: 'https://x.test/issues/w/1' };

describe('compileIssue', () => {
  test('fills allow-listed variables; HTML escaped, text and subject not', () => {
    const compiled = compileIssue({
      subject: 'News for {{firstName}}\r\nBcc: x@y.z',
      html: '<p>Hi {{firstName}} ({{email}}) at {{attributes.company}}</p><a href="{{unsubscribeUrl}}">u</a>',
      text: 'Hi {{firstName}} at {{attributes.company}} {{unsubscribeUrl}}',
    });
    expect(compiled.attributeNames).toEqual(['company']);
    const ctx = buildRecipientContext({ email: 'o@x.test', name: "O'Brien & <Sons>", firstName: '', lastName: '', attributes: { company: 'A&B' } }, urls);
    const out = compiled.personalize(ctx);
    expect(out.subject).toBe("News for O'Brien Bcc: x@y.z");
    expect(out.subject).not.toMatch(/[\r\n]/);
    expect(out.html).toContain('Hi O&#x27;Brien (o@x.test) at A&amp;B');
    expect(out.html).toContain('href="https://x.test/u/1?a&#x3D;1&amp;b&#x3D;2"');
    expect(out.text).toBe("Hi O'Brien at A&B https://x.test/u/1?a=1&b=2");
  });

  test('a missing attribute is empty, never a crash mid-campaign', () => {
    const compiled = compileIssue({ subject: 's', html: '{{attributes.city}}', text: '{{#if attributes.city}}in {{attributes.city}}{{else}}anywhere{{/if}}' });
    const out = compiled.personalize(buildRecipientContext({ email: 'a@b.test', name: '', firstName: '', lastName: '', attributes: {} }, urls));
    expect(out.html).toBe('');
    expect(out.text).toBe('anywhere');
  });

  test.each([
    ['{{password}}', 'password'],
    ['{{subscriber.email}}', 'subscriber.email'],
    ['{{attributes}}', 'attributes'],
    ['{{@root.secret}}', '@root.secret'],
    ['{{../email}}', '../email'],
    ['{{#each list}}x{{/each}}', '#each'],
    ['{{lookup attributes "x"}}', 'lookup'],
    ['{{> partial}}', 'partials'],
  ])('refuses %s naming it', (template, name) => {
    let error: unknown;
    try {
      compileIssue({ subject: 's', html: template, text: 't' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MailroomError);
    expect((error as MailroomError).message).toContain(name);
    expect((error as MailroomError).message).toContain('HTML part');
  });

  test('a broken template is a clear TEMPLATE error', () => {
    expect(() => compileIssue({ subject: '{{#if x}}', html: '', text: '' })).toThrow(/subject: not a valid template/);
  });

  test('escaped braces from content stay literal', () => {
    const compiled = compileIssue({ subject: 's', html: 'code: \\{{email}}', text: 'code: \\{{email}}' });
    const out = compiled.personalize(buildRecipientContext({ email: 'a@b.test', name: '', firstName: '', lastName: '', attributes: {} }, urls));
    expect(out.html).toBe('code: {{email}}');
    expect(out.text).toBe('code: {{email}}');
  });
});

describe('buildRecipientContext', () => {
  test.each([
    [{ name: 'Ada Lovelace', firstName: '', lastName: '' }, 'Ada', 'Lovelace', 'Ada Lovelace'],
    [{ name: '', firstName: 'Grace', lastName: 'Hopper' }, 'Grace', 'Hopper', 'Grace Hopper'],
    [{ name: '', firstName: '', lastName: '' }, 'there', '', 'there'],
    [{ name: '  ', firstName: ' ', lastName: 'Solo' }, 'there', 'Solo', 'Solo'],
  ])('%o → %s / %s / %s', (names, first, last, full) => {
    const ctx = buildRecipientContext({ email: 'a@b.test', attributes: {}, ...names }, urls);
    expect([ctx.firstName, ctx.lastName, ctx.fullName]).toEqual([first, last, full]);
  });
});

test('toHeaderValue strips CR, LF and control characters', () => {
  expect(toHeaderValue('a\r\nb\tc\u0000d')).toBe('a b c d');
});
