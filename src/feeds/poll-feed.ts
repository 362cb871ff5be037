/**
 * Polling a feed: a conditional GET (ETag / Last-Modified), then every item new or changed since the last poll becomes
 * an article (deduplicated by guid, then by URL). A feed that cannot be fetched or read is one error naming its URL;
 * a broken item is reported and skipped, and never costs the others.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { UpsertOutcome } from '../store/store-types.ts';
import type { Article, ArticleInput } from '../core/domain.ts';
import { createHash } from 'node:crypto';
import { sanitizeMarkdown } from '../content/sanitize.ts';
import type { ExtractedArticle } from '../content/text-tools.ts';
import { MailroomError } from '../core/errors.ts';
import { safeFetch, type FetchPolicy } from '../net/safe-fetch.ts';
import type { Feed, FeedItemRecord, PollRecord } from '../store/feed-store.ts';
import { articleFromItem } from './item-article.ts';
import { parseFeed, type FeedItem } from './parse-feed.ts';

/** What polling a feed needs of the stores (app.stores has it). */
export interface FeedPollStores {
  readonly content: {
    upsertArticle(input: ArticleInput, options?: { assignTo?: number; in?: Kysely<Database> }): Promise<{ article: Article; outcome: UpsertOutcome }>;
  };
}

/** What polling a feed needs of its feed's records: inside an item's transaction, the item and the article. */
export interface FeedItemRecords {
  findItem(feedId: number, guid: string, url: string): Promise<FeedItemRecord | null>;
  prepareArticle(extracted: ExtractedArticle, options?: { articleId?: number | undefined; distinct?: boolean }): Promise<ArticleInput>;
  saveItem(input: { feedId: number; guid: string; url: string; articleId: number; contentHash: string; existingId?: number | undefined }): Promise<void>;
}

/** What polling a feed needs of the feeds (app.stores.feeds has it). */
export interface FeedPollPort extends FeedItemRecords {
  recordPoll(id: number, record: PollRecord): Promise<void>;
  inItemTransaction<T>(feedId: number, fn: (feeds: FeedItemRecords, trx: Kysely<Database>) => Promise<T>): Promise<T>;
}

export interface PollDeps {
  readonly stores: FeedPollStores;
  readonly feeds: FeedPollPort;
  readonly policy: FetchPolicy;
  readonly clock?: () => Date;
  /** Pages fetched at the same time for link-only items (default 3). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

export interface FeedPollResult {
  readonly feed: Feed;
  /** The server answered 304: nothing changed since the last poll. */
  readonly notModified: boolean;
  /** The feed itself could not be fetched or read; nothing was imported. */
  readonly failed: boolean;
  readonly added: number;
  readonly updated: number;
  readonly unchanged: number;
  /** One line per problem, each naming the feed and the item. */
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

const DEFAULT_CONCURRENCY = 3;

/** Runs `task` over the items, at most `limit` at a time. */
async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await task(item);
    }
  });
  await Promise.all(workers);
}

/** A fingerprint of what the feed says about an item: unchanged means nothing to fetch or update. */
function fingerprint(item: FeedItem, feed: Feed): string {
  return createHash('sha256')
    .update(JSON.stringify([feed.fullContent, item.title, item.url, item.contentHtml, item.summaryHtml, item.author, item.publishedAt, item.updatedAt, item.categories, item.image]))
    .digest('hex');
}

function describeItem(item: FeedItem): string {
  const title = item.title.length > 60 ? `${item.title.slice(0, 60)}…` : item.title;
  const parts = [title ? JSON.stringify(title) : '', item.url].filter(Boolean);
  return `item ${item.index}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

/** Polls one feed and imports what is new or changed. Never throws for the feed's or an item's problems: they are in the result. */
export async function pollFeed(feed: Feed, deps: PollDeps): Promise<FeedPollResult> {
  const clock = deps.clock ?? (() => new Date());
  const startedAt = clock();
  const at = startedAt.toISOString();
  const counts = { added: 0, updated: 0, unchanged: 0 };
  const errors: string[] = [];
  const warnings: string[] = [];
  const result = (extra: { notModified?: boolean; failed?: boolean }): FeedPollResult => ({
    feed,
    notModified: extra.notModified ?? false,
    failed: extra.failed ?? false,
    ...counts,
    errors,
    warnings,
  });

  let document;
  try {
    document = await safeFetch(feed.url, deps.policy, { accept: ['feed'], etag: feed.etag, lastModified: feed.lastModified, ...(deps.signal ? { signal: deps.signal } : {}) });
  } catch (error) {
    const message = `feed ${feed.url}: ${describeError(error, feed.url)}`;
    errors.push(message);
    await deps.feeds.recordPoll(feed.id, { ok: false, at, error: message });
    return result({ failed: true });
  }
  if (document.notModified) {
    await deps.feeds.recordPoll(feed.id, { ok: true, at, error: null, etag: document.etag, lastModified: document.lastModified });
    return result({ notModified: true });
  }

  let parsed;
  try {
    parsed = parseFeed(document.text, feed.url);
  } catch (error) {
    const message = error instanceof MailroomError ? error.message : `feed ${feed.url}: ${(error as Error).message}`;
    errors.push(message);
    await deps.feeds.recordPoll(feed.id, { ok: false, at, error: message });
    return result({ failed: true });
  }
  for (const problem of parsed.problems) errors.push(`feed ${feed.url}: ${problem}`);

  // Pages are fetched in parallel; the database part of each item runs one at a time, so two items never race for a slug.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task);
    queue = run.catch(() => undefined);
    return run;
  };
  const feedBase = parsed.siteUrl || document.url;

  await forEachLimited(parsed.items, deps.concurrency ?? DEFAULT_CONCURRENCY, async (item) => {
    try {
      const existing = await deps.feeds.findItem(feed.id, item.guid, item.url);
      const hash = fingerprint(item, feed);
      if (existing && existing.contentHash === hash) {
        counts.unchanged += 1;
        return;
      }
      const made = await articleFromItem(item, feed.fullContent, feedBase, { policy: deps.policy, now: startedAt, signal: deps.signal });
      for (const warning of made.warnings) warnings.push(`feed ${feed.url}: ${describeItem(item)}: ${warning}`);
      const extracted: ExtractedArticle = { ...made.extracted, article: { ...made.extracted.article, body: sanitizeMarkdown(made.extracted.article.body).markdown } };
      await serially(() =>
        deps.feeds.inItemTransaction(feed.id, async (feeds, trx) => {
          // Read again inside the transaction: another process may have recorded the item since.
          const current = await feeds.findItem(feed.id, item.guid, item.url);
          if (current && current.contentHash === hash) {
            counts.unchanged += 1;
            return;
          }
          const input = await feeds.prepareArticle(extracted, current ? { articleId: current.articleId } : { distinct: true });
          const { article, outcome } = await deps.stores.content.upsertArticle(input, { in: trx });
          await feeds.saveItem({ feedId: feed.id, guid: item.guid, url: item.url, articleId: article.id, contentHash: hash, existingId: current?.id });
          if (!current) counts.added += 1;
          else if (outcome === 'unchanged') counts.unchanged += 1;
          else counts.updated += 1;
        }),
      );
    } catch (error) {
      errors.push(`feed ${feed.url}: ${describeItem(item)}: ${describeError(error, item.url)}`);
    }
  });

  // After a broken item, the validators are not stored: the next poll reads the whole feed again and retries it.
  const itemsFailed = errors.length > parsed.problems.length;
  await deps.feeds.recordPoll(feed.id, {
    ok: true,
    at,
    error: errors.length > 0 ? `${errors.length} problem(s); first: ${errors[0]}` : null,
    ...(itemsFailed ? {} : { etag: document.etag, lastModified: document.lastModified }),
    title: parsed.title,
    siteUrl: parsed.siteUrl,
  });
  return result({});
}

/** Polls feeds one after the other, reporting each result as it comes. */
export async function pollFeeds(feeds: readonly Feed[], deps: PollDeps, onResult?: (result: FeedPollResult) => void): Promise<FeedPollResult[]> {
  const results: FeedPollResult[] = [];
  for (const feed of feeds) {
    if (deps.signal?.aborted) break;
    const polled = await pollFeed(feed, deps);
    results.push(polled);
    onResult?.(polled);
  }
  return results;
}

/** A problem's message without a repeated "URL: " prefix when the message already starts with the URL. */
function describeError(error: unknown, url: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return url !== '' && message.startsWith(`${url}: `) ? message.slice(url.length + 2) : message;
}
