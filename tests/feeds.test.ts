/**
 * Feeds: RSS 2.0, Atom and RDF parsing, malformed feeds and broken items, polling over HTTP from a local server (the
 * SSRF guard opened for 127.0.0.1 only), conditional GET, guid-then-URL deduplication, full-content modes, the
 * scheduled poller, RSS-to-email issues, and the `feeds` and `articles import URL` commands.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Newsletter } from '../src/core/domain.ts';
import { MailroomError } from '../src/core/errors.ts';
import { createFeedPoller } from '../src/feeds/feed-poller.ts';
import { parseFeed } from '../src/feeds/parse-feed.ts';
import { pollFeed, pollFeeds } from '../src/feeds/poll-feed.ts';
import { buildIssue, composeIssue } from '../src/issues/build-issue.ts';
import { parsePrivateAccess } from '../src/net/address-policy.ts';
import type { FetchPolicy } from '../src/net/safe-fetch.ts';
import { FeedStore, type Feed, type FullContentMode } from '../src/store/feed-store.ts';
import { FIXTURES_DIR, fixture, startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

const RSS = 'application/rss+xml; charset=utf-8';
const ATOM = 'application/atom+xml';
const HTML = 'text/html; charset=utf-8';
const FEED_URL = 'https://feeds.example.com/feed.xml';

let server: FixtureServer;

const policy = (overrides: Partial<FetchPolicy> = {}): FetchPolicy => ({
  userAgent: 'Mailroom/0.1 (+https://news.example.com)',
  timeoutMs: 3000,
  maxBytes: 2 * 1024 * 1024,
  access: parsePrivateAccess('127.0.0.1'),
  ...overrides,
});

function serveFeed(path: string, name: string, etag?: string): void {
  server.set(path, { headers: { 'content-type': name.endsWith('.atom.xml') ? ATOM : RSS }, body: fixture(`feeds/${name}`, server.url), ...(etag ? { etag } : {}) });
}

function servePage(path: string, name: string): void {
  server.set(path, { headers: { 'content-type': HTML }, body: readFileSync(join(FIXTURES_DIR, 'pages', name)) });
}

beforeAll(async () => {
  server = await startFixtureServer();
});

afterAll(async () => {
  await server.close();
});

describe('parsing feeds', () => {
  it('reads RSS 2.0: content:encoded, guid, dc:creator, author, categories and Media RSS', () => {
    const feed = parseFeed(fixture('feeds/harbor-times.rss.xml', 'https://www.harbortimes.example'), FEED_URL);
    expect(feed).toMatchObject({ format: 'rss', title: 'The Harbor Times – Climate', siteUrl: 'https://www.harbortimes.example/climate', problems: [] });
    expect(feed.items.map((item) => item.guid)).toEqual(['harbortimes-18812', 'https://www.harbortimes.example/news/2026/04/electric-ferries-emissions', 'harbortimes-18790']);
    const [first, second, third] = feed.items;
    expect(first).toMatchObject({
      url: 'https://www.harbortimes.example/news/2026/04/pilot-boats?utm_source=rss&utm_medium=feed',
      title: 'Harbor pilots switch to renewable diesel',
      author: 'Ingrid Solberg',
      publishedAt: '2026-04-16T06:15:00.000Z',
      categories: ['climate', 'transport'],
      image: { url: 'https://www.harbortimes.example/images/2026/04/pilot-boat.jpg', alt: 'A pilot boat leaving the inner harbor' },
    });
    expect(first?.contentHtml).toContain('<h2>Why not electric?</h2>');
    expect(first?.summaryHtml).toBe('<p>The six pilot boats now run on renewable diesel, cutting their emissions by about 80 percent.</p>');
    expect(second).toMatchObject({ author: 'Ingrid Solberg', contentHtml: '', publishedAt: '2026-04-14T05:30:00.000Z' });
    expect(second?.summaryHtml).toBe('<p>A year after the port authority replaced its diesel boats, emissions are down by half [&#8230;]</p>');
    expect(third?.summaryHtml).toMatch(/^The port authority wants the harbor to be carbon neutral by 2040/);
  });

  it('reads Atom: xml:base, html titles, xhtml and html content, summaries, authors inherited from the feed', () => {
    const feed = parseFeed(fixture('feeds/quillstack.atom.xml', 'https://eng.quillstack.example'), FEED_URL);
    expect(feed).toMatchObject({ format: 'atom', title: 'Quillstack Engineering', siteUrl: 'https://eng.quillstack.example/blog/', author: 'Quillstack Engineering' });
    const [queue, indexes, flaky] = feed.items;
    expect(queue).toMatchObject({ title: 'Why we moved our queue to Postgres', url: 'https://eng.quillstack.example/blog/queue-on-postgres/', author: 'Jonas Berg', categories: ['databases'], publishedAt: '2026-02-20T10:00:00.000Z' });
    expect(queue?.contentHtml).toMatch(/^<p>For four years/);
    expect(queue?.contentHtml).toContain('<h2>What we gained</h2>');
    expect(queue?.contentHtml).not.toContain('xmlns');
    expect(indexes).toMatchObject({ url: 'https://eng.quillstack.example/blog/five-postgres-indexes-we-dropped/', author: 'Quillstack Engineering', contentHtml: '', publishedAt: '2026-02-09T15:00:00.000Z' });
    expect(indexes?.summaryHtml).toContain('Continue reading');
    expect(flaky?.contentHtml).toBe('<p>A flaky test is a test that passes and fails on the same code. We had <strong>212</strong> of them in January and 9 at the end of the month.</p><p>Most came from three causes: shared state between tests, real clocks, and ports picked at random that were sometimes taken.</p>');
  });

  it('reads RSS 1.0 (RDF)', () => {
    const feed = parseFeed(fixture('feeds/lumen-notes.rdf.xml', 'https://lumen.example'), FEED_URL);
    expect(feed.format).toBe('rdf');
    expect(feed.items.map((item) => [item.guid, item.title, item.publishedAt])).toEqual([
      ['https://lumen.example/notes/4-0', 'Lumen 4.0', '2026-02-12T09:00:00.000Z'],
      ['https://lumen.example/notes/3-9', 'Lumen 3.9', '2026-01-15T09:00:00.000Z'],
    ]);
  });

  it('keeps the good items of a feed with broken ones, and says what is wrong with each broken one', () => {
    const feed = parseFeed(fixture('feeds/broken-items.rss.xml', 'https://northwind.example'), FEED_URL);
    expect(feed.items.map((item) => item.guid)).toEqual(['northwind-101', 'northwind-106', 'northwind-107']);
    expect(feed.problems).toEqual([
      'item 2 ("An item with neither a link nor a guid"): has neither a link nor a guid',
      'item 3 ("An item whose link is a script"): its link "javascript:alert(document.cookie)" is not an http(s) URL',
      'item 4: has no title and no text',
      'item 5 ("How we pay farmers, again"): repeats item 1 (same guid); skipped',
    ]);
  });

  it('refuses what is not a feed, with an error naming the feed', () => {
    const error = (text: string): string => {
      try {
        parseFeed(text, FEED_URL);
      } catch (caught) {
        expect(caught).toBeInstanceOf(MailroomError);
        return (caught as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(error(fixture('feeds/malformed.rss.xml'))).toBe(
      `feed ${FEED_URL}: not well-formed XML: Expected closing tag 'title' (opened in line 6, col 5) instead of closing tag 'item' (line 7, column 3)`,
    );
    expect(error('<!doctype html><html><body>Hi</body></html>')).toMatch(/^feed https:\/\/feeds\.example\.com\/feed\.xml: this is a web page, not a feed/);
    expect(error('{"version": "https://jsonfeed.org/version/1.1", "items": []}')).toMatch(/JSON Feed is not supported/);
    expect(error('<?xml version="1.0"?><note><to>Tove</to></note>')).toMatch(/not an RSS or Atom feed \(the document's root element is <note>/);
    expect(error('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><rss><channel><title>&b;</title></channel></rss>')).toMatch(/declares XML entities, which are refused/);
    expect(error('')).toMatch(/the document is empty/);
  });
});

describe('polling feeds into a newsletter', () => {
  let ws: Workspace;
  let feeds: FeedStore;
  let digest: Newsletter;
  let other: Newsletter;

  const addFeed = (path: string, fullContent: FullContentMode = 'auto', newsletter: Newsletter = digest): Promise<Feed> =>
    feeds.addFeed({ newsletterId: newsletter.id, url: `${server.url}${path}`, title: '', siteUrl: '', fullContent });
  const poll = async (feed: Feed, overrides: Partial<FetchPolicy> = {}) => pollFeed((await feeds.getFeed(feed.id)) as Feed, { stores: ws.app.stores, feeds, policy: policy(overrides) });

  beforeEach(async () => {
    ws = await openWorkspace();
    feeds = new FeedStore(ws.app.stores.db);
    const list = await ws.app.stores.audience.createList('readers');
    const base = { fromName: 'Digest', fromEmail: 'news@example.com', replyTo: '', listId: list.id, template: 'digest' as const, postalAddress: '1 Main St, Springfield', logoUrl: '', subjectTemplate: '{title}', maxArticles: 5, language: 'en' };
    digest = await ws.app.stores.newsletters.createNewsletter({ ...base, slug: 'digest', name: 'The Digest' });
    other = await ws.app.stores.newsletters.createNewsletter({ ...base, slug: 'other', name: 'Other' });
    await ws.app.stores.audience.addSubscriber(list.id, { email: 'ada@example.com', name: 'Ada', firstName: 'Ada', lastName: '', attributes: {} }, 'test');
  });

  afterEach(async () => {
    await ws.close();
  });

  it('imports every item, from the feed when it has the full text and from the page when it only links to it', async () => {
    serveFeed('/feeds/harbor.xml', 'harbor-times.rss.xml', '"h1"');
    servePage('/news/2026/04/electric-ferries-emissions', 'harbor-times-ferry.html');
    const feed = await addFeed('/feeds/harbor.xml');
    const result = await poll(feed);
    expect(result).toMatchObject({ failed: false, notModified: false, added: 3, updated: 0, unchanged: 0, errors: [] });
    // The third item's page is missing: its summary from the feed stands in, and the user is told.
    expect(result.warnings).toEqual([expect.stringMatching(new RegExp(`^feed ${server.url}/feeds/harbor\\.xml: item 3 \\("Port authority publishes its first climate plan", ${server.url}/news/2026/04/climate-plan\\): the page could not be used \\(.*HTTP 404 Not Found\\)`))]);

    const fromFeed = await ws.app.stores.content.findArticle(`${server.url}/news/2026/04/pilot-boats`);
    expect(fromFeed).toMatchObject({ title: 'Harbor pilots switch to renewable diesel', author: 'Ingrid Solberg', publishedAt: '2026-04-16T06:15:00.000Z', tags: ['climate', 'transport'] });
    expect(fromFeed?.summary).toBe('The six pilot boats now run on renewable diesel, cutting their emissions by about 80 percent.');
    expect(fromFeed?.leadImage).toEqual({ url: `${server.url}/images/2026/04/pilot-boat.jpg`, alt: 'A pilot boat leaving the inner harbor' });
    expect(fromFeed?.body).toContain('## Why not electric?');
    expect(fromFeed?.body).toContain(`[The harbor ferries](${server.url}/news/2026/04/electric-ferries-emissions)`);
    expect(fromFeed?.body).toContain(`![Map of the pilot boarding area](${server.url}/images/2026/04/pilot-route.png)`);
    expect(fromFeed?.body).toContain('every quarter, starting in July.');
    expect(fromFeed?.body).not.toMatch(/script|javascript|onerror|<form|iframe|Subscribe|tracker\.example|appeared first on/);

    const fromPage = await ws.app.stores.content.findArticle('https://www.harbortimes.example/news/2026/04/electric-ferries-emissions');
    expect(fromPage?.title).toBe('New electric ferries cut harbor emissions by half');
    expect(fromPage?.body).toContain('## How the ferries charge');
    expect(fromPage?.body).not.toContain('Related articles');
    expect(fromPage?.author).toBe('Ingrid Solberg');
    // The page's og:image is relative: it resolves against the address the page was fetched from.
    expect(fromPage?.leadImage?.url).toBe(`${server.url}/images/2026/04/ferry-dock-1600.jpg`);

    const fromSummary = await ws.app.stores.content.findArticle(`${server.url}/news/2026/04/climate-plan`);
    expect(fromSummary?.body).toMatch(/^The port authority wants the harbor to be carbon neutral by 2040/);
    expect((await feeds.getFeed(feed.id))?.title).toBe('The Harbor Times – Climate');
  });

  it('asks again with the ETag: a 304 imports nothing and fetches no page; a changed feed updates only what changed', async () => {
    serveFeed('/feeds/harbor.xml', 'harbor-times.rss.xml', '"h1"');
    servePage('/news/2026/04/electric-ferries-emissions', 'harbor-times-ferry.html');
    const feed = await addFeed('/feeds/harbor.xml');
    await poll(feed);
    expect((await feeds.getFeed(feed.id))?.etag).toBe('"h1"');
    const pageHits = () => server.hits('/news/2026/04/electric-ferries-emissions').length;
    const before = pageHits();

    const second = await poll(feed);
    expect(second).toMatchObject({ notModified: true, added: 0, updated: 0, unchanged: 0 });
    expect(server.hits('/feeds/harbor.xml').at(-1)?.headers['if-none-match']).toBe('"h1"');

    const changed = fixture('feeds/harbor-times.rss.xml', server.url)
      .replace('cutting their emissions by about 80 percent.', 'cutting their lifecycle emissions by about 80 percent.')
      .replace('<item>', `<item>
    <title>Shore power for cruise ships from May</title>
    <link>${server.url}/news/2026/04/shore-power</link>
    <guid>harbortimes-18840</guid>
    <pubDate>Mon, 20 Apr 2026 07:00:00 GMT</pubDate>
    <content:encoded><![CDATA[<p>From May, cruise ships at Pier 2 will plug into the grid instead of running their engines at berth, the port authority said.</p>]]></content:encoded>
  </item>
  <item>`);
    server.set('/feeds/harbor.xml', { headers: { 'content-type': RSS }, body: changed, etag: '"h2"' });
    const third = await poll(feed);
    expect(third).toMatchObject({ notModified: false, added: 1, updated: 1, unchanged: 2, errors: [] });
    expect(pageHits()).toBe(before);
    expect((await ws.app.stores.content.findArticle(`${server.url}/news/2026/04/pilot-boats`))?.summary).toContain('lifecycle emissions');
    const articles = await ws.app.stores.content.listArticles();
    expect(articles).toHaveLength(4);
  });

  it('deduplicates by guid, then by URL, and never duplicates an article imported some other way', async () => {
    servePage('/news/2026/04/electric-ferries-emissions', 'harbor-times-ferry.html');
    const original = fixture('feeds/harbor-times.rss.xml', server.url);
    server.set('/feeds/harbor.xml', { headers: { 'content-type': RSS }, body: original });
    // The ferry story was imported by hand before the feed was added.
    await ws.app.stores.content.upsertArticle({ slug: 'ferries-by-hand', title: 'Ferries', summary: 'S', body: 'Old text.', canonicalUrl: 'https://www.harbortimes.example/news/2026/04/electric-ferries-emissions', author: '', publishedAt: '2026-04-14T05:30:00.000Z', leadImage: null, tags: [] });
    const feed = await addFeed('/feeds/harbor.xml');
    expect((await poll(feed)).added).toBe(3);
    expect(await ws.app.stores.content.listArticles()).toHaveLength(3);
    expect((await ws.app.stores.content.findArticle('ferries-by-hand'))?.body).toContain('## How the ferries charge');
    // The same link under a new guid, and the same guid under a new (tracking) link: still the same two items.
    const renamed = original
      .replace('<guid isPermaLink="false">harbortimes-18812</guid>', '<guid isPermaLink="false">harbortimes-18812</guid>')
      .replace(`<link>${server.url}/news/2026/04/pilot-boats?utm_source=rss&amp;utm_medium=feed</link>`, `<link>${server.url}/news/2026/04/pilot-boats?utm_source=mastodon</link>`)
      .replace('<guid>harbortimes-18790</guid>', '<guid>climate-plan-v2</guid>');
    server.set('/feeds/harbor.xml', { headers: { 'content-type': RSS }, body: renamed });
    const again = await poll(feed);
    expect(again.added).toBe(0);
    expect(await ws.app.stores.content.listArticles()).toHaveLength(3);

    // The same page reached through a second newsletter's feed, or imported by hand, is one article.
    const otherFeed = await addFeed('/feeds/harbor.xml', 'auto', other);
    const third = await poll(otherFeed);
    expect(third.added).toBe(3);
    expect(await ws.app.stores.content.listArticles()).toHaveLength(3);
  });

  it('items without links that share a title stay two articles, and each update goes to its own', async () => {
    const entry = (id: string, text: string) => `<entry><id>${id}</id><title>Weekly notes</title><updated>2026-03-0${id.slice(-1)}T09:00:00Z</updated><content type="html">&lt;p&gt;${text}&lt;/p&gt;</content></entry>`;
    const atom = (second: string) => `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Notes</title><id>urn:notes</id>${entry('urn:notes:1', 'The first week went to planning the spring menu and ordering the new oven.')}${entry('urn:notes:2', second)}</feed>`;
    server.set('/notes.atom', { headers: { 'content-type': ATOM }, body: atom('The second week we tested six bread recipes and kept two of them for the menu.') });
    const feed = await addFeed('/notes.atom', 'feed');
    expect((await poll(feed)).added).toBe(2);
    const slugs = (await ws.app.stores.content.listArticles()).map((article) => article.slug).sort();
    expect(slugs).toEqual(['weekly-notes', 'weekly-notes-2']);
    server.set('/notes.atom', { headers: { 'content-type': ATOM }, body: atom('The second week we tested seven bread recipes and kept three of them for the menu.') });
    expect(await poll(feed)).toMatchObject({ added: 0, updated: 1, unchanged: 1 });
    expect((await ws.app.stores.content.findArticle('weekly-notes'))?.body).toContain('planning the spring menu');
    expect((await ws.app.stores.content.findArticle('weekly-notes-2'))?.body).toContain('seven bread recipes');
  });

  it('reports each broken item, skips it, imports the others, and retries a failed one on the next poll', async () => {
    serveFeed('/journal/feed.xml', 'broken-items.rss.xml', '"j1"');
    const feed = await addFeed('/journal/feed.xml');
    const result = await poll(feed);
    expect(result.added).toBe(2);
    const url = `${server.url}/journal/feed.xml`;
    expect(result.errors).toEqual([
      `feed ${url}: item 2 ("An item with neither a link nor a guid"): has neither a link nor a guid`,
      `feed ${url}: item 3 ("An item whose link is a script"): its link "javascript:alert(document.cookie)" is not an http(s) URL`,
      `feed ${url}: item 4: has no title and no text`,
      `feed ${url}: item 5 ("How we pay farmers, again"): repeats item 1 (same guid); skipped`,
      `feed ${url}: item 6 ("A link-only item whose page is gone", ${server.url}/journal/deleted-post): HTTP 404 Not Found`,
    ]);
    const stored = await feeds.getFeed(feed.id);
    expect(stored?.lastError).toMatch(/^5 problem\(s\); first: /);
    // A failed item keeps the ETag from being stored, so the next poll reads the whole feed and tries it again.
    expect(stored?.etag).toBeNull();
    servePage('/journal/deleted-post', 'quillstack-postgres-indexes.html');
    const retry = await poll(feed);
    expect(retry.added).toBe(1);
    expect(retry.errors).toHaveLength(4);
    expect((await ws.app.stores.content.listArticles()).map((article) => article.title)).toContain('A link-only item whose page is gone');
  });

  it('a malformed feed, a web page, text, a timeout: one clear error naming the feed, and the other feeds still poll', async () => {
    server.set('/feeds/malformed.xml', { headers: { 'content-type': RSS }, body: fixture('feeds/malformed.rss.xml') });
    server.set('/feeds/page', { headers: { 'content-type': HTML }, body: '<html><body>Not a feed</body></html>' });
    server.set('/feeds/text', { headers: { 'content-type': 'text/plain' }, body: 'Hello, this is not XML.' });
    server.set('/feeds/slow', { handler: () => undefined });
    serveFeed('/notes/rdf.xml', 'lumen-notes.rdf.xml');
    const broken = await Promise.all(['/feeds/malformed.xml', '/feeds/page', '/feeds/text', '/feeds/slow'].map((path) => addFeed(path)));
    const good = await addFeed('/notes/rdf.xml');
    const results = await pollFeeds([...broken, good], { stores: ws.app.stores, feeds, policy: policy({ timeoutMs: 400 }) });
    expect(results.map((result) => result.failed)).toEqual([true, true, true, true, false]);
    expect(results[0]?.errors).toEqual([`feed ${server.url}/feeds/malformed.xml: not well-formed XML: Expected closing tag 'title' (opened in line 6, col 5) instead of closing tag 'item' (line 7, column 3)`]);
    expect(results[1]?.errors).toEqual([`feed ${server.url}/feeds/page: the server sent text/html, not an RSS or Atom feed`]);
    expect(results[2]?.errors).toEqual([`feed ${server.url}/feeds/text: the server sent text/plain and the body does not look like an RSS or Atom feed`]);
    expect(results[3]?.errors).toEqual([`feed ${server.url}/feeds/slow: timed out after 0.4 s (FETCH_TIMEOUT_SECONDS)`]);
    expect(results[4]).toMatchObject({ added: 2, errors: [] });
    expect((await feeds.getFeed(broken[0]?.id ?? 0))?.lastError).toMatch(/not well-formed XML/);
  });

  it('--full-content: auto fetches the page behind a teaser, feed keeps the teaser, page always fetches', async () => {
    serveFeed('/blog/atom.xml', 'quillstack.atom.xml');
    servePage('/blog/five-postgres-indexes-we-dropped/', 'quillstack-postgres-indexes.html');
    servePage('/blog/queue-on-postgres/', 'brightline-magazine-sleep.html');
    const auto = await poll(await addFeed('/blog/atom.xml', 'auto'));
    expect(auto).toMatchObject({ added: 3, errors: [] });
    // The page's canonical link is relative: it resolves against the address the page was fetched from.
    const indexes = await ws.app.stores.content.findArticle(`${server.url}/blog/five-postgres-indexes-we-dropped/`);
    expect(indexes?.body).toContain('| Index | Size | Why it existed |');
    expect(indexes?.summary).toBe('Unused and duplicate indexes were costing us 30% of our write throughput.');
    const queue = await ws.app.stores.content.findArticle(`${server.url}/blog/queue-on-postgres/`);
    expect(queue?.body).toContain(`See the [queue documentation](${server.url}/blog/docs/queue/) for the schema.`);

    const pageHits = server.hits('/blog/five-postgres-indexes-we-dropped/').length;
    const otherFeed = await addFeed('/blog/atom.xml', 'feed', other);
    const teaserOnly = await poll(otherFeed);
    expect(teaserOnly.added).toBe(3);
    expect(server.hits('/blog/five-postgres-indexes-we-dropped/')).toHaveLength(pageHits);
    // Same canonical URL as the auto feed's item: the article is updated in place, now with the teaser only.
    expect((await ws.app.stores.content.findArticle(`${server.url}/blog/five-postgres-indexes-we-dropped/`))?.body).toBe('Unused and duplicate indexes were costing us 30% of our write throughput. Continue reading →');

    // Switching the mode re-imports every item: "page" fetches every page, even where the feed has the full text.
    await feeds.setFullContent(otherFeed.id, 'page');
    const pages = await poll(otherFeed);
    expect(pages).toMatchObject({ added: 0, updated: 2 });
    expect(pages.errors).toEqual([`feed ${server.url}/blog/atom.xml: item 3 ("Hunting flaky tests", ${server.url}/blog/flaky-tests/): HTTP 404 Not Found`]);
    expect((await ws.app.stores.content.findArticle(`${server.url}/blog/queue-on-postgres/`))?.body).toContain('## Keep the same wake-up time');
    expect((await ws.app.stores.content.findArticle(`${server.url}/blog/five-postgres-indexes-we-dropped/`))?.body).toContain('| Index | Size | Why it existed |');
  });

  it('RSS-to-email: a feed-fed newsletter carries what arrived since its last sent issue, whatever the items\' dates', async () => {
    await ws.app.stores.content.upsertArticle(
      { slug: 'manual', title: 'A manual article', summary: 'S', body: 'Body.', canonicalUrl: '', author: '', publishedAt: '2030-01-01T00:00:00.000Z', leadImage: null, tags: [] },
      { assignTo: other.id },
    );
    serveFeed('/notes/rdf.xml', 'lumen-notes.rdf.xml');
    const feed = await addFeed('/notes/rdf.xml', 'feed');
    await poll(feed);
    const first = await buildIssue(ws.app.stores, digest, { publicUrl: 'https://news.example.com' });
    expect(first.articles.map((article) => article.title)).toEqual(['Lumen 4.0', 'Lumen 3.9']);
    // A newsletter without feeds picks its own articles, the manual article first (never the other's feed items).
    expect((await buildIssue(ws.app.stores, other, { publicUrl: 'https://news.example.com' })).articles[0]?.title).toBe('A manual article');

    await ws.app.stores.campaigns.createCampaign({ issueId: first.issue.id, newsletterId: digest.id, listId: digest.listId });
    await expect(buildIssue(ws.app.stores, digest, { publicUrl: 'https://news.example.com' })).rejects.toThrow(
      /newsletter "digest" is fed by 1 feed\(s\) \(http:\/\/127\.0\.0\.1:\d+\/notes\/rdf\.xml\) and no new item arrived since issue #1/,
    );
    await expect(composeIssue(ws.app.stores, digest, { publicUrl: 'https://news.example.com', publishedAfter: null })).rejects.toThrow(/no new item arrived/);

    // An item dated years ago that arrives now is new for this newsletter.
    const withOld = fixture('feeds/lumen-notes.rdf.xml', server.url).replace(
      '</rdf:RDF>',
      `<item rdf:about="${server.url}/notes/1-0"><title>Lumen 1.0, remembered</title><link>${server.url}/notes/1-0</link><dc:date>2019-05-01T09:00:00Z</dc:date><description>Seven years ago we shipped the first Lumen to eleven customers.</description></item></rdf:RDF>`,
    );
    server.set('/notes/rdf.xml', { headers: { 'content-type': RSS }, body: withOld });
    expect((await poll(feed)).added).toBe(1);
    const scheduled = await composeIssue(ws.app.stores, digest, { publicUrl: 'https://news.example.com', publishedAfter: '2026-06-01T00:00:00.000Z' });
    expect(scheduled.articles.map((article) => article.title)).toEqual(['Lumen 1.0, remembered']);
    const second = await buildIssue(ws.app.stores, digest, { publicUrl: 'https://news.example.com' });
    expect(second.articles.map((article) => article.title)).toEqual(['Lumen 1.0, remembered']);
    expect(second.issue.html).toContain('Lumen 1.0, remembered');
  });

  it('the scheduled poller polls each feed when it is due, FEED_POLL_MINUTES after its last poll', async () => {
    serveFeed('/notes/rdf.xml', 'lumen-notes.rdf.xml', '"r1"');
    serveFeed('/journal/feed.xml', 'broken-items.rss.xml');
    servePage('/journal/deleted-post', 'harbor-times-ferry.html');
    await addFeed('/notes/rdf.xml', 'feed');
    await addFeed('/journal/feed.xml');
    let now = new Date('2026-05-01T10:00:00Z');
    const lines: string[] = [];
    const poller = createFeedPoller({ stores: ws.app.stores, feeds, policy: policy(), intervalMinutes: 30, log: (line) => lines.push(line), clock: () => now });
    const first = await poller.tick();
    expect(first.map((result) => result.added)).toEqual([2, 3]);
    expect(lines.some((line) => /: 2 new, 0 updated, 0 unchanged, 0 error\(s\)$/.test(line))).toBe(true);
    expect(lines.some((line) => line.includes('repeats item 1'))).toBe(true);
    now = new Date('2026-05-01T10:10:00Z');
    expect(await poller.tick()).toEqual([]);
    now = new Date('2026-05-01T10:31:00Z');
    const third = await poller.tick();
    expect(third).toHaveLength(2);
    expect(third[0]?.notModified).toBe(true);
    expect((await feeds.listFeeds()).map((feed) => feed.lastPolledAt)).toEqual(['2026-05-01T10:31:00.000Z', '2026-05-01T10:31:00.000Z']);
    await poller.stop();
  });
});

describe('the feeds and articles commands', () => {
  let ws: Workspace;
  const saved = { ...process.env };
  const restoreEnvironment = () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  };

  beforeAll(async () => {
    ws = await openWorkspace();
    Object.assign(process.env, {
      DATA_DIR: ws.dataDir,
      PUBLIC_URL: 'https://news.example.com',
      SECRET: 'a-test-secret-that-is-long-enough-0123456789',
      FETCH_ALLOW_PRIVATE: '127.0.0.1',
      FETCH_TIMEOUT_SECONDS: '3',
    });
    delete process.env.DATABASE_URL;
    const list = await ws.app.stores.audience.createList('readers');
    await ws.app.stores.newsletters.createNewsletter({ slug: 'journal', name: 'Journal', fromName: 'Journal', fromEmail: 'news@example.com', replyTo: '', listId: list.id, template: 'digest', postalAddress: '1 Main St', logoUrl: '', subjectTemplate: '{title}', maxArticles: 5, language: 'en' });
    server.set('/northwind', { headers: { 'content-type': HTML }, body: fixture('feeds/northwind-home.html') });
    serveFeed('/feeds/journal.xml', 'broken-items.rss.xml');
    servePage('/journal/deleted-post', 'brightline-magazine-sleep.html');
    servePage('/articles/ferries', 'harbor-times-ferry.html');
  });

  afterAll(async () => {
    restoreEnvironment();
    await ws.close();
  });

  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const { main } = await import('../src/cli/main.ts');
    let out = '';
    let err = '';
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err += String(chunk);
      return true;
    });
    try {
      process.exitCode = undefined;
      const code = await main(['node', 'mailroom', ...argv]);
      return { code, out, err };
    } finally {
      process.exitCode = undefined;
      stdout.mockRestore();
      stderr.mockRestore();
    }
  }

  it('feeds add finds the feed a page links to and imports its items; list, poll and remove work on it', async () => {
    const added = await run('feeds', 'add', 'journal', `${server.url}/northwind`);
    expect(added.out).toContain(`${server.url}/northwind is a web page; it links to the feed ${server.url}/feeds/journal.xml`);
    expect(added.out).toMatch(/feed 1 added to journal: .*\("Northwind Journal"\), RSS with 3 item\(s\), full content: auto/);
    expect(added.out).toMatch(/feed 1 .*: 3 new, 0 updated, 0 unchanged, 4 error\(s\)/);
    expect(added.err).toContain('error: feed ');
    expect(added.code).toBe(1);

    const listed = await run('feeds', 'list');
    expect(listed.out).toMatch(/ID\s+NEWSLETTER\s+MODE\s+ITEMS\s+LAST POLL\s+STATUS\s+URL/);
    expect(listed.out).toMatch(new RegExp(`1\\s+journal\\s+auto\\s+3\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+problems\\s+${server.url}/feeds/journal.xml`));

    const polled = await run('feeds', 'poll');
    expect(polled.out).toMatch(/feed 1 .*: 0 new, 0 updated, 3 unchanged, 4 error\(s\)/);
    expect(polled.code).toBe(1);

    const set = await run('feeds', 'set', '1', '--full-content', 'page');
    expect(set.out).toContain('full content page; every item is imported again on the next poll');
    expect((await run('feeds', 'list')).out).toMatch(/1\s+journal\s+page\s+3/);
    // Every page is fetched now: the two items whose text came from the feed have no page on this server.
    const repolled = await run('feeds', 'poll', `${server.url}/feeds/journal.xml`);
    expect(repolled.out).toMatch(/: 0 new, 0 updated, 1 unchanged, 6 error\(s\)/);
    expect(repolled.err).toContain(`item 1 ("How we pay farmers 40% above fair trade prices", ${server.url}/journal/farmer-prices): HTTP 404 Not Found`);

    const removed = await run('feeds', 'remove', '1');
    expect(removed.out).toContain(`feed 1 removed: ${server.url}/feeds/journal.xml (the articles it brought stay)`);
    expect((await run('feeds', 'list')).out).toContain('no feeds yet');
    const missing = await run('feeds', 'remove', '1');
    expect(missing.err).toContain('mailroom: feed "1" does not exist');
    expect(missing.code).toBe(1);
  });

  it('feeds add names the problem: an unknown newsletter, a page without a feed, a refused address', async () => {
    expect((await run('feeds', 'add', 'nope', `${server.url}/feeds/journal.xml`)).err).toMatch(/newsletter "nope" does not exist/);
    expect((await run('feeds', 'add', 'journal', `${server.url}/articles/ferries`)).err).toMatch(/this is a web page, and it does not link to an RSS or Atom feed/);
    expect((await run('feeds', 'add', 'journal', 'http://10.0.0.5/feed.xml')).err).toMatch(/refused: 10\.0\.0\.5 is a private address; not allowed by FETCH_ALLOW_PRIVATE=127\.0\.0\.1/);
    expect((await run('feeds', 'add', 'journal', `${server.url}/feeds/journal.xml`, '--full-content', 'sometimes')).code).toBe(2);
  });

  it('articles import URL fetches and extracts a page; again, it updates the same article', async () => {
    const first = await run('articles', 'import', `${server.url}/articles/ferries?utm_source=x`);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`added     new-electric-ferries-cut-harbor-emissions-by-half  (${server.url}/articles/ferries?utm_source=x)`);
    const again = await run('articles', 'import', `${server.url}/articles/ferries`);
    expect(again.out).toMatch(/^unchanged new-electric-ferries-cut-harbor-emissions-by-half/m);
    expect(again.out).toContain('0 added, 0 updated, 1 unchanged, 0 rejected');
    const sample = await run('articles', 'import', '/work/shared/samples/article-page.txt', '--url', 'https://openinfluence.example/news/deal');
    expect(sample.out).toContain('13 line(s) of page chrome left out');
    const refused = await run('articles', 'import', 'http://169.254.169.254/latest/meta-data/');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('rejected  http://169.254.169.254/latest/meta-data/: refused: 169.254.169.254 is a cloud metadata address');
  });
});

describe('mailroom serve', () => {
  const saved = { ...process.env };
  const restoreEnvironment = () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  };
  afterAll(() => {
    restoreEnvironment();
  });

  it('polls the feeds on its schedule (FEED_POLL_MINUTES), starting at once, and stops with the service', async () => {
    const { loadConfig } = await import('../src/config.ts');
    const { startService } = await import('../src/service.ts');
    const { makeDataDir } = await import('./helpers/workspace.ts');
    const dir = makeDataDir();
    const env = { DATA_DIR: join(dir, 'data'), PUBLIC_URL: 'https://news.example.com', SECRET: 'a-test-secret-that-is-long-enough-0123456789', SMTP_URL: 'smtp://127.0.0.1:9', FEED_POLL_MINUTES: '5', FETCH_ALLOW_PRIVATE: '127.0.0.1' };
    Object.assign(process.env, env);
    serveFeed('/serve/rdf.xml', 'lumen-notes.rdf.xml');
    // The feed is there before the service starts.
    const { createApp } = await import('../src/app.ts');
    const setup = await createApp(loadConfig(env, dir));
    const list = await setup.stores.audience.createList('serve-readers');
    const newsletter = await setup.stores.newsletters.createNewsletter({ slug: 'notes', name: 'Notes', fromName: 'Notes', fromEmail: 'n@example.com', replyTo: '', listId: list.id, template: 'digest', postalAddress: '1 Main St', logoUrl: '', subjectTemplate: '{title}', maxArticles: 5, language: 'en' });
    await new FeedStore(setup.stores.db).addFeed({ newsletterId: newsletter.id, url: `${server.url}/serve/rdf.xml`, title: '', siteUrl: '', fullContent: 'feed' });
    await setup.close();

    const lines: string[] = [];
    const service = await startService({ ...loadConfig(env, dir), port: 0 }, { loadDemo: false, log: (line) => lines.push(line) });
    try {
      expect(service.feedPoller).not.toBeNull();
      // The first poll starts with the service; tick() waits for the one in progress.
      const results = await service.feedPoller?.tick();
      expect(results?.map((result) => result.added)).toEqual([2]);
      expect(lines.some((line) => line.includes('2 new, 0 updated, 0 unchanged, 0 error(s)'))).toBe(true);
      expect(await service.app.stores.content.listArticles()).toHaveLength(2);
      // Polled just now: not due again before FEED_POLL_MINUTES have passed.
      expect(await service.feedPoller?.tick()).toEqual([]);
    } finally {
      await service.close();
      const { rmSync } = await import('node:fs');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
