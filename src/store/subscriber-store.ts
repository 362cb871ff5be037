/**
 * The subscriber's side of the store: sign-up and confirmation, preferences, the public archive, export and erasure,
 * and rate-limit counters. Same Kysely database as the other aggregate stores (open-store.ts); every write that reads first runs in BEGIN IMMEDIATE, so
 * two processes cannot both decide on the same stale read.
 */
import { sql, type Kysely } from 'kysely';
import type { MembershipStatus, SubscriberStatus, SuppressionReason } from '../core/domain.ts';
import type { Database } from './schema.ts';
import { hashEmail } from './suppression.ts';
import { deliverabilityDataOf, eraseDeliverabilityData } from './deliverability-store.ts';
import { eraseTrackingData, trackingDataOf } from './tracking-store.ts';
import { writeTransaction } from './write-transaction.ts';
import { isPostgres, lockKeys } from './dialect.ts';

/** Suppressions a confirmed sign-up (or a resubscribe from the preferences page) may lift: the person left or asked to be forgotten, and now asks to come back. */
export const LIFTABLE_SUPPRESSIONS: readonly SuppressionReason[] = ['unsubscribed', 'erased'];

function liftable(reason: string): boolean {
  return (LIFTABLE_SUPPRESSIONS as readonly string[]).includes(reason);
}

/** Bounced and complained people are never mailed again from a web form. */
function blockedStatus(status: string): boolean {
  return status === 'bounced' || status === 'complained';
}

export interface SignupRequest {
  readonly listId: number;
  /** Normalized and checked. */
  readonly email: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  /** e.g. "signup:form", "signup:api". */
  readonly source: string;
  /** Recorded with the consent only when SIGNUP_RECORD_IP is on. */
  readonly ip: string | null;
  readonly now: Date;
}

export type SignupOutcome =
  /** The membership is pending: a confirmation email is due. */
  | { readonly kind: 'confirm'; readonly subscriberId: number; readonly listId: number; readonly created: boolean }
  /** Already a confirmed member: a short notice with a preferences link is due instead. */
  | { readonly kind: 'already-subscribed'; readonly subscriberId: number; readonly listId: number }
  /** Nothing may be sent (bounced, complained, or suppressed for good). */
  | { readonly kind: 'blocked'; readonly reason: string };

export type ConfirmOutcome = 'confirmed' | 'already-subscribed' | 'not-pending' | 'blocked' | 'unknown';
export type ResubscribeOutcome = 'subscribed' | 'blocked' | 'unknown';

export interface MembershipView {
  readonly listId: number;
  readonly listName: string;
  readonly listDescription: string;
  readonly status: MembershipStatus;
  readonly consentSource: string;
  readonly consentAt: string | null;
  readonly confirmedAt: string | null;
  readonly unsubscribedAt: string | null;
}

export interface PreferencesView {
  readonly subscriberId: number;
  readonly email: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly status: SubscriberStatus;
  readonly memberships: readonly MembershipView[];
  /** Reason of a suppression of this address, if any. */
  readonly suppression: string | null;
}

export interface PublishedIssue {
  readonly id: number;
  readonly number: number;
  readonly subject: string;
  readonly preheader: string;
  /** When its first campaign started. */
  readonly sentAt: string;
}

export interface PublishedIssueWithBody extends PublishedIssue {
  readonly html: string;
  readonly text: string;
}

export interface RateLimitResult {
  readonly allowed: boolean;
  /** When refused: how long until the oldest counted hit leaves the window. */
  readonly retryAfterMs: number;
}

/** Everything held about one address, as stored (column names in camelCase). */
export interface PersonalData {
  readonly subscriber: Record<string, unknown> | null;
  readonly memberships: readonly Record<string, unknown>[];
  readonly sends: readonly Record<string, unknown>[];
  readonly suppression: Record<string, unknown> | null;
  /** Confirmation emails counted against the hourly limit (timestamps only). */
  readonly confirmationEmails: readonly string[];
  /** Bounces and complaints about the address, with their reports (issue 13). */
  readonly deliveryEvents: readonly Record<string, unknown>[];
  /** The person's opens and clicks, kept only while their newsletter kept per-subscriber data. */
  readonly tracking: readonly Record<string, unknown>[];
}

export interface ErasureReport {
  readonly subscriber: boolean;
  readonly memberships: number;
  readonly sends: number;
  readonly rateLimitHits: number;
  /** 'added': a new hashed entry; otherwise the reason of the entry that was there (its address and detail now removed). */
  readonly suppression: 'added' | string;
}

/** Rate-limit buckets. */
export const SIGNUP_IP_BUCKET = 'signup-ip';
export const CONFIRMATION_EMAIL_BUCKET = 'confirmation-email';

/** An issue is published (in the archive, on the web) once one of its campaigns has delivered a message or finished. */
const PUBLISHED_CAMPAIGN = sql`(c.status = 'sent' OR EXISTS (SELECT 1 FROM sends s WHERE s.campaign_id = c.id AND s.status = 'sent'))`;

function camelCaseKeys(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), value]));
}

/** A subscriber, their membership of one list and any suppression of their address, read together in a transaction. */
async function loadMembershipState(db: Kysely<Database>, subscriberId: number, listId: number) {
  const subscriber = await db.selectFrom('subscribers').select(['email', 'status']).where('id', '=', subscriberId).executeTakeFirst();
  const membership = await db.selectFrom('list_memberships').select('status').where('list_id', '=', listId).where('subscriber_id', '=', subscriberId).executeTakeFirst();
  if (!subscriber || !membership) return null;
  const suppression = await db.selectFrom('suppressions').select('reason').where('email_hash', '=', hashEmail(subscriber.email)).executeTakeFirst();
  return { subscriber, membership, suppression };
}

/** A newsletter as a public page about its list shows it. */
export interface ListPageNewsletter {
  readonly id: number;
  readonly name: string;
  readonly slug: string;
  readonly archivePublic: boolean;
}

/** A public archive's newsletter: `signupList` names its list when sign-up to it is open. */
export interface ArchiveHeader {
  readonly id: number;
  readonly name: string;
  readonly slug: string;
  readonly language: string;
  readonly listId: number;
  readonly signupList: string | null;
}

export class SubscriberStore {
  readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** Runs `fn` in one write transaction: its reads and writes form one step for every process. */
  private immediate<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return writeTransaction(this.db, fn);
  }

  // ------------------------------------------------------------------ sign-up

  /**
   * Records a sign-up request. A new address becomes an active subscriber with a *pending* membership (never mailed by a
   * campaign until confirmed); an existing person's profile is never touched by a form (anyone can type any address).
   */
  async requestSignup(request: SignupRequest): Promise<SignupOutcome> {
    const now = request.now.toISOString();
    return this.immediate(async (db) => {
      // Two sign-ups of one address (or a sign-up and an `subscribers add`) run one after the other, in every process.
      await lockKeys(db, [`subscriber:${request.email}`]);
      const suppression = await db.selectFrom('suppressions').select('reason').where('email_hash', '=', hashEmail(request.email)).executeTakeFirst();
      if (suppression && !liftable(suppression.reason)) return { kind: 'blocked', reason: `address is suppressed (${suppression.reason})` };
      let subscriber = await db.selectFrom('subscribers').select(['id', 'status']).where('email', '=', request.email).executeTakeFirst();
      if (subscriber && blockedStatus(subscriber.status)) return { kind: 'blocked', reason: `subscriber is ${subscriber.status}` };
      let created = false;
      if (!subscriber) {
        // ON CONFLICT: an import (which takes no lock per address) may add it meanwhile; then it is that person's row.
        const inserted = await db
          .insertInto('subscribers')
          .values({
            email: request.email,
            name: request.name,
            first_name: request.firstName,
            last_name: request.lastName,
            attributes: '{}',
            status: 'active',
            consent_source: request.source,
            consent_at: now,
            created_at: now,
            updated_at: now,
          })
          .onConflict((oc) => oc.column('email').doNothing())
          .returning(['id', 'status'])
          .executeTakeFirst();
        created = inserted !== undefined;
        subscriber = inserted ?? (await db.selectFrom('subscribers').select(['id', 'status']).where('email', '=', request.email).executeTakeFirstOrThrow());
        if (!created && blockedStatus(subscriber.status)) return { kind: 'blocked', reason: `subscriber is ${subscriber.status}` };
      }
      const membership = await db.selectFrom('list_memberships').select('status').where('list_id', '=', request.listId).where('subscriber_id', '=', subscriber.id).executeTakeFirst();
      if (membership?.status === 'subscribed' && subscriber.status === 'active' && !suppression) {
        return { kind: 'already-subscribed', subscriberId: subscriber.id, listId: request.listId };
      }
      const consent = { consent_source: request.source, consent_at: now, consent_ip: request.ip, confirmed_at: null, confirmed_ip: null, updated_at: now };
      if (membership) {
        await db.updateTable('list_memberships').set({ status: 'pending', ...consent }).where('list_id', '=', request.listId).where('subscriber_id', '=', subscriber.id).execute();
      } else {
        await db.insertInto('list_memberships').values({ list_id: request.listId, subscriber_id: subscriber.id, status: 'pending', created_at: now, ...consent }).execute();
      }
      return { kind: 'confirm', subscriberId: subscriber.id, listId: request.listId, created };
    });
  }

  async markConfirmationSent(subscriberId: number, listId: number, at: Date): Promise<void> {
    await this.db.updateTable('list_memberships').set({ confirmation_sent_at: at.toISOString() }).where('list_id', '=', listId).where('subscriber_id', '=', subscriberId).execute();
  }

  /** The confirmation click: a pending membership becomes subscribed, and a liftable suppression of the address is lifted. */
  async confirmMembership(subscriberId: number, listId: number, ip: string | null, at: Date): Promise<ConfirmOutcome> {
    const now = at.toISOString();
    // A link clicked again (or by a scanner) changes nothing: answered from a read, without taking the write lock.
    const seen = await loadMembershipState(this.db, subscriberId, listId);
    if (!seen) return 'unknown';
    if (seen.membership.status === 'subscribed' && seen.subscriber.status === 'active' && !seen.suppression) return 'already-subscribed';
    if (seen.membership.status === 'unsubscribed') return 'not-pending';
    return this.immediate(async (db) => {
      await lockKeys(db, [`membership:${subscriberId}:${listId}`]);
      const found = await loadMembershipState(db, subscriberId, listId);
      if (!found) return 'unknown';
      const { subscriber, membership, suppression } = found;
      if (membership.status === 'subscribed' && subscriber.status === 'active' && !suppression) return 'already-subscribed';
      // Unsubscribed since this link was sent: only a new sign-up (and its new email) may bring them back.
      if (membership.status === 'unsubscribed') return 'not-pending';
      if (blockedStatus(subscriber.status) || (suppression && !liftable(suppression.reason))) return 'blocked';
      if (suppression) await db.deleteFrom('suppressions').where('email_hash', '=', hashEmail(subscriber.email)).execute();
      await db
        .updateTable('list_memberships')
        .set({ status: 'subscribed', confirmed_at: now, confirmed_ip: ip, updated_at: now })
        .where('list_id', '=', listId)
        .where('subscriber_id', '=', subscriberId)
        .execute();
      if (subscriber.status === 'unsubscribed') await db.updateTable('subscribers').set({ status: 'active', updated_at: now }).where('id', '=', subscriberId).execute();
      return 'confirmed';
    });
  }

  async membershipStatus(subscriberId: number, listId: number): Promise<MembershipStatus | null> {
    const row = await this.db.selectFrom('list_memberships').select('status').where('list_id', '=', listId).where('subscriber_id', '=', subscriberId).executeTakeFirst();
    return row ? (row.status as MembershipStatus) : null;
  }

  /**
   * Unconfirmed sign-ups are not kept forever: pending memberships whose last request or email is older than `before`
   * are deleted, then people created by a sign-up who are left with no list and no send.
   */
  async purgeStalePending(before: Date): Promise<{ memberships: number; subscribers: number }> {
    const cutoff = before.toISOString();
    return this.immediate(async (db) => {
      const memberships = await db
        .deleteFrom('list_memberships')
        .where('status', '=', 'pending')
        .where(sql<string>`coalesce(confirmation_sent_at, consent_at, created_at)`, '<', cutoff)
        .executeTakeFirst();
      const subscribers = await db
        .deleteFrom('subscribers')
        .where('consent_source', 'like', 'signup:%')
        .where('created_at', '<', cutoff)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('list_memberships as m').select(sql<number>`1`.as('one')).whereRef('m.subscriber_id', '=', 'subscribers.id'))))
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('sends as s').select(sql<number>`1`.as('one')).whereRef('s.subscriber_id', '=', 'subscribers.id'))))
        .executeTakeFirst();
      return { memberships: Number(memberships.numDeletedRows), subscribers: Number(subscribers.numDeletedRows) };
    });
  }

  // -------------------------------------------------------------- preferences

  async preferences(subscriberId: number): Promise<PreferencesView | null> {
    const subscriber = await this.db.selectFrom('subscribers').selectAll().where('id', '=', subscriberId).executeTakeFirst();
    if (!subscriber) return null;
    const memberships = await this.db
      .selectFrom('list_memberships as m')
      .innerJoin('lists as l', 'l.id', 'm.list_id')
      .select(['m.list_id', 'l.name', 'l.description', 'm.status', 'm.consent_source', 'm.consent_at', 'm.confirmed_at', 'm.unsubscribed_at'])
      .where('m.subscriber_id', '=', subscriberId)
      .orderBy('l.name')
      .execute();
    const suppression = await this.db.selectFrom('suppressions').select('reason').where('email_hash', '=', hashEmail(subscriber.email)).executeTakeFirst();
    return {
      subscriberId: subscriber.id,
      email: subscriber.email,
      name: subscriber.name,
      firstName: subscriber.first_name,
      lastName: subscriber.last_name,
      status: subscriber.status as SubscriberStatus,
      memberships: memberships.map((m) => ({
        listId: m.list_id,
        listName: m.name,
        listDescription: m.description,
        status: m.status as MembershipStatus,
        consentSource: m.consent_source,
        consentAt: m.consent_at,
        confirmedAt: m.confirmed_at,
        unsubscribedAt: m.unsubscribed_at,
      })),
      suppression: suppression?.reason ?? null,
    };
  }

  async updateName(subscriberId: number, fields: { name: string; firstName: string; lastName: string }, at: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('subscribers')
      .set({ name: fields.name, first_name: fields.firstName, last_name: fields.lastName, updated_at: at.toISOString() })
      .where('id', '=', subscriberId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Unsubscribes from one list at once (running campaigns skip them from the next message on); records the membership even when there was none. */
  async unsubscribe(subscriberId: number, listId: number, at: Date): Promise<{ email: string; listName: string; wasSubscribed: boolean } | null> {
    const now = at.toISOString();
    // The usual case (a mail provider's one-click from a subscriber) is one statement, atomic on its own in both
    // databases: the subscribed membership becomes unsubscribed, and it returns what the answer page shows.
    const quick = await sql<{ email: string; list_name: string }>`UPDATE list_memberships SET status = 'unsubscribed', unsubscribed_at = ${now}, updated_at = ${now}
      WHERE list_id = ${listId} AND subscriber_id = ${subscriberId} AND status = 'subscribed'
      RETURNING (SELECT email FROM subscribers WHERE id = ${subscriberId}) AS email, (SELECT name FROM lists WHERE id = ${listId}) AS list_name`.execute(this.db);
    const changed = quick.rows[0];
    if (changed) return { email: changed.email, listName: changed.list_name, wasSubscribed: true };
    return this.immediate(async (db) => {
      const subscriber = await db.selectFrom('subscribers').select('email').where('id', '=', subscriberId).executeTakeFirst();
      const list = await db.selectFrom('lists').select('name').where('id', '=', listId).executeTakeFirst();
      if (!subscriber || !list) return null;
      const membership = await db.selectFrom('list_memberships').select('status').where('list_id', '=', listId).where('subscriber_id', '=', subscriberId).executeTakeFirst();
      if (!membership) {
        await db.insertInto('list_memberships').values({ list_id: listId, subscriber_id: subscriberId, status: 'unsubscribed', created_at: now, updated_at: now, unsubscribed_at: now }).execute();
      } else if (membership.status !== 'unsubscribed') {
        await db.updateTable('list_memberships').set({ status: 'unsubscribed', unsubscribed_at: now, updated_at: now }).where('list_id', '=', listId).where('subscriber_id', '=', subscriberId).execute();
      }
      return { email: subscriber.email, listName: list.name, wasSubscribed: membership?.status === 'subscribed' };
    });
  }

  /** Every list at once, and the subscriber's own status, so nothing reaches them until they resubscribe somewhere. */
  async unsubscribeAll(subscriberId: number, at: Date): Promise<number> {
    const now = at.toISOString();
    return this.immediate(async (db) => {
      const result = await db
        .updateTable('list_memberships')
        .set({ status: 'unsubscribed', unsubscribed_at: now, updated_at: now })
        .where('subscriber_id', '=', subscriberId)
        .where('status', '<>', 'unsubscribed')
        .executeTakeFirst();
      await db.updateTable('subscribers').set({ status: 'unsubscribed', updated_at: now }).where('id', '=', subscriberId).where('status', '=', 'active').execute();
      return Number(result.numUpdatedRows);
    });
  }

  /**
   * Back onto a list they were on (unsubscribed, or pending) from the preferences page. The page's link was mailed to
   * them, which proves the mailbox is theirs: this counts as a confirmation.
   */
  async resubscribe(subscriberId: number, listId: number, ip: string | null, at: Date): Promise<ResubscribeOutcome> {
    const now = at.toISOString();
    return this.immediate(async (db) => {
      const found = await loadMembershipState(db, subscriberId, listId);
      if (!found) return 'unknown';
      const { subscriber, membership, suppression } = found;
      if (blockedStatus(subscriber.status) || (suppression && !liftable(suppression.reason))) return 'blocked';
      if (suppression) await db.deleteFrom('suppressions').where('email_hash', '=', hashEmail(subscriber.email)).execute();
      if (membership.status !== 'subscribed') {
        await db
          .updateTable('list_memberships')
          .set({ status: 'subscribed', consent_source: 'preferences', consent_at: now, consent_ip: ip, confirmed_at: now, confirmed_ip: ip, updated_at: now })
          .where('list_id', '=', listId)
          .where('subscriber_id', '=', subscriberId)
          .execute();
      }
      if (subscriber.status === 'unsubscribed') await db.updateTable('subscribers').set({ status: 'active', updated_at: now }).where('id', '=', subscriberId).execute();
      return 'subscribed';
    });
  }

  // -------------------------------------------------------------- rate limits

  /**
   * Counts one hit of `key` in `bucket` when fewer than `limit` hits fall in the last `windowMs`; one statement, so it is
   * atomic across processes. Refused hits are not counted.
   */
  async hitRateLimit(bucket: string, key: string, now: Date, windowMs: number, limit: number): Promise<RateLimitResult> {
    const at = now.getTime();
    const since = at - windowMs;
    // SQLite runs the statement alone (the write lock); Postgres would let two hits count the same window, so the
    // hits of one key take turns (an advisory lock until commit).
    const hit = (db: Kysely<Database>) => sql`INSERT INTO rate_limit_hits (bucket, key, at)
        SELECT CAST(${bucket} AS text), CAST(${key} AS text), CAST(${at} AS bigint)
        WHERE (SELECT count(*) FROM rate_limit_hits WHERE bucket = ${bucket} AND key = ${key} AND at > ${since}) < ${limit}`.execute(db);
    const result = isPostgres(this.db)
      ? await this.immediate(async (db) => {
          await lockKeys(db, [`rate-limit:${bucket}:${key}`]);
          return hit(db);
        })
      : await hit(this.db);
    if (Number(result.numAffectedRows ?? 0) === 1) return { allowed: true, retryAfterMs: 0 };
    const oldest = await this.db
      .selectFrom('rate_limit_hits')
      .select(sql<number | null>`min(at)`.as('at'))
      .where('bucket', '=', bucket)
      .where('key', '=', key)
      .where('at', '>', since)
      .executeTakeFirst();
    const first = oldest?.at ?? at;
    return { allowed: false, retryAfterMs: Math.max(1000, Number(first) + windowMs - at) };
  }

  /** Gives one counted hit back (e.g. the confirmation email could not be sent, so it must not block the next try). */
  async releaseRateLimitHit(bucket: string, key: string, at: Date): Promise<void> {
    const rowId = sql.raw(isPostgres(this.db) ? 'ctid' : 'rowid');
    await sql`DELETE FROM rate_limit_hits WHERE ${rowId} = (SELECT ${rowId} FROM rate_limit_hits WHERE bucket = ${bucket} AND key = ${key} AND at = ${at.getTime()} LIMIT 1)`.execute(this.db);
  }

  async pruneRateLimits(before: Date): Promise<number> {
    const result = await this.db.deleteFrom('rate_limit_hits').where('at', '<', before.getTime()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // -------------------------------------------------------------------- flags

  async isSignupOpen(listId: number): Promise<boolean> {
    const row = await this.db.selectFrom('lists').select('signup_open').where('id', '=', listId).executeTakeFirst();
    return row !== undefined && row.signup_open === 1;
  }

  async setSignupOpen(listId: number, open: boolean): Promise<void> {
    await this.db.updateTable('lists').set({ signup_open: open ? 1 : 0 }).where('id', '=', listId).execute();
  }

  /**
   * What a public page about a list needs in one query: the newsletters that go to it (oldest first), each with whether
   * its archive is public (the page's header links to it).
   */
  async listPageNewsletters(listId: number): Promise<ListPageNewsletter[]> {
    const rows = await this.db.selectFrom('newsletters').select(['id', 'name', 'slug', 'archive_public']).where('list_id', '=', listId).orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, slug: r.slug, archivePublic: r.archive_public === 1 }));
  }

  /** A newsletter's public archive header in one query: null unless its archive is public; the sign-up list's name when its sign-up is open. */
  async archiveHeader(slug: string): Promise<ArchiveHeader | null> {
    const row = await this.db
      .selectFrom('newsletters as n')
      .innerJoin('lists as l', 'l.id', 'n.list_id')
      .select(['n.id', 'n.name', 'n.slug', 'n.language', 'n.list_id', 'l.name as list_name', 'l.signup_open'])
      .where('n.slug', '=', slug)
      .where('n.archive_public', '=', 1)
      .executeTakeFirst();
    return row ? { id: row.id, name: row.name, slug: row.slug, language: row.language, listId: row.list_id, signupList: row.signup_open === 1 ? row.list_name : null } : null;
  }

  async isArchivePublic(newsletterId: number): Promise<boolean> {
    const row = await this.db.selectFrom('newsletters').select('archive_public').where('id', '=', newsletterId).executeTakeFirst();
    return row !== undefined && row.archive_public === 1;
  }

  async setArchivePublic(newsletterId: number, on: boolean): Promise<void> {
    await this.db.updateTable('newsletters').set({ archive_public: on ? 1 : 0 }).where('id', '=', newsletterId).execute();
  }

  // ------------------------------------------------------------------ archive

  /** Published issues of a newsletter, newest first. */
  async publishedIssues(newsletterId: number, limit = 1000): Promise<PublishedIssue[]> {
    const result = await sql<{ id: number; number: number; subject: string; preheader: string; sent_at: string }>`
      SELECT i.id, i.number, i.subject, i.preheader,
        (SELECT min(coalesce(c.started_at, c.created_at)) FROM campaigns c WHERE c.issue_id = i.id AND ${PUBLISHED_CAMPAIGN}) AS sent_at
      FROM issues i
      WHERE i.newsletter_id = ${newsletterId}
        AND EXISTS (SELECT 1 FROM campaigns c WHERE c.issue_id = i.id AND ${PUBLISHED_CAMPAIGN})
      ORDER BY i.number DESC
      LIMIT ${limit}`.execute(this.db);
    return result.rows.map((r) => ({ id: r.id, number: r.number, subject: r.subject, preheader: r.preheader, sentAt: r.sent_at }));
  }

  async publishedIssue(newsletterId: number, number: number): Promise<PublishedIssueWithBody | null> {
    const result = await sql<{ id: number; number: number; subject: string; preheader: string; html: string; text: string; sent_at: string }>`
      SELECT i.id, i.number, i.subject, i.preheader, i.html, i.text,
        (SELECT min(coalesce(c.started_at, c.created_at)) FROM campaigns c WHERE c.issue_id = i.id AND ${PUBLISHED_CAMPAIGN}) AS sent_at
      FROM issues i
      WHERE i.newsletter_id = ${newsletterId} AND i.number = ${number}
        AND EXISTS (SELECT 1 FROM campaigns c WHERE c.issue_id = i.id AND ${PUBLISHED_CAMPAIGN})`.execute(this.db);
    const r = result.rows[0];
    return r ? { id: r.id, number: r.number, subject: r.subject, preheader: r.preheader, html: r.html, text: r.text, sentAt: r.sent_at } : null;
  }

  /** The newsletter of the newest published issue carrying this article, or null when no published issue does. */
  async articlePublisher(articleId: number): Promise<number | null> {
    const result = await sql<{ newsletter_id: number }>`
      SELECT i.newsletter_id FROM issue_articles ia JOIN issues i ON i.id = ia.issue_id
      WHERE ia.article_id = ${articleId}
        AND EXISTS (SELECT 1 FROM campaigns c WHERE c.issue_id = i.id AND ${PUBLISHED_CAMPAIGN})
      ORDER BY i.id DESC LIMIT 1`.execute(this.db);
    return result.rows[0]?.newsletter_id ?? null;
  }

  // ------------------------------------------------------------------ privacy

  /** Every row that holds this address or belongs to its subscriber. */
  async collectPersonalData(email: string): Promise<PersonalData> {
    const hash = hashEmail(email);
    const subscriber = await this.db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();
    const memberships = subscriber
      ? await this.db
          .selectFrom('list_memberships as m')
          .innerJoin('lists as l', 'l.id', 'm.list_id')
          .selectAll('m')
          .select('l.name as list_name')
          .where('m.subscriber_id', '=', subscriber.id)
          .orderBy('l.name')
          .execute()
      : [];
    const sends = await this.db
      .selectFrom('sends')
      .innerJoin('campaigns', 'campaigns.id', 'sends.campaign_id')
      .innerJoin('issues', 'issues.id', 'campaigns.issue_id')
      .innerJoin('newsletters', 'newsletters.id', 'campaigns.newsletter_id')
      .innerJoin('lists', 'lists.id', 'campaigns.list_id')
      .selectAll('sends')
      .select(['newsletters.slug as newsletter', 'issues.number as issue_number', 'issues.subject as issue_subject', 'lists.name as list_name'])
      .where((eb) => (subscriber ? eb.or([eb('sends.subscriber_id', '=', subscriber.id), eb('sends.email', '=', email)]) : eb('sends.email', '=', email)))
      .orderBy('sends.campaign_id')
      .execute();
    const suppression = await this.db.selectFrom('suppressions').selectAll().where('email_hash', '=', hash).executeTakeFirst();
    const hits = await this.db.selectFrom('rate_limit_hits').select('at').where('bucket', '=', CONFIRMATION_EMAIL_BUCKET).where('key', '=', hash).orderBy('at').execute();
    return {
      subscriber: subscriber ? camelCaseKeys({ ...subscriber, attributes: JSON.parse(subscriber.attributes) as unknown }) : null,
      memberships: memberships.map((m) => camelCaseKeys(m)),
      sends: sends.map((s) => camelCaseKeys(s)),
      suppression: suppression ? camelCaseKeys(suppression) : null,
      confirmationEmails: hits.map((h) => new Date(Number(h.at)).toISOString()),
      deliveryEvents: await deliverabilityDataOf(this.db, email),
      tracking: subscriber ? await trackingDataOf(this.db, subscriber.id) : [],
    };
  }

  /**
   * Right to erasure: deletes the subscriber, their memberships, every send row to the address and its rate-limit
   * counters, and leaves only a suppression keyed by the address's sha256 (no address, no detail), so no import or
   * sign-up mails it again without a new confirmation.
   */
  async erasePerson(email: string, at: Date): Promise<ErasureReport> {
    const hash = hashEmail(email);
    const now = at.toISOString();
    return this.immediate(async (db) => {
      const subscriber = await db.selectFrom('subscribers').select('id').where('email', '=', email).executeTakeFirst();
      const sends = await db
        .deleteFrom('sends')
        .where((eb) => (subscriber ? eb.or([eb('subscriber_id', '=', subscriber.id), eb('email', '=', email)]) : eb('email', '=', email)))
        .executeTakeFirst();
      let memberships = 0;
      if (subscriber) {
        memberships = Number((await db.deleteFrom('list_memberships').where('subscriber_id', '=', subscriber.id).executeTakeFirst()).numDeletedRows);
        await eraseTrackingData(db, subscriber.id);
        await db.deleteFrom('subscribers').where('id', '=', subscriber.id).execute();
      }
      const hits = await db.deleteFrom('rate_limit_hits').where('bucket', '=', CONFIRMATION_EMAIL_BUCKET).where('key', '=', hash).executeTakeFirst();
      await eraseDeliverabilityData(db, email);
      const existing = await db.selectFrom('suppressions').select('reason').where('email_hash', '=', hash).executeTakeFirst();
      if (existing) {
        await db.updateTable('suppressions').set({ email: null, detail: '' }).where('email_hash', '=', hash).execute();
      } else {
        await db.insertInto('suppressions').values({ email_hash: hash, email: null, reason: 'erased', detail: '', created_at: now }).execute();
      }
      return {
        subscriber: subscriber !== undefined,
        memberships,
        sends: Number(sends.numDeletedRows),
        rateLimitHits: Number(hits.numDeletedRows),
        suppression: existing ? existing.reason : 'added',
      };
    });
  }
}
