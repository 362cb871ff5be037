/**
 * Welcome emails (issue 13): a list's setting (on or off, subject, message) and one row per person welcomed, so nobody
 * is welcomed twice to the same list. Who is due is read from the confirmations the database records, so every way of
 * confirming (the confirmation link, subscribing again from the preferences page) is covered.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Database } from './schema.ts';

export interface ListWelcomeTable {
  list_id: number;
  enabled: number;
  subject: string;
  message: string;
  /** Only confirmations from this moment on are welcomed (turning it on does not mail everyone already there). */
  enabled_at: string;
  updated_at: string;
}

export interface WelcomeSendsTable {
  list_id: number;
  subscriber_id: number;
  /** sending | sent | failed */
  status: string;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export type WelcomeTables = { list_welcome: ListWelcomeTable; welcome_sends: WelcomeSendsTable };

/** Migration 2026-12-04-deliv-welcome. */
export const welcomeMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('list_welcome')
      .addColumn('list_id', 'integer', (c) => c.primaryKey().references('lists.id').onDelete('cascade'))
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('message', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('enabled_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('welcome_sends')
      .addColumn('list_id', 'integer', (c) => c.notNull().references('lists.id').onDelete('cascade'))
      .addColumn('subscriber_id', 'integer', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('sending','sent','failed')`))
      .addColumn('error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('welcome_sends_pk', ['list_id', 'subscriber_id'])
      .execute();
  },
};

export interface ListWelcome {
  readonly listId: number;
  readonly enabled: boolean;
  readonly subject: string;
  readonly message: string;
  readonly enabledAt: string;
}

export interface DueWelcome {
  readonly listId: number;
  readonly subscriberId: number;
  readonly email: string;
  readonly firstName: string;
  readonly subject: string;
  readonly message: string;
}

type Db = Kysely<Database & WelcomeTables>;

export class WelcomeStore {
  private readonly db: Db;
  constructor(
    db: Kysely<Database>,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = db.withTables<WelcomeTables>();
  }

  async get(listId: number): Promise<ListWelcome | null> {
    const row = await this.db.selectFrom('list_welcome').selectAll().where('list_id', '=', listId).executeTakeFirst();
    return row ? { listId: row.list_id, enabled: row.enabled === 1, subject: row.subject, message: row.message, enabledAt: row.enabled_at } : null;
  }

  /** Turns the welcome on or off; subject and message are kept when not given. */
  async set(listId: number, enabled: boolean, fields: { subject?: string; message?: string } = {}): Promise<void> {
    const now = this.clock().toISOString();
    const current = await this.get(listId);
    const enabledAt = enabled && !current?.enabled ? now : (current?.enabledAt ?? now);
    const values = { enabled: enabled ? 1 : 0, subject: fields.subject ?? current?.subject ?? '', message: fields.message ?? current?.message ?? '', enabled_at: enabledAt, updated_at: now };
    await this.db
      .insertInto('list_welcome')
      .values({ list_id: listId, ...values })
      .onConflict((oc) => oc.column('list_id').doUpdateSet(values))
      .execute();
  }

  /** People who confirmed a list with a welcome on (since it was turned on), are still subscribed and mailable, and were not welcomed yet. */
  async due(limit: number): Promise<DueWelcome[]> {
    const rows = await this.db
      .selectFrom('list_welcome as w')
      .innerJoin('list_memberships as m', 'm.list_id', 'w.list_id')
      .innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
      .select(['m.list_id', 'm.subscriber_id', 's.email', 's.first_name', 's.name', 'w.subject', 'w.message'])
      .where('w.enabled', '=', 1)
      .where('m.status', '=', 'subscribed')
      .where('s.status', '=', 'active')
      .where('m.confirmed_at', 'is not', null)
      .whereRef('m.confirmed_at', '>=', 'w.enabled_at')
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('welcome_sends as x').select(sql<number>`1`.as('one')).whereRef('x.list_id', '=', 'm.list_id').whereRef('x.subscriber_id', '=', 'm.subscriber_id'))),
      )
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('suppressions as y').select(sql<number>`1`.as('one')).whereRef('y.email', '=', 's.email'))))
      .limit(limit)
      .execute();
    return rows.map((r) => ({ listId: r.list_id, subscriberId: r.subscriber_id, email: r.email, firstName: r.first_name || r.name.split(' ')[0] || '', subject: r.subject, message: r.message }));
  }

  /** Claims one welcome before it is sent: false when another process claimed it first. */
  async claim(listId: number, subscriberId: number): Promise<boolean> {
    const now = this.clock().toISOString();
    const result = await this.db
      .insertInto('welcome_sends')
      .values({ list_id: listId, subscriber_id: subscriberId, status: 'sending', error: null, created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['list_id', 'subscriber_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async finish(listId: number, subscriberId: number, error: string | null): Promise<void> {
    await this.db
      .updateTable('welcome_sends')
      .set({ status: error ? 'failed' : 'sent', error, updated_at: this.clock().toISOString() })
      .where('list_id', '=', listId)
      .where('subscriber_id', '=', subscriberId)
      .execute();
  }

  async sent(listId: number): Promise<{ email: string; status: string; error: string | null; at: string }[]> {
    return (
      await this.db
        .selectFrom('welcome_sends as w')
        .innerJoin('subscribers as s', 's.id', 'w.subscriber_id')
        .select(['s.email', 'w.status', 'w.error', 'w.updated_at'])
        .where('w.list_id', '=', listId)
        .orderBy('w.updated_at', 'desc')
        .execute()
    ).map((r) => ({ email: r.email, status: r.status, error: r.error, at: r.updated_at }));
  }
}
