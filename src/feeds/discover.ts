/** Finds and checks a feed for `feeds add`: the URL may be the feed itself or a page that links to it (<link rel="alternate">). */
import { parseHtmlDocument } from '../content/html-article.ts';
import { safeUrl } from '../content/sanitize.ts';
import { MailroomError } from '../core/errors.ts';
import { safeFetch, type FetchPolicy } from '../net/safe-fetch.ts';
import { parseFeed, type ParsedFeed } from './parse-feed.ts';

export interface DiscoveredFeed {
  /** The feed's URL: the one given, or the one the page links to. */
  readonly url: string;
  /** Set when the URL given was a page and the feed was found through its link. */
  readonly foundOn: string | null;
  readonly feed: ParsedFeed;
}

const FEED_TYPES = /^application\/(rss|atom|rdf)\+xml$/i;

/** The feeds a page announces, in order, as absolute URLs. */
export function findFeedLinks(html: string, pageUrl: string): string[] {
  const document = parseHtmlDocument(html, pageUrl);
  const links: string[] = [];
  for (const link of Array.from(document.querySelectorAll('link[rel~="alternate" i][href]'))) {
    if (!FEED_TYPES.test((link.getAttribute('type') ?? '').trim())) continue;
    const url = safeUrl(link.getAttribute('href') ?? '', document.baseURI, 'link');
    if (url && /^https?:/.test(url) && !links.includes(url)) links.push(url);
  }
  return links;
}

export async function discoverFeed(url: string, policy: FetchPolicy): Promise<DiscoveredFeed> {
  const first = await safeFetch(url, policy, { accept: ['feed', 'html'] });
  if (first.kind === 'feed') return { url: first.requestedUrl, foundOn: null, feed: parseFeed(first.text, first.requestedUrl) };
  const links = findFeedLinks(first.text, first.url);
  const feedUrl = links[0];
  if (!feedUrl) {
    throw new MailroomError('NOT_FOUND', `${first.requestedUrl}: this is a web page, and it does not link to an RSS or Atom feed (no <link rel="alternate" type="application/rss+xml">); give the feed's own URL`);
  }
  const feed = await safeFetch(feedUrl, policy, { accept: ['feed'] });
  return { url: feedUrl, foundOn: first.requestedUrl, feed: parseFeed(feed.text, feedUrl) };
}
