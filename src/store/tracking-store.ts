/**
 * Opt-in open and click tracking (issue 13), privacy first: a newsletter's switches (both off by default), the links a
 * campaign's messages point through, and counted hits. A hit keeps no IP, no user agent and no subscriber: only the
 * campaign, the link, whether it looked like a machine (Apple Mail Privacy Protection, link scanners) and when.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Database } from './schema.ts';

export interface NewsletterTrackingTable {
  newsletter_id: number;
  opens: number;
  clicks: number;
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

export interface TrackingSettings {
  readonly opens: boolean;
  readonly clicks: boolean;
}

export interface TrackingCounts {
  readonly opens: { readonly human: number; readonly machine: number };
  readonly clicks: { readonly human: number; readonly machine: number };
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
    return { opens: row?.opens === 1, clicks: row?.clicks === 1 };
  }

  async setSettings(newsletterId: number, settings: Partial<TrackingSettings>): Promise<TrackingSettings> {
    const current = await this.settings(newsletterId);
    const next = { opens: settings.opens ?? current.opens, clicks: settings.clicks ?? current.clicks };
    const values = { opens: next.opens ? 1 : 0, clicks: next.clicks ? 1 : 0, updated_at: this.clock().toISOString() };
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

  async hit(campaignId: number, kind: 'open' | 'click', position: number, machine: boolean): Promise<void> {
    await this.db.insertInto('tracking_hits').values({ campaign_id: campaignId, kind, position, machine: machine ? 1 : 0, created_at: this.clock().toISOString() }).execute();
  }

  async counts(campaignId: number): Promise<TrackingCounts> {
    const rows = await this.db
      .selectFrom('tracking_hits')
      .select(['kind', 'position', 'machine', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', campaignId)
      .groupBy(['kind', 'position', 'machine'])
      .execute();
    const sum = (kind: string, machine: number) => rows.filter((r) => r.kind === kind && r.machine === machine).reduce((a, r) => a + Number(r.n), 0);
    const links = await this.db.selectFrom('tracked_links').select(['position', 'url']).where('campaign_id', '=', campaignId).orderBy('position').execute();
    return {
      opens: { human: sum('open', 0), machine: sum('open', 1) },
      clicks: { human: sum('click', 0), machine: sum('click', 1) },
      links: links.map((l) => ({
        url: l.url,
        human: Number(rows.find((r) => r.kind === 'click' && r.position === l.position && r.machine === 0)?.n ?? 0),
        machine: Number(rows.find((r) => r.kind === 'click' && r.position === l.position && r.machine === 1)?.n ?? 0),
      })),
    };
  }
}
