/** Page text (text copied from a web page): the sample imports exactly as issue 5 says, and the same rules hold for other sites' pages. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import matter from 'gray-matter';
import { Lexer, type Token, type Tokens } from 'marked';
import { describe, expect, it } from 'vitest';
import { MailroomError } from '../src/core/errors.ts';
import { parsePageText } from '../src/content/page-text.ts';
import { SAMPLE_DEK, SAMPLE_HEADINGS, SAMPLE_TITLE } from './helpers/sample-article.ts';

const SAMPLE_PATH = '/work/shared/samples/article-page.txt';
const SAMPLE = readFileSync(SAMPLE_PATH, 'utf8');
const CLEAN_SAMPLE = matter(readFileSync(fileURLToPath(new URL('../data/articles/2026-11-20-microsoft-openai-tentative-deal.md', import.meta.url)), 'utf8'));
const NOW = new Date('2026-12-01T12:00:00Z');

const SAMPLE_CHROME = ['OI', 'Open Influence Assistant', '×', 'selected projects', 'Get to know our take on the latest news', 'Ready to live more and work less?', 'Home Image'];

function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`./fixtures/page-text/${name}`, import.meta.url)), 'utf8');
}

function walk(tokens: readonly Token[], visit: (token: Token) => void): void {
  for (const token of tokens) {
    visit(token);
    if ('tokens' in token && Array.isArray(token.tokens)) walk(token.tokens as Token[], visit);
    if (token.type === 'list') walk((token as Tokens.List).items, visit);
  }
}

/** Headings, lists and paragraphs of a Markdown body, as marked reads it. */
function outline(markdown: string) {
  const tokens = new Lexer().lex(markdown);
  const headings = tokens.filter((token): token is Tokens.Heading => token.type === 'heading');
  const lists = tokens.filter((token): token is Tokens.List => token.type === 'list');
  const paragraphs = tokens.filter((token): token is Tokens.Paragraph => token.type === 'paragraph');
  const kinds = new Set<string>();
  walk(tokens, (token) => kinds.add(token.type));
  return { headings, lists, paragraphs, kinds };
}

function expectNoLines(markdown: string, lines: readonly string[]): void {
  const all = markdown.split('\n').map((line) => line.trim().replace(/^[-*]\s+|^#+\s+|^\d+\.\s+/, ''));
  for (const line of lines) {
    expect(all, line).not.toContain(line);
    if (line.length > 2) expect(markdown, line).not.toContain(line);
  }
}

describe('the sample page text', () => {
  const { article, publishedKnown, dropped } = parsePageText(SAMPLE, SAMPLE_PATH, { now: NOW });

  it('has the title once, and its dek as the one-paragraph summary', () => {
    expect(article.title).toBe(SAMPLE_TITLE);
    expect(article.summary).toBe(SAMPLE_DEK);
    expect(article.body).not.toContain(SAMPLE_TITLE);
    expect(article.body).not.toContain(SAMPLE_DEK);
    expect(article.slug).toBe('microsoft-and-openai-announce-tentative-deal-a-4-5-trillion-partnership-pivot');
  });

  it('starts with the intro and has the six section headings, in order, as ## headings', () => {
    expect(article.body.startsWith('When two companies valued at a combined 4.5 trillion issue a three sentence release')).toBe(true);
    const { headings } = outline(article.body);
    expect(headings.map((heading) => heading.text)).toEqual(SAMPLE_HEADINGS);
    expect(headings.every((heading) => heading.depth === 2)).toBe(true);
  });

  it('has both bullet lists with four items each, the first with its labels', () => {
    const { lists } = outline(article.body);
    expect(lists.map((list) => list.items.length)).toEqual([4, 4]);
    expect(lists.every((list) => !list.ordered)).toBe(true);
    expect(lists[0]?.items.map((item) => item.text.replace(/\*\*/g, '').split(':')[0])).toEqual([
      'Enhanced capital raising flexibility',
      'Multi cloud strategy',
      'Restructuring options',
      'Continued strategic partnership',
    ]);
    expect(lists[1]?.items[0]?.text).toBe('Design for portability by using open APIs and containerized models so AI workloads can move between providers.');
    expect(article.body).not.toContain('•');
  });

  it('contains no line of the page chrome, and reports every one it left out', () => {
    expectNoLines(`${article.summary}\n${article.body}`, SAMPLE_CHROME);
    expect(dropped).toEqual(['OI', 'Open Influence Assistant', '×', SAMPLE_TITLE, 'selected projects', 'selected projects', 'selected projects', 'Get to know our take on the latest news', 'Ready to live more and work less?', 'Home Image', 'Home Image', 'Home Image', 'Home Image']);
  });

  it('is, word for word, the hand-made clean version in data/articles', () => {
    expect(article.body).toBe(CLEAN_SAMPLE.content.trim());
    expect(article.summary).toBe(CLEAN_SAMPLE.data.summary);
    expect(article.title).toBe(CLEAN_SAMPLE.data.title);
  });

  it('has no date, author or address of its own: the import time stands in, and --url gives the canonical URL', () => {
    expect(publishedKnown).toBe(false);
    expect(article.publishedAt).toBe(NOW.toISOString());
    expect(article.author).toBe('');
    expect(article.canonicalUrl).toBe('');
    expect(parsePageText(SAMPLE, SAMPLE_PATH, { url: 'https://openinfluence.example/news/deal' }).article.canonicalUrl).toBe('https://openinfluence.example/news/deal');
  });

  it('gives the same article whatever chrome another site puts around it', () => {
    const lines = SAMPLE.split('\n');
    const articleLines = lines.slice(3, lines.indexOf('selected projects'));
    const otherChrome = [
      'We use cookies to give you the best experience on our website. By continuing, you agree to our Privacy Policy.',
      'Accept all',
      'Skip to content',
      '☰',
      'ACME INSIGHTS',
      'Home › Insights › Cloud',
      ...articleLines,
      'Share this article',
      'Related posts',
      'Five cloud trends to watch',
      'Subscribe to our newsletter',
      'Get the latest insights delivered to your inbox every week.',
      'Book a demo today!',
      '© 2026 Acme Insights. All rights reserved.',
      'Privacy Policy',
    ].join('\n');
    const other = parsePageText(otherChrome, 'other.txt', { now: NOW });
    expect(other.article.title).toBe(article.title);
    expect(other.article.summary).toBe(article.summary);
    expect(other.article.body).toBe(article.body);
  });
});

describe('other pages of the same kind', () => {
  it('a coffee roaster\'s journal: byline and date, a numbered list, en-dash bullets, end matter and footer left out', () => {
    const { article, publishedKnown, dropped } = parsePageText(fixture('northwind-journal.txt'), 'northwind-journal.txt', { now: NOW });
    expect(article.title).toBe('How We Pay Farmers 40% Above Fair Trade Prices');
    expect(article.author).toBe('Marisol Vega');
    expect(publishedKnown).toBe(true);
    expect(article.publishedAt).toBe('2026-03-03T00:00:00.000Z');
    expect(article.summary).toMatch(/^Most coffee is bought at a price set on a trading floor in New York/);
    const { headings, lists } = outline(article.body);
    expect(headings.map((heading) => heading.text)).toEqual(['Why the commodity price fails growers', 'What we pay instead', 'What changed for the growers', 'What comes next']);
    expect(lists.map((list) => [list.ordered, list.items.length])).toEqual([
      [true, 3],
      [false, 4],
    ]);
    expect(article.body).toContain('The "C price" for arabica swings');
    expect(article.body.endsWith('what each farmer was paid for the coffee in your cup.')).toBe(true);
    expectNoLines(article.body, ['Skip to main content', '☰', 'NORTHWIND', 'Shop', 'Journal', 'Cart (0)', 'Share', 'Advertisement', 'Related posts', 'Why Light Roasts Taste Brighter', 'Subscribe to the Journal', 'Get new stories from origin in your inbox every month.', 'Sign up', 'Instagram', 'Privacy Policy']);
    expect(article.body).not.toMatch(/Photo:|©|Journal ›/);
    expect(dropped).toContain('By Marisol Vega · March 3, 2026 · 6 min read');
  });

  it('a product release page: the repeated title, a dated line after it, *, 1. and · lists, image placeholders and calls to action', () => {
    const { article } = parsePageText(fixture('lumen-release.txt'), 'lumen-release.txt', { now: NOW });
    expect(article.title).toBe('Lumen 4.0: Dashboards That Explain Themselves');
    expect(article.summary).toBe('Lumen 4.0 adds plain-language explanations to every chart, a query engine that is three times faster, and shared workspaces for whole teams. Here is what changed and how to turn it on.');
    expect(article.publishedAt).toBe('2026-02-12T00:00:00.000Z');
    const { headings, lists } = outline(article.body);
    expect(headings.map((heading) => heading.text)).toEqual(["What's new?", 'How to turn it on', 'What it costs', 'Known limitations']);
    expect(lists.map((list) => [list.ordered, list.items.length])).toEqual([
      [false, 3],
      [true, 3],
      [false, 2],
    ]);
    expect(article.body).toContain('- **Faster queries:** the new engine answers');
    expect(article.body.endsWith('we read every message.')).toBe(true);
    expectNoLines(article.body, ['Feature image', 'Dashboard screenshot image', 'Published 12 February 2026', 'Ready to see it in action?', 'Book a demo', 'Start your free trial today!', 'Lumen Analytics', 'Security', 'Terms']);
    expect(article.body.match(/Lumen 4\.0: Dashboards That Explain Themselves/g)).toBeNull();
  });

  it('a local news story: a kicker trail, a byline and an updated time, "Advertisement" and "Read more:" inside the text, comments after it', () => {
    const { article } = parsePageText(fixture('riverton-ledger.txt'), 'riverton-ledger.txt', { now: NOW });
    expect(article.title).toBe('Riverton Council Approves $12 Million Plan to Rebuild Flood-Damaged Bridges');
    expect(article.author).toBe('Daniel Okafor');
    expect(article.publishedAt).toBe('2025-11-04T00:00:00.000Z');
    const { headings, lists, paragraphs } = outline(article.body);
    expect(headings.map((heading) => heading.text)).toEqual(['What the plan covers', 'Where the money comes from', 'What happens next']);
    expect(lists.map((list) => list.items.length)).toEqual([3]);
    expect(paragraphs[1]?.text).toMatch(/^"We can't wait another winter with half the town cut off," Mayor Linda Cho said/);
    expectNoLines(article.body, ['The Riverton Ledger', 'Subscribe', 'Sign in', 'Local News | Government', 'Listen to this article', 'By Daniel Okafor', 'Advertisement', 'More from Local News', 'School board delays vote on new start times', 'Comments (12)', 'Leave a comment']);
    expect(article.body).not.toMatch(/Read more:|©/);
  });

  it('a blogging platform: a sentence-case subtitle under the title, "·" separators, claps, follow buttons and the author box', () => {
    const { article } = parsePageText(fixture('blog-platform-microservices.txt'), 'blog-platform-microservices.txt', { now: NOW });
    expect(article.title).toBe('The Hidden Cost of Microservices');
    expect(article.summary).toBe('What nobody tells you about splitting a monolith into forty services');
    expect(article.author).toBe('Jane Whitfield');
    expect(article.publishedAt).toBe('2024-03-12T00:00:00.000Z');
    const { headings, lists } = outline(article.body);
    expect(headings.map((heading) => heading.text)).toEqual(['The network is not free', 'Ownership gets blurry', 'What we would do again']);
    expect(lists.map((list) => list.items.length)).toEqual([3]);
    expect(article.body.startsWith('When we split our monolith into forty services')).toBe(true);
    expect(article.body.endsWith('we would budget the platform work from the first day.')).toBe(true);
    expectNoLines(article.body, ['Open in app', 'Member-only story', 'Jane Whitfield', 'Follow', '8 min read', 'Mar 12, 2024', '12', 'Listen', 'Share', 'Written by Jane Whitfield', '1.2K Followers', 'Staff engineer writing about distributed systems and the teams that run them.', 'More from Jane Whitfield', 'Recommended from Medium', 'Careers']);
    expect(article.body).not.toMatch(/^·|^--/m);
  });
});

describe('the rules', () => {
  it('joins lines a copy wrapped, and a bullet whose text is on the next line', () => {
    const text = [
      'Menu',
      'A Short Guide to Wrapped Lines',
      '',
      'This paragraph was copied from a page that wraps its text, so it continues',
      'on a second line and ends on a third line without any blank line in',
      'between them.',
      '',
      'Things to keep',
      '•',
      'The first point, whose text sits on its own line.',
      '• The second point.',
    ].join('\n');
    const { article } = parsePageText(text, 'wrapped.txt');
    expect(article.title).toBe('A Short Guide to Wrapped Lines');
    expect(article.body).toBe(
      'This paragraph was copied from a page that wraps its text, so it continues on a second line and ends on a third line without any blank line in between them.\n\n## Things to keep\n\n- The first point, whose text sits on its own line.\n- The second point.',
    );
  });

  it('counts a title repeated several times once, and reads a lone numbered line followed by text as a numbered heading', () => {
    const text = [
      'Three Lessons From Our First Year',
      'Three Lessons From Our First Year',
      'We started the company with two people and a borrowed office. Here is what a year taught us.',
      'Three Lessons From Our First Year',
      '1. Hire slowly',
      'Our first hire took four months, and it was worth every week of the wait.',
      '2. Charge early',
      'Customers who pay from the first day tell you what they really need.',
      'Three Lessons From Our First Year',
    ].join('\n\n');
    const { article } = parsePageText(text, 'lessons.txt');
    expect(article.title).toBe('Three Lessons From Our First Year');
    expect(article.summary).toBe('We started the company with two people and a borrowed office. Here is what a year taught us.');
    expect(article.body).not.toContain('Three Lessons');
    expect(outline(article.body).headings.map((heading) => heading.text)).toEqual(['1. Hire slowly', '2. Charge early']);
  });

  it('keeps text as text: Markdown, HTML and link syntax in the page are escaped, never interpreted', () => {
    const text = [
      'Escaping Everything Properly',
      '',
      'Write <script>alert(1)</script> and [click](javascript:alert(1)) and *stars* and _underscores_ and `ticks` as they are, with &copy; too.',
      '',
      '# not a heading, and > not a quote either, because the page showed these characters literally.',
    ].join('\n');
    const { article } = parsePageText(text, 'escape.txt');
    const { kinds } = outline(article.body);
    for (const kind of ['html', 'link', 'em', 'strong', 'codespan', 'heading', 'blockquote']) expect(kinds.has(kind), kind).toBe(false);
    expect(article.body).toContain('\\<script>');
    expect(article.body).toContain('\\[click\\](javascript:alert(1))');
  });

  it('fails clearly on an empty file, on text without a title and on text that is all chrome', () => {
    const error = (text: string): MailroomError => {
      try {
        parsePageText(text, 'page.txt');
      } catch (caught) {
        expect(caught).toBeInstanceOf(MailroomError);
        return caught as MailroomError;
      }
      throw new Error('expected an error');
    };
    expect(error('  \n\n').message).toBe('page.txt: the file is empty');
    expect(error('this is one long sentence of text that has no title above it at all, only this paragraph, which goes on and on for a while.').message).toMatch(/^page\.txt: no title found/);
    expect(error('Menu\n×\nA Title For Nothing\nShare\nSubscribe\n© 2026 Nobody').message).toMatch(/^page\.txt: no article text found after the title "A Title For Nothing"/);
  });
});
