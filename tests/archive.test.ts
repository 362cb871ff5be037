/**
 * The public archive over the real server: only sent issues, no personal data, placeholders filled for nobody, an RSS
 * 2.0 feed that parses, a sandboxing CSP and nosniff on every archive response, and the switch that hides the index.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { ArticleInput } from '../src/core/domain.ts';
import { ARCHIVE_CONTENT_SECURITY_POLICY, injectIntoEmailPage } from '../src/http/archive-routes.ts';
import { html } from '../src/http/html.ts';
import { buildRssFeed, escapeXml } from '../src/http/rss.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { messagesTo, startSubscriberEnv, type SubscriberEnv } from './helpers/subscriber-server.ts';

const DEMO_EMAILS = ['ada@example.com', 'grace@example.com', 'linus@example.org', 'margaret@example.net', 'reader@example.com'];

const HOSTILE: ArticleInput = {
  slug: 'hostile-article',
  title: 'Tom & Jerry <script>alert("title")</script> "quoted"',
  summary: 'A summary with <b>tags</b> & ampersands',
  body: [
    'Intro paragraph.',
    '',
    '<script>document.body.setAttribute("data-pwned", "1")</script>',
    '',
    '<img src="x" onerror="document.body.setAttribute(\'data-onerror\', \'1\')">',
    '',
    '[click me](javascript:alert(1)) and <a href="javascript:alert(2)">raw link</a>',
    '',
    '<iframe src="https://evil.example/"></iframe>',
  ].join('\n'),
  canonicalUrl: '',
  author: 'Mallory',
  publishedAt: '2026-03-01T08:00:00.000Z',
  leadImage: null,
  tags: [],
};

let env: SubscriberEnv;

async function weekly() {
  const newsletter = await env.ws.app.stores.newsletters.findNewsletter('weekly');
  if (!newsletter) throw new Error('no weekly');
  return newsletter;
}

async function get(path: string) {
  const response = await fetch(`${env.origin}${path}`);
  return { response, text: await response.text() };
}

function expectArchiveHeaders(response: Response): void {
  expect(response.headers.get('content-security-policy')).toBe(ARCHIVE_CONTENT_SECURITY_POLICY);
  expect(response.headers.get('content-security-policy')).toMatch(/^sandbox /);
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('x-frame-options')).toBe('DENY');
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
}

describe('the public archive', () => {
  beforeEach(async () => {
    env = await startSubscriberEnv();
  });
  afterEach(async () => {
    await env.close();
  });

  test('lists only sent issues; a built but unsent issue is not public', async () => {
    const newsletter = await weekly();
    await buildIssue(env.ws.app.stores, newsletter, { publicUrl: env.ws.app.config.publicUrl });
    const index = await get('/issues/weekly');
    expect(index.response.status).toBe(200);
    expectArchiveHeaders(index.response);
    expect(index.text).toContain('No issue has been sent yet.');
    expect((await get('/issues/weekly/1')).response.status).toBe(404);
    const feed = new XMLParser().parse((await get('/issues/weekly/feed.xml')).text) as { rss: { channel: { item?: unknown } } };
    expect(feed.rss.channel.item).toBeUndefined();

    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    const after = await get('/issues/weekly');
    expect(after.text).toContain('href="/issues/weekly/1"');
    expect((await get('/issues/weekly/1')).response.status).toBe(200);
    // A second, unsent issue stays private.
    await buildIssue(env.ws.app.stores, newsletter, { publicUrl: env.ws.app.config.publicUrl });
    expect((await get('/issues/weekly/2')).response.status).toBe(404);
    expect((await get('/issues/weekly')).text).not.toContain('href="/issues/weekly/2"');
    expect((await get('/issues/weekly/abc')).response.status).toBe(404);
    expect((await get('/issues/nope')).response.status).toBe(404);
  });

  test('the "view in browser" link of a sent email opens its issue: no personal data, no placeholder, no script', async () => {
    const article = await env.ws.app.stores.content.upsertArticle(HOSTILE);
    const newsletter = await weekly();
    await buildIssue(env.ws.app.stores, newsletter, { articles: [article.article.slug], publicUrl: env.ws.app.config.publicUrl });
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    const email = messagesTo(env.sink, 'ada@example.com')[0];
    const webLink = /href="(https:\/\/news\.example\.com\/issues\/weekly\/1)"/.exec(String(email?.parsed.html))?.[1];
    expect(webLink).toBe('https://news.example.com/issues/weekly/1');

    const { response, text } = await get(new URL(webLink ?? '').pathname);
    expect(response.status).toBe(200);
    expectArchiveHeaders(response);
    for (const address of DEMO_EMAILS) expect(text).not.toContain(address);
    expect(text).not.toContain('Ada');
    expect(text).not.toMatch(/\/u\/[0-9a-z]+\.|\/p\/[0-9a-z]+\./);
    expect(text).not.toContain('{{');
    expect(text).toContain('Tom &amp; Jerry &lt;script&gt;');
    expect(text).not.toMatch(/<script/i);
    expect(text).not.toMatch(/\sonerror=/i);
    expect(text).not.toContain('javascript:');
    expect(text).not.toMatch(/<iframe/i);
    expect(text).toContain('<link rel="canonical" href="https://news.example.com/issues/weekly/1">');
    expect(text).toContain('href="/issues/weekly"');
    expect(text).toContain('href="/subscribe/demo"');

    // The article's own page (it has no canonical URL) is public now that an issue carried it.
    const articlePage = await get('/articles/hostile-article');
    expect(articlePage.response.status).toBe(200);
    expectArchiveHeaders(articlePage.response);
    expect(articlePage.text).not.toMatch(/<script/i);
    // An article no sent issue carried is not.
    await env.ws.app.stores.content.upsertArticle({ ...HOSTILE, slug: 'draft', title: 'Draft' });
    expect((await get('/articles/draft')).response.status).toBe(404);
  });

  test('the web copy has neither "View in browser" nor the greeting nor the subscription footer that the email has', async () => {
    const newsletter = await weekly();
    await buildIssue(env.ws.app.stores, newsletter, { max: 3, publicUrl: env.ws.app.config.publicUrl });
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    const email = String(messagesTo(env.sink, 'ada@example.com')[0]?.parsed.html);
    // The email has them all.
    expect(email).toContain('View in browser');
    expect(email).toMatch(/Hi Ada,/);
    expect(email).toContain('You are receiving this email because ada@example.com subscribed to');
    expect(email).toContain('Manage preferences');

    const { response, text } = await get('/issues/weekly/1');
    expect(response.status).toBe(200);
    expect(text).not.toContain('View in browser');
    expect(text).not.toMatch(/Hi [^<]*,/);
    expect(text).not.toContain('You are receiving this email');
    expect(text).not.toContain('Unsubscribe</a>');
    expect(text).not.toContain('Manage preferences');
    expect(text).not.toContain('data-email-only');
    // Everything else is the issue as emailed: the intro, the articles, the postal address, the column.
    expect(text).toContain('Here is issue #1 of Mailroom Weekly');
    const titles = [...email.matchAll(/<h[12][^>]*><a [^>]*>([^<]+)<\/a><\/h[12]>/g)].map((m) => m[1] ?? '');
    expect(titles).toHaveLength(3);
    for (const title of titles) expect(text).toContain(title);
    expect(text).toContain('Mailroom Demo Co., 123 Example Street');
    expect(text).toContain('<!--[if mso]><table role="presentation" align="center" width="600"');

    // An article's web page has no subscription footer either.
    const issue = await env.ws.app.stores.newsletters.findIssue(newsletter.id, 1);
    const first = await env.ws.app.stores.content.findArticle(issue?.articleIds[0] ?? 0);
    const articlePage = await get(`/articles/${first?.slug ?? ''}`);
    expect(articlePage.response.status).toBe(200);
    expect(articlePage.text).not.toContain('View in browser');
    expect(articlePage.text).not.toContain('You are receiving this email');
  });

  test('placeholders in a title or summary show as themselves on the index, the feed, the issue and the article page', async () => {
    const title = 'Deal {{nope}} {{email}} \\{{x}} {{#if}}';
    const summary = 'Summary {{unsubscribeUrl}} {{{email}}}';
    const article = await env.ws.app.stores.content.upsertArticle({ ...HOSTILE, slug: 'curly', title, summary, body: 'Body {{email}}.' });
    const newsletter = await weekly();
    await buildIssue(env.ws.app.stores, newsletter, { articles: [article.article.slug], publicUrl: env.ws.app.config.publicUrl });
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    const escaped = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

    const index = await get('/issues/weekly');
    expect(index.text).toContain(`Mailroom Weekly #1: ${escaped(title)}`);
    expect(index.text).toContain(`<div>${escaped(summary)}</div>`);
    const feed = new XMLParser().parse((await get('/issues/weekly/feed.xml')).text) as { rss: { channel: { item: { title: string; description: string } } } };
    expect(feed.rss.channel.item.title).toBe(`Mailroom Weekly #1: ${title}`);
    expect(feed.rss.channel.item.description).toBe(summary);
    const page = await get('/issues/weekly/1');
    expect(page.response.status).toBe(200);
    expect(page.text).toContain(`<title>Mailroom Weekly #1: ${escaped(title)}</title>`);
    expect(page.text).toContain('Body {{email}}.');
    const web = await get('/articles/curly');
    expect(web.response.status).toBe(200);
    expect(web.text).toContain(`<title>${escaped(title)}</title>`);
    expect(web.text).toContain('Body {{email}}.');
    expect(web.text).toContain(escaped(summary));
  });

  test('the RSS 2.0 feed parses, escapes, and names placeholder subjects for nobody', async () => {
    const newsletter = await weekly();
    await env.ws.app.stores.db.updateTable('newsletters').set({ subject_template: '{{firstName}}, {name} #{number}: {title}' }).where('id', '=', newsletter.id).execute();
    await env.ws.app.stores.content.upsertArticle({ ...HOSTILE, publishedAt: '2030-01-01T00:00:00.000Z' }, { assignTo: newsletter.id });
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    const { response, text } = await get('/issues/weekly/feed.xml');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    expectArchiveHeaders(response);
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(text) as {
      rss: { '@_version': string; channel: { title: string; link: string; item: { title: string; link: string; guid: { '#text': string }; pubDate: string; description: string }[] } };
    };
    expect(parsed.rss['@_version']).toBe('2.0');
    expect(parsed.rss.channel.title).toBe('Mailroom Weekly');
    expect(parsed.rss.channel.link).toBe('https://news.example.com/issues/weekly');
    const items = parsed.rss.channel.item;
    expect(items).toHaveLength(2);
    expect(items.map((i) => i.link)).toEqual(['https://news.example.com/issues/weekly/2', 'https://news.example.com/issues/weekly/1']);
    expect(items[1]?.title).toBe('Mailroom Weekly #1: Tom & Jerry <script>alert("title")</script> "quoted"');
    expect(items[1]?.description).toBe('A summary with <b>tags</b> & ampersands');
    expect(Number.isNaN(Date.parse(items[0]?.pubDate ?? ''))).toBe(false);
    expect(text).not.toContain('{{');
    // The index shows the same neutral subject, escaped.
    const index = await get('/issues/weekly');
    expect(index.text).toContain('Mailroom Weekly #1: Tom &amp; Jerry &lt;script&gt;');
    expect(index.text).toContain('<link rel="alternate" type="application/rss+xml" title="Mailroom Weekly" href="https://news.example.com/issues/weekly/feed.xml">');
    // Issue 2 links back to issue 1 and issue 1 forward to 2.
    expect((await get('/issues/weekly/2')).text).toContain('href="/issues/weekly/1"');
    expect((await get('/issues/weekly/1')).text).toContain('href="/issues/weekly/2"');
  });

  test('the archive index answers from what the database says now: a new issue, a closed sign-up and a hidden archive show at the next request', async () => {
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    const first = await get('/issues/weekly');
    expect(first.text).toContain('href="/issues/weekly/1"');
    expect(first.text).toContain('href="/subscribe/demo"');
    expect((await get('/issues/weekly')).text).toBe(first.text);
    // A second issue sent (a new article): the next request lists it.
    const newsletter = await weekly();
    await env.ws.app.stores.content.upsertArticle({ ...HOSTILE, slug: 'later', title: 'A later article', publishedAt: '2030-01-01T00:00:00.000Z' }, { assignTo: newsletter.id });
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    expect((await get('/issues/weekly')).text).toContain('href="/issues/weekly/2"');
    // Sign-up closed: the Subscribe link goes.
    await env.subscribers.setSignupOpen(newsletter.listId, false);
    expect((await get('/issues/weekly')).text).not.toContain('href="/subscribe/');
    // Archive hidden: the index is gone.
    await env.subscribers.setArchivePublic(newsletter.id, false);
    expect((await get('/issues/weekly')).response.status).toBe(404);
  });

  test('with the archive off, index and feed are gone but sent issues still open from their emails, unindexed', async () => {
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    await env.subscribers.setArchivePublic((await weekly()).id, false);
    expect((await get('/issues/weekly')).response.status).toBe(404);
    expect((await get('/issues/weekly/feed.xml')).response.status).toBe(404);
    expect((await get('/issues')).text).not.toContain('Mailroom Weekly');
    const issue = await get('/issues/weekly/1');
    expect(issue.response.status).toBe(200);
    expect(issue.text).toContain('<meta name="robots" content="noindex">');
    expect(issue.text).not.toContain('href="/issues/weekly"');
  });

  test('outside local development / shows publications, not campaign figures; in local development the dashboard', async () => {
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    const publicHome = await get('/');
    expect(publicHome.response.status).toBe(200);
    expect(publicHome.text).toContain('href="/subscribe/demo"');
    expect(publicHome.text).toContain('href="/issues/weekly"');
    expect(publicHome.text).not.toContain('Recent campaigns');
    await env.restart({ localDevelopment: true });
    const dashboard = await get('/');
    expect(dashboard.text).toContain('Recent campaigns');
    expect(dashboard.text).toContain('href="/subscribe/demo"');
  });

  test('every page carries the security headers', async () => {
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    for (const path of ['/', '/issues', '/issues/weekly', '/subscribe/demo', '/unsubscribe', '/confirm/x.y.z', '/p/x', '/u/x', '/no/such/page', '/inbox']) {
      const { response } = await get(path);
      expect({ path, nosniff: response.headers.get('x-content-type-options') }).toEqual({ path, nosniff: 'nosniff' });
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });
});

describe('archive helpers', () => {
  test('escapeXml drops characters XML cannot hold and escapes markup', () => {
    expect(escapeXml('a & b < c > "d" \'e\' \u0001\u0008 \uFFFE ok 😀')).toBe('a &amp; b &lt; c &gt; &quot;d&quot; &apos;e&apos;   ok 😀');
    const xml = buildRssFeed({ title: 'T & T', link: 'https://x.example/a?b=1&c=2', selfUrl: 'https://x.example/feed.xml', description: 'd', language: 'en', items: [] });
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(xml) as { rss: { channel: { title: string; link: string } } };
    expect(parsed.rss.channel).toMatchObject({ title: 'T & T', link: 'https://x.example/a?b=1&c=2' });
  });

  test('the archive bar goes right after <body>, the head links before </head>', () => {
    const page = injectIntoEmailPage('<html><HEAD><title>t</title></HEAD><body class="x"><p>hi</p></body></html>', html`<link rel="canonical" href="/a">`, html`<div id="bar">${'<b>'}</div>`);
    expect(page).toBe('<html><HEAD><title>t</title><link rel="canonical" href="/a"></HEAD><body class="x"><div id="bar">&lt;b&gt;</div><p>hi</p></body></html>');
  });
});
