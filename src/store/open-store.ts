/** Opens the stores named by DATABASE_URL (a SQLite file path, or postgres://…), migrated to the latest schema unless told not to. */
import type { Kysely } from 'kysely';
import { openDatabase, type DatabaseHandle } from './database.ts';
import type { Database } from './schema.ts';
import { AudienceStore } from './audience-store.ts';
import { SqlCampaignStore } from './campaign-store.ts';
import { ContentStore } from './content-store.ts';
import { NewsletterStore } from './newsletter-store.ts';
import { ScheduleStore } from './schedule-store.ts';
import { FeedStore } from './feed-store.ts';
import { LeaderStore } from './leader-store.ts';
import { SubscriberStore } from './subscriber-store.ts';
import { AccountStore } from './account-store.ts';

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
  /** Accounts, sessions, API keys and invitations (the AccountService's store). */
  readonly accounts: AccountStore;
}

/** The aggregate stores on an open database, with the database itself (for queries outside the aggregates) and its closing. */
export interface Stores extends AggregateStores {
  readonly db: Kysely<Database>;
  readonly handle: DatabaseHandle | null;
  close(): Promise<void>;
}

/** The aggregate stores on a Kysely instance (or a transaction), with one clock. */
export function buildStores(db: Kysely<Database>, clock?: () => Date, handle: DatabaseHandle | null = null): Stores {
  return {
    db,
    handle,
    content: new ContentStore(db, clock),
    audience: new AudienceStore(db, clock, handle),
    newsletters: new NewsletterStore(db, clock),
    schedules: new ScheduleStore(db, clock),
    campaigns: new SqlCampaignStore(db, clock),
    subscribers: new SubscriberStore(db),
    feeds: new FeedStore(db, clock),
    leaders: new LeaderStore(db),
    accounts: new AccountStore(db),
    close: () => db.destroy(),
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
