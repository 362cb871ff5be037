/**
 * What happens after the 250 (issue 13): bounces and complaints, each linked to its send row when it can be, the
 * suppression list as the operator manages it (addresses and whole domains), and the IMAP mailbox's read position.
 */
import { sql, type Generated, type Kysely, type Migration } from 'kysely';
import type { SuppressionReason } from '../core/domain.ts';
import type { Database } from './schema.ts';
import { hashEmail } from './suppression.ts';
import { writeTransaction } from './write-transaction.ts';
import { idColumn } from './dialect.ts';

export interface DeliveryEventsTable {
  id: Generated<number>;
  campaign_id: number | null;
  subscriber_id: number | null;
  email: string;
  /** hard-bounce | soft-bounce | complaint */
  kind: string;
  /** Enhanced status code (5.1.1), or the complaint's feedback type (abuse). */
  status: string;
  detail: string;
  /** imap | smtp | ses | postmark | sendgrid | mailgun | test */
  source: string;
  /** The report as received (a DSN or ARF message, or a provider's JSON), kept for the operator; capped. */
  report: string;
  /** One report counts once, however often it is read (a mailbox polled twice, a webhook retried). */
  dedupe_key: string;
  /** What was done: suppressed | counted | unsubscribed | unmatched */
  action: string;
  created_at: string;
}

export interface SuppressedDomainsTable {
  domain: string;
  reason: string;
  detail: string;
  created_at: string;
}

export interface BounceMailboxStateTable {
  mailbox: string;
  uid_validity: string;
  last_uid: number;
  updated_at: string;
}

// A type alias (not an interface) so Kysely's withTables accepts it.
export type DeliverabilityTables = {
  delivery_events: DeliveryEventsTable;
  suppressed_domains: SuppressedDomainsTable;
  bounce_mailbox_state: BounceMailboxStateTable;
};

/** Migration 2026-12-04-deliv-bounces. */
export const deliverabilityMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('delivery_events')
      .addColumn('id', 'integer', (c) => idColumn(db, c))
      .addColumn('campaign_id', 'integer')
      .addColumn('subscriber_id', 'integer')
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('hard-bounce','soft-bounce','complaint')`))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('report', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('delivery_events_campaign').on('delivery_events').columns(['campaign_id', 'kind']).execute();
    await db.schema.createIndex('delivery_events_email').on('delivery_events').columns(['email', 'kind', 'created_at']).execute();
    await db.schema
      .createTable('suppressed_domains')
      .addColumn('domain', 'text', (c) => c.primaryKey())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('bounce_mailbox_state')
      .addColumn('mailbox', 'text', (c) => c.primaryKey())
      .addColumn('uid_validity', 'text', (c) => c.notNull())
      .addColumn('last_uid', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
  },
};

export type DeliveryEventKind = 'hard-bounce' | 'soft-bounce' | 'complaint';

export interface DeliveryEventInput {
  readonly kind: DeliveryEventKind;
  readonly email: string;
  readonly campaignId: number | null;
  readonly subscriberId: number | null;
  readonly status: string;
  readonly detail: string;
  readonly source: string;
  readonly report: string;
  readonly dedupeKey: string;
}

export interface SoftBouncePolicy {
  readonly limit: number;
  readonly windowDays: number;
}

export type DeliveryEventAction = 'suppressed' | 'counted' | 'unsubscribed' | 'unmatched' | 'duplicate';

export interface DeliveryEvent {
  readonly id: number;
  readonly campaignId: number | null;
  readonly subscriberId: number | null;
  readonly email: string;
  readonly kind: DeliveryEventKind;
  readonly status: string;
  readonly detail: string;
  readonly source: string;
  readonly action: string;
  readonly createdAt: string;
}

export interface SendRowRef {
  readonly campaignId: number;
  readonly subscriberId: number;
  readonly email: string;
  readonly messageId: string | null;
}

export interface SuppressionEntry {
  /** An address, or `@domain` for a whole domain. */
  readonly target: string;
  readonly kind: 'address' | 'domain';
  readonly reason: string;
  readonly detail: string;
  readonly createdAt: string;
}

export interface DeliveryCounts {
  readonly hardBounces: number;
  readonly softBounces: number;
  readonly complaints: number;
}

const REPORT_MAX_CHARS = 64 * 1024;

type Db = Kysely<Database & DeliverabilityTables>;

function toEvent(r: { id: number; campaign_id: number | null; subscriber_id: number | null; email: string; kind: string; status: string; detail: string; source: string; action: string; created_at: string }): DeliveryEvent {
  return {
    id: r.id,
    campaignId: r.campaign_id,
    subscriberId: r.subscriber_id,
    email: r.email,
    kind: r.kind as DeliveryEventKind,
    status: r.status,
    detail: r.detail,
    source: r.source,
    action: r.action,
    createdAt: r.created_at,
  };
}

export function domainPart(email: string): string {
  const at = email.lastIndexOf('@');
  return at >= 0 ? email.slice(at + 1).toLowerCase() : '';
}

export class DeliverabilityStore {
  private readonly db: Db;
  constructor(
    db: Kysely<Database>,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = db.withTables<DeliverabilityTables>();
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private tx<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    return writeTransaction(this.db as unknown as Kysely<Database>, (trx) => fn(trx.withTables<DeliverabilityTables>()));
  }

  /** The send row (campaign, subscriber), when it exists. */
  async findSend(campaignId: number, subscriberId: number): Promise<SendRowRef | null> {
    const row = await this.db
      .selectFrom('sends')
      .select(['campaign_id', 'subscriber_id', 'email', 'message_id'])
      .where('campaign_id', '=', campaignId)
      .where('subscriber_id', '=', subscriberId)
      .executeTakeFirst();
    return row ? { campaignId: row.campaign_id, subscriberId: row.subscriber_id, email: row.email, messageId: row.message_id } : null;
  }

  /** The latest send row that was accepted for this address (a provider event that names only the address). */
  async latestSendTo(email: string): Promise<SendRowRef | null> {
    const row = await this.db
      .selectFrom('sends')
      .select(['campaign_id', 'subscriber_id', 'email', 'message_id'])
      .where('email', '=', email.toLowerCase())
      .where('status', '=', 'sent')
      .orderBy('updated_at', 'desc')
      .orderBy('campaign_id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? { campaignId: row.campaign_id, subscriberId: row.subscriber_id, email: row.email, messageId: row.message_id } : null;
  }

  /**
   * Records a bounce or a complaint and applies its rule in the same transaction: a hard bounce suppresses the
   * address at once, soft bounces do after `policy.limit` of them within `policy.windowDays`, and a complaint
   * unsubscribes the person from every list and suppresses them. A report seen before changes nothing ('duplicate').
   */
  async recordEvent(input: DeliveryEventInput, policy: SoftBouncePolicy): Promise<DeliveryEventAction> {
    return this.tx(async (trx) => {
      const now = this.now();
      const seen = await trx.selectFrom('delivery_events').select('id').where('dedupe_key', '=', input.dedupeKey).executeTakeFirst();
      if (seen) return 'duplicate';
      const email = input.email.toLowerCase();
      let action: Exclude<DeliveryEventAction, 'duplicate'>;
      if (input.kind === 'hard-bounce') {
        await this.suppressIn(trx, email, 'hard-bounce', `${input.status} ${input.detail}`.trim(), now, 'bounced');
        action = 'suppressed';
      } else if (input.kind === 'complaint') {
        await this.complainIn(trx, email, `${input.source}: ${input.status}`, now);
        action = 'unsubscribed';
      } else {
        const since = new Date(this.clock().getTime() - policy.windowDays * 86_400_000).toISOString();
        const row = await trx
          .selectFrom('delivery_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('email', '=', email)
          .where('kind', '=', 'soft-bounce')
          .where('created_at', '>=', since)
          .executeTakeFirst();
        const count = Number(row?.n ?? 0) + 1;
        if (count >= policy.limit) {
          await this.suppressIn(trx, email, 'soft-bounces', `${count} soft bounces within ${policy.windowDays} day(s), the last ${input.status} ${input.detail}`.trim(), now, 'bounced');
          action = 'suppressed';
        } else {
          action = 'counted';
        }
      }
      await trx
        .insertInto('delivery_events')
        .values({
          campaign_id: input.campaignId,
          subscriber_id: input.subscriberId,
          email,
          kind: input.kind,
          status: input.status,
          detail: input.detail.slice(0, 1000),
          source: input.source,
          report: input.report.slice(0, REPORT_MAX_CHARS),
          dedupe_key: input.dedupeKey,
          action,
          created_at: now,
        })
        .execute();
      return action;
    });
  }

  private async suppressIn(trx: Db, email: string, reason: SuppressionReason, detail: string, now: string, status: 'bounced' | 'complained' | null): Promise<void> {
    await trx
      .insertInto('suppressions')
      .values({ email_hash: hashEmail(email), email, reason, detail: detail.slice(0, 1000), created_at: now })
      .onConflict((oc) => oc.column('email_hash').doNothing())
      .execute();
    if (status) await trx.updateTable('subscribers').set({ status, updated_at: now }).where('email', '=', email).execute();
  }

  private async complainIn(trx: Db, email: string, detail: string, now: string): Promise<void> {
    const subscriber = await trx.selectFrom('subscribers').select('id').where('email', '=', email).executeTakeFirst();
    if (subscriber) {
      await trx
        .updateTable('list_memberships')
        .set({ status: 'unsubscribed', unsubscribed_at: now, updated_at: now })
        .where('subscriber_id', '=', subscriber.id)
        .where('status', '<>', 'unsubscribed')
        .execute();
    }
    // A complaint outranks any earlier reason: the row is replaced so the list shows why.
    await trx.deleteFrom('suppressions').where('email_hash', '=', hashEmail(email)).execute();
    await this.suppressIn(trx, email, 'complaint', detail, now, 'complained');
  }

  async eventsForCampaign(campaignId: number, limit = 200): Promise<DeliveryEvent[]> {
    const rows = await this.db.selectFrom('delivery_events').selectAll().where('campaign_id', '=', campaignId).orderBy('id').limit(limit).execute();
    return rows.map(toEvent);
  }

  async eventsForEmail(email: string, limit = 200): Promise<DeliveryEvent[]> {
    const rows = await this.db.selectFrom('delivery_events').selectAll().where('email', '=', email.toLowerCase()).orderBy('id').limit(limit).execute();
    return rows.map(toEvent);
  }

  /** The report kept with an event (the DSN/ARF message or provider JSON). */
  async eventReport(id: number): Promise<string | null> {
    const row = await this.db.selectFrom('delivery_events').select('report').where('id', '=', id).executeTakeFirst();
    return row?.report ?? null;
  }

  async countsForCampaign(campaignId: number): Promise<DeliveryCounts> {
    const rows = await this.db
      .selectFrom('delivery_events')
      .select(['kind', (eb) => eb.fn.count<number>('subscriber_id').distinct().as('n')])
      .where('campaign_id', '=', campaignId)
      .groupBy('kind')
      .execute();
    const of = (kind: string) => Number(rows.find((r) => r.kind === kind)?.n ?? 0);
    return { hardBounces: of('hard-bounce'), softBounces: of('soft-bounce'), complaints: of('complaint') };
  }

  // ---- Suppression as the operator manages it -------------------------------------------------------------

  /** Suppresses an address (`someone@example.com`) or a whole domain (`@example.com` or `example.com`). False: already there. */
  async addSuppression(target: string, reason: string, detail = ''): Promise<boolean> {
    return this.tx(async (trx) => {
      const now = this.now();
      if (!target.includes('@') || target.startsWith('@')) {
        const domain = target.replace(/^@/, '').toLowerCase();
        const result = await trx.insertInto('suppressed_domains').values({ domain, reason, detail, created_at: now }).onConflict((oc) => oc.column('domain').doNothing()).executeTakeFirst();
        return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
      }
      const email = target.toLowerCase();
      const existing = await trx.selectFrom('suppressions').select('reason').where('email_hash', '=', hashEmail(email)).executeTakeFirst();
      if (existing) return false;
      await trx.insertInto('suppressions').values({ email_hash: hashEmail(email), email, reason, detail, created_at: now }).execute();
      return true;
    });
  }

  /** Lifts a suppression; the person's memberships stay as they are (an unsubscribed person stays unsubscribed). */
  async removeSuppression(target: string): Promise<boolean> {
    return this.tx(async (trx) => {
      if (!target.includes('@') || target.startsWith('@')) {
        const result = await trx.deleteFrom('suppressed_domains').where('domain', '=', target.replace(/^@/, '').toLowerCase()).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      }
      const email = target.toLowerCase();
      const result = await trx.deleteFrom('suppressions').where('email_hash', '=', hashEmail(email)).executeTakeFirst();
      // A person marked bounced or complained only because of that suppression may be mailed again.
      await trx.updateTable('subscribers').set({ status: 'active', updated_at: this.now() }).where('email', '=', email).where('status', 'in', ['bounced', 'complained']).execute();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async listSuppressions(options: { reason?: string; limit?: number } = {}): Promise<SuppressionEntry[]> {
    let domains = this.db.selectFrom('suppressed_domains').selectAll();
    let addresses = this.db.selectFrom('suppressions').selectAll().where('email', 'is not', null);
    if (options.reason) {
      domains = domains.where('reason', '=', options.reason);
      addresses = addresses.where('reason', '=', options.reason);
    }
    const limit = options.limit ?? 1000;
    const d = await domains.orderBy('domain').limit(limit).execute();
    const a = await addresses.orderBy('created_at').orderBy('email').limit(limit).execute();
    return [
      ...d.map((r) => ({ target: `@${r.domain}`, kind: 'domain' as const, reason: r.reason, detail: r.detail, createdAt: r.created_at })),
      ...a.map((r) => ({ target: r.email ?? '', kind: 'address' as const, reason: r.reason, detail: r.detail, createdAt: r.created_at })),
    ];
  }

  async isDomainSuppressed(email: string): Promise<boolean> {
    const row = await this.db.selectFrom('suppressed_domains').select('domain').where('domain', '=', domainPart(email)).executeTakeFirst();
    return row !== undefined;
  }

  // ---- The bounce mailbox's read position ----------------------------------------------------------------

  async mailboxState(mailbox: string): Promise<{ uidValidity: string; lastUid: number } | null> {
    const row = await this.db.selectFrom('bounce_mailbox_state').selectAll().where('mailbox', '=', mailbox).executeTakeFirst();
    return row ? { uidValidity: row.uid_validity, lastUid: row.last_uid } : null;
  }

  async saveMailboxState(mailbox: string, uidValidity: string, lastUid: number): Promise<void> {
    const now = this.now();
    await this.db
      .insertInto('bounce_mailbox_state')
      .values({ mailbox, uid_validity: uidValidity, last_uid: lastUid, updated_at: now })
      .onConflict((oc) => oc.column('mailbox').doUpdateSet({ uid_validity: uidValidity, last_uid: lastUid, updated_at: now }))
      .execute();
  }
}

export interface SendHistoryRow {
  readonly campaignId: number;
  readonly newsletter: string;
  readonly issueNumber: number;
  readonly status: string;
  readonly attempts: number;
  readonly smtpResponse: string | null;
  readonly error: string | null;
  readonly at: string;
}

export interface CampaignDeliveryStats {
  readonly accepted: number;
  readonly delivered: number;
  readonly deferred: number;
  readonly failedAtSend: number;
  readonly hardBounces: number;
  readonly softBounces: number;
  readonly complaints: number;
  readonly unsubscribes: number;
}

/** Read-side queries over sends (kept here so the hub store stays as it is). */
export class DeliveryReports {
  private readonly db: Db;
  constructor(db: Kysely<Database>) {
    this.db = db.withTables<DeliverabilityTables>();
  }

  /** Every campaign send to this address, newest first. */
  async sendHistory(email: string, limit = 100): Promise<SendHistoryRow[]> {
    const rows = await this.db
      .selectFrom('sends')
      .innerJoin('campaigns', 'campaigns.id', 'sends.campaign_id')
      .innerJoin('issues', 'issues.id', 'campaigns.issue_id')
      .innerJoin('newsletters', 'newsletters.id', 'campaigns.newsletter_id')
      .select(['sends.campaign_id', 'newsletters.slug', 'issues.number', 'sends.status', 'sends.attempts', 'sends.smtp_response', 'sends.error', 'sends.updated_at'])
      .where('sends.email', '=', email.toLowerCase())
      .orderBy('sends.campaign_id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ campaignId: r.campaign_id, newsletter: r.slug, issueNumber: r.number, status: r.status, attempts: r.attempts, smtpResponse: r.smtp_response, error: r.error, at: r.updated_at }));
  }

  /**
   * A campaign's numbers: accepted by the relay (250), delivered (accepted and not bounced since), deferred (waiting
   * to be retried now, or a soft bounce after the 250), failed during the SMTP transaction, bounces after the 250 by
   * kind, complaints, and unsubscribes (members of its list who unsubscribed after their message was accepted).
   */
  async campaignStats(campaignId: number): Promise<CampaignDeliveryStats> {
    const sendRows = await this.db.selectFrom('sends').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).where('campaign_id', '=', campaignId).groupBy('status').execute();
    const of = (status: string) => Number(sendRows.find((r) => r.status === status)?.n ?? 0);
    const events = await this.db
      .selectFrom('delivery_events')
      .select(['kind', (eb) => eb.fn.count<number>('email').distinct().as('n')])
      .where('campaign_id', '=', campaignId)
      .groupBy('kind')
      .execute();
    const ev = (kind: string) => Number(events.find((r) => r.kind === kind)?.n ?? 0);
    const unsub = await this.db
      .selectFrom('sends')
      .innerJoin('campaigns', 'campaigns.id', 'sends.campaign_id')
      .innerJoin('list_memberships as m', (join) => join.onRef('m.subscriber_id', '=', 'sends.subscriber_id').onRef('m.list_id', '=', 'campaigns.list_id'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sends.campaign_id', '=', campaignId)
      .where('sends.status', '=', 'sent')
      .where('m.status', '=', 'unsubscribed')
      .whereRef('m.unsubscribed_at', '>=', 'sends.updated_at')
      .executeTakeFirst();
    const accepted = of('sent');
    return {
      accepted,
      delivered: Math.max(0, accepted - ev('hard-bounce')),
      deferred: of('deferred') + ev('soft-bounce'),
      failedAtSend: of('failed'),
      hardBounces: ev('hard-bounce'),
      softBounces: ev('soft-bounce'),
      complaints: ev('complaint'),
      unsubscribes: Number(unsub?.n ?? 0),
    };
  }
}

/**
 * Erasure (`subscribers erase`): the bounce and complaint events about an address, and the outbound webhook payloads
 * that name it, are deleted in the erasure's transaction. The suppression itself stays, hashed (the caller keeps it).
 */
export async function eraseDeliverabilityData(db: Kysely<Database>, email: string): Promise<void> {
  await sql`DELETE FROM delivery_events WHERE email = ${email}`.execute(db);
  const needle = `%${JSON.stringify(email).slice(1, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  await sql`DELETE FROM webhook_deliveries WHERE payload LIKE ${needle} ESCAPE '\\'`.execute(db);
}

/** Right of access (`subscribers export`): every bounce and complaint about an address, with the report as received. */
export async function deliverabilityDataOf(db: Kysely<Database>, email: string): Promise<Record<string, unknown>[]> {
  const rows = await db
    .withTables<DeliverabilityTables>()
    .selectFrom('delivery_events')
    .select(['campaign_id', 'kind', 'status', 'detail', 'source', 'action', 'report', 'created_at'])
    .where('email', '=', email)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ campaignId: r.campaign_id, kind: r.kind, status: r.status, detail: r.detail, source: r.source, action: r.action, report: r.report, createdAt: r.created_at }));
}

/** One address's suppression (if any) and its bounces and complaints, oldest first: what GET /subscribers/{id} shows. */
export async function deliveryHistoryOf(
  db: Kysely<Database>,
  email: string,
): Promise<{ suppression: { reason: string; detail: string; createdAt: string } | null; deliveryEvents: Omit<DeliveryEvent, 'id' | 'subscriberId' | 'email'>[] }> {
  const address = email.toLowerCase();
  const own = await db.selectFrom('suppressions').select(['reason', 'detail', 'created_at']).where('email_hash', '=', hashEmail(address)).executeTakeFirst();
  const domain = own ? undefined : await db.withTables<DeliverabilityTables>().selectFrom('suppressed_domains').select(['reason', 'detail', 'created_at']).where('domain', '=', domainPart(address)).executeTakeFirst();
  const row = own ?? domain;
  const events = await new DeliverabilityStore(db).eventsForEmail(address);
  return {
    suppression: row ? { reason: row.reason, detail: domain ? `every address at @${domainPart(address)}${row.detail ? `: ${row.detail}` : ''}` : row.detail, createdAt: row.created_at } : null,
    deliveryEvents: events.map((e) => ({ campaignId: e.campaignId, kind: e.kind, status: e.status, detail: e.detail, source: e.source, action: e.action, createdAt: e.createdAt })),
  };
}
