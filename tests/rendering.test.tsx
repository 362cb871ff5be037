/** Renders both templates through renderIssue and checks the HTML and text parts an inbox will receive. */

import { existsSync, readFileSync } from 'node:fs';
import { render } from '@react-email/render';
import Handlebars from 'handlebars';
import { HtmlValidate } from 'html-validate';
import { describe, expect, it } from 'vitest';
import ArticleEmail from '../emails/article.tsx';
import ConfirmEmail from '../emails/confirm.tsx';
import DigestEmail from '../emails/digest.tsx';
import type { EmailArticle, EmailBrand, EmailIssueInfo } from '../emails/types.ts';
import { ACCEPTED_FINDINGS } from '../src/checks/accepted-findings.ts';
import { checkEmailHtml } from '../src/checks/email-checks.ts';
import { literalSource, templateSource } from '../src/personalization/template-source.ts';
import { renderIssue } from '../src/rendering/render-issue.ts';
import type { IssueSources, TemplateInput } from '../src/rendering/render-issue.ts';
import { toWebCopy } from '../src/rendering/web-copy.ts';

const brand: EmailBrand = {
  name: 'Mailroom Weekly',
  logoUrl: 'https://news.example.com/logo.png',
  postalAddress: 'Mailroom Weekly\n548 Market St #12345\nSan Francisco, CA 94104',
  websiteUrl: 'https://news.example.com',
  language: 'en',
};

const issue: IssueSources = {
  subject: literalSource('Mailroom Weekly #7: shipping plain text'),
  preheader: literalSource('Why every email needs a good text part.'),
  number: 7,
  date: '2025-11-20T09:00:00.000Z',
};

const featureBody = [
  'Plain text is the part of an email that **spam filters**, *screen readers* and ~~nobody~~ everybody reads.',
  '',
  '## Three reasons',
  '',
  '- Filters score HTML-only mail as suspicious',
  '- Watches show the text part',
  '- Some readers simply prefer it',
  '',
  '1. Render once',
  '2. Convert',
  '',
  '> Write the text part as if it were the only one.',
  '',
  'Read [the RFC](https://www.rfc-editor.org/rfc/rfc2046) or [our guide](/guides/text).',
  'Do not click [this](javascript:alert(document.cookie)).',
  '',
  '![A watch showing an email](https://news.example.com/img/watch.png)',
  '',
  '<script>alert("owned")</script>',
  '',
  'Inline `code` and a line  ',
  'break.',
  '',
  '---',
  '',
  'Authors sometimes write {{email}} or {{unsubscribeUrl}} in an article.',
].join('\n');

const lead: EmailArticle = {
  title: 'Plain-text parts are not optional',
  summary: 'Spam filters, screen readers and watches all read the text part.',
  body: featureBody,
  url: 'https://news.example.com/2025/11/plain-text',
  author: 'Katherine Johnson',
  publishedAt: '2025-11-14T10:00:00.000Z',
  leadImage: { url: 'https://news.example.com/img/lead.png', alt: 'A stack of envelopes' },
  tags: ['html-email'],
};

const others: EmailArticle[] = [
  {
    title: 'One-click unsubscribe, explained',
    summary: 'RFC 8058 in five minutes.',
    body: 'Short body.',
    url: 'https://news.example.com/2025/11/one-click',
    author: 'Radia Perlman',
    publishedAt: '2025-11-12T08:15:00.000Z',
    leadImage: { url: 'https://news.example.com/img/unsub.png', alt: '' },
    tags: [],
  },
  {
    title: 'Designing emails for dark mode',
    summary: 'Some clients invert your colors.',
    body: 'Short body.',
    url: 'https://news.example.com/2025/11/dark-mode',
    author: 'Margaret Hamilton',
    publishedAt: '2025-11-10T16:45:00.000Z',
    leadImage: null,
    tags: ['design'],
  },
];

const digestInput: TemplateInput = { template: 'digest', props: { brand, issue, lead, others } };
const articleInput: TemplateInput = { template: 'article', props: { brand, issue, article: lead } };

/** html-validate's recommended rules (a superset of `standard`), minus the ones email HTML must break. */
const validator = new HtmlValidate({
  extends: ['html-validate:recommended'],
  rules: {
    // React Email emits the XHTML 1.0 Transitional doctype, which email clients expect.
    'doctype-html': 'off',
    // Layout tables, inline styles and presentational attributes are how email HTML works.
    'no-inline-style': 'off',
    'no-deprecated-attr': 'off',
    'prefer-native-element': 'off',
    // React writes cellPadding/cellSpacing in camelCase and closes void elements with "/>".
    'attr-case': 'off',
    'void-style': 'off',
    'attribute-boolean-style': 'off',
    // Outlook-only markup inside React Email's Button.
    'no-conditional-comment': 'off',
  },
});

function imgTags(html: string): string[] {
  return html.match(/<img\b[^>]*>/g) ?? [];
}

function fill(template: string, values: Record<string, string>): string {
  return Handlebars.compile(template)(values);
}

const sampleRecipient = {
  firstName: 'Ada',
  lastName: 'Lovelace',
  fullName: 'Ada Lovelace',
  email: 'ada@example.com',
  unsubscribeUrl: 'https://news.example.com/u/abc',
  preferencesUrl: 'https://news.example.com/p/abc',
  webVersionUrl: 'https://news.example.com/w/abc',
};

describe.each([
  ['digest', digestInput],
  ['article', articleInput],
] as const)('renderIssue(%s)', (_name, input) => {
  it('produces a complete email document', async () => {
    const { html } = await renderIssue(input);
    expect(html).toMatch(/<html\b[^>]*\blang="en"/);
    expect(html).toContain('<meta name="color-scheme" content="light dark"/>');
    expect(html).toContain('<meta name="supported-color-schemes" content="light dark"/>');
    expect(html).toContain('@media (prefers-color-scheme: dark)');
    expect(html).toContain('@media only screen and (max-width: 620px)');
    expect(html).toMatch(/<table[^>]*class="mr-container"[^>]*style="[^"]*max-width:600px;width:100%/);
    expect(html).toContain(`<title>${issue.subject}</title>`);
  });

  it('holds the column at 600px in Outlook on Windows with an MSO-only ghost table around it', async () => {
    const { html } = await renderIssue(input);
    const open = '<!--[if mso]><table role="presentation" align="center" width="600" cellpadding="0" cellspacing="0" border="0" style="width:600px"><tr><td><![endif]-->';
    const close = '<!--[if mso]></td></tr></table><![endif]-->';
    const at = html.indexOf(open);
    expect(at).toBeGreaterThan(0);
    // The fluid column comes right after the opening, and the closing right after the column's own table ends.
    expect(html.slice(at + open.length)).toMatch(/^<table[^>]*class="mr-container"/);
    expect(html.indexOf(close)).toBeGreaterThan(html.indexOf('548 Market St'));
    expect(html.slice(html.indexOf(close) + close.length)).toMatch(/^<\/td><\/tr><\/tbody><\/table>/);
    expect(html.split(open)).toHaveLength(2);
    expect(html.split(close)).toHaveLength(2);
  });

  it('sets no target on links (Gmail does not support it) and no React Email link defaults', async () => {
    const { html } = await renderIssue(input);
    expect(html).not.toMatch(/\starget=/);
    expect(html).not.toContain('text-decoration-line');
    expect(html).not.toContain('#067df7');
    expect(html).not.toMatch(/outline:/);
  });

  it('keeps only the documented caniemail findings (README: "Email client support")', async () => {
    const { html } = await renderIssue(input);
    const report = checkEmailHtml(html);
    expect(report.unsupportedError).toBeNull();
    for (const finding of report.unsupported) {
      const accepted = ACCEPTED_FINDINGS.find((entry) => entry.feature === finding.feature);
      expect(accepted, `${finding.feature} (${finding.clients.join(', ')}) is neither removed nor documented`).toBeDefined();
      expect(finding.clients).toEqual(accepted?.clients);
    }
    expect(report.imagesWithoutAlt).toEqual([]);
    expect(report.unnamedLinks).toEqual([]);
    expect(report.ambiguousLinkNames).toEqual([]);
    expect(report.html.verdict).toBe('ok');
  });

  it('gives every image an alt attribute', async () => {
    const { html } = await renderIssue(input);
    const images = imgTags(html);
    expect(images.length).toBeGreaterThan(0);
    for (const img of images) expect(img).toMatch(/\salt="[^"]*"/);
    expect(html).toContain('alt="Mailroom Weekly"');
  });

  it('has a footer with unsubscribe, preferences, web version and postal address', async () => {
    const { html } = await renderIssue(input);
    expect(html).toContain('href="{{unsubscribeUrl}}"');
    expect(html).toContain('href="{{preferencesUrl}}"');
    // "View in browser" at the very top and again in the footer.
    expect(html.match(/href="\{\{webVersionUrl\}\}"/g)).toHaveLength(2);
    expect(html.indexOf('{{webVersionUrl}}')).toBeLessThan(html.indexOf('Mailroom Weekly</a>'));
    expect(html).toContain('548 Market St #12345<br/>San Francisco, CA 94104');
    expect(html).toContain('{{email}} subscribed to');
  });

  it('sets a text color wherever it sets a background color', async () => {
    const { html } = await renderIssue(input);
    const styles = [...html.matchAll(/style="([^"]*)"/g)].map((match) => match[1] ?? '');
    const withBackground = styles.filter((style) => /background-color:/.test(style));
    expect(withBackground.length).toBeGreaterThan(0);
    for (const style of withBackground) expect(style).toMatch(/(^|;)color:/);
  });

  it('renders the article Markdown as email markup', async () => {
    const { html } = await renderIssue(input);
    expect(html).toMatch(/<h2[^>]*>Three reasons<\/h2>/);
    expect(html).toMatch(/<ul[^>]*><li[^>]*>Filters score HTML-only mail as suspicious<\/li>/);
    expect(html).toMatch(/<ol[^>]*><li[^>]*>Render once<\/li>/);
    expect(html).toMatch(/<blockquote[^>]*border-left:4px solid[^>]*>/);
    expect(html).toMatch(/<a[^>]*href="https:\/\/www\.rfc-editor\.org\/rfc\/rfc2046"[^>]*>the RFC<\/a>/);
    // Relative links resolve against the article's URL.
    expect(html).toMatch(/<a[^>]*href="https:\/\/news\.example\.com\/guides\/text"[^>]*>our guide<\/a>/);
    expect(html).toMatch(
      /<img[^>]*alt="A watch showing an email"[^>]*src="https:\/\/news\.example\.com\/img\/watch\.png"/,
    );
    expect(html).toMatch(/<strong>spam filters<\/strong>/);
    expect(html).toMatch(/<em>screen readers<\/em>/);
    expect(html).toMatch(/<del>nobody<\/del>/);
    expect(html).toMatch(/<code[^>]*>code<\/code>/);
    expect(html).toMatch(/a line<br\/>/);
    expect(html).toMatch(/<hr[^>]*>/);
  });

  it('never turns javascript: URLs or raw HTML from the article into markup', async () => {
    const { html, text } = await renderIssue(input);
    expect(html).not.toMatch(/javascript:/i);
    expect(html).toContain('Do not click this.');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('owned');
    expect(text).not.toContain('owned');
  });

  it('keeps recipient placeholders and escapes the ones the content wrote', async () => {
    const { html, text } = await renderIssue(input);
    for (const part of [html, text]) {
      expect(part).toContain('\\{{email}} or \\{{unsubscribeUrl}} in an article');
      expect(part).not.toMatch(/[^\\]\{\{email\}\} or/);
    }
    const filled = fill(html, sampleRecipient);
    expect(filled).toContain('Authors sometimes write {{email}} or {{unsubscribeUrl}} in an article.');
    expect(filled).toContain('href="https://news.example.com/u/abc"');
    expect(filled).toContain('ada@example.com subscribed to');
    expect(filled).not.toContain('{{webVersionUrl}}');
    const filledText = fill(text, sampleRecipient);
    expect(filledText).toContain('Authors sometimes write {{email}} or {{unsubscribeUrl}} in an article.');
    expect(filledText).toContain('Unsubscribe <https://news.example.com/u/abc>');
  });

  it('has a plain-text part with headings as written, links, placeholders and no preheader', async () => {
    const { text } = await renderIssue(input);
    expect(text).toContain('\nThree reasons\n');
    expect(text).not.toContain('THREE REASONS');
    expect(text).toContain('the RFC <https://www.rfc-editor.org/rfc/rfc2046>');
    expect(text).toContain(' * Filters score HTML-only mail as suspicious');
    expect(text).toContain(' 1. Render once');
    expect(text).toContain('> Write the text part as if it were the only one.');
    expect(text).toContain('[A watch showing an email]');
    expect(text).toContain('Unsubscribe <{{unsubscribeUrl}}>');
    expect(text).toContain('<{{webVersionUrl}}>');
    expect(text).toContain('548 Market St #12345');
    expect(text).not.toContain(issue.preheader);
    expect(text).not.toMatch(/[\u200B\u200C\u200D\u200E\u200F\uFEFF]/);
    for (const line of text.split('\n')) {
      if (line.length > 78) expect(line.trim()).not.toContain(' ');
    }
  });

  it('passes html-validate', async () => {
    const { html } = await renderIssue(input);
    const report = await validator.validateString(html);
    const messages = report.results.flatMap((result) =>
      result.messages.map((message) => `${message.ruleId}: ${message.message}`),
    );
    expect(messages).toEqual([]);
  });
});

describe('renderIssue(digest) specifics', () => {
  it('greets the recipient by placeholder and shows every other article as a card', async () => {
    const { html, text } = await renderIssue(digestInput);
    expect(html).toContain('Hi {{firstName}},');
    expect(text).toContain('Hi {{firstName}},');
    for (const article of others) {
      expect(html).toContain(`href="${article.url}"`);
      expect(text.replace(/\s+/g, ' ')).toContain(`Read “${article.title}” <${article.url}>`);
    }
    expect(html).toContain(others[0]?.summary);
    // The card image without alt text still carries alt="".
    expect(html).toMatch(/<img[^>]*alt=""[^>]*src="https:\/\/news\.example\.com\/img\/unsub\.png"/);
  });

  it('names each card\'s button after its article, so a screen reader tells them apart', async () => {
    const { html } = await renderIssue(digestInput);
    const report = checkEmailHtml(html);
    for (const article of others) {
      const buttons = report.links.filter((link) => link.href === article.url && link.name.startsWith('Read '));
      expect(buttons).toEqual([{ href: article.url, name: `Read “${article.title}”` }]);
    }
    expect(report.links.filter((link) => link.name === 'Read more')).toEqual([]);
    expect(report.ambiguousLinkNames).toEqual([]);
  });

  it('marks the greeting, "View in browser" and the subscription footer as email-only; the web copy drops exactly those', async () => {
    const { html } = await renderIssue(digestInput);
    const web = toWebCopy(html);
    expect(html).toContain('Hi {{firstName}},');
    expect(web).not.toContain('Hi {{firstName}},');
    // (The article's own text mentions \\{{email}} and \\{{unsubscribeUrl}}, escaped: those stay.)
    expect(web).not.toMatch(/[^\\]\{\{(webVersionUrl|unsubscribeUrl|preferencesUrl|email)\}\}/);
    expect(html).toMatch(/[^\\]\{\{(webVersionUrl|unsubscribeUrl|preferencesUrl|email)\}\}/);
    expect(web).not.toContain('data-email-only');
    // Everything else stays byte for byte: the web copy is the email minus the marked elements.
    expect(web).toContain('Here is issue #7 of Mailroom Weekly');
    expect(web).toContain('548 Market St #12345<br/>San Francisco, CA 94104');
    for (const article of [lead, ...others]) expect(web).toContain(article.title);
    expect(web.length).toBeLessThan(html.length);
    const report = await validator.validateString(web);
    expect(report.results.flatMap((result) => result.messages.map((message) => message.message))).toEqual([]);
    // A document without markers (an issue rendered before them) comes back unchanged.
    expect(toWebCopy('<p>Hi {{firstName}},</p>')).toBe('<p>Hi {{firstName}},</p>');
  });

  it('cuts a lead article over 1500 words to an excerpt with "Continue reading"', async () => {
    const paragraph = 'Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor. '.repeat(10);
    const body = Array.from({ length: 25 }, (_, index) => `Paragraph ${index + 1}. ${paragraph}`).join('\n\n');
    const { html, text } = await renderIssue({
      template: 'digest',
      props: { brand, issue, lead: { ...lead, body }, others },
    });
    expect(html).toContain('Continue reading');
    expect(text).toContain(`Continue reading <${lead.url}>`);
    expect(html).toContain('Paragraph 1.');
    expect(html).not.toContain('Paragraph 25.');
    const { html: shortHtml } = await renderIssue(digestInput);
    expect(shortHtml).not.toContain('Continue reading');
  });

  it('shows the brand name as text when there is no logo', async () => {
    const { html } = await renderIssue({
      template: 'digest',
      props: { brand: { ...brand, logoUrl: '' }, issue, lead, others },
    });
    expect(html).not.toContain('alt="Mailroom Weekly"');
    expect(html).toMatch(/>Mailroom Weekly<\/a><\/p>/);
  });

  it('uses the brand language for lang and dates', async () => {
    const { html } = await renderIssue({
      template: 'digest',
      props: { brand: { ...brand, language: 'de' }, issue, lead, others },
    });
    expect(html).toMatch(/<html\b[^>]*\blang="de"/);
    expect(html).toContain('20. November 2025');
  });
});

describe('renderIssue: content cannot inject Handlebars', () => {
  it('prints {{ in every content field as itself; the subject and preheader patterns stay live', async () => {
    const { html, text } = await renderIssue({
      template: 'article',
      props: {
        brand: { ...brand, name: 'Weekly {{email}}' },
        issue: { ...issue, subject: templateSource([{ source: 'Hello {{firstName}}: ' }, { literal: '{{email}}' }]), preheader: templateSource([{ source: '{{firstName}}, ' }, { literal: 'psst {{email}}' }]) },
        article: {
          ...lead,
          title: 'Title {{fullName}}',
          body: 'A [link](https://example.com/?q={{email}}&x={y}) and {{{email}}} and {{#each x}}{{/each}}.',
        },
      },
    });
    const filled = fill(html, sampleRecipient);
    expect(filled).not.toContain('ada@example.com subscribed to Weekly ada@example.com');
    expect(filled).toContain('<title>Hello Ada: {{email}}</title>');
    expect(filled).toContain('Title {{fullName}}');
    expect(filled).toContain('Ada, psst {{email}}');
    expect(filled).toContain('href="https://example.com/?q={{email}}&amp;x={y}"');
    expect(filled).toContain('{{{email}}} and {{#each x}}{{/each}}.');
    expect(filled).toMatch(/ada@example\.com subscribed to <a[^>]*>Weekly \{\{email\}\}<\/a>/);
    // The text part wraps at spaces, wherever they fall.
    const filledText = fill(text, sampleRecipient).replace(/\s+/g, ' ');
    expect(filledText).toContain('Title {{fullName}}');
    expect(filledText).toContain('{{{email}}} and {{#each x}}{{/each}}.');
  });

  it('comes out as \\{{email}} in the rendered HTML and text', async () => {
    const { html, text } = await renderIssue({
      template: 'article',
      props: { brand, issue, article: { ...lead, body: 'Write to {{email}} today.' } },
    });
    expect(html).toContain('Write to \\{{email}} today.');
    expect(text).toContain('Write to \\{{email}} today.');
  });

  it('keeps a backslash the content put before {{ from unescaping it', async () => {
    const { html, text } = await renderIssue({
      template: 'article',
      props: { brand, issue, article: { ...lead, body: 'Path C:\\\\{{email}} and \\{{firstName}}.' } },
    });
    for (const part of [html, text]) {
      const filled = fill(part, sampleRecipient);
      expect(filled).not.toContain('Ada.');
      expect(filled).not.toMatch(/C:\\+ada@example\.com/);
      expect(filled).toMatch(/\{\{firstName\}\}\./);
    }
  });

  it('keeps a placeholder spelled with HTML entities in Markdown as text (the entities decode inside the template)', async () => {
    const { html, text } = await renderIssue({
      template: 'article',
      props: { brand, issue, article: { ...lead, body: 'Hi &#123;&#123;email&#125;&#125; and `&#123;&#123;email}}` and [a](https://e.example/&#123;&#123;email&#125;&#125;).' } },
    });
    const filledHtml = fill(html, sampleRecipient);
    const filledText = fill(text, sampleRecipient);
    expect(filledText).toContain('Hi {{email}} and');
    expect(filledHtml).toContain('Hi {{email}} and');
    for (const part of [filledHtml, filledText]) expect(part.split('ada@example.com').length - 1).toBe(1);
  });

  it('leaves private-use characters in the content alone, and no marker of its own behind', async () => {
    const { html, text } = await renderIssue({
      template: 'article',
      props: { brand, issue, article: { ...lead, body: 'odd \uE000\uE000email}} text' } },
    });
    expect(html).toContain('odd \uE000\uE000email}} text');
    expect(fill(html, sampleRecipient)).not.toMatch(/[0-9a-f]{16}Z/);
    expect(fill(text, sampleRecipient)).not.toMatch(/[0-9a-f]{16}Z/);
  });
});

describe('the accepted caniemail findings', () => {
  it('are each listed in the README with a fallback, and the sample issues and the confirmation email keep to them too', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = /### Email client support\n([\s\S]*?)\n### /.exec(readme)?.[1] ?? '';
    for (const finding of ACCEPTED_FINDINGS) {
      expect(section, finding.feature).toContain(`\`${finding.feature}\``);
      expect(finding.fallback.length).toBeGreaterThan(10);
    }
    const previews = [<ConfirmEmail {...ConfirmEmail.PreviewProps} />, <DigestEmail {...DigestEmail.PreviewProps} />, <ArticleEmail {...ArticleEmail.PreviewProps} />];
    for (const element of previews) {
      for (const finding of checkEmailHtml(await render(element)).unsupported) {
        expect(ACCEPTED_FINDINGS.find((entry) => entry.feature === finding.feature)?.clients, finding.feature).toEqual(finding.clients);
      }
    }
  });

  it('are all still needed: every one is found in some template (else it goes from the list and the README)', async () => {
    const found = new Set<string>();
    for (const input of [digestInput, articleInput]) for (const finding of checkEmailHtml((await renderIssue(input)).html).unsupported) found.add(finding.feature);
    // The sample issues have what the fixtures here lack (a code block).
    const previews = [<ConfirmEmail {...ConfirmEmail.PreviewProps} />, <DigestEmail {...DigestEmail.PreviewProps} />, <ArticleEmail {...ArticleEmail.PreviewProps} />];
    for (const element of previews) for (const finding of checkEmailHtml(await render(element)).unsupported) found.add(finding.feature);
    expect([...found].sort()).toEqual(ACCEPTED_FINDINGS.map((entry) => entry.feature).sort());
  });
});

describe('PreviewProps', () => {
  it.each([
    ['digest', () => <DigestEmail {...DigestEmail.PreviewProps} />],
    ['article', () => <ArticleEmail {...ArticleEmail.PreviewProps} />],
    ['confirm', () => <ConfirmEmail {...ConfirmEmail.PreviewProps} />],
  ] as const)('%s renders, valid, with images shipped in emails/static only', async (name, element) => {
    const html = await render(element());
    expect(html).toContain(name === 'confirm' ? 'ada@example.com' : 'Ada');
    if (name !== 'confirm') expect(html).toContain('https://news.example.com/u/preview');
    const report = await validator.validateString(html);
    expect(report.valid).toBe(true);
    const sources = [...html.matchAll(/<img[^>]*\ssrc="([^"]*)"/g)].map((match) => match[1] ?? '');
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(src).toMatch(/^\/static\/[\w.-]+\.png$/);
      expect(existsSync(new URL(`../emails${src}`, import.meta.url)), src).toBe(true);
    }
    expect(html).not.toContain('placehold.co');
  });

  it('dates the sample issue today and its articles in the days before', () => {
    const props = DigestEmail.PreviewProps;
    const now = Date.now();
    const day = 24 * 60 * 60 * 1000;
    expect(Math.abs(new Date(props.issue.date).getTime() - now)).toBeLessThan(day);
    for (const article of [props.lead, ...props.others]) {
      const age = now - new Date(article.publishedAt).getTime();
      expect(age).toBeGreaterThan(0);
      expect(age).toBeLessThan(14 * day);
    }
    expect(new Date(ConfirmEmail.PreviewProps.expiresAt).getTime()).toBeGreaterThan(now);
  });

  it('are the shipped sample, not a file in a developer\'s checkout', () => {
    expect(existsSync(new URL('../emails/_preview/latest-issue.json', import.meta.url))).toBe(false);
    expect(readFileSync(new URL('../.gitignore', import.meta.url), 'utf8')).toContain('emails/_preview/latest-issue.json');
  });
});
