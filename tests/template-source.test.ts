/**
 * Content is data, never template: literal parts of a template source print as themselves whatever they hold and
 * whatever surrounds them, checked by Handlebars itself (and by Mailroom's per-recipient compiler) on hostile strings
 * and on thousands of random ones.
 */
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { compileIssue, showTemplate, type RecipientContext } from '../src/personalization/personalize.ts';
import { fillPattern, literalSource, templateSource, type SourcePart } from '../src/personalization/template-source.ts';

const reader: RecipientContext = {
  firstName: 'Ada',
  lastName: 'Lovelace',
  fullName: 'Ada Lovelace',
  email: 'ada@example.com',
  unsubscribeUrl: 'https://news.example.com/u/t',
  preferencesUrl: 'https://news.example.com/p/t',
  webVersionUrl: 'https://news.example.com/issues/w/1',
  attributes: { city: 'Paris' },
};

/** What the reader gets, through both the whole-template path and the per-piece path the campaigns use. */
function personalize(source: string): { subject: string; html: string; text: string; htmlPieces: string; textPieces: string } {
  const compiled = compileIssue({ subject: source, html: source, text: source });
  const parts = compiled.personalize(reader);
  const data = compiled.dataFor(reader);
  const join = (pieces: readonly (string | ((d: typeof data) => string))[]) => pieces.map((p) => (typeof p === 'string' ? p : p(data))).join('');
  return { ...parts, htmlPieces: join(compiled.pieces.html), textPieces: join(compiled.pieces.text) };
}

const HOSTILE = [
  '{{unsubscribeUrl}}',
  'Deal {{unsubscribeUrl}} {{email}}',
  '{{nope}}',
  '{{#if}}',
  '{{#if email}}x{{/if}}',
  '{{{x}}}',
  '{{{email}}}',
  '\\{{x}}',
  '\\\\{{email}}',
  '\\\\\\{{email}}',
  '{{!comment}}',
  '{{!-- a --}}',
  '{{> partial}}',
  '{{else}}',
  '{{~email~}}',
  '{{{{raw}}}}{{email}}{{{{/raw}}}}',
  'ends with a backslash \\',
  'ends with a brace {',
  '{',
  '\\',
  '{{',
  '}}',
  '{{{{{',
  'C:\\{{email}}\\',
  'a\n{{email}}\n',
  '\u00a0{{email}}\u200b',
  '&#123;&#123;email&#125;&#125;',
  '}}}',
  'NUL \0 {{email}}',
];

/** What a reader sees for `text`: itself, but NUL (which Handlebars cannot read) as U+FFFD. */
const shown = (text: string) => text.replaceAll('\0', '\uFFFD');

describe('literalSource', () => {
  it.each(HOSTILE)('prints %j as itself, in every part', (text) => {
    const out = personalize(literalSource(text));
    expect(out.html).toBe(shown(text));
    expect(out.text).toBe(shown(text));
    expect(out.htmlPieces).toBe(shown(text));
    expect(out.textPieces).toBe(shown(text));
    expect(out.subject).toBe(shown(text).replace(/[\r\n\t\u0000-\u001f\u007f]+/g, ' ').replace(/\s{2,}/g, ' ').trim());
  });

  it('leaves text without {{ exactly as it is (nothing to escape)', () => {
    expect(literalSource('Plain title: {name} & <b>')).toBe('Plain title: {name} & <b>');
  });
});

describe('templateSource', () => {
  it('keeps the operator\'s placeholders live around hostile content', () => {
    for (const text of HOSTILE) {
      const source = templateSource([{ source: 'Hi {{firstName}}: ' }, { literal: text }, { source: '{{#if attributes.city}} in {{attributes.city}}{{/if}}' }]);
      expect(personalize(source).html, text).toBe(`Hi Ada: ${shown(text)} in Paris`);
    }
  });

  it('puts a seam where content ending in { or \\ meets the operator\'s {{', () => {
    expect(personalize(templateSource([{ literal: 'x{' }, { source: '{{firstName}}' }])).html).toBe('x{Ada');
    expect(personalize(templateSource([{ literal: 'x\\' }, { source: '{{firstName}}' }])).html).toBe('x\\Ada');
    expect(personalize(templateSource([{ source: '{' }, { literal: '{email}' }])).html).toBe('{{email}');
    expect(personalize(templateSource([{ source: '\\' }, { literal: '{{email}}' }])).html).toBe('\\{{email}}');
    expect(personalize(templateSource([{ source: '\\\\' }, { literal: '{{email}}' }])).html).toBe('\\\\{{email}}');
    // A content } right after a tag's }} would be read as part of it: a parse error that would stop the send.
    expect(personalize(templateSource([{ source: '{{firstName}}' }, { literal: '}x' }])).html).toBe('Ada}x');
  });

  // Random content from the characters and words Handlebars gives meaning to, between random operator snippets.
  const WORDS = ['{', '{', '{{', '}', '}}', '\\', '\\', 'email', 'firstName', '#if ', '/if', '!', '--', '~', '>', 'else', ' ', '\n', 'x', '"', '&', '^', '{{email}}', '\\{{', '{{{'];
  const SNIPPETS = ['', 'Hi ', '{{firstName}}', ' {{email}} ', '{{#if email}}yes{{else}}no{{/if}}', '{{!note}}', '{', '\\', '}', 'x', '{{{email}}}'];
  const RENDERED: Record<string, string> = { '{{firstName}}': 'Ada', ' {{email}} ': ' ada@example.com ', '{{#if email}}yes{{else}}no{{/if}}': 'yes', '{{!note}}': '', '{{{email}}}': 'ada@example.com' };

  it('prints random content as itself between random operator snippets (5,000 cases)', () => {
    let seed = 20_261_204;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 5000; round += 1) {
      const parts: SourcePart[] = [];
      let expected = '';
      const count = 1 + random(4);
      for (let i = 0; i < count; i += 1) {
        const snippet = SNIPPETS[random(SNIPPETS.length)] ?? '';
        parts.push({ source: snippet });
        expected += RENDERED[snippet] ?? snippet;
        // Never empty: two operator snippets side by side are the operator's own template.
        let literal = '';
        const length = 1 + random(8);
        for (let w = 0; w < length; w += 1) literal += WORDS[random(WORDS.length)];
        parts.push({ literal });
        expected += shown(literal);
      }
      const source = templateSource(parts);
      const where = `${JSON.stringify(parts)} → ${JSON.stringify(source)}`;
      const out = personalize(source);
      expect(out.html, where).toBe(expected);
      expect(out.htmlPieces, where).toBe(out.html);
      expect(out.text, where).toBe(expected);
      expect(out.textPieces, where).toBe(expected);
    }
  });
});

describe('fillPattern', () => {
  const values = { title: 'Deal {{unsubscribeUrl}} {{email}}', name: 'The {{#if}} Weekly', number: '7' };

  it('fills {title}, {name} and {number} with text that prints as itself; the pattern\'s own placeholders stay live', () => {
    const source = fillPattern('{{firstName}}, {name} #{number}: {title}', values, 'subject pattern');
    expect(personalize(source).subject).toBe('Ada, The {{#if}} Weekly #7: Deal {{unsubscribeUrl}} {{email}}');
  });

  it('fills every occurrence and leaves other braces alone', () => {
    const source = fillPattern('{title} / {title} {other} {{#if email}}{number}{{/if}}', { title: '\\{{x}}', number: '1' }, 'subject pattern');
    expect(personalize(source).subject).toBe('\\{{x}} / \\{{x}} {other} 1');
  });

  it('refuses a token inside a tag or a comment, and a pattern that is not a template, naming it', () => {
    expect(() => fillPattern('{{#if "{title}"}}x{{/if}}', values, 'newsletter "weekly": subject pattern')).toThrow(
      'newsletter "weekly": subject pattern "{{#if \\"{title}\\"}}x{{/if}}": {title} is inside a {{…}} tag or comment; put it in the text',
    );
    expect(() => fillPattern('{{!-- {title} --}} hi', values, 'subject pattern')).toThrow(/\{title\} is inside a \{\{…\}\} tag or comment/);
    expect(() => fillPattern('{{{title}}}', values, 'subject pattern')).toThrow(/\{title\} is inside/);
    expect(() => fillPattern('{{#if email}}{title}', values, '--subject')).toThrow(/^--subject "\{\{#if email\}\}\{title\}": not a valid template: /);
  });

  it('agrees with Handlebars itself (strict, known helpers only, escaped and not)', () => {
    const source = fillPattern('<p>{{firstName}} {title}</p>', values, 'pattern');
    const options = { strict: true, knownHelpersOnly: true, knownHelpers: { if: true, unless: true } } as const;
    expect(Handlebars.compile(source, options)(reader)).toBe('<p>Ada Deal {{unsubscribeUrl}} {{email}}</p>');
    expect(Handlebars.compile(source, { ...options, noEscape: true })(reader)).toBe('<p>Ada Deal {{unsubscribeUrl}} {{email}}</p>');
  });
});

describe('showTemplate', () => {
  it('shows a stored subject as the operator reads it: content unescaped, placeholders as themselves', () => {
    const source = fillPattern('Hi {{firstName}}{{#if attributes.city}} in {{attributes.city}}{{/if}}: {title}', { title: 'Tail {{email}} \\{{x}} {' }, 'subject pattern');
    expect(source).toContain('\\{{email}}');
    expect(showTemplate(source)).toBe('Hi {{firstName}} in {{attributes.city}}: Tail {{email}} \\{{x}} {');
    expect(showTemplate('{{#if')).toBe('{{#if');
  });
});
