/**
 * Opt-in open and click tracking (issue 13), privacy first: a newsletter's switches (all off by default), the links a
 * campaign's messages point through, and counted hits. A hit keeps no IP and no user agent: only the campaign, the
 * link, whether it looked like a machine (Apple Mail Privacy Protection, link scanners) and when; and the subscriber
 * only while the newsletter's third switch (per-subscriber data) is on. Erasure clears that link to the person.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Database } from './schema.ts';

export interface NewsletterTrackingTable {
  newsletter_id: number;
  opens: number;
  clicks: number;
  /** 1: hits keep the subscriber (migration 2026-12-04-deliv2-tracking-people). */
  people: number;
  updated_at: string;
}

export interface TrackedLinksTable {
  campaign_id: number;
  position: number;
  url: string;
}

export interface TrackingHitsTable {
  campaign_id: number;
  /** open | click */
  kind: string;
  /** The link's position for a click; -1 for an open. */
  position: number;
  machine: number;
  /** Only while the newsletter keeps per-subscriber data; null otherwise and once the person is erased. */
  subscriber_id: number | null;
  created_at: string;
}

export type TrackingTables = { newsletter_tracking: NewsletterTrackingTable; tracked_links: TrackedLinksTable; tracking_hits: TrackingHitsTable };

/** Migration 2026-12-04-deliv-tracking. */
export const trackingMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('newsletter_tracking')
      .addColumn('newsletter_id', 'integer', (c) => c.primaryKey().references('newsletters.id').onDelete('cascade'))
      .addColumn('opens', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('clicks', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('tracked_links')
      .addColumn('campaign_id', 'integer', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('tracked_links_pk', ['campaign_id', 'position'])
      .execute();
    await db.schema
      .createTable('tracking_hits')
      .addColumn('campaign_id', 'integer', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('open','click')`))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('machine', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('tracking_hits_campaign').on('tracking_hits').columns(['campaign_id', 'kind']).execute();
  },
};

/** Migration 2026-12-04-deliv2-tracking-people: the per-subscriber switch, and the subscriber of a hit. */
export const trackingPeopleMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('newsletter_tracking').addColumn('people', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('tracking_hits').addColumn('subscriber_id', 'integer').execute();
    await db.schema.createIndex('tracking_hits_subscriber').on('tracking_hits').column('subscriber_id').execute();
  },
};

export interface TrackingSettings {
  readonly opens: boolean;
  readonly clicks: boolean;
  /** Per-subscriber data (who opened, who clicked): off by default; aggregate counts only while off. */
  readonly people: boolean;
}

/** Human hits (`human`, every one), the people behind them (`people`: null while per-subscriber data is off), and machine hits apart. */
export interface HitCounts {
  readonly human: number;
  readonly machine: number;
  readonly people: number | null;
}

export interface TrackingCounts {
  readonly opens: HitCounts;
  readonly clicks: HitCounts;
  readonly links: readonly { readonly url: string; readonly human: number; readonly machine: number }[];
}

type Db = Kysely<Database & TrackingTables>;

export class TrackingStore {
  private readonly db: Db;
  constructor(
    db: Kysely<Database>,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = db.withTables<TrackingTables>();
  }

  async settings(newsletterId: number): Promise<TrackingSettings> {
    const row = await this.db.selectFrom('newsletter_tracking').selectAll().where('newsletter_id', '=', newsletterId).executeTakeFirst();
    return { opens: row?.opens === 1, clicks: row?.clicks === 1, people: row?.people === 1 };
  }

  /** Whether the campaign's newsletter keeps per-subscriber data now. */
  async keepsPeople(campaignId: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('campaigns')
      .innerJoin('newsletter_tracking', 'newsletter_tracking.newsletter_id', 'campaigns.newsletter_id')
      .select('newsletter_tracking.people')
      .where('campaigns.id', '=', campaignId)
      .executeTakeFirst();
    return row?.people === 1;
  }

  async setSettings(newsletterId: number, settings: Partial<TrackingSettings>): Promise<TrackingSettings> {
    const current = await this.settings(newsletterId);
    const next = { opens: settings.opens ?? current.opens, clicks: settings.clicks ?? current.clicks, people: settings.people ?? current.people };
    const values = { opens: next.opens ? 1 : 0, clicks: next.clicks ? 1 : 0, people: next.people ? 1 : 0, updated_at: this.clock().toISOString() };
    await this.db.insertInto('newsletter_tracking').values({ newsletter_id: newsletterId, ...values }).onConflict((oc) => oc.column('newsletter_id').doUpdateSet(values)).execute();
    return next;
  }

  /** Records a campaign's links (the same positions each time the campaign is prepared again). */
  async saveLinks(campaignId: number, urls: readonly string[]): Promise<void> {
    for (const [position, url] of urls.entries()) {
      await this.db.insertInto('tracked_links').values({ campaign_id: campaignId, position, url }).onConflict((oc) => oc.columns(['campaign_id', 'position']).doNothing()).execute();
    }
  }

  async link(campaignId: number, position: number): Promise<string | null> {
    const row = await this.db.selectFrom('tracked_links').select('url').where('campaign_id', '=', campaignId).where('position', '=', position).executeTakeFirst();
    return row?.url ?? null;
  }

  /** `subscriberId`: only when the newsletter keeps per-subscriber data (the caller checks keepsPeople); kept only if the person still exists. */
  async hit(campaignId: number, kind: 'open' | 'click', position: number, machine: boolean, subscriberId: number | null = null): Promise<void> {
    const person = subscriberId === null ? undefined : await this.db.selectFrom('subscribers').select('id').where('id', '=', subscriberId).executeTakeFirst();
    await this.db.insertInto('tracking_hits').values({ campaign_id: campaignId, kind, position, machine: machine ? 1 : 0, subscriber_id: person?.id ?? null, created_at: this.clock().toISOString() }).execute();
  }

  /** `people`: count the people behind human hits (the newsletter keeps per-subscriber data); null otherwise. */
  async counts(campaignId: number, people = false): Promise<TrackingCounts> {
    const unique = people
      ? await this.db
          .selectFrom('tracking_hits')
          .select(['kind', (eb) => eb.fn.count<number>('subscriber_id').distinct().as('n')])
          .where('campaign_id', '=', campaignId)
          .where('machine', '=', 0)
          .where('subscriber_id', 'is not', null)
          .groupBy('kind')
          .execute()
      : [];
    const peopleOf = (kind: string): number | null => (people ? Number(unique.find((r) => r.kind === kind)?.n ?? 0) : null);
    const rows = await this.db
      .selectFrom('tracking_hits')
      .select(['kind', 'position', 'machine', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', campaignId)
      .groupBy(['kind', 'position', 'machine'])
      .execute();
    const sum = (kind: string, machine: number) => rows.filter((r) => r.kind === kind && r.machine === machine).reduce((a, r) => a + Number(r.n), 0);
    const links = await this.db.selectFrom('tracked_links').select(['position', 'url']).where('campaign_id', '=', campaignId).orderBy('position').execute();
    return {
      opens: { human: sum('open', 0), machine: sum('open', 1), people: peopleOf('open') },
      clicks: { human: sum('click', 0), machine: sum('click', 1), people: peopleOf('click') },
      links: links.map((l) => ({
        url: l.url,
        human: Number(rows.find((r) => r.kind === 'click' && r.position === l.position && r.machine === 0)?.n ?? 0),
        machine: Number(rows.find((r) => r.kind === 'click' && r.position === l.position && r.machine === 1)?.n ?? 0),
      })),
    };
  }
}

/** Right of access (`subscribers export`): the person's own opens and clicks (kept only while per-subscriber data was on). */
export async function trackingDataOf(db: Kysely<Database>, subscriberId: number): Promise<{ campaignId: number; kind: string; url: string | null; machine: boolean; at: string }[]> {
  const t = db.withTables<TrackingTables>();
  const rows = await t
    .selectFrom('tracking_hits as h')
    .leftJoin('tracked_links as l', (join) => join.onRef('l.campaign_id', '=', 'h.campaign_id').onRef('l.position', '=', 'h.position'))
    .select(['h.campaign_id', 'h.kind', 'l.url', 'h.machine', 'h.created_at'])
    .where('h.subscriber_id', '=', subscriberId)
    .orderBy('h.created_at')
    .execute();
  return rows.map((r) => ({ campaignId: r.campaign_id, kind: r.kind, url: r.kind === 'click' ? (r.url ?? null) : null, machine: r.machine === 1, at: r.created_at }));
}

/** Erasure: the person's hits stay counted, for nobody. */
export async function eraseTrackingData(db: Kysely<Database>, subscriberId: number): Promise<void> {
  await db.withTables<TrackingTables>().updateTable('tracking_hits').set({ subscriber_id: null }).where('subscriber_id', '=', subscriberId).execute();
}
