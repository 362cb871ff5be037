/** Feed queries: the feeds of each newsletter, the items seen in them, and the articles a feed-fed issue carries. Kysely over the same database. */
import { sql, type Kysely, type Selectable } from 'kysely';
import { toArticle } from './rows.ts';
import type { Article, ArticleInput } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import type { ExtractedArticle } from '../content/text-tools.ts';
import type { Database, FeedItemsTable, FeedsTable } from './schema.ts';
import { belongsToNewsletter, notCarriedByNewsletter } from './article-queries.ts';
import { lockKeys } from './dialect.ts';
import { writeTransaction } from './write-transaction.ts';

export const FULL_CONTENT_MODES = ['auto', 'feed', 'page'] as const;
/** Where an item's article text comes from: the feed when it looks complete, else the page (auto); always the feed; always the page. */
export type FullContentMode = (typeof FULL_CONTENT_MODES)[number];

export interface Feed {
  readonly id: number;
  readonly newsletterId: number;
  readonly url: string;
  readonly title: string;
  readonly siteUrl: string;
  readonly fullContent: FullContentMode;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly lastPolledAt: string | null;
  readonly lastSuccessAt: string | null;
  readonly lastError: string | null;
  readonly createdAt: string;
}

export interface FeedSummary extends Feed {
  readonly newsletterSlug: string;
  readonly items: number;
}

export interface FeedItemRecord {
  readonly id: number;
  readonly feedId: number;
  readonly guid: string;
  readonly url: string;
  readonly articleId: number;
  readonly contentHash: string;
  readonly firstSeenAt: string;
}

export interface PollRecord {
  /** The poll reached the feed and read it (a 304 counts). */
  readonly ok: boolean;
  readonly at: string;
  readonly error?: string | null;
  /** Validators to send next time; left as they are when undefined. */
  readonly etag?: string | null;
  readonly lastModified?: string | null;
  readonly title?: string;
  readonly siteUrl?: string;
}

/** What a feed-fed newsletter's next issue can carry. */
export interface FeedIssueArticles {
  readonly articles: Article[];
  readonly feeds: readonly Feed[];
  /** The last issue a campaign carried, whose creation is the cutoff for "new". */
  readonly lastIssue: { readonly number: number; readonly createdAt: string } | null;
}

function toFeed(row: Selectable<FeedsTable>): Feed {
  return {
    id: row.id,
    newsletterId: row.newsletter_id,
    url: row.url,
    title: row.title,
    siteUrl: row.site_url,
    fullContent: (FULL_CONTENT_MODES as readonly string[]).includes(row.full_content) ? (row.full_content as FullContentMode) : 'auto',
    etag: row.etag,
    lastModified: row.last_modified,
    lastPolledAt: row.last_polled_at,
    lastSuccessAt: row.last_success_at,
    lastError: row.last_error,
    createdAt: row.created_at,
  };
}

function toItem(row: Selectable<FeedItemsTable>): FeedItemRecord {
  return { id: row.id, feedId: row.feed_id, guid: row.guid, url: row.url, articleId: row.article_id, contentHash: row.content_hash, firstSeenAt: row.first_seen_at };
}

export class FeedStore {
  private readonly db: Kysely<Database>;
  private readonly clock: () => Date;

  constructor(db: Kysely<Database>, clock: () => Date = () => new Date()) {
    this.db = db;
    this.clock = clock;
  }

  now(): string {
    return this.clock().toISOString();
  }

  // ------------------------------------------------------------------- feeds

  async addFeed(input: { newsletterId: number; url: string; title: string; siteUrl: string; fullContent: FullContentMode }): Promise<Feed> {
    const existing = await this.db.selectFrom('feeds').selectAll().where('newsletter_id', '=', input.newsletterId).where('url', '=', input.url).executeTakeFirst();
    if (existing) throw new MailroomError('CONFLICT', `feed ${quote(input.url)} already feeds this newsletter (feed ${existing.id})`);
    const row = await this.db
      .insertInto('feeds')
      .values({ newsletter_id: input.newsletterId, url: input.url, title: input.title, site_url: input.siteUrl, full_content: input.fullContent, created_at: this.now() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toFeed(row);
  }

  async getFeed(id: number): Promise<Feed | null> {
    const row = await this.db.selectFrom('feeds').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toFeed(row) : null;
  }

  /** Feeds named by an id or a URL (a URL may feed several newsletters), optionally of one newsletter only. */
  async findFeeds(ref: string, newsletterId?: number): Promise<Feed[]> {
    let query = this.db.selectFrom('feeds').selectAll();
    query = /^\d+$/.test(ref) ? query.where('id', '=', Number(ref)) : query.where('url', '=', ref.trim());
    if (newsletterId !== undefined) query = query.where('newsletter_id', '=', newsletterId);
    return (await query.orderBy('id').execute()).map(toFeed);
  }

  async listFeeds(options: { newsletterId?: number } = {}): Promise<FeedSummary[]> {
    let query = this.db
      .selectFrom('feeds')
      .innerJoin('newsletters', 'newsletters.id', 'feeds.newsletter_id')
      .selectAll('feeds')
      .select('newsletters.slug as newsletter_slug')
      .select((eb) => eb.selectFrom('feed_items').select(sql<number>`count(*)`.as('n')).whereRef('feed_items.feed_id', '=', 'feeds.id').as('items'));
    if (options.newsletterId !== undefined) query = query.where('feeds.newsletter_id', '=', options.newsletterId);
    const rows = await query.orderBy('newsletters.slug').orderBy('feeds.id').execute();
    return rows.map((row) => ({ ...toFeed(row), newsletterSlug: row.newsletter_slug, items: Number(row.items ?? 0) }));
  }

  /** Feeds never polled, or polled before the cutoff. */
  async listDueFeeds(polledBefore: string): Promise<Feed[]> {
    const rows = await this.db
      .selectFrom('feeds')
      .selectAll()
      .where((eb) => eb.or([eb('last_polled_at', 'is', null), eb('last_polled_at', '<=', polledBefore)]))
      .orderBy('last_polled_at')
      .orderBy('id')
      .execute();
    return rows.map(toFeed);
  }

  async countFeeds(newsletterId: number): Promise<number> {
    const row = await this.db.selectFrom('feeds').select(sql<number>`count(*)`.as('n')).where('newsletter_id', '=', newsletterId).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Removes a feed and its item records; the articles it brought stay. */
  async removeFeed(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('feeds').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async setFullContent(id: number, mode: FullContentMode): Promise<void> {
    await this.db.updateTable('feeds').set({ full_content: mode }).where('id', '=', id).execute();
  }

  async recordPoll(id: number, record: PollRecord): Promise<void> {
    await this.db
      .updateTable('feeds')
      .set({
        last_polled_at: record.at,
        last_error: record.error ?? null,
        ...(record.ok ? { last_success_at: record.at } : {}),
        ...(record.etag !== undefined ? { etag: record.etag } : {}),
        ...(record.lastModified !== undefined ? { last_modified: record.lastModified } : {}),
        ...(record.title ? { title: record.title } : {}),
        ...(record.siteUrl ? { site_url: record.siteUrl } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  // ------------------------------------------------------------------- items

  /** The item recorded for this feed with the same guid, else (guid unknown or absent) with the same URL. */
  async findItem(feedId: number, guid: string, url: string): Promise<FeedItemRecord | null> {
    if (guid !== '') {
      const byGuid = await this.db.selectFrom('feed_items').selectAll().where('feed_id', '=', feedId).where('guid', '=', guid).executeTakeFirst();
      if (byGuid) return toItem(byGuid);
    }
    if (url !== '') {
      const byUrl = await this.db.selectFrom('feed_items').selectAll().where('feed_id', '=', feedId).where('url', '=', url).orderBy('id').executeTakeFirst();
      if (byUrl) return toItem(byUrl);
    }
    return null;
  }

  /**
   * Runs one feed item's database work (find it, prepare and save its article, record it) as ONE write transaction,
   * the items of one feed taking turns across processes: two pollers never both add the same item.
   */
  async inItemTransaction<T>(feedId: number, fn: (feeds: FeedStore, trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return writeTransaction(this.db, async (trx) => {
      await lockKeys(trx, [`feed:${feedId}`]);
      return fn(new FeedStore(trx, this.clock), trx);
    });
  }

  /** Records a new item (it arrives now) or updates a known one (its arrival time stays). */
  async saveItem(input: { feedId: number; guid: string; url: string; articleId: number; contentHash: string; existingId?: number | undefined }): Promise<void> {
    const now = this.now();
    if (input.existingId !== undefined) {
      await this.db
        .updateTable('feed_items')
        .set({ guid: input.guid, url: input.url, article_id: input.articleId, content_hash: input.contentHash, updated_at: now })
        .where('id', '=', input.existingId)
        .execute();
      return;
    }
    await this.db
      .insertInto('feed_items')
      .values({ feed_id: input.feedId, guid: input.guid, url: input.url, article_id: input.articleId, content_hash: input.contentHash, first_seen_at: now, updated_at: now })
      .execute();
  }

  // ---------------------------------------------------------------- articles

  /**
   * Gets an extracted article ready for `upsertArticle`, so that a re-import updates the same row and never duplicates:
   * an article already stored under the same canonical URL keeps its slug; a different article whose title gives the
   * same slug gets "-2", "-3"…; when the source gave no date, the stored date is kept.
   * `articleId`: the article a known feed item made before, updated in place. `distinct`: a new feed item, which never
   * takes over an article just because its title gives the same slug.
   */
  async prepareArticle(extracted: ExtractedArticle, options: { articleId?: number | undefined; distinct?: boolean } = {}): Promise<ArticleInput> {
    const input = extracted.article;
    if (options.articleId !== undefined) {
      const own = await this.db.selectFrom('articles').selectAll().where('id', '=', options.articleId).executeTakeFirst();
      if (own) {
        return {
          ...input,
          slug: own.slug,
          canonicalUrl: input.canonicalUrl || own.canonical_url,
          publishedAt: extracted.publishedKnown ? input.publishedAt : own.published_at,
        };
      }
    }
    if (input.canonicalUrl !== '') {
      const sameUrl = await this.db.selectFrom('articles').selectAll().where('canonical_url', '=', input.canonicalUrl).executeTakeFirst();
      if (sameUrl) return { ...input, slug: sameUrl.slug, publishedAt: extracted.publishedKnown ? input.publishedAt : sameUrl.published_at };
    }
    const sameSlug = await this.db.selectFrom('articles').selectAll().where('slug', '=', input.slug).executeTakeFirst();
    if (!sameSlug) return input;
    const anotherArticle = options.distinct === true || (input.canonicalUrl !== '' && sameSlug.canonical_url !== '' && sameSlug.canonical_url !== input.canonicalUrl);
    if (!anotherArticle) {
      return {
        ...input,
        canonicalUrl: input.canonicalUrl || sameSlug.canonical_url,
        publishedAt: extracted.publishedKnown ? input.publishedAt : sameSlug.published_at,
      };
    }
    const base = input.slug.replace(/-\d+$/, '').slice(0, 76);
    const taken = new Set((await this.db.selectFrom('articles').select('slug').where('slug', 'like', `${base}-%`).execute()).map((row) => row.slug));
    let suffix = 2;
    while (taken.has(`${base}-${suffix}`)) suffix += 1;
    return { ...input, slug: `${base}-${suffix}` };
  }

  // ------------------------------------------------------------------ issues

  /**
   * The articles a feed-fed newsletter's next issue carries: its articles (its feeds' items, and those assigned or
   * tagged for it) that arrived after the last issue a campaign carried was built, and that no campaign of this
   * newsletter has carried; newest first, at most `limit`.
   * With `includeOlder`, items that arrived earlier but were never sent are taken when nothing new arrived.
   * Null when the newsletter has no feed.
   */
  async listFeedIssueArticles(newsletterId: number, limit: number, options: { includeOlder?: boolean } = {}): Promise<FeedIssueArticles | null> {
    const feeds = (await this.db.selectFrom('feeds').selectAll().where('newsletter_id', '=', newsletterId).orderBy('id').execute()).map(toFeed);
    if (feeds.length === 0) return null;
    const last = await this.db
      .selectFrom('issues')
      .select(['issues.number', 'issues.created_at'])
      .where('issues.newsletter_id', '=', newsletterId)
      .where(({ exists, selectFrom }) => exists(selectFrom('campaigns').select(sql<number>`1`.as('one')).whereRef('campaigns.issue_id', '=', 'issues.id')))
      .orderBy('issues.number', 'desc')
      .executeTakeFirst();
    const lastIssue = last ? { number: last.number, createdAt: last.created_at } : null;

    // What arrived for the newsletter since then: its feeds' items, and the articles assigned to it or tagged for it.
    const query = (arrivedAfter: string | null) => {
      const q = this.db
        .selectFrom('articles')
        .selectAll('articles')
        .where(belongsToNewsletter(newsletterId, arrivedAfter))
        .where(notCarriedByNewsletter(newsletterId));
      return q.orderBy('articles.published_at', 'desc').orderBy('articles.id', 'desc').limit(limit).execute();
    };
    let rows = await query(lastIssue?.createdAt ?? null);
    if (rows.length === 0 && options.includeOlder && lastIssue) rows = await query(null);
    return { articles: rows.map(toArticle), feeds, lastIssue };
  }
}
