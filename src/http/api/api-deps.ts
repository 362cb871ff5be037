/** What the API's handlers use: the stores, the application services' settings and the send machinery; built by buildHttpServer. */
import type { SendStatus } from '../../core/domain.ts';
import type { AccountService } from '../../accounts/account-service.ts';
import type { FetchPolicy } from '../../net/safe-fetch.ts';
import type { SendDeps } from '../../sending/send-newsletter.ts';
import type { ApiQueries } from '../../store/api-queries.ts';
import type { FeedStore } from '../../store/feed-store.ts';
import type { SqlStore } from '../../store/sql-store.ts';
import type { SubscriberStore } from '../../store/subscriber-store.ts';
import type { ImportJobs } from '../../services/import-jobs.ts';

export type SettingValue = string | number | boolean | null;

export interface ApiOptions {
  /** Sending (test sends, campaigns); without it those routes answer 503. */
  readonly sendDeps?: () => SendDeps;
  /** Wakes the campaign runner so a campaign made through the API starts now rather than at the next tick. */
  readonly kickCampaigns?: () => void;
  /** The effective settings, secrets already hidden. */
  readonly settings?: () => Readonly<Record<string, SettingValue>>;
  /** For article imports from URLs and feeds. */
  readonly fetchPolicy?: FetchPolicy;
  /** How often the campaign event stream sends progress (default 1000 ms). */
  readonly eventIntervalMs?: number;
  /** Counts a campaign's send rows off the event loop (SQLite); default the store's query. */
  readonly countSends?: (campaignId: number) => Promise<Record<SendStatus, number>>;
  /** SCHEDULE_MIN_INTERVAL_MINUTES (default 60). */
  readonly scheduleMinIntervalMinutes?: number;
}

export interface ApiDeps {
  readonly store: SqlStore;
  readonly subscribers: SubscriberStore;
  readonly feeds: FeedStore;
  readonly queries: ApiQueries;
  readonly accounts: AccountService;
  readonly jobs: ImportJobs;
  readonly publicUrl: string;
  readonly secret: string;
  readonly clock: () => Date;
  readonly log: (line: string) => void;
  readonly options: ApiOptions;
  /** A GET of a path on this very server, in process, answering its status (links in an email checked before sending). */
  readonly ownServerGet: (path: string) => Promise<number>;
}
