/**
 * Outbound webhooks (issue 13): endpoints, and one durable delivery row per (endpoint, event), retried until delivered
 * or given up. Events are found by scanning what the database already records (new subscribers by id; confirmations,
 * unsubscribes, suppressions, campaign starts and ends, failed sends by time), so every path that changes them (CLI,
 * web, imports, the engine) is covered without each having to remember to emit. A scan overlaps the previous one a
 * little, and the (endpoint, event key) pair is unique, so a late commit is still seen and nothing is sent twice.
 */
import { sql, type Generated, type Kysely, type Migration, type Selectable } from 'kysely';
import type { Database } from './schema.ts';
import { writeTransaction } from './write-transaction.ts';
import { idColumn } from './dialect.ts';

export const WEBHOOK_EVENTS = [
  'subscriber.created',
  'subscriber.confirmed',
  'subscriber.unsubscribed',
  'subscriber.bounced',
  'subscriber.complained',
  'campaign.started',
  'campaign.finished',
  'send.failed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookEndpointsTable {
  id: Generated<number>;
  url: string;
  secret: string;
  /** Comma-separated event types. */
  events: string;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  endpoint_id: number;
  event_key: string;
  event_type: string;
  payload: string;
  /** pending | delivered | failed */
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface WebhookScanStateTable {
  name: string;
  value: string;
}

export type WebhookTables = {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_scan_state: WebhookScanStateTable;
};

/** Migration 2026-12-04-deliv-webhooks. */
export const webhooksMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('webhook_endpoints')
      .addColumn('id', 'integer', (c) => idColumn(db, c))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'integer', (c) => idColumn(db, c))
      .addColumn('endpoint_id', 'integer', (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
      .addColumn('event_key', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('pending','delivered','failed')`))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addUniqueConstraint('webhook_deliveries_event', ['endpoint_id', 'event_key'])
      .execute();
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema
      .createTable('webhook_scan_state')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
    // Failed sends are found by time; only failed rows enter this index, so sending pays nothing for it.
    await sql`CREATE INDEX sends_failed_updated ON sends (updated_at) WHERE status = 'failed'`.execute(db);
    await sql`CREATE INDEX list_memberships_confirmed_at ON list_memberships (confirmed_at) WHERE confirmed_at IS NOT NULL`.execute(db);
    await sql`CREATE INDEX list_memberships_unsubscribed_at ON list_memberships (unsubscribed_at) WHERE unsubscribed_at IS NOT NULL`.execute(db);
  },
};

export interface WebhookEndpoint {
  readonly id: number;
  readonly url: string;
  readonly secret: string;
  readonly events: readonly WebhookEventType[];
  readonly createdAt: string;
}

export interface WebhookDelivery {
  readonly id: number;
  readonly endpointId: number;
  readonly eventKey: string;
  readonly eventType: string;
  readonly payload: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

export interface FoundEvent {
  readonly type: WebhookEventType;
  readonly key: string;
  readonly at: string;
  readonly data: Record<string, unknown>;
}

type Db = Kysely<Database & WebhookTables>;

function toEndpoint(r: { id: number; url: string; secret: string; events: string; created_at: string }): WebhookEndpoint {
  return { id: r.id, url: r.url, secret: r.secret, events: r.events.split(',').filter(Boolean) as WebhookEventType[], createdAt: r.created_at };
}

function toDelivery(r: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: r.id,
    endpointId: r.endpoint_id,
    eventKey: r.event_key,
    eventType: r.event_type,
    payload: r.payload,
    status: r.status as WebhookDelivery['status'],
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

/** A later scan starts this long before the previous one ended, so a transaction that committed late is still seen. */
const SCAN_OVERLAP_MS = 120_000;

export class WebhookStore {
  private readonly db: Db;
  constructor(
    db: Kysely<Database>,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = db.withTables<WebhookTables>();
  }

  private now(): string {
    return this.clock().toISOString();
  }

  async addEndpoint(url: string, secret: string, events: readonly WebhookEventType[]): Promise<WebhookEndpoint> {
    const createdAt = this.now();
    const row = await this.db.insertInto('webhook_endpoints').values({ url, secret, events: events.join(','), created_at: createdAt }).returning('id').executeTakeFirstOrThrow();
    return { id: row.id, url, secret, events, createdAt };
  }

  async listEndpoints(): Promise<WebhookEndpoint[]> {
    return (await this.db.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute()).map(toEndpoint);
  }

  async getEndpoint(id: number): Promise<WebhookEndpoint | null> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toEndpoint(row) : null;
  }

  async removeEndpoint(id: number): Promise<boolean> {
    return writeTransaction(this.db as unknown as Kysely<Database>, async (trx) => {
      const t = trx.withTables<WebhookTables>();
      await t.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
      const result = await t.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async deliveries(endpointId: number, limit = 50): Promise<WebhookDelivery[]> {
    const rows = await this.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toDelivery);
  }

  async counts(endpointId: number): Promise<Record<'pending' | 'delivered' | 'failed', number>> {
    const rows = await this.db.selectFrom('webhook_deliveries').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).where('endpoint_id', '=', endpointId).groupBy('status').execute();
    const of = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
    return { pending: of('pending'), delivered: of('delivered'), failed: of('failed') };
  }

  /** Deliveries due at `now`, oldest first. */
  async due(limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.db.selectFrom('webhook_deliveries').selectAll().where('status', '=', 'pending').where('next_attempt_at', '<=', this.now()).orderBy('next_attempt_at').orderBy('id').limit(limit).execute();
    return rows.map(toDelivery);
  }

  async recordAttempt(id: number, outcome: { delivered: boolean; status: number | null; error: string | null; nextAttemptAt: string | null }): Promise<void> {
    const now = this.now();
    await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        last_status: outcome.status,
        last_error: outcome.error?.slice(0, 500) ?? null,
        status: outcome.delivered ? 'delivered' : outcome.nextAttemptAt ? 'pending' : 'failed',
        next_attempt_at: outcome.nextAttemptAt ?? now,
        finished_at: outcome.delivered || !outcome.nextAttemptAt ? now : null,
      }))
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }

  /** Finds the events since the last scan and queues one delivery per endpoint that wants each (after its creation). Returns how many were queued. */
  async scanAndQueue(): Promise<number> {
    const endpoints = await this.listEndpoints();
    if (endpoints.length === 0) return 0;
    const now = this.now();
    const state = new Map((await this.db.selectFrom('webhook_scan_state').selectAll().execute()).map((r) => [r.name, r.value]));
    const earliest = endpoints.reduce((min, e) => (e.createdAt < min ? e.createdAt : min), endpoints[0]!.createdAt);
    const scannedUntil = state.get('scanned_until');
    const since = scannedUntil ? new Date(Math.max(new Date(scannedUntil).getTime() - SCAN_OVERLAP_MS, new Date(earliest).getTime())).toISOString() : earliest;
    const lastSubscriberId = Number(state.get('last_subscriber_id') ?? '0');
    const { events, maxSubscriberId } = await this.findEvents(since, lastSubscriberId);
    let queued = 0;
    await writeTransaction(this.db as unknown as Kysely<Database>, async (trx) => {
      const t = trx.withTables<WebhookTables>();
      for (const event of events) {
        const payload = JSON.stringify({ type: event.type, timestamp: event.at, data: event.data });
        for (const endpoint of endpoints) {
          if (!endpoint.events.includes(event.type) || event.at < endpoint.createdAt) continue;
          const result = await t
            .insertInto('webhook_deliveries')
            .values({ endpoint_id: endpoint.id, event_key: event.key, event_type: event.type, payload, status: 'pending', attempts: 0, next_attempt_at: now, created_at: now })
            .onConflict((oc) => oc.columns(['endpoint_id', 'event_key']).doNothing())
            .executeTakeFirst();
          queued += Number(result.numInsertedOrUpdatedRows ?? 0);
        }
      }
      for (const [name, value] of [
        ['scanned_until', now],
        ['last_subscriber_id', String(maxSubscriberId)],
      ] as const) {
        await t.insertInto('webhook_scan_state').values({ name, value }).onConflict((oc) => oc.column('name').doUpdateSet({ value })).execute();
      }
    });
    return queued;
  }

  private async findEvents(since: string, lastSubscriberId: number): Promise<{ events: FoundEvent[]; maxSubscriberId: number }> {
    const events: FoundEvent[] = [];
    const created = await this.db.selectFrom('subscribers').select(['id', 'email', 'name', 'status', 'created_at']).where('id', '>', lastSubscriberId).orderBy('id').limit(10_000).execute();
    let maxSubscriberId = lastSubscriberId;
    for (const s of created) {
      maxSubscriberId = s.id;
      events.push({ type: 'subscriber.created', key: `subscriber.created:${s.id}`, at: s.created_at, data: { subscriber: { id: s.id, email: s.email, name: s.name, status: s.status } } });
    }
    const memberships = (column: 'confirmed_at' | 'unsubscribed_at') =>
      this.db
        .selectFrom('list_memberships as m')
        .innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
        .innerJoin('lists as l', 'l.id', 'm.list_id')
        .select(['s.id', 's.email', 'l.name as list', `m.${column} as at`])
        .where(`m.${column}`, '>=', since)
        .execute();
    for (const m of await memberships('confirmed_at')) {
      if (m.at) events.push({ type: 'subscriber.confirmed', key: `subscriber.confirmed:${m.id}:${m.list}:${m.at}`, at: m.at, data: { subscriber: { id: m.id, email: m.email }, list: m.list } });
    }
    for (const m of await memberships('unsubscribed_at')) {
      if (m.at) events.push({ type: 'subscriber.unsubscribed', key: `subscriber.unsubscribed:${m.id}:${m.list}:${m.at}`, at: m.at, data: { subscriber: { id: m.id, email: m.email }, list: m.list } });
    }
    const suppressions = await this.db.selectFrom('suppressions').select(['email_hash', 'email', 'reason', 'detail', 'created_at']).where('created_at', '>=', since).where('reason', 'in', ['hard-bounce', 'soft-bounces', 'complaint']).execute();
    for (const s of suppressions) {
      const type: WebhookEventType = s.reason === 'complaint' ? 'subscriber.complained' : 'subscriber.bounced';
      events.push({ type, key: `${type}:${s.email_hash}:${s.created_at}`, at: s.created_at, data: { email: s.email, reason: s.reason, detail: s.detail } });
    }
    const campaigns = await this.db
      .selectFrom('campaigns')
      .innerJoin('newsletters', 'newsletters.id', 'campaigns.newsletter_id')
      .select(['campaigns.id', 'campaigns.status', 'campaigns.started_at', 'campaigns.finished_at', 'newsletters.slug'])
      .where((eb) => eb.or([eb('campaigns.started_at', '>=', since), eb('campaigns.finished_at', '>=', since)]))
      .execute();
    for (const c of campaigns) {
      if (c.started_at && c.started_at >= since) events.push({ type: 'campaign.started', key: `campaign.started:${c.id}:${c.started_at}`, at: c.started_at, data: { campaign: { id: c.id, newsletter: c.slug } } });
      if (c.finished_at && c.finished_at >= since) events.push({ type: 'campaign.finished', key: `campaign.finished:${c.id}`, at: c.finished_at, data: { campaign: { id: c.id, newsletter: c.slug, status: c.status } } });
    }
    const failed = await this.db.selectFrom('sends').select(['campaign_id', 'subscriber_id', 'email', 'smtp_response', 'error', 'updated_at']).where('status', '=', 'failed').where('updated_at', '>=', since).limit(10_000).execute();
    for (const f of failed) {
      events.push({ type: 'send.failed', key: `send.failed:${f.campaign_id}:${f.subscriber_id}:${f.updated_at}`, at: f.updated_at, data: { campaign: { id: f.campaign_id }, subscriber: { id: f.subscriber_id, email: f.email }, smtpResponse: f.smtp_response, error: f.error } });
    }
    events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    return { events, maxSubscriberId };
  }
}
