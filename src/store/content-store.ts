/** Articles: storing them, which newsletters they belong to (assignments and tags). */
import { sql, type Kysely } from 'kysely';
import type { Article, ArticleInput } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { writeTransaction } from './write-transaction.ts';
import { lockKeys } from './dialect.ts';
import type { Database } from './schema.ts';
import { belongsToNewsletter, belongsToNoNewsletter, notCarriedByNewsletter } from './article-queries.ts';
import { SqlAggregateStore } from './store-base.ts';
import { toArticle } from './rows.ts';
import type { UpsertOutcome } from './store-types.ts';

type Db = Kysely<Database>;

export class ContentStore extends SqlAggregateStore {
  // ---------------------------------------------------------------- articles

  /**
   * Adds an article, or updates the one with the same slug or canonical URL; with `assignTo`, also assigns it to that
   * newsletter, in the same transaction.
   */
  async upsertArticle(input: ArticleInput, options: { assignTo?: number; in?: Kysely<Database> } = {}): Promise<{ article: Article; outcome: UpsertOutcome }> {
    // `in`: a transaction the caller holds (a feed item and its article are saved together).
    return writeTransaction(options.in ?? this.db, async (trx) => {
      const saved = await this.upsertArticleIn(trx, input);
      if (options.assignTo !== undefined) await this.assignIn(trx, options.assignTo, [saved.article.id], 'import', this.now());
      return saved;
    });
  }

  private async upsertArticleIn(trx: Db, input: ArticleInput): Promise<{ article: Article; outcome: UpsertOutcome }> {
    // Two processes importing the same article: the second waits, then finds the first one's row and updates it.
    await lockKeys(trx, [`article:slug:${input.slug}`, ...(input.canonicalUrl ? [`article:url:${input.canonicalUrl}`] : [])]);
    const matches = await trx
      .selectFrom('articles')
      .selectAll()
      .where((eb) => (input.canonicalUrl ? eb.or([eb('slug', '=', input.slug), eb('canonical_url', '=', input.canonicalUrl)]) : eb('slug', '=', input.slug)))
      .execute();
    if (matches.length > 1) {
      throw new MailroomError(
        'CONFLICT',
        `article ${quote(input.slug)}: its slug and its canonical URL ${quote(input.canonicalUrl)} belong to two different stored articles (${matches.map((m) => quote(m.slug)).join(', ')})`,
      );
    }
    const now = this.now();
    const values = {
      slug: input.slug,
      canonical_url: input.canonicalUrl,
      title: input.title,
      summary: input.summary,
      body: input.body,
      author: input.author,
      published_at: input.publishedAt,
      lead_image_url: input.leadImage?.url ?? null,
      lead_image_alt: input.leadImage?.alt ?? null,
      tags: JSON.stringify(input.tags),
    };
    const existing = matches[0];
    if (!existing) {
      const row = await trx.insertInto('articles').values({ ...values, created_at: now, updated_at: now }).returningAll().executeTakeFirstOrThrow();
      return { article: toArticle(row), outcome: 'added' as const };
    }
    const changed = (Object.keys(values) as (keyof typeof values)[]).some((k) => existing[k] !== values[k]);
    if (!changed) return { article: toArticle(existing), outcome: 'unchanged' as const };
    const row = await trx.updateTable('articles').set({ ...values, updated_at: now }).where('id', '=', existing.id).returningAll().executeTakeFirstOrThrow();
    return { article: toArticle(row), outcome: 'updated' as const };
  }

  async findArticle(ref: string | number): Promise<Article | null> {
    const row = await this.db
      .selectFrom('articles')
      .selectAll()
      .where((eb) => (typeof ref === 'number' ? eb('id', '=', ref) : eb.or([eb('slug', '=', ref), eb('canonical_url', '=', ref)])))
      .executeTakeFirst();
    return row ? toArticle(row) : null;
  }

  /** Articles, newest first; with `newsletterId`, only those that belong to it; with `unassigned`, only those that belong to none. */
  async listArticles(options: { limit?: number; offset?: number; newsletterId?: number; unassigned?: boolean } = {}): Promise<Article[]> {
    let query = this.db.selectFrom('articles').selectAll();
    if (options.newsletterId !== undefined) query = query.where(belongsToNewsletter(options.newsletterId));
    if (options.unassigned) query = query.where(belongsToNoNewsletter());
    const rows = await query
      .orderBy('published_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit ?? 100)
      .offset(options.offset ?? 0)
      .execute();
    return rows.map(toArticle);
  }

  /** The newest articles of this newsletter (see belongsToNewsletter) that no campaign of it has carried yet. */
  async listArticlesNotSentIn(newsletterId: number, limit: number, publishedAfter: string | null = null): Promise<Article[]> {
    let query = this.db.selectFrom('articles').selectAll().where(belongsToNewsletter(newsletterId));
    if (publishedAfter) query = query.where('published_at', '>', publishedAfter);
    const rows = await query
      .where(notCarriedByNewsletter(newsletterId))
      .orderBy('published_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toArticle);
  }

  /** How many articles belong to the newsletter, and how many of those no campaign of it has carried yet. */
  async countNewsletterArticles(newsletterId: number): Promise<{ total: number; unsent: number }> {
    const row = await this.db
      .selectFrom('articles')
      .select(sql<number>`count(*)`.as('total'))
      .select((eb) => eb.fn.sum<number>(eb.case().when(notCarriedByNewsletter(newsletterId)(eb)).then(1).else(0).end()).as('unsent'))
      .where(belongsToNewsletter(newsletterId))
      .executeTakeFirstOrThrow();
    return { total: Number(row.total), unsent: Number(row.unsent ?? 0) };
  }

  /** Articles that belong to no newsletter (how many, and the newest few). */
  async listUnassignedArticles(limit: number): Promise<{ count: number; newest: Article[] }> {
    const row = await this.db.selectFrom('articles').select(sql<number>`count(*)`.as('n')).where(belongsToNoNewsletter()).executeTakeFirstOrThrow();
    return { count: Number(row.n), newest: await this.listArticles({ unassigned: true, limit }) };
  }

  /** Which of these articles belong to the newsletter. */
  async articlesInNewsletter(newsletterId: number, articleIds: readonly number[]): Promise<Set<number>> {
    if (articleIds.length === 0) return new Set();
    const rows = await this.db.selectFrom('articles').select('id').where('id', 'in', articleIds).where(belongsToNewsletter(newsletterId)).execute();
    return new Set(rows.map((r) => r.id));
  }

  /** The newsletters (slugs) each of these articles belongs to. */
  async newslettersOfArticles(articleIds: readonly number[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>(articleIds.map((id) => [id, []]));
    if (articleIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('articles')
      .innerJoin('newsletters', (join) => join.on(belongsToNewsletter('newsletters.id')))
      .select(['articles.id as article_id', 'newsletters.slug'])
      .where('articles.id', 'in', articleIds)
      .orderBy('newsletters.slug')
      .execute();
    for (const row of rows) out.get(row.article_id)?.push(row.slug);
    return out;
  }

  /**
   * Assigns articles to a newsletter (again, if they were taken out of it), in one transaction. Returns the ids that
   * did not belong to it before.
   */
  async assignArticles(newsletterId: number, articleIds: readonly number[], source: 'import' | 'assign' | 'demo'): Promise<number[]> {
    if (articleIds.length === 0) return [];
    return this.tx(async (trx) => {
      const before = new Set((await trx.selectFrom('articles').select('id').where('id', 'in', articleIds).where(belongsToNewsletter(newsletterId)).execute()).map((r) => r.id));
      await this.assignIn(trx, newsletterId, articleIds, source, this.now());
      return articleIds.filter((id) => !before.has(id));
    });
  }

  /** Assignment rows inside a caller's transaction: new ones, or ones taken out earlier, which arrive again now. */
  private async assignIn(trx: Db, newsletterId: number, articleIds: readonly number[], source: string, now: string): Promise<void> {
    await trx
      .insertInto('newsletter_articles')
      .values([...new Set(articleIds)].map((articleId) => ({ newsletter_id: newsletterId, article_id: articleId, excluded: 0, source, added_at: now })))
      .onConflict((oc) =>
        oc.columns(['newsletter_id', 'article_id']).doUpdateSet((eb) => ({
          excluded: 0,
          added_at: eb.case().when('newsletter_articles.excluded', '=', 1).then(now).else(eb.ref('newsletter_articles.added_at')).end(),
          source: eb.case().when('newsletter_articles.excluded', '=', 1).then(source).else(eb.ref('newsletter_articles.source')).end(),
        })),
      )
      .execute();
  }

  /** Takes articles out of a newsletter, even when its feeds or tags would bring them. Returns the ids that belonged to it before. */
  async unassignArticles(newsletterId: number, articleIds: readonly number[]): Promise<number[]> {
    if (articleIds.length === 0) return [];
    return this.tx(async (trx) => {
      const before = new Set((await trx.selectFrom('articles').select('id').where('id', 'in', articleIds).where(belongsToNewsletter(newsletterId)).execute()).map((r) => r.id));
      const now = this.now();
      await trx
        .insertInto('newsletter_articles')
        .values([...new Set(articleIds)].map((articleId) => ({ newsletter_id: newsletterId, article_id: articleId, excluded: 1, source: 'unassign', added_at: now })))
        .onConflict((oc) => oc.columns(['newsletter_id', 'article_id']).doUpdateSet({ excluded: 1, source: 'unassign', added_at: now }))
        .execute();
      return articleIds.filter((id) => before.has(id));
    });
  }

  /** The tags a newsletter selects (lowercase, sorted). */
  async newsletterTags(newsletterId: number): Promise<string[]> {
    const rows = await this.db.selectFrom('newsletter_tags').select('tag').where('newsletter_id', '=', newsletterId).orderBy('tag').execute();
    return rows.map((r) => r.tag);
  }

  /** Replaces the tags a newsletter selects. */
  async setNewsletterTags(newsletterId: number, tags: readonly string[]): Promise<string[]> {
    const clean = [...new Set(tags.map((t) => t.trim().toLowerCase()).filter(Boolean))].sort();
    await this.tx(async (trx) => {
      await trx.deleteFrom('newsletter_tags').where('newsletter_id', '=', newsletterId).execute();
      if (clean.length > 0) await trx.insertInto('newsletter_tags').values(clean.map((tag) => ({ newsletter_id: newsletterId, tag }))).execute();
    });
    return clean;
  }

  async getArticlesByIds(ids: readonly number[]): Promise<Article[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('articles').selectAll().where('id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.id, toArticle(r)]));
    return ids.map((id) => byId.get(id)).filter((a): a is Article => a !== undefined);
  }
}
