/** Tests for reading article files: the demo content, the hand-converted sample, defaults, and every kind of bad input. */

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lexer } from 'marked';
import type { Token, Tokens } from 'marked';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailroomError } from '../src/core/errors.ts';
import { decodeArticleBytes, parseArticleFile, readArticleSources } from '../src/content/article-file.ts';
import { SAMPLE_DEK, SAMPLE_HEADINGS, SAMPLE_TITLE } from './helpers/sample-article.ts';

const ARTICLES_DIR = fileURLToPath(new URL('../data/articles', import.meta.url));
const MEDIA_DIR = fileURLToPath(new URL('../data/media', import.meta.url));
const CHROME_LINES = [
  'OI',
  'Open Influence Assistant',
  '×',
  'selected projects',
  'Get to know our take on the latest news',
  'Ready to live more and work less?',
  'Home Image',
];

const GOOD = `---
title: "A Good Article"
published: 2026-11-20T09:00:00Z
---
Some body text.
`;

/** Replaces one front matter line of GOOD (by key) or adds a line when the key is not there yet. */
function withField(line: string, base = GOOD): string {
  const key = line.split(':')[0] ?? '';
  const pattern = new RegExp(`^${key}:.*$`, 'm');
  return pattern.test(base) ? base.replace(pattern, line) : base.replace('---\n', `---\n${line}\n`);
}

function parseError(text: string, source = 'data/articles/bad.md'): MailroomError {
  try {
    parseArticleFile(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(MailroomError);
    return error as MailroomError;
  }
  throw new Error('expected parseArticleFile to throw');
}

function walkTokens(tokens: readonly Token[], visit: (token: Token) => void): void {
  for (const token of tokens) {
    visit(token);
    if ('tokens' in token && Array.isArray(token.tokens)) walkTokens(token.tokens, visit);
    if (token.type === 'list') walkTokens((token as Tokens.List).items, visit);
  }
}

describe('the demo content', () => {
  it('parses with no errors and has at least six articles with unique slugs', async () => {
    const result = await readArticleSources(ARTICLES_DIR);
    expect(result.errors.map((error) => error.message)).toEqual([]);
    expect(result.articles.length).toBeGreaterThanOrEqual(6);
    const slugs = result.articles.map(({ article }) => article.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
  });

  it('has substance: summaries, dates before 2026-11-26, lead images, and varied Markdown', async () => {
    const { articles } = await readArticleSources(ARTICLES_DIR);
    const bodies = articles.map(({ article }) => article.body).join('\n\n');
    for (const { source, article } of articles) {
      expect(article.summary, source).not.toBe('');
      expect(article.canonicalUrl, source).toMatch(/^https:\/\//);
      expect(article.author, source).not.toBe('');
      expect(article.publishedAt < '2026-11-26', source).toBe(true);
      expect(article.body, source).not.toMatch(/^# /m);
      const words = article.body.split(/\s+/).filter(Boolean).length;
      expect(words, source).toBeGreaterThanOrEqual(300);
      expect(words, source).toBeLessThanOrEqual(700);
    }
    expect(articles.filter(({ article }) => article.leadImage !== null).length).toBeGreaterThanOrEqual(3);
    expect(bodies).toMatch(/^> /m); // a blockquote
    expect(bodies).toMatch(/^1\. /m); // an ordered list
    expect(bodies).toMatch(/[^!]\[[^\]]+\]\(https:\/\/[^)]+\)/); // a link
    expect(bodies).toMatch(/!\[[^\]]+\]\(\/media\/[^)]+\.png\)/); // an inline image
  });

  it('only refers to media files that exist', async () => {
    const { articles } = await readArticleSources(ARTICLES_DIR);
    const references = articles.flatMap(({ article }) => [
      ...(article.leadImage ? [article.leadImage.url] : []),
      ...[...article.body.matchAll(/\]\((\/media\/[^)\s]+)\)/g)].map((match) => match[1] ?? ''),
    ]);
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) {
      expect(existsSync(join(MEDIA_DIR, reference.replace(/^\/media\//, ''))), reference).toBe(true);
    }
    expect(existsSync(join(MEDIA_DIR, 'logo.png'))).toBe(true);
  });
});

describe('the sample article', () => {
  const load = async () => {
    const { articles } = await readArticleSources(ARTICLES_DIR);
    const found = articles.find(({ article }) => article.title === SAMPLE_TITLE);
    if (!found) throw new Error('sample article not found');
    return found.article;
  };

  it('has the exact title, the dek as summary and the site as author, not the page chrome', async () => {
    const article = await load();
    expect(article.title).toBe(SAMPLE_TITLE);
    expect(article.summary).toBe(SAMPLE_DEK);
    expect(article.author).toBe('Open Influence Newsroom');
    expect(article.canonicalUrl).toMatch(/^https:\/\//);
  });

  it('starts with the intro paragraph and has the six sections as ## headings, in order', async () => {
    const article = await load();
    expect(article.body.startsWith('When two companies valued at a combined 4.5 trillion issue a three sentence release')).toBe(true);
    const tokens = new Lexer().lex(article.body);
    const headings = tokens.filter((token): token is Tokens.Heading => token.type === 'heading');
    expect(headings.map((heading) => heading.text)).toEqual(SAMPLE_HEADINGS);
    expect(headings.every((heading) => heading.depth === 2)).toBe(true);
  });

  it('has two lists of four items each, the first keeping its labels', async () => {
    const article = await load();
    const lists: Tokens.List[] = [];
    walkTokens(new Lexer().lex(article.body), (token) => {
      if (token.type === 'list') lists.push(token as Tokens.List);
    });
    expect(lists.map((list) => list.items.length)).toEqual([4, 4]);
    expect(lists.every((list) => !list.ordered)).toBe(true);
    const labels = lists[0]?.items.map((item) => item.text.replace(/\*\*/g, '').split(':')[0]);
    expect(labels).toEqual([
      'Enhanced capital raising flexibility',
      'Multi cloud strategy',
      'Restructuring options',
      'Continued strategic partnership',
    ]);
    expect(lists[1]?.items[0]?.text).toBe(
      'Design for portability by using open APIs and containerized models so AI workloads can move between providers.',
    );
  });

  it('contains none of the page chrome', async () => {
    const article = await load();
    const lines = `${article.summary}\n${article.body}`.split('\n').map((line) => line.trim());
    for (const chrome of CHROME_LINES) {
      expect(lines, chrome).not.toContain(chrome);
    }
    for (const chrome of CHROME_LINES.filter((line) => line.length > 2)) {
      expect(article.body, chrome).not.toContain(chrome);
    }
    expect(article.body).not.toContain(SAMPLE_TITLE);
    expect(article.body).not.toContain('•');
  });
});

describe('parseArticleFile', () => {
  it('reads the documented front matter shape', () => {
    const article = parseArticleFile(
      `---
title: "Hello: World"
slug: "hello"
summary: "The dek."
canonical_url: "https://example.com/hello"
author: "Ada"
published: 2026-11-20T09:00:00Z
lead_image:
  url: "/media/hello.png"
  alt: "A wave"
tags: [AI, Cloud, ai]
---
Body **text**.
`,
      'hello.md',
    );
    expect(article).toEqual({
      slug: 'hello',
      title: 'Hello: World',
      summary: 'The dek.',
      body: 'Body **text**.',
      canonicalUrl: 'https://example.com/hello',
      author: 'Ada',
      publishedAt: '2026-11-20T09:00:00.000Z',
      leadImage: { url: '/media/hello.png', alt: 'A wave' },
      tags: ['ai', 'cloud'],
    });
  });

  it('fills the defaults: slug from the title, summary from the first paragraph, empty author and URL, no image', () => {
    const article = parseArticleFile(
      `---
title: Café Notes
published: 2026-11-20
---

## A heading first

The **first** paragraph, with a [link](https://example.com), \`code\`, an ![image](/media/x.png) and AT&amp;T.

Second paragraph.
`,
      'notes.md',
    );
    expect(article.slug).toBe('cafe-notes');
    expect(article.summary).toBe('The first paragraph, with a link, code, an and AT&T.');
    expect(article.canonicalUrl).toBe('');
    expect(article.author).toBe('');
    expect(article.leadImage).toBeNull();
    expect(article.tags).toEqual([]);
    expect(article.publishedAt).toBe('2026-11-20T00:00:00.000Z');
    expect(article.body.startsWith('## A heading first')).toBe(true);
  });

  it('cuts a long derived summary at a word boundary', () => {
    const sentence = 'Deliverability depends on authentication, reputation and engagement over time. ';
    const article = parseArticleFile(GOOD.replace('Some body text.', sentence.repeat(10)), 'long.md');
    expect(article.summary.length).toBeLessThanOrEqual(300);
    expect(article.summary.endsWith('…')).toBe(true);
    expect(sentence.repeat(10)).toContain(article.summary.slice(0, -1));
    expect(article.summary.slice(0, -1)).not.toMatch(/\s$/);
  });

  it('defaults the lead image alt text to the title, and accepts absolute URLs and the shorthand', () => {
    const withoutAlt = parseArticleFile(withField('lead_image:\n  url: "https://cdn.example.com/a.png"'), 'a.md');
    expect(withoutAlt.leadImage).toEqual({ url: 'https://cdn.example.com/a.png', alt: 'A Good Article' });
    const emptyAlt = parseArticleFile(withField('lead_image: { url: /media/a.png, alt: "" }'), 'a.md');
    expect(emptyAlt.leadImage?.alt).toBe('A Good Article');
    const shorthand = parseArticleFile(withField('lead_image: /media/a.png'), 'a.md');
    expect(shorthand.leadImage).toEqual({ url: '/media/a.png', alt: 'A Good Article' });
  });

  it('accepts tags as a comma-separated string', () => {
    const article = parseArticleFile(withField('tags: " Email, deliverability ,EMAIL,, DNS"'), 'a.md');
    expect(article.tags).toEqual(['email', 'deliverability', 'dns']);
  });

  it('accepts dates as YAML dates and as strings, with or without a zone', () => {
    const cases: [string, string][] = [
      ['published: 2026-11-20T09:00:00Z', '2026-11-20T09:00:00.000Z'],
      ['published: 2026-11-20 10:30:00 +01:00', '2026-11-20T09:30:00.000Z'],
      ['published: "2026-11-20T09:00:00+02:00"', '2026-11-20T07:00:00.000Z'],
      ['published: "2026-11-20 09:00"', '2026-11-20T09:00:00.000Z'],
      ['published: "2026-11-20"', '2026-11-20T00:00:00.000Z'],
      ['published: "Fri, 20 Nov 2026 09:00:00 GMT"', '2026-11-20T09:00:00.000Z'],
    ];
    for (const [line, iso] of cases) {
      expect(parseArticleFile(withField(line), 'a.md').publishedAt, line).toBe(iso);
    }
  });

  it('normalizes CRLF line endings and strips a UTF-8 BOM', () => {
    const article = parseArticleFile(`\uFEFF${GOOD.replace(/\n/g, '\r\n')}\r\nSecond line.\r\n`, 'bom.md');
    expect(article.title).toBe('A Good Article');
    expect(article.body).toBe('Some body text.\n\nSecond line.');
    expect(article.body).not.toContain('\r');
  });

  it('gives each article its own objects (gray-matter caching does not leak between calls)', () => {
    const first = parseArticleFile(GOOD, 'a.md');
    const second = parseArticleFile(GOOD, 'b.md');
    expect(second).toEqual(first);
    expect(second.tags).not.toBe(first.tags);
  });
});

describe('parseArticleFile errors name the file, the field and the value', () => {
  const source = 'data/articles/x.md';

  it('bad YAML: the YAML message and its line in the file', () => {
    const error = parseError('---\ntitle: "A"\n  published: 2026-11-20\n---\nBody\n', source);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain(source);
    expect(error.message).toContain('not valid YAML');
    expect(error.message).toMatch(/bad indentation.* at line 3, column \d+/);
  });

  it('bad YAML after leading blank lines still reports the file line', () => {
    const text = '---\ntitle: [unclosed\npublished: 2026-11-20\n---\nBody\n';
    expect(parseError(text, source).message).toMatch(/at line 3, column 1$/);
    expect(parseError(`\n\n${text}`, source).message).toMatch(/at line 5, column 1$/);
  });

  it('missing title', () => {
    const error = parseError('---\npublished: 2026-11-20\n---\nBody\n', source);
    expect(error.message).toContain(`${source}: front matter "title" is missing`);
  });

  it('empty title', () => {
    const error = parseError(withField('title: "   "'), source);
    expect(error.message).toContain(`${source}: front matter "title": "   " is empty`);
  });

  it('bad date', () => {
    const error = parseError(withField('published: yesterday'), source);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain(`${source}: front matter "published": "yesterday" is not a date`);
  });

  it('impossible calendar dates are not rolled over', () => {
    expect(parseError(withField('published: 2026-02-30'), source).message).toContain('"published": "2026-02-30" is not a date');
    expect(parseError(withField('published: "2026-13-01"'), source).message).toContain('"2026-13-01" is not a date');
  });

  it('missing date and a number as date', () => {
    expect(parseError('---\ntitle: A\n---\nBody\n', source).message).toContain(`${source}: front matter "published" is missing`);
    expect(parseError(withField('published: 1732000000'), source).message).toContain('"published": 1732000000 is a number, not a date');
  });

  it('bad canonical URL', () => {
    for (const url of ['ftp://example.com/x', 'example.com/x', '/news/x']) {
      const error = parseError(withField(`canonical_url: "${url}"`), source);
      expect(error.message).toContain(`${source}: front matter "canonical_url": "${url}" is not an absolute http(s) URL`);
    }
  });

  it('bad lead image URL, including protocol-relative ones', () => {
    for (const url of ['media/a.png', '//evil.example/a.png', 'javascript:alert(1)']) {
      const error = parseError(withField(`lead_image:\n  url: "${url}"\n  alt: "A"`), source);
      expect(error.message).toContain(`${source}: front matter "lead_image.url": "${url}" is not an absolute http(s) URL or a path starting with /`);
    }
  });

  it('unknown key, with a suggestion', () => {
    const error = parseError(withField('sumary: "Typo"'), source);
    expect(error.message).toContain(`${source}: front matter has an unknown key "sumary" (did you mean "summary"?)`);
    const alias = parseError(withField('date: 2026-11-20'), source);
    expect(alias.message).toContain('unknown key "date" (did you mean "published"?)');
    const nested = parseError(withField('lead_image:\n  src: /media/a.png'), source);
    expect(nested.message).toContain('front matter "lead_image" has an unknown key "src" (did you mean "url"?)');
  });

  it('an empty unknown key is still an error', () => {
    expect(parseError(withField('sumary:'), source).message).toContain('unknown key "sumary"');
  });

  it('bad slug and wrongly typed fields', () => {
    expect(parseError(withField('slug: "My Slug"'), source).message).toContain('"slug": "My Slug" is not a slug');
    expect(parseError(withField('title: 1984'), source).message).toContain('"title": 1984 is a number, not text (put it in quotes)');
    expect(parseError(withField('tags: { a: 1 }'), source).message).toContain('"tags": {"a":1} is a mapping, not a list of tags');
  });

  it('lists every problem in details', () => {
    const error = parseError('---\nsumary: x\npublished: nope\n---\n\n', source);
    expect(error.message).toMatch(/\(and 3 more problems\)$/);
    expect(error.details).toHaveLength(4);
    expect(error.details.every((line) => line.startsWith(`${source}: `))).toBe(true);
    expect(error.details.join('\n')).toContain('the body is empty');
  });

  it('empty file and whitespace-only file', () => {
    expect(parseError('', source).message).toBe(`${source}: the file is empty`);
    expect(parseError(' \n\n\t\n', source).message).toContain(`${source}: the file is empty`);
  });

  it('empty body', () => {
    expect(parseError('---\ntitle: A\npublished: 2026-11-20\n---\n\n  \n', source).message).toContain(`${source}: the body is empty`);
  });

  it('a BOM does not hide the value in the error', () => {
    const error = parseError(`\uFEFF${withField('published: yesterday')}`, source);
    expect(error.message).toContain(`${source}: front matter "published": "yesterday" is not a date`);
    expect(error.message).not.toContain('\uFEFF');
  });

  it('no front matter, unclosed front matter, and non-YAML front matter', () => {
    expect(parseError('# Title\n\nBody\n', source).message).toContain(`${source}: has no front matter`);
    expect(parseError('---\ntitle: A\npublished: 2026-11-20\nBody\n', source).message).toContain(`${source}: front matter is not closed`);
    expect(parseError('---js\n{ title: "A" }\n---\nBody\n', source).message).toContain(`${source}: front matter language "js" is not supported`);
    expect(parseError('---\n- a\n- b\n---\nBody\n', source).message).toContain('front matter must be YAML fields');
  });

  it('a binary file', () => {
    expect(parseError('\u0000\u0001PNG', source).message).toContain(`${source}: contains NUL bytes`);
  });
});

describe('decodeArticleBytes', () => {
  it('decodes UTF-8 and rejects empty, UTF-16 and invalid bytes naming the file', () => {
    expect(decodeArticleBytes(new TextEncoder().encode('Malmö'), 'a.md')).toBe('Malmö');
    expect(() => decodeArticleBytes(new Uint8Array(), 'a.md')).toThrow('a.md: the file is empty');
    expect(() => decodeArticleBytes(new Uint8Array([0xff, 0xfe, 0x41, 0x00]), 'a.md')).toThrow('a.md: is UTF-16 text');
    const latin1 = Buffer.from('---\ntitle: Malm\xf6\n---\n', 'latin1');
    expect(() => decodeArticleBytes(latin1, 'a.md')).toThrow('a.md: is not UTF-8 text (first invalid bytes on line 2)');
  });
});

describe('readArticleSources', () => {
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-articles-'));
    await writeFile(join(dir, 'a-good.md'), GOOD.replace('A Good Article', 'First'));
    await writeFile(join(dir, 'b-bad-date.md'), withField('published: yesterday'));
    await writeFile(join(dir, 'c-empty.md'), '');
    await writeFile(join(dir, 'd-latin1.md'), Buffer.from('---\ntitle: Caf\xe9\npublished: 2026-11-20\n---\nBody\n', 'latin1'));
    await writeFile(join(dir, 'e-bom.markdown'), `\uFEFF${GOOD.replace('A Good Article', 'Second')}`);
    await writeFile(join(dir, 'f-same-slug.md'), withField('slug: first', GOOD.replace('A Good Article', 'Other')));
    await writeFile(join(dir, 'notes.txt'), 'not an article');
    await writeFile(join(dir, '.hidden.md'), 'not an article either');
    await mkdir(join(dir, 'nested.md'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps the good files when others are bad, in name order', async () => {
    const result = await readArticleSources(dir);
    expect(result.articles.map(({ source, article }) => [source, article.title])).toEqual([
      [join(dir, 'a-good.md'), 'First'],
      [join(dir, 'e-bom.markdown'), 'Second'],
    ]);
    const messages = result.errors.map((error) => error.message);
    expect(messages).toHaveLength(4);
    expect(result.errors.every((error) => error instanceof MailroomError)).toBe(true);
    expect(messages[0]).toContain(`${join(dir, 'b-bad-date.md')}: front matter "published": "yesterday" is not a date`);
    expect(messages[1]).toBe(`${join(dir, 'c-empty.md')}: the file is empty`);
    expect(messages[2]).toContain(`${join(dir, 'd-latin1.md')}: is not UTF-8 text`);
    expect(messages[3]).toContain(`${join(dir, 'f-same-slug.md')}: slug "first" is already used by ${join(dir, 'a-good.md')}`);
  });

  it('reads a single file', async () => {
    const result = await readArticleSources(join(dir, 'a-good.md'));
    expect(result.errors).toEqual([]);
    expect(result.articles.map(({ article }) => article.slug)).toEqual(['first']);
  });

  it('reports a single bad file in errors rather than throwing', async () => {
    const result = await readArticleSources(join(dir, 'c-empty.md'));
    expect(result.articles).toEqual([]);
    expect(result.errors.map((error) => error.message)).toEqual([`${join(dir, 'c-empty.md')}: the file is empty`]);
  });

  it('throws NOT_FOUND for a path that does not exist', async () => {
    await expect(readArticleSources(join(dir, 'missing'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
