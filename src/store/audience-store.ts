/** Lists, subscribers and their memberships, imports, suppression, and how many recipients a campaign would have. */
import { sql, type Kysely } from 'kysely';
import type { Attributes, MailingList, MembershipStatus, Subscriber, SuppressionReason } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import type { ImportRowOutcome } from '../core/import-report.ts';
import { lockKeys } from './dialect.ts';
import type { DatabaseHandle } from './database.ts';
import { importSubscribers as importSubscriberRows, type SubscriberImportOptions } from './subscriber-import.ts';
import type { Database } from './schema.ts';
import { filterSubscribers, type SubscriberFilter } from './subscriber-filter.ts';
import { SqlAggregateStore } from './store-base.ts';
import { hashEmail, suppressIn } from './suppression.ts';
import { mailableMembers, receivedIssueElsewhere } from './recipient-rules.ts';
import { toSubscriber } from './rows.ts';
import type { ImportReport, ImportRows, ListSummary, SubscriberFields, SubscriberWithLists, UnsubscribeResult } from './store-types.ts';

type Db = Kysely<Database>;

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

export class AudienceStore extends SqlAggregateStore {
  /** The database handle (its Postgres pool runs an import's COPY); null on a bare Kysely instance or a transaction. */
  private readonly handle: DatabaseHandle | null;

  constructor(db: Kysely<Database>, clock?: () => Date, handle: DatabaseHandle | null = null) {
    super(db, clock);
    this.handle = handle;
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
    const query = filterSubscribers(this.db.selectFrom('subscribers').selectAll('subscribers'), options, options.afterId);
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
    await this.tx((trx) => suppressIn(trx, email, reason, detail, this.now()));
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

  // ------------------------------------------------------ recipients counting

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

}
