/** Opens the stores named by DATABASE_URL (a SQLite file path, or postgres://…), migrated to the latest schema unless told not to. */
import type { Kysely } from 'kysely';
import { openDatabase, type DatabaseHandle } from './database.ts';
import type { Database } from './schema.ts';
import { AudienceStore } from './audience-store.ts';
import { SqlCampaignStore } from './campaign-store.ts';
import { createSqliteSendCounter, type SendCounter } from './sqlite-send-counter.ts';
import { ContentStore } from './content-store.ts';
import { NewsletterStore } from './newsletter-store.ts';
import { ScheduleStore } from './schedule-store.ts';
import { FeedStore } from './feed-store.ts';
import { LeaderStore } from './leader-store.ts';
import { SubscriberStore } from './subscriber-store.ts';
import { AccountStore } from './account-store.ts';
import { DeliverabilityStore, DeliveryReports } from './deliverability-store.ts';
import { TrackingStore } from './tracking-store.ts';
import { WebhookStore } from './webhook-store.ts';
import { WelcomeStore } from './welcome-store.ts';

export interface OpenStoreOptions {
  readonly clock?: () => Date;
  /** false: do not migrate; fail with a clear error if the schema is behind (`serve --no-migrate`, MIGRATE_ON_START=false). */
  readonly migrate?: boolean;
}

/** The stores by aggregate on one database (see CONTEXT.md: store). */
export interface AggregateStores {
  /** Articles, their assignment to newsletters, newsletter tags. */
  readonly content: ContentStore;
  /** Lists, subscribers, memberships, imports, suppression, recipient counts. */
  readonly audience: AudienceStore;
  /** Newsletters and their issues. */
  readonly newsletters: NewsletterStore;
  /** Newsletter schedules and their slots. */
  readonly schedules: ScheduleStore;
  /** Campaigns, sends, leases: the sending engine's CampaignStore. */
  readonly campaigns: SqlCampaignStore;
  /** Sign-up, rate limits and the subscriber's side (preferences, archive). */
  readonly subscribers: SubscriberStore;
  /** Feeds, their items and polls. */
  readonly feeds: FeedStore;
  /** Leader leases (one scheduler and one feed poller across processes). */
  readonly leaders: LeaderStore;
  /** Users, their tokens and sign-in links. */
  readonly accounts: AccountStore;
  /** Delivery events, bounces, complaints and suppressions written from them. */
  readonly deliverability: DeliverabilityStore;
  /** Read-only reports on sends (a campaign's delivery numbers, an address's history). */
  readonly deliveryReports: DeliveryReports;
  /** Open and click tracking: settings, links, hits. */
  readonly tracking: TrackingStore;
  /** Outbound webhook endpoints and their deliveries. */
  readonly webhooks: WebhookStore;
  /** Welcome emails due to new subscribers. */
  readonly welcomes: WelcomeStore;
}

/** The aggregate stores on an open database, with the database itself (for queries outside the aggregates) and its closing. */
export interface Stores extends AggregateStores {
  readonly db: Kysely<Database>;
  readonly handle: DatabaseHandle | null;
  close(): Promise<void>;
}

/** The aggregate stores on a Kysely instance (or a transaction), with one clock. */
export function buildStores(db: Kysely<Database>, clock?: () => Date, handle: DatabaseHandle | null = null): Stores {
  // On a SQLite file, big counts run on a worker thread (sqlite-send-counter.ts), started at the first count.
  const sqlite = handle?.sqlite ?? null;
  let counter: SendCounter | null = null;
  const countOffLoop = sqlite && !sqlite.memory && sqlite.name !== '' ? (campaignId: number) => (counter ??= createSqliteSendCounter(sqlite.name)).count(campaignId) : null;
  return {
    db,
    handle,
    content: new ContentStore(db, clock),
    audience: new AudienceStore(db, clock, handle),
    newsletters: new NewsletterStore(db, clock),
    schedules: new ScheduleStore(db, clock),
    campaigns: new SqlCampaignStore(db, clock, countOffLoop),
    subscribers: new SubscriberStore(db),
    feeds: new FeedStore(db, clock),
    leaders: new LeaderStore(db),
    accounts: new AccountStore(db),
    deliverability: new DeliverabilityStore(db, clock),
    deliveryReports: new DeliveryReports(db),
    tracking: new TrackingStore(db, clock),
    webhooks: new WebhookStore(db, clock),
    welcomes: new WelcomeStore(db, clock),
    close: async () => {
      await counter?.close();
      await db.destroy();
    },
  };
}

export async function openStores(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Stores> {
  const handle = await openDatabase(databaseUrl);
  try {
    await prepareSchema(handle, options.migrate ?? true);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return buildStores(handle.db, options.clock, handle);
}

async function prepareSchema(handle: DatabaseHandle, migrate: boolean): Promise<void> {
  if (migrate) await handle.migrate();
  else await handle.checkMigrated();
}
