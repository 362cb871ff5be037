/** The storage adapter: every query Mailroom runs, written once with Kysely for SQLite and Postgres (dialect-specific statements only where they must differ, see dialect.ts). */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  Article,
  ArticleInput,
  Attributes,
  Campaign,
  CampaignStatus,
  Issue,
  MailingList,
  MembershipStatus,
  Newsletter,
  PauseReason,
  SendCounts,
  SendRow,
  SendStatus,
  Subscriber,
  SubscriberStatus,
  SuppressionReason,
  TemplateName,
} from '../core/domain.ts';
import { SEND_STATUSES } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import type { ImportCounts, ImportRowOutcome } from '../core/import-report.ts';
import { writeTransaction } from './write-transaction.ts';
import { importSubscribers as importSubscriberRows, type SubscriberImportOptions } from './subscriber-import.ts';
import { isPostgres, lockKeys } from './dialect.ts';
import { ReusableQuery } from './compiled-query.ts';
import type { DatabaseHandle } from './database.ts';
import type { CampaignStore, DueRecipient, InFlightPolicy, SendOutcome } from '../sending/ports.ts';
import type { ArticlesTable, CampaignsTable, Database, IssuesTable, NewsletterSchedulesTable, NewslettersTable, ScheduleSlotsTable, SendsTable, SubscribersTable } from './schema.ts';
import { filterSubscribers, type SubscriberFilter } from './subscriber-filter.ts';
import { belongsToNewsletter, belongsToNoNewsletter, notCarriedByNewsletter } from './article-queries.ts';

export type UpsertOutcome = 'added' | 'updated' | 'unchanged';

/** What an import or an add supplies for one person. */
export interface SubscriberFields {
  readonly email: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly attributes: Attributes;
}

export type ImportRowResult =
  /** `address`: the address as the file wrote it, for a "duplicates line N" rejection found by the store. */
  | { readonly line: number; readonly ok: true; readonly row: SubscriberFields; readonly address?: string }
  | { readonly line: number; readonly ok: false; readonly reason: string; readonly value?: string };

/**
 * Rows for an import. A source that can leave duplicate detection to the store (the CSV reader) has
 * `deferDuplicates`: called before the first row, it stops keeping its own index of addresses, and the store finds
 * repeats inside the import's transaction instead, with the same "duplicates line N" rejection, in constant memory.
 */
export type ImportRows = AsyncIterable<ImportRowResult> & { deferDuplicates?: () => void };

export interface ImportRejection {
  readonly line: number;
  readonly reason: string;
  readonly value?: string;
}

/** What happened to the list and, apart, to the people (src/core/import-report.ts). */
export interface ImportReport extends ImportCounts {
  readonly rejected: readonly ImportRejection[];
  /** False when `strict` was asked and a rejection rolled the whole import back. */
  readonly applied: boolean;
}

export type NewsletterInput = Omit<Newsletter, 'id' | 'createdAt'>;

/** An issue's parts are Handlebars sources: only recipient placeholders are live; content in them is escaped text. */
export interface IssueInput {
  readonly newsletterId: number;
  readonly subject: string;
  readonly preheader: string;
  readonly html: string;
  readonly text: string;
  readonly articleIds: readonly number[];
}

/** A schedule slot's issue and where its campaign goes (createSlotCampaign, retrySlotCampaign). */
export interface SlotCampaignInput {
  readonly newsletterId: number;
  readonly listId: number;
  readonly slotAt: string;
  readonly issue: IssueInput;
}

export interface SlotCampaign {
  readonly campaign: Campaign;
  readonly issue: StoredIssue;
  readonly recipients: number;
}

/** What a schedule did at one of its slots. */
export interface ScheduleSlot {
  readonly newsletterId: number;
  readonly slotAt: string;
  readonly outcome: 'campaign' | 'skipped-empty' | 'skipped-missed' | 'failed';
  readonly campaignId: number | null;
  readonly detail: string;
  /** When the slot was recorded. */
  readonly createdAt: string;
}

function toScheduleSlot(row: Selectable<ScheduleSlotsTable>): ScheduleSlot {
  return { newsletterId: row.newsletter_id, slotAt: row.slot_at, outcome: row.outcome as ScheduleSlot['outcome'], campaignId: row.campaign_id, detail: row.detail, createdAt: row.created_at };
}

export interface StoredIssue extends Issue {
  readonly html: string;
  readonly text: string;
}

export interface ListSummary extends MailingList {
  readonly subscribed: number;
  readonly unsubscribed: number;
  /** Signed up, not confirmed yet. */
  readonly pending: number;
}

export interface SubscriberWithLists extends Subscriber {
  readonly lists: readonly { readonly name: string; readonly status: MembershipStatus }[];
}

export interface UnsubscribeResult {
  readonly email: string;
  readonly listName: string;
  readonly wasSubscribed: boolean;
}

type Db = Kysely<Database>;

/** sha256 of a normalized address: how suppressions are keyed, so an erased person can stay suppressed without their address. */
export function hashEmail(email: string): string {
  return createHash('sha256').update(email).digest('hex');
}

function parseAttributes(text: string): Attributes {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}

function parseTags(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : [];
}

export function toArticle(row: Selectable<ArticlesTable>): Article {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    summary: row.summary,
    body: row.body,
    canonicalUrl: row.canonical_url,
    author: row.author,
    publishedAt: row.published_at,
    leadImage: row.lead_image_url ? { url: row.lead_image_url, alt: row.lead_image_alt ?? '' } : null,
    tags: parseTags(row.tags),
  };
}

function toSubscriber(row: Selectable<SubscribersTable>): Subscriber {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    firstName: row.first_name,
    lastName: row.last_name,
    attributes: parseAttributes(row.attributes),
    status: row.status as SubscriberStatus,
    consentSource: row.consent_source,
    consentAt: row.consent_at,
    createdAt: row.created_at,
  };
}

function toNewsletter(row: Selectable<NewslettersTable>): Newsletter {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    fromName: row.from_name,
    fromEmail: row.from_email,
    replyTo: row.reply_to,
    listId: row.list_id,
    template: row.template as TemplateName,
    postalAddress: row.postal_address,
    logoUrl: row.logo_url,
    subjectTemplate: row.subject_template,
    maxArticles: row.max_articles,
    language: row.language,
    createdAt: row.created_at,
  };
}

function toCampaign(row: Selectable<CampaignsTable>): Campaign {
  return {
    id: row.id,
    issueId: row.issue_id,
    newsletterId: row.newsletter_id,
    listId: row.list_id,
    status: row.status as CampaignStatus,
    createdAt: row.created_at,
    scheduledAt: row.scheduled_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    lastError: row.last_error,
    pauseReason: row.pause_reason as PauseReason | null,
    resumeAfter: row.resume_after,
    resend: row.resend === 1,
  };
}

function toSendRow(row: Selectable<SendsTable>): SendRow {
  return {
    campaignId: row.campaign_id,
    subscriberId: row.subscriber_id,
    email: row.email,
    status: row.status as SendStatus,
    attempts: row.attempts,
    smtpResponse: row.smtp_response,
    messageId: row.message_id,
    error: row.error,
    possibleDuplicate: row.possible_duplicate === 1,
    updatedAt: row.updated_at,
  };
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

export interface NewsletterSchedule {
  readonly newsletterId: number;
  readonly cron: string;
  readonly timezone: string;
  readonly emptyPolicy: 'skip' | 'send';
  readonly checkedUntil: string;
}

function toSchedule(row: Selectable<NewsletterSchedulesTable>): NewsletterSchedule {
  return { newsletterId: row.newsletter_id, cron: row.cron, timezone: row.timezone, emptyPolicy: row.empty_policy as 'skip' | 'send', checkedUntil: row.checked_until };
}

/** Why a subscriber may no longer be mailed by a campaign to their list, or null when they may. */
function skipReasonOf(subscriberStatus: string | null, membershipStatus: string | null, suppressionReason: string | null, domainSuppressed = false): string | null {
  if (subscriberStatus === null) return 'subscriber was removed';
  if (suppressionReason !== null) return `address is suppressed (${suppressionReason})`;
  if (domainSuppressed) return 'address is suppressed (its domain is suppressed)';
  if (subscriberStatus !== 'active') return `subscriber is ${subscriberStatus}`;
  if (membershipStatus !== 'subscribed') return 'unsubscribed from the list';
  return null;
}

/**
 * Send states in which a person has an issue from a campaign, or will, or may have: accepted, in flight, still queued
 * there, or flagged as a possible duplicate after a crash. A failure or a skip is not a receipt.
 */
const RECEIPT_STATUSES = ['sent', 'sending', 'pending', 'deferred'] as const;

/**
 * The rule "nobody receives the same issue twice", as a where-clause on a subscriber id column: they have the issue
 * (see RECEIPT_STATUSES) from a campaign of it other than `exceptCampaignId`. Walks the issue's few campaigns by
 * `campaigns_issue`, then each one's send row by its primary key.
 */
function receivedIssueElsewhere(issueId: number, exceptCampaignId: number, subscriberColumn: 's.id' | 'sends.subscriber_id') {
  return sql<boolean>`EXISTS (SELECT 1 FROM campaigns AS rc INNER JOIN sends AS rs ON rs.campaign_id = rc.id
    WHERE rc.issue_id = ${issueId} AND rc.id <> ${exceptCampaignId} AND rs.subscriber_id = ${sql.ref(subscriberColumn)}
      AND (rs.status IN (${sql.join(RECEIPT_STATUSES.map((status) => sql.lit(status)))}) OR rs.possible_duplicate = 1))`;
}

/** Who may be mailed a campaign to this list right now: active, subscribed members whose address is not suppressed. */
function mailableMembers(db: Db, listId: number) {
  return db
    .selectFrom('list_memberships as m')
    .innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
    .where('m.list_id', '=', listId)
    .where('m.status', '=', 'subscribed')
    .where('s.status', '=', 'active')
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('suppressions as x').select(sql<number>`1`.as('one')).whereRef('x.email', '=', 's.email'))))
    .where(notDomainSuppressed(db, 's.email'));
}

/**
 * The address is not in a domain the operator suppressed (`mailroom suppress add @domain`, table from migration
 * 2026-12-04-deliv-bounces): one primary-key lookup of the address's domain (a LIKE per suppressed domain cost ×6.8 at
 * 200 domains: scripts/measure-domain-suppression.ts).
 */
function notDomainSuppressed(db: Db, column: 's.email' | 'sends.email') {
  // The address's domain: what follows its first @ (instr on SQLite, strpos on Postgres).
  const at = isPostgres(db) ? sql`strpos(${sql.ref(column)}, '@')` : sql`instr(${sql.ref(column)}, '@')`;
  return sql<boolean>`NOT EXISTS (SELECT 1 FROM suppressed_domains AS xd WHERE xd.domain = substr(${sql.ref(column)}, ${at} + 1))`;
}

/** What fixing a campaign's recipients did. */
export interface FixedRecipients {
  readonly recipients: number;
  /** Members left out because they already received the issue in an earlier campaign (0 with `resend`). */
  readonly alreadyReceived: number;
}

/** A due send row joined with its subscriber, membership and suppression (the shared claims add whether its domain is suppressed). */
export interface DueRow {
  subscriber_id: number;
  email: string;
  attempts: number;
  first_attempt_at: string | null;
  name: string | null;
  first_name: string | null;
  last_name: string | null;
  attributes: string | null;
  subscriber_status: string | null;
  membership_status: string | null;
  suppression_reason: string | null;
  domain_suppressed?: boolean | null;
}

/** A due send row (see DueRow) as the engine sees it. */
export function toDueRecipient(r: DueRow): DueRecipient {
  return {
    subscriberId: Number(r.subscriber_id),
    email: r.email,
    name: r.name ?? '',
    firstName: r.first_name ?? '',
    lastName: r.last_name ?? '',
    attributes: r.attributes ? parseAttributes(r.attributes) : {},
    attempts: Number(r.attempts),
    firstAttemptAt: r.first_attempt_at,
    skipReason: skipReasonOf(r.subscriber_status, r.membership_status, r.suppression_reason, r.domain_suppressed === true),
  };
}

export class SqlStore implements CampaignStore {
  readonly db: Kysely<Database>;
  private readonly clock: () => Date;

  /** The database handle this store was opened with (null: built on a bare Kysely instance or a transaction). */
  readonly handle: DatabaseHandle | null;

  constructor(db: Kysely<Database>, clock: () => Date = () => new Date(), handle: DatabaseHandle | null = null) {
    this.db = db;
    this.clock = clock;
    this.handle = handle;
  }

  private writeBatch: { readonly work: (trx: Db) => Promise<unknown>; readonly resolve: (value: unknown) => void; readonly reject: (error: unknown) => void }[] | null = null;

  /**
   * Runs `work` in one write transaction with the other hot writes (claims, outcomes) asked for in the same
   * synchronous turn: the engine records one worker's outcome and claims another worker's next recipient together,
   * at the cost of one commit. Each caller's promise resolves once that transaction has committed; if it fails,
   * nothing of it is written and every caller in it gets the error.
   */
  private batchedWrite<T>(work: (trx: Db) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let batch = this.writeBatch;
      if (!batch) {
        const open: NonNullable<typeof this.writeBatch> = [];
        batch = open;
        this.writeBatch = open;
        queueMicrotask(() => {
          this.writeBatch = null;
          this.tx(async (trx) => {
            const results: unknown[] = [];
            for (const w of open) results.push(await w.work(trx));
            return results;
          }).then(
            (results) => open.forEach((w, i) => w.resolve(results[i])),
            (error: unknown) => open.forEach((w) => w.reject(error)),
          );
        });
      }
      batch.push({ work: work as (trx: Db) => Promise<unknown>, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private now(): string {
    return this.clock().toISOString();
  }

  /** A write transaction (BEGIN IMMEDIATE; see write-transaction.ts). */
  private tx<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return writeTransaction(this.db, fn);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

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

  // ------------------------------------------------------------------- lists

  async createList(name: string, description = ''): Promise<MailingList> {
    const existing = await this.findListByName(name);
    if (existing) throw new MailroomError('CONFLICT', `list ${quote(name)} already exists`);
    const row = await this.db.insertInto('lists').values({ name, description, created_at: this.now() }).returningAll().executeTakeFirstOrThrow();
    return { id: row.id, name: row.name, description: row.description, createdAt: row.created_at };
  }

  /** Deletes a list that has no members and no newsletter (e.g. one created for an import that wrote nothing). */
  async deleteEmptyList(id: number): Promise<boolean> {
    return this.tx(async (trx) => {
      const used = await trx.selectFrom('list_memberships').select('list_id').where('list_id', '=', id).executeTakeFirst();
      const newsletter = await trx.selectFrom('newsletters').select('id').where('list_id', '=', id).executeTakeFirst();
      if (used || newsletter) return false;
      const result = await trx.deleteFrom('lists').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async findListByName(name: string): Promise<MailingList | null> {
    const row = await this.db.selectFrom('lists').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? { id: row.id, name: row.name, description: row.description, createdAt: row.created_at } : null;
  }

  async getList(id: number): Promise<MailingList | null> {
    const row = await this.db.selectFrom('lists').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? { id: row.id, name: row.name, description: row.description, createdAt: row.created_at } : null;
  }

  async listLists(): Promise<ListSummary[]> {
    const rows = await this.db
      .selectFrom('lists')
      .leftJoin('list_memberships', 'list_memberships.list_id', 'lists.id')
      .select(['lists.id', 'lists.name', 'lists.description', 'lists.created_at'])
      .select(sql<number>`count(case when list_memberships.status = 'subscribed' then 1 end)`.as('subscribed'))
      .select(sql<number>`count(case when list_memberships.status = 'unsubscribed' then 1 end)`.as('unsubscribed'))
      .select(sql<number>`count(case when list_memberships.status = 'pending' then 1 end)`.as('pending'))
      .groupBy(['lists.id', 'lists.name', 'lists.description', 'lists.created_at'])
      .orderBy('lists.name')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      createdAt: r.created_at,
      subscribed: Number(r.subscribed),
      unsubscribed: Number(r.unsubscribed),
      pending: Number(r.pending),
    }));
  }

  // ------------------------------------------------------------- subscribers

  async isSuppressed(email: string): Promise<boolean> {
    const row = await this.db.selectFrom('suppressions').select('reason').where('email_hash', '=', hashEmail(email)).executeTakeFirst();
    return row !== undefined;
  }

  async findSubscriberByEmail(email: string): Promise<Subscriber | null> {
    const row = await this.db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();
    return row ? toSubscriber(row) : null;
  }

  async getSubscriber(id: number): Promise<Subscriber | null> {
    const row = await this.db.selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSubscriber(row) : null;
  }

  /** Subscribers matching a filter (src/store/subscriber-filter.ts), by id; `afterId` is a cursor for paging through all of them. */
  async listSubscribers(options: SubscriberFilter & { limit?: number; offset?: number; afterId?: number } = {}): Promise<SubscriberWithLists[]> {
    let query = filterSubscribers(this.db.selectFrom('subscribers').selectAll('subscribers'), options);
    if (options.afterId !== undefined) query = query.where('subscribers.id', '>', options.afterId);
    const rows = await query.orderBy('subscribers.id').limit(options.limit ?? 100).offset(options.offset ?? 0).execute();
    if (rows.length === 0) return [];
    const memberships = await this.db
      .selectFrom('list_memberships')
      .innerJoin('lists', 'lists.id', 'list_memberships.list_id')
      .select(['list_memberships.subscriber_id', 'lists.name', 'list_memberships.status'])
      .where(
        'list_memberships.subscriber_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('lists.name')
      .execute();
    return rows.map((r) => ({
      ...toSubscriber(r),
      lists: memberships.filter((m) => m.subscriber_id === r.id).map((m) => ({ name: m.name, status: m.status as MembershipStatus })),
    }));
  }

  /** How many subscribers match a filter (what `subscribers list` shows a page of). */
  async countSubscribers(options: SubscriberFilter = {}): Promise<number> {
    const row = await filterSubscribers(this.db.selectFrom('subscribers'), options)
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Adds or updates one subscriber on a list, with the same rules as an import row. */
  async addSubscriber(listId: number, fields: SubscriberFields, consentSource: string): Promise<ImportRowOutcome> {
    return this.tx(async (trx) => {
      await lockKeys(trx, [`subscriber:${fields.email}`]);
      return this.applySubscriberRow(trx, listId, fields, consentSource);
    });
  }

  /** Deletes a subscriber and their memberships; with a list, only that membership. Returns false when there was nothing to remove. */
  async removeSubscriber(email: string, listId?: number): Promise<boolean> {
    const subscriber = await this.findSubscriberByEmail(email);
    if (!subscriber) return false;
    if (listId !== undefined) {
      const result = await this.db.deleteFrom('list_memberships').where('subscriber_id', '=', subscriber.id).where('list_id', '=', listId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    }
    await this.tx(async (trx) => {
      await trx.deleteFrom('list_memberships').where('subscriber_id', '=', subscriber.id).execute();
      await trx.deleteFrom('subscribers').where('id', '=', subscriber.id).execute();
    });
    return true;
  }

  /** Imports rows into a list: staged in chunks, applied in ONE transaction (src/store/subscriber-import.ts). */
  async importSubscribers(listId: number, rows: ImportRows, options: Omit<SubscriberImportOptions, 'now'>): Promise<ImportReport> {
    return importSubscriberRows(this.db, this.handle, listId, rows, { ...options, now: () => this.now() });
  }

  private async applySubscriberRow(trx: Db, listId: number, fields: SubscriberFields, consentSource: string): Promise<ImportRowOutcome> {
    const now = this.now();
    const suppressed = await trx.selectFrom('suppressions').select('reason').where('email_hash', '=', hashEmail(fields.email)).executeTakeFirst();
    let existing = await trx.selectFrom('subscribers').selectAll().where('email', '=', fields.email).executeTakeFirst();
    if (suppressed && !existing) return { person: 'none', list: 'kept-out', profileChanged: false };
    if (!existing) {
      // ON CONFLICT: another process (a sign-up, another import) may add the same address between the read and this
      // write (Postgres runs them side by side); then this row is that person's, handled as an existing one below.
      const inserted = await trx
        .insertInto('subscribers')
        .values({
          email: fields.email,
          name: fields.name,
          first_name: fields.firstName,
          last_name: fields.lastName,
          attributes: JSON.stringify(fields.attributes),
          status: 'active',
          consent_source: consentSource,
          consent_at: now,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.column('email').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) {
        await trx.insertInto('list_memberships').values({ list_id: listId, subscriber_id: inserted.id, status: 'subscribed', created_at: now, updated_at: now, consent_source: consentSource, consent_at: now }).execute();
        return { person: 'new', list: 'joined', profileChanged: false };
      }
      existing = await trx.selectFrom('subscribers').selectAll().where('email', '=', fields.email).executeTakeFirstOrThrow();
    }
    // An existing person: blank cells never erase what we know, and a status or an unsubscribe is never undone by a file.
    const current = toSubscriber(existing);
    const next = {
      name: fields.name || current.name,
      firstName: fields.firstName || current.firstName,
      lastName: fields.lastName || current.lastName,
      attributes: { ...current.attributes, ...fields.attributes },
    };
    const profileChanged =
      next.name !== current.name || next.firstName !== current.firstName || next.lastName !== current.lastName || !sameAttributes(next.attributes, current.attributes);
    if (profileChanged) {
      await trx
        .updateTable('subscribers')
        .set({ name: next.name, first_name: next.firstName, last_name: next.lastName, attributes: JSON.stringify(next.attributes), updated_at: now })
        .where('id', '=', current.id)
        .execute();
    }
    const membership = await trx.selectFrom('list_memberships').select('status').where('list_id', '=', listId).where('subscriber_id', '=', current.id).executeTakeFirst();
    const mailable = current.status === 'active' && !suppressed;
    let joined = false;
    if (!membership && mailable) {
      const added = await trx
        .insertInto('list_memberships')
        .values({ list_id: listId, subscriber_id: current.id, status: 'subscribed', created_at: now, updated_at: now, consent_source: consentSource, consent_at: now })
        .onConflict((oc) => oc.columns(['list_id', 'subscriber_id']).doNothing())
        .executeTakeFirst();
      joined = Number(added.numInsertedOrUpdatedRows ?? 0) > 0;
    }
    // Unsubscribed stays unsubscribed; pending (a sign-up not confirmed yet) stays pending until its owner confirms.
    if (!mailable || (membership !== undefined && membership.status !== 'subscribed')) return { person: 'known', list: 'kept-out', profileChanged };
    return { person: 'known', list: joined ? 'joined' : 'already', profileChanged };
  }

  /** Adds an address to the suppression list; no import, sign-up or campaign mails it again. */
  async suppressAddress(email: string, reason: SuppressionReason, detail: string): Promise<void> {
    await this.tx((trx) => this.suppressIn(trx, email, reason, detail, this.now()));
  }

  /** Suppression inside a caller's transaction; a hard bounce or a complaint also changes the subscriber's status. */
  private async suppressIn(trx: Db, email: string, reason: SuppressionReason, detail: string, now: string): Promise<void> {
    await trx
      .insertInto('suppressions')
      .values({ email_hash: hashEmail(email), email, reason, detail, created_at: now })
      .onConflict((oc) => oc.column('email_hash').doNothing())
      .execute();
    const status: SubscriberStatus | null = reason === 'hard-bounce' ? 'bounced' : reason === 'complaint' ? 'complained' : null;
    if (status) await trx.updateTable('subscribers').set({ status, updated_at: now }).where('email', '=', email).execute();
  }

  /** Unsubscribes a subscriber from one list at once: running campaigns skip them from the next message on. */
  async unsubscribeFromList(subscriberId: number, listId: number): Promise<UnsubscribeResult | null> {
    return this.tx(async (trx) => {
      await lockKeys(trx, [`membership:${subscriberId}:${listId}`]);
      const subscriber = await trx.selectFrom('subscribers').select(['email']).where('id', '=', subscriberId).executeTakeFirst();
      const list = await trx.selectFrom('lists').select(['name']).where('id', '=', listId).executeTakeFirst();
      if (!subscriber || !list) return null;
      const now = this.now();
      const membership = await trx.selectFrom('list_memberships').select('status').where('list_id', '=', listId).where('subscriber_id', '=', subscriberId).executeTakeFirst();
      if (membership) {
        await trx.updateTable('list_memberships').set({ status: 'unsubscribed', updated_at: now, unsubscribed_at: now }).where('list_id', '=', listId).where('subscriber_id', '=', subscriberId).execute();
      } else {
        await trx.insertInto('list_memberships').values({ list_id: listId, subscriber_id: subscriberId, status: 'unsubscribed', created_at: now, updated_at: now, unsubscribed_at: now }).execute();
      }
      return { email: subscriber.email, listName: list.name, wasSubscribed: membership?.status === 'subscribed' };
    });
  }

  async membershipStatus(subscriberId: number, listId: number): Promise<MembershipStatus | null> {
    const row = await this.db.selectFrom('list_memberships').select('status').where('list_id', '=', listId).where('subscriber_id', '=', subscriberId).executeTakeFirst();
    return row ? (row.status as MembershipStatus) : null;
  }

  async membershipsOf(subscriberId: number): Promise<{ name: string; status: MembershipStatus }[]> {
    const rows = await this.db
      .selectFrom('list_memberships')
      .innerJoin('lists', 'lists.id', 'list_memberships.list_id')
      .select(['lists.name', 'list_memberships.status'])
      .where('list_memberships.subscriber_id', '=', subscriberId)
      .orderBy('lists.name')
      .execute();
    return rows.map((r) => ({ name: r.name, status: r.status as MembershipStatus }));
  }

  /** When this newsletter last went out: the start of its newest campaign that sent anything. */
  async lastSentAt(newsletterId: number): Promise<string | null> {
    const row = await this.db
      .selectFrom('campaigns')
      .select(sql<string | null>`max(started_at)`.as('at'))
      .where('newsletter_id', '=', newsletterId)
      .where('status', 'in', ['sending', 'sent', 'paused'])
      .executeTakeFirst();
    return row?.at ?? null;
  }

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
    return this.tx((trx) => this.insertIssue(trx, input, this.now()));
  }

  /** Stores an issue with the next number of its newsletter, and its articles in order. */
  private async insertIssue(trx: Db, input: IssueInput, now: string): Promise<StoredIssue> {
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
    return this.toStoredIssue(row, [...input.articleIds]);
  }

  private toStoredIssue(row: Selectable<IssuesTable>, articleIds: number[]): StoredIssue {
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

  private async issueArticleIds(issueId: number): Promise<number[]> {
    const rows = await this.db.selectFrom('issue_articles').select('article_id').where('issue_id', '=', issueId).orderBy('position').execute();
    return rows.map((r) => r.article_id);
  }

  async getIssue(id: number): Promise<StoredIssue | null> {
    const row = await this.db.selectFrom('issues').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.toStoredIssue(row, await this.issueArticleIds(row.id)) : null;
  }

  async findIssue(newsletterId: number, number: number): Promise<StoredIssue | null> {
    const row = await this.db.selectFrom('issues').selectAll().where('newsletter_id', '=', newsletterId).where('number', '=', number).executeTakeFirst();
    return row ? this.toStoredIssue(row, await this.issueArticleIds(row.id)) : null;
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
    return row ? this.toStoredIssue(row, await this.issueArticleIds(row.id)) : null;
  }

  /**
   * Who a campaign to this list would go to right now (active, subscribed, not suppressed), by subscriber id; with
   * `notReceivedIssueId`, without those who already received that issue in a campaign.
   */
  async listRecipients(listId: number, afterSubscriberId: number, limit: number, options: { notReceivedIssueId?: number } = {}): Promise<Subscriber[]> {
    let query = mailableMembers(this.db, listId).selectAll('s').where('s.id', '>', afterSubscriberId);
    if (options.notReceivedIssueId !== undefined) {
      const issueId = options.notReceivedIssueId;
      query = query.where(({ not }) => not(receivedIssueElsewhere(issueId, 0, 's.id')));
    }
    const rows = await query.orderBy('s.id').limit(limit).execute();
    return rows.map(toSubscriber);
  }

  /**
   * How many mailable members of this list already received the issue in a campaign, and how many mailable members
   * there are; without any campaign of the issue, {0, null} at once (counting a million members costs a second).
   */
  async countRecipients(listId: number, issueId: number): Promise<{ eligible: number | null; alreadyReceived: number }> {
    const any = await this.db.selectFrom('campaigns').select('id').where('issue_id', '=', issueId).executeTakeFirst();
    if (!any) return { eligible: null, alreadyReceived: 0 };
    const row = await mailableMembers(this.db, listId)
      .select(sql<number>`count(*)`.as('eligible'))
      .select(sql<number>`coalesce(sum(CASE WHEN ${receivedIssueElsewhere(issueId, 0, 's.id')} THEN 1 ELSE 0 END), 0)`.as('received'))
      .executeTakeFirstOrThrow();
    return { eligible: Number(row.eligible), alreadyReceived: Number(row.received) };
  }

  /** How many recipients a new campaign of `issueId` to `listId` would have now (`resend`: also those who received the issue already). */
  async countCampaignRecipients(listId: number, issueId: number, resend: boolean): Promise<{ recipients: number; alreadyReceived: number }> {
    const row = await mailableMembers(this.db, listId)
      .select(sql<number>`count(*)`.as('eligible'))
      .select(sql<number>`coalesce(sum(CASE WHEN ${receivedIssueElsewhere(issueId, 0, 's.id')} THEN 1 ELSE 0 END), 0)`.as('received'))
      .executeTakeFirstOrThrow();
    const eligible = Number(row.eligible);
    const received = Number(row.received);
    return { recipients: resend ? eligible : eligible - received, alreadyReceived: received };
  }

  // --------------------------------------------------------------- schedules

  /** Saves a newsletter's schedule. A new schedule starts counting slots from now; it never backfills the past. */
  async saveSchedule(newsletterId: number, fields: { cron: string; timezone: string; emptyPolicy: 'skip' | 'send' }): Promise<NewsletterSchedule> {
    const now = this.now();
    await this.db
      .insertInto('newsletter_schedules')
      .values({ newsletter_id: newsletterId, cron: fields.cron, timezone: fields.timezone, empty_policy: fields.emptyPolicy, enabled: 1, checked_until: now, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('newsletter_id').doUpdateSet({ cron: fields.cron, timezone: fields.timezone, empty_policy: fields.emptyPolicy, enabled: 1, updated_at: now }))
      .execute();
    const saved = await this.getSchedule(newsletterId);
    if (!saved) throw new Error('schedule vanished after saving');
    return saved;
  }

  async getSchedule(newsletterId: number): Promise<NewsletterSchedule | null> {
    const row = await this.db.selectFrom('newsletter_schedules').selectAll().where('newsletter_id', '=', newsletterId).executeTakeFirst();
    return row ? toSchedule(row) : null;
  }

  async listSchedules(): Promise<NewsletterSchedule[]> {
    const rows = await this.db.selectFrom('newsletter_schedules').selectAll().where('enabled', '=', 1).orderBy('newsletter_id').execute();
    return rows.map(toSchedule);
  }

  async removeSchedule(newsletterId: number): Promise<boolean> {
    const result = await this.db.deleteFrom('newsletter_schedules').where('newsletter_id', '=', newsletterId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Moves a schedule's "looked at until" mark forward (never back). */
  async advanceSchedule(newsletterId: number, checkedUntil: string): Promise<void> {
    await this.db.updateTable('newsletter_schedules').set({ checked_until: checkedUntil }).where('newsletter_id', '=', newsletterId).where('checked_until', '<', checkedUntil).execute();
  }

  // --------------------------------------------------------------- campaigns

  private async insertCampaign(trx: Db, input: { issueId: number; newsletterId: number; listId: number; scheduledAt?: string | null; resend?: boolean }, now: string): Promise<Selectable<CampaignsTable>> {
    const scheduled = input.scheduledAt != null;
    return trx
      .insertInto('campaigns')
      .values({
        issue_id: input.issueId,
        newsletter_id: input.newsletterId,
        list_id: input.listId,
        status: scheduled ? 'scheduled' : 'sending',
        created_at: now,
        scheduled_at: input.scheduledAt ?? null,
        started_at: scheduled ? null : now,
        finished_at: null,
        last_error: null,
        lease_owner: null,
        lease_expires_at: null,
        pause_reason: null,
        resume_after: null,
        resend: input.resend ? 1 : 0,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /**
   * Fixes a campaign's recipients: one pending send per active, subscribed, unsuppressed member of its list who has
   * not received its issue in an earlier campaign (unless `resend`).
   */
  private async fixRecipients(trx: Db, campaign: { id: number; listId: number; issueId: number; resend: boolean }, now: string): Promise<FixedRecipients> {
    // The rule costs a lookup per member: only when another campaign of this issue exists at all.
    const earlier = campaign.resend
      ? undefined
      : await trx.selectFrom('campaigns').select('id').where('issue_id', '=', campaign.issueId).where('id', '<>', campaign.id).executeTakeFirst();
    let members = mailableMembers(trx, campaign.listId);
    if (earlier) members = members.where(({ not }) => not(receivedIssueElsewhere(campaign.issueId, campaign.id, 's.id')));
    const result = await trx
      .insertInto('sends')
      .columns(['campaign_id', 'subscriber_id', 'email', 'status', 'attempts', 'updated_at'])
      .expression(
        members
          .select([sql<number>`CAST(${campaign.id} AS integer)`.as('campaign_id'), 's.id', 's.email', sql<string>`'pending'`.as('status'), sql<number>`0`.as('attempts'), sql<string>`CAST(${now} AS text)`.as('updated_at')])
          .orderBy('s.id'),
      )
      .executeTakeFirst();
    const recipients = Number(result.numInsertedOrUpdatedRows ?? 0);
    if (!earlier) return { recipients, alreadyReceived: 0 };
    const all = await mailableMembers(trx, campaign.listId).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    return { recipients, alreadyReceived: Number(all.n) - recipients };
  }

  /** Creates a campaign and fixes its recipients now, in one transaction. `resend`: also to members who already received the issue. */
  async createCampaign(input: { issueId: number; newsletterId: number; listId: number; resend?: boolean }): Promise<{ campaign: Campaign } & FixedRecipients> {
    return this.tx(async (trx) => {
      const now = this.now();
      const row = await this.insertCampaign(trx, input, now);
      const fixed = await this.fixRecipients(trx, { id: row.id, listId: input.listId, issueId: input.issueId, resend: input.resend ?? false }, now);
      return { campaign: toCampaign(row), ...fixed };
    });
  }

  /** A one-off campaign that starts at `scheduledAt`; its recipients are fixed when it starts. */
  async scheduleCampaign(input: { issueId: number; newsletterId: number; listId: number; scheduledAt: string; resend?: boolean }): Promise<Campaign> {
    const row = await this.insertCampaign(this.db, input, this.now());
    return toCampaign(row);
  }

  /** Starts a scheduled campaign that is due: fixes its recipients (by the same rules as a campaign sent now) and moves it to sending, once. Null if it was not due or already started. */
  async startScheduledCampaign(campaignId: number, now: string): Promise<FixedRecipients | null> {
    return this.tx(async (trx) => {
      const updated = await trx
        .updateTable('campaigns')
        .set({ status: 'sending', started_at: now })
        .where('id', '=', campaignId)
        .where('status', '=', 'scheduled')
        .where('scheduled_at', '<=', now)
        .returning(['list_id', 'issue_id', 'resend'])
        .executeTakeFirst();
      if (!updated) return null;
      return this.fixRecipients(trx, { id: campaignId, listId: updated.list_id, issueId: updated.issue_id, resend: updated.resend === 1 }, now);
    });
  }

  /**
   * For a schedule slot: records the slot and, when it is new, stores the issue and creates its campaign with its
   * recipients, all in ONE transaction. The slot's primary key makes this happen once per slot, whatever the number
   * of processes. Returns null when the slot was already handled.
   */
  async createSlotCampaign(input: SlotCampaignInput): Promise<SlotCampaign | null> {
    return this.tx(async (trx) => {
      const now = this.now();
      const slot = await trx
        .insertInto('schedule_slots')
        .values({ newsletter_id: input.newsletterId, slot_at: input.slotAt, outcome: 'campaign', campaign_id: null, detail: '', created_at: now })
        .onConflict((oc) => oc.columns(['newsletter_id', 'slot_at']).doNothing())
        .executeTakeFirst();
      if (Number(slot.numInsertedOrUpdatedRows ?? 0) === 0) return null;
      return this.attachSlotCampaign(trx, input, now, '');
    });
  }

  /**
   * Retries a failed slot: turns it from 'failed' into 'campaign' and stores its issue and campaign, in ONE
   * transaction; the condition on 'failed' makes this happen once, however many retries race. Returns null when the
   * slot is not failed (any more).
   */
  async retrySlotCampaign(input: SlotCampaignInput): Promise<SlotCampaign | null> {
    return this.tx(async (trx) => {
      const failed = await trx
        .updateTable('schedule_slots')
        .set({ outcome: 'campaign' })
        .where('newsletter_id', '=', input.newsletterId)
        .where('slot_at', '=', input.slotAt)
        .where('outcome', '=', 'failed')
        .returning(['detail'])
        .executeTakeFirst();
      if (!failed) return null;
      return this.attachSlotCampaign(trx, input, this.now(), ` (retried; it had failed: ${failed.detail})`);
    });
  }

  private async attachSlotCampaign(trx: Db, input: SlotCampaignInput, now: string, note: string): Promise<SlotCampaign> {
    const issue = await this.insertIssue(trx, input.issue, now);
    const row = await this.insertCampaign(trx, { issueId: issue.id, newsletterId: input.newsletterId, listId: input.listId }, now);
    const { recipients } = await this.fixRecipients(trx, { id: row.id, listId: input.listId, issueId: issue.id, resend: false }, now);
    await trx.updateTable('schedule_slots').set({ campaign_id: row.id, detail: `issue #${issue.number}${note}` }).where('newsletter_id', '=', input.newsletterId).where('slot_at', '=', input.slotAt).execute();
    return { campaign: toCampaign(row), issue, recipients };
  }

  /**
   * Records a slot that created no campaign: nothing new, missed while down, or its issue could not be built
   * ('failed', with the reason; it can be retried). False when the slot was already handled.
   */
  async recordSlotWithoutCampaign(newsletterId: number, slotAt: string, outcome: 'skipped-empty' | 'skipped-missed' | 'failed', detail: string): Promise<boolean> {
    const result = await this.db
      .insertInto('schedule_slots')
      .values({ newsletter_id: newsletterId, slot_at: slotAt, outcome, campaign_id: null, detail, created_at: this.now() })
      .onConflict((oc) => oc.columns(['newsletter_id', 'slot_at']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /**
   * A retry of a failed slot that made no campaign: it failed again (the slot stays failed, with the new reason), or
   * there was nothing to send (it becomes skipped-empty). False when the slot was no longer failed.
   */
  async updateFailedSlot(newsletterId: number, slotAt: string, detail: string, outcome: 'failed' | 'skipped-empty' = 'failed'): Promise<boolean> {
    const result = await this.db.updateTable('schedule_slots').set({ outcome, detail }).where('newsletter_id', '=', newsletterId).where('slot_at', '=', slotAt).where('outcome', '=', 'failed').executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async listSlots(newsletterId: number, limit = 20): Promise<ScheduleSlot[]> {
    const rows = await this.db.selectFrom('schedule_slots').selectAll().where('newsletter_id', '=', newsletterId).orderBy('slot_at', 'desc').limit(limit).execute();
    return rows.map(toScheduleSlot);
  }

  /** One slot, or null when the schedule never reached it. */
  async findSlot(newsletterId: number, slotAt: string): Promise<ScheduleSlot | null> {
    const row = await this.db.selectFrom('schedule_slots').selectAll().where('newsletter_id', '=', newsletterId).where('slot_at', '=', slotAt).executeTakeFirst();
    return row ? toScheduleSlot(row) : null;
  }

  /** Slots whose issue could not be built and that no retry has turned into a campaign yet, newest first; all newsletters unless one is named. */
  async listFailedSlots(options: { newsletterId?: number; limit?: number } = {}): Promise<ScheduleSlot[]> {
    let query = this.db.selectFrom('schedule_slots').selectAll().where('outcome', '=', 'failed');
    if (options.newsletterId !== undefined) query = query.where('newsletter_id', '=', options.newsletterId);
    const rows = await query.orderBy('created_at', 'desc').orderBy('slot_at', 'desc').limit(options.limit ?? 100).execute();
    return rows.map(toScheduleSlot);
  }

  async getCampaign(id: number): Promise<Campaign | null> {
    const row = await this.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toCampaign(row) : null;
  }

  async listCampaigns(options: { status?: CampaignStatus; limit?: number } = {}): Promise<Campaign[]> {
    let query = this.db.selectFrom('campaigns').selectAll();
    if (options.status) query = query.where('status', '=', options.status);
    const rows = await query.orderBy('id', 'desc').limit(options.limit ?? 50).execute();
    return rows.map(toCampaign);
  }

  /** Campaigns a runner should pick up now: sending with no live lease, scheduled and due, or paused by SMTP trouble and due for a retry. */
  async listRunnableCampaigns(now: string): Promise<Campaign[]> {
    const rows = await this.db
      .selectFrom('campaigns')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([
            eb('status', '=', 'sending'),
            eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]),
            // Something to do now: rows pending, due, or left in flight, or no deferred row left (only the final status to write).
            eb.or([
              eb.exists(
                eb
                  .selectFrom('sends')
                  .select(sql<number>`1`.as('one'))
                  .whereRef('sends.campaign_id', '=', 'campaigns.id')
                  .where((w) => w.or([w('sends.status', 'in', ['pending', 'sending']), w.and([w('sends.status', '=', 'deferred'), w('sends.next_attempt_at', '<=', now)])])),
              ),
              eb.not(eb.exists(eb.selectFrom('sends').select(sql<number>`1`.as('one')).whereRef('sends.campaign_id', '=', 'campaigns.id').where('sends.status', '=', 'deferred'))),
            ]),
          ]),
          eb.and([eb('status', '=', 'scheduled'), eb('scheduled_at', '<=', now)]),
          eb.and([eb('status', '=', 'paused'), eb('pause_reason', '=', 'smtp'), eb('resume_after', '<=', now)]),
        ]),
      )
      .orderBy('id')
      .execute();
    return rows.map(toCampaign);
  }

  async listSends(campaignId: number, options: { status?: SendStatus; possibleDuplicate?: boolean; limit?: number; offset?: number } = {}): Promise<SendRow[]> {
    let query = this.db.selectFrom('sends').selectAll().where('campaign_id', '=', campaignId);
    if (options.status) query = query.where('status', '=', options.status);
    if (options.possibleDuplicate) query = query.where('possible_duplicate', '=', 1);
    const rows = await query.orderBy('subscriber_id').limit(options.limit ?? 1000).offset(options.offset ?? 0).execute();
    return rows.map(toSendRow);
  }

  /** Messages accepted since `since`, for the current rate. */
  async countSentSince(campaignId: number, since: string): Promise<number> {
    const row = await this.db
      .selectFrom('sends')
      .select(sql<number>`count(*)`.as('n'))
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'sent')
      .where('updated_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Operator control: pause (the runner stops after the messages in flight), resume, cancel, retry the failed rows. */
  async pauseCampaign(campaignId: number): Promise<void> {
    await this.db.updateTable('campaigns').set({ status: 'paused', pause_reason: 'operator', resume_after: null }).where('id', '=', campaignId).where('status', 'in', ['sending', 'scheduled', 'paused']).execute();
  }

  async resumeCampaignStatus(campaignId: number, now: string): Promise<void> {
    await this.tx(async (trx) => {
      const row = await trx.selectFrom('campaigns').select(['started_at']).where('id', '=', campaignId).executeTakeFirst();
      await trx
        .updateTable('campaigns')
        .set({ status: row?.started_at ? 'sending' : 'scheduled', pause_reason: null, resume_after: null, last_error: null, finished_at: null })
        .where('id', '=', campaignId)
        .where('status', 'in', ['paused', 'failed'])
        .execute();
    });
  }

  /** Cancels a campaign: rows not yet sent are skipped with the reason; nothing more goes out. */
  async cancelCampaign(campaignId: number, now: string): Promise<number> {
    return this.tx(async (trx) => {
      await trx.updateTable('campaigns').set({ status: 'cancelled', finished_at: now, pause_reason: null, resume_after: null }).where('id', '=', campaignId).execute();
      const result = await trx
        .updateTable('sends')
        .set({ status: 'skipped', error: 'campaign cancelled', next_attempt_at: null, updated_at: now })
        .where('campaign_id', '=', campaignId)
        .where('status', 'in', ['pending', 'deferred'])
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  /**
   * Failed rows whose address may still be mailed go back to pending, and the campaign sends again; never a row whose
   * subscriber has received the issue in another campaign meanwhile (unless the campaign was made with `resend`).
   * Returns how many were queued again, and how many were left failed for that reason.
   */
  async retryFailed(campaignId: number, now: string): Promise<{ requeued: number; receivedElsewhere: number }> {
    return this.tx(async (trx) => {
      const campaign = await trx.selectFrom('campaigns').select(['issue_id', 'resend']).where('id', '=', campaignId).executeTakeFirst();
      if (!campaign) return { requeued: 0, receivedElsewhere: 0 };
      const failed = () =>
        trx
          .updateTable('sends')
          .where('campaign_id', '=', campaignId)
          .where('status', '=', 'failed')
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('suppressions as x').select(sql<number>`1`.as('one')).whereRef('x.email', '=', 'sends.email'))));
      let receivedElsewhere = 0;
      let query = failed();
      if (campaign.resend !== 1) {
        const held = await trx
          .selectFrom('sends')
          .select(sql<number>`count(*)`.as('n'))
          .where('campaign_id', '=', campaignId)
          .where('status', '=', 'failed')
          .where(receivedIssueElsewhere(campaign.issue_id, campaignId, 'sends.subscriber_id'))
          .executeTakeFirstOrThrow();
        receivedElsewhere = Number(held.n);
        query = query.where(({ not }) => not(receivedIssueElsewhere(campaign.issue_id, campaignId, 'sends.subscriber_id')));
      }
      const result = await query.set({ status: 'pending', attempts: 0, first_attempt_at: null, next_attempt_at: null, error: null, updated_at: now }).executeTakeFirst();
      const requeued = Number(result.numUpdatedRows);
      if (requeued > 0) {
        await trx.updateTable('campaigns').set({ status: 'sending', finished_at: null, pause_reason: null, resume_after: null }).where('id', '=', campaignId).execute();
      }
      return { requeued, receivedElsewhere };
    });
  }

  // ----------------------------------------------------- CampaignStore (engine)

  async acquireLease(campaignId: number, owner: string, until: string, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable('campaigns')
      .set({ lease_owner: owner, lease_expires_at: until })
      .where('id', '=', campaignId)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_expires_at', '<', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async releaseLease(campaignId: number, owner: string): Promise<void> {
    await this.db.updateTable('campaigns').set({ lease_owner: null, lease_expires_at: null }).where('id', '=', campaignId).where('lease_owner', '=', owner).execute();
  }

  async leaseHolder(campaignId: number, now: string): Promise<{ owner: string; expiresAt: string | null } | null> {
    const row = await this.db.selectFrom('campaigns').select(['lease_owner', 'lease_expires_at']).where('id', '=', campaignId).executeTakeFirst();
    if (!row?.lease_owner || (row.lease_expires_at !== null && row.lease_expires_at < now)) return null;
    return { owner: row.lease_owner, expiresAt: row.lease_expires_at };
  }

  async takeOverLease(campaignId: number, from: string, owner: string, until: string): Promise<boolean> {
    const result = await this.db.updateTable('campaigns').set({ lease_owner: owner, lease_expires_at: until }).where('id', '=', campaignId).where('lease_owner', '=', from).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async campaignStatus(campaignId: number): Promise<CampaignStatus | null> {
    const row = await this.db.selectFrom('campaigns').select('status').where('id', '=', campaignId).executeTakeFirst();
    return row ? (row.status as CampaignStatus) : null;
  }

  /**
   * The next due rows: pending ones, and deferred ones whose time has come, lowest subscriber first. Two queries, one
   * per status, each walking its index in order, so a batch costs the same at the end of a million-row campaign as at
   * its start (one query with an OR walked every row already sent). SQLite: in rowid order, which is subscriber
   * order (rows are inserted so); Postgres: by the (campaign_id, status, subscriber_id) index.
   */
  async listDueRecipients(campaignId: number, limit: number, now: string): Promise<DueRecipient[]> {
    const due = (status: 'pending' | 'deferred') => {
      let query = this.db
        .selectFrom('sends')
        .innerJoin('campaigns', 'campaigns.id', 'sends.campaign_id')
        .leftJoin('subscribers', 'subscribers.id', 'sends.subscriber_id')
        .leftJoin('list_memberships', (join) => join.onRef('list_memberships.subscriber_id', '=', 'sends.subscriber_id').onRef('list_memberships.list_id', '=', 'campaigns.list_id'))
        .leftJoin('suppressions', 'suppressions.email', 'sends.email')
        .select([
          'sends.subscriber_id',
          'sends.email',
          'sends.attempts',
          'sends.first_attempt_at',
          'subscribers.name',
          'subscribers.first_name',
          'subscribers.last_name',
          'subscribers.attributes',
          'subscribers.status as subscriber_status',
          'list_memberships.status as membership_status',
          'suppressions.reason as suppression_reason',
        ])
        .where('sends.campaign_id', '=', campaignId)
        .where('sends.status', '=', sql.lit(status));
      if (status === 'deferred') query = query.where('sends.next_attempt_at', '<=', now);
      return query
        .orderBy(isPostgres(this.db) ? sql`sends.subscriber_id` : sql`sends.rowid`)
        .limit(limit)
        .execute();
    };
    const pending = await due('pending');
    const deferred = await due('deferred');
    const rows = deferred.length === 0 ? pending : [...pending, ...deferred].sort((x, y) => x.subscriber_id - y.subscriber_id).slice(0, limit);
    return rows.map(toDueRecipient);
  }

  /**
   * The claim, built once per store (see compiled-query.ts). The eligibility check and the claim are one statement: an
   * unsubscribe that committed first always wins.
   *
   * Fixed statuses in the hot statements' WHERE are SQL literals (sql.lit), not bound values: SQLite re-prepares a
   * statement each time a value is bound to a parameter that could decide whether a partial index applies (sends has
   * one on status = 'failed', list_memberships one on status = 'pending'), which made each claim cost about ten times
   * its work.
   */
  private readonly claimQuery = new ReusableQuery<{ now: string; campaignId: number; subscriberId: number; worker: string | null }>((arg) =>
    this.db
      .updateTable('sends')
      .set({ status: 'sending', updated_at: arg('now'), worker: arg('worker') })
      .where('campaign_id', '=', arg('campaignId'))
      .where('subscriber_id', '=', arg('subscriberId'))
      .where('status', 'in', [sql.lit('pending'), sql.lit('deferred')])
      .where(({ exists, not, selectFrom, and }) =>
        and([
          exists(
            selectFrom('subscribers as s')
              .innerJoin('campaigns as c', 'c.id', 'sends.campaign_id')
              .innerJoin('list_memberships as m', (join) => join.onRef('m.subscriber_id', '=', 's.id').onRef('m.list_id', '=', 'c.list_id'))
              .select(sql<number>`1`.as('one'))
              .whereRef('s.id', '=', 'sends.subscriber_id')
              .where('s.status', '=', sql.lit('active'))
              .where('m.status', '=', sql.lit('subscribed')),
          ),
          not(exists(selectFrom('suppressions as x').select(sql<number>`1`.as('one')).whereRef('x.email', '=', 'sends.email'))),
          notDomainSuppressed(this.db, 'sends.email'),
        ]),
      ),
  );

  async claimForSending(campaignId: number, subscriberIds: readonly number[], now: string, worker: string | null = null): Promise<Map<number, string | null>> {
    const claims = new Map<number, string | null>();
    if (subscriberIds.length === 0) return claims;
    await this.batchedWrite(async (trx) => {
      for (const subscriberId of subscriberIds) {
        const result = await this.claimQuery.execute(trx, { now, campaignId, subscriberId, worker });
        if (Number(result.numAffectedRows ?? 0) > 0) {
          claims.set(subscriberId, null);
          continue;
        }
        const why = await trx
          .selectFrom('sends')
          .innerJoin('campaigns', 'campaigns.id', 'sends.campaign_id')
          .leftJoin('subscribers', 'subscribers.id', 'sends.subscriber_id')
          .leftJoin('list_memberships', (join) => join.onRef('list_memberships.subscriber_id', '=', 'sends.subscriber_id').onRef('list_memberships.list_id', '=', 'campaigns.list_id'))
          .leftJoin('suppressions', 'suppressions.email', 'sends.email')
          .select(['sends.status', 'subscribers.status as subscriber_status', 'list_memberships.status as membership_status', 'suppressions.reason as suppression_reason'])
          .where('sends.campaign_id', '=', campaignId)
          .where('sends.subscriber_id', '=', subscriberId)
          .executeTakeFirst();
        if (!why || (why.status !== 'pending' && why.status !== 'deferred')) claims.set(subscriberId, 'no longer pending');
        else claims.set(subscriberId, skipReasonOf(why.subscriber_status, why.membership_status, why.suppression_reason) ?? 'not mailable');
      }
    });
    return claims;
  }

  /**
   * The statements recordOutcomes runs per message, built once per store (see compiled-query.ts): the same Kysely
   * query for every dialect, without building and compiling it per message.
   */
  private readonly outcomeQueries = {
    sent: new ReusableQuery<{ now: string; smtpResponse: string; messageId: string; campaignId: number; subscriberId: number }>((arg) =>
      this.db
        .updateTable('sends')
        .set((eb) => ({
          status: 'sent',
          attempts: eb('attempts', '+', 1),
          first_attempt_at: eb.fn.coalesce('first_attempt_at', sql<string>`${arg('now')}`),
          smtp_response: arg('smtpResponse'),
          message_id: arg('messageId'),
          error: null,
          next_attempt_at: null,
          updated_at: arg('now'),
        }))
        .where('campaign_id', '=', arg('campaignId'))
        .where('subscriber_id', '=', arg('subscriberId'))
        .where('status', '=', sql.lit('sending')),
    ),
    /** failed and deferred: `status` is one of them; next_attempt_at is null for failed. */
    unsent: new ReusableQuery<{ status: 'failed' | 'deferred'; now: string; smtpResponse: string | null; error: string; nextAttemptAt: string | null; campaignId: number; subscriberId: number }>((arg) =>
      this.db
        .updateTable('sends')
        .set((eb) => ({
          status: arg('status'),
          attempts: eb('attempts', '+', 1),
          first_attempt_at: eb.fn.coalesce('first_attempt_at', sql<string>`${arg('now')}`),
          smtp_response: arg('smtpResponse'),
          error: arg('error'),
          next_attempt_at: arg('nextAttemptAt'),
          updated_at: arg('now'),
        }))
        .where('campaign_id', '=', arg('campaignId'))
        .where('subscriber_id', '=', arg('subscriberId'))
        .where('status', '=', sql.lit('sending')),
    ),
    skipped: new ReusableQuery<{ error: string; now: string; campaignId: number; subscriberId: number }>((arg) =>
      this.db
        .updateTable('sends')
        .set({ status: 'skipped', error: arg('error'), next_attempt_at: null, updated_at: arg('now') })
        .where('campaign_id', '=', arg('campaignId'))
        .where('subscriber_id', '=', arg('subscriberId'))
        .where('status', 'in', [sql.lit('pending'), sql.lit('deferred'), sql.lit('sending')]),
    ),
    released: new ReusableQuery<{ now: string; campaignId: number; subscriberId: number }>((arg) =>
      this.db
        .updateTable('sends')
        .set({ status: 'pending', updated_at: arg('now') })
        .where('campaign_id', '=', arg('campaignId'))
        .where('subscriber_id', '=', arg('subscriberId'))
        .where('status', '=', sql.lit('sending')),
    ),
  };

  async recordOutcomes(campaignId: number, outcomes: readonly SendOutcome[], now: string): Promise<void> {
    if (outcomes.length === 0) return;
    const q = this.outcomeQueries;
    await this.batchedWrite(async (trx) => {
      for (const outcome of outcomes) {
        const key = { campaignId, subscriberId: outcome.subscriberId };
        switch (outcome.status) {
          case 'sent':
            await q.sent.execute(trx, { ...key, now, smtpResponse: outcome.smtpResponse, messageId: outcome.messageId });
            break;
          case 'failed': {
            await q.unsent.execute(trx, { ...key, status: 'failed', now, smtpResponse: outcome.smtpResponse, error: outcome.error, nextAttemptAt: null });
            if (outcome.suppress) {
              const sendRow = await trx.selectFrom('sends').select('email').where('campaign_id', '=', campaignId).where('subscriber_id', '=', outcome.subscriberId).executeTakeFirst();
              if (sendRow) await this.suppressIn(trx, sendRow.email, outcome.suppress, outcome.smtpResponse ?? outcome.error, now);
            }
            break;
          }
          case 'deferred':
            await q.unsent.execute(trx, { ...key, status: 'deferred', now, smtpResponse: outcome.smtpResponse, error: outcome.error, nextAttemptAt: outcome.nextAttemptAt });
            break;
          case 'skipped':
            await q.skipped.execute(trx, { ...key, error: outcome.error, now });
            break;
          case 'released':
            await q.released.execute(trx, { ...key, now });
            break;
        }
      }
    });
  }

  async releaseInFlight(campaignId: number, policy: InFlightPolicy, now: string): Promise<string[]> {
    return this.tx(async (trx) => {
      const rows = await trx.selectFrom('sends').select('email').where('campaign_id', '=', campaignId).where('status', '=', 'sending').orderBy('subscriber_id').execute();
      if (rows.length > 0) {
        await trx
          .updateTable('sends')
          .set(
            policy === 'resend'
              ? { status: 'pending', possible_duplicate: 1, error: 'was in flight when the sender stopped; sent again, so it may have arrived twice', updated_at: now }
              : { status: 'failed', possible_duplicate: 1, error: 'held for review: was in flight when the sender stopped and may have been delivered (campaigns retry-failed sends it again)', updated_at: now },
          )
          .where('campaign_id', '=', campaignId)
          .where('status', '=', 'sending')
          .execute();
      }
      return rows.map((r) => r.email);
    });
  }

  async nextDeferredAt(campaignId: number): Promise<string | null> {
    const row = await this.db
      .selectFrom('sends')
      .select(sql<string | null>`min(next_attempt_at)`.as('at'))
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'deferred')
      .executeTakeFirst();
    return row?.at ?? null;
  }

  async countSends(campaignId: number): Promise<SendCounts> {
    const rows = await this.db.selectFrom('sends').select(['status', sql<number>`count(*)`.as('n')]).where('campaign_id', '=', campaignId).groupBy('status').execute();
    const counts = Object.fromEntries(SEND_STATUSES.map((s) => [s, 0])) as Record<SendStatus, number>;
    for (const r of rows) counts[r.status as SendStatus] = Number(r.n);
    return counts;
  }

  async setCampaignStatus(
    campaignId: number,
    status: CampaignStatus,
    fields: { error?: string | null; at?: string; pauseReason?: PauseReason | null; resumeAfter?: string | null } = {},
  ): Promise<void> {
    const at = fields.at ?? this.now();
    const finished = status === 'sent' || status === 'failed' || status === 'cancelled';
    await this.db
      .updateTable('campaigns')
      .set((eb) => ({
        status,
        ...(fields.error !== undefined ? { last_error: fields.error } : {}),
        finished_at: finished ? at : null,
        started_at: status === 'sending' ? eb.fn.coalesce('started_at', sql<string>`${at}`) : eb.ref('started_at'),
        pause_reason: status === 'paused' ? (fields.pauseReason ?? 'operator') : null,
        resume_after: status === 'paused' ? (fields.resumeAfter ?? null) : null,
      }))
      .where('id', '=', campaignId)
      .execute();
  }
}
