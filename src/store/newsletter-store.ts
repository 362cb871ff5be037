/** Newsletters and their issues. */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Issue, Newsletter } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { lockKeys } from './dialect.ts';
import type { Database, IssuesTable } from './schema.ts';
import { belongsToNewsletter } from './article-queries.ts';
import { SqlAggregateStore } from './store-base.ts';
import { toNewsletter } from './rows.ts';
import type { IssueInput, NewsletterInput, StoredIssue } from './store-types.ts';

type Db = Kysely<Database>;

export class NewsletterStore extends SqlAggregateStore {
  // ------------------------------------------------------------- newsletters

  async createNewsletter(input: NewsletterInput): Promise<Newsletter> {
    if (await this.findNewsletter(input.slug)) throw new MailroomError('CONFLICT', `newsletter ${quote(input.slug)} already exists`);
    const row = await this.db
      .insertInto('newsletters')
      .values({
        slug: input.slug,
        name: input.name,
        from_name: input.fromName,
        from_email: input.fromEmail,
        reply_to: input.replyTo,
        list_id: input.listId,
        template: input.template,
        postal_address: input.postalAddress,
        logo_url: input.logoUrl,
        subject_template: input.subjectTemplate,
        max_articles: input.maxArticles,
        language: input.language,
        created_at: this.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toNewsletter(row);
  }

  async findNewsletter(slug: string): Promise<Newsletter | null> {
    const row = await this.db.selectFrom('newsletters').selectAll().where('slug', '=', slug).executeTakeFirst();
    return row ? toNewsletter(row) : null;
  }

  async getNewsletter(id: number): Promise<Newsletter | null> {
    const row = await this.db.selectFrom('newsletters').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toNewsletter(row) : null;
  }

  async listNewsletters(): Promise<Newsletter[]> {
    const rows = await this.db.selectFrom('newsletters').selectAll().orderBy('slug').execute();
    return rows.map(toNewsletter);
  }

  async countNewsletters(): Promise<number> {
    const row = await this.db.selectFrom('newsletters').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ------------------------------------------------------------------ issues

  async createIssue(input: IssueInput): Promise<StoredIssue> {
    return this.tx((trx) => insertIssue(trx, input, this.now()));
  }

  private async issueArticleIds(issueId: number): Promise<number[]> {
    const rows = await this.db.selectFrom('issue_articles').select('article_id').where('issue_id', '=', issueId).orderBy('position').execute();
    return rows.map((r) => r.article_id);
  }

  async getIssue(id: number): Promise<StoredIssue | null> {
    const row = await this.db.selectFrom('issues').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toStoredIssue(row, await this.issueArticleIds(row.id)) : null;
  }

  async findIssue(newsletterId: number, number: number): Promise<StoredIssue | null> {
    const row = await this.db.selectFrom('issues').selectAll().where('newsletter_id', '=', newsletterId).where('number', '=', number).executeTakeFirst();
    return row ? toStoredIssue(row, await this.issueArticleIds(row.id)) : null;
  }

  async listIssues(newsletterId: number): Promise<(Issue & { campaigns: number })[]> {
    const rows = await this.db
      .selectFrom('issues')
      .leftJoin('campaigns', 'campaigns.issue_id', 'issues.id')
      .select(['issues.id', 'issues.newsletter_id', 'issues.number', 'issues.subject', 'issues.preheader', 'issues.created_at'])
      .select(sql<number>`count(campaigns.id)`.as('campaigns'))
      .where('issues.newsletter_id', '=', newsletterId)
      .groupBy(['issues.id', 'issues.newsletter_id', 'issues.number', 'issues.subject', 'issues.preheader', 'issues.created_at'])
      .orderBy('issues.number', 'desc')
      .execute();
    return Promise.all(
      rows.map(async (r) => ({
        id: r.id,
        newsletterId: r.newsletter_id,
        number: r.number,
        subject: r.subject,
        preheader: r.preheader,
        createdAt: r.created_at,
        articleIds: await this.issueArticleIds(r.id),
        campaigns: Number(r.campaigns),
      })),
    );
  }

  /** The newest issue of a newsletter that no campaign has sent yet. */
  async findUnsentIssue(newsletterId: number): Promise<StoredIssue | null> {
    const row = await this.db
      .selectFrom('issues')
      .selectAll()
      .where('newsletter_id', '=', newsletterId)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('campaigns').select(sql<number>`1`.as('one')).whereRef('campaigns.issue_id', '=', 'issues.id'))))
      .orderBy('number', 'desc')
      .executeTakeFirst();
    return row ? toStoredIssue(row, await this.issueArticleIds(row.id)) : null;
  }

}

/** Stores an issue with the next number of its newsletter, and its articles in order. */
export async function insertIssue(trx: Db, input: IssueInput, now: string): Promise<StoredIssue> {
  // One issue number at a time per newsletter, across processes (SQLite: the write lock; Postgres: an advisory lock
  // until commit); the unique (newsletter_id, number) constraint stays the backstop.
  await lockKeys(trx, [`issue-number:${input.newsletterId}`]);
  const last = await trx.selectFrom('issues').select(sql<number | null>`max(number)`.as('n')).where('newsletter_id', '=', input.newsletterId).executeTakeFirst();
  const number = Number(last?.n ?? 0) + 1;
  const row = await trx
    .insertInto('issues')
    .values({ newsletter_id: input.newsletterId, number, subject: input.subject, preheader: input.preheader, html: input.html, text: input.text, created_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (input.articleIds.length > 0) {
    await trx
      .insertInto('issue_articles')
      .values(input.articleIds.map((articleId, position) => ({ issue_id: row.id, article_id: articleId, position })))
      .execute();
    // The articles an issue carries belong to its newsletter: one named with `issue build --articles` becomes its own.
    await trx
      .insertInto('newsletter_articles')
      .columns(['newsletter_id', 'article_id', 'excluded', 'source', 'added_at'])
      .expression(
        trx
          .selectFrom('articles')
          .select([sql<number>`CAST(${input.newsletterId} AS integer)`.as('newsletter_id'), 'articles.id', sql<number>`0`.as('excluded'), sql<string>`'issue'`.as('source'), sql<string>`CAST(${now} AS text)`.as('added_at')])
          .where('articles.id', 'in', input.articleIds)
          .where(({ not }) => not(belongsToNewsletter(input.newsletterId))),
      )
      .onConflict((oc) => oc.columns(['newsletter_id', 'article_id']).doUpdateSet({ excluded: 0, source: 'issue', added_at: now }))
      .execute();
  }
  return toStoredIssue(row, [...input.articleIds]);
}

function toStoredIssue(row: Selectable<IssuesTable>, articleIds: number[]): StoredIssue {
  return {
    id: row.id,
    newsletterId: row.newsletter_id,
    number: row.number,
    subject: row.subject,
    preheader: row.preheader,
    articleIds,
    createdAt: row.created_at,
    html: row.html,
    text: row.text,
  };
}
