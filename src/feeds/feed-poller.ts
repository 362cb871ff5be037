/**
 * Scheduled feed polling for `mailroom serve`: node-cron ticks every minute, and each tick polls the feeds whose last
 * poll is older than FEED_POLL_MINUTES (kept in the database, so a restart neither skips nor repeats a poll).
 */
import cron from 'node-cron';
import type { FetchPolicy } from '../net/safe-fetch.ts';
import type { Feed } from '../store/feed-store.ts';
import { pollFeeds, type FeedPollPort, type FeedPollResult, type FeedPollStores } from './poll-feed.ts';

/** What the poller needs of the feeds: the due ones, and what polling each needs (app.stores.feeds has it). */
export interface DueFeedPollPort extends FeedPollPort {
  listDueFeeds(polledBefore: string): Promise<Feed[]>;
}

export interface FeedPollerOptions {
  /** What polling needs of the stores (app.stores has it). */
  readonly stores: FeedPollStores;
  readonly feeds: DueFeedPollPort;
  readonly policy: FetchPolicy;
  readonly intervalMinutes: number;
  readonly log: (line: string) => void;
  readonly clock?: () => Date;
  /** Whether this process polls now: one poller across every process on the database (see leader-store.ts). Default: always. */
  readonly leader?: () => Promise<boolean>;
}

export interface FeedPoller {
  /** Polls every feed that is due now; resolves with what was polled. A tick while one runs waits for it instead. */
  tick(): Promise<FeedPollResult[]>;
  /** Starts the every-minute tick (and runs one at once). */
  start(): void;
  /** Stops ticking and waits for a poll in progress. */
  stop(): Promise<void>;
}

/** One line for a feed's poll, as `feeds poll` prints it and the service logs it. */
export function formatPollLine(result: FeedPollResult): string {
  const name = result.feed.title ? `${result.feed.url} (${result.feed.title})` : result.feed.url;
  if (result.failed) return `feed ${result.feed.id} ${name}: failed`;
  const changes = result.notModified ? 'not modified' : `${result.added} new, ${result.updated} updated, ${result.unchanged} unchanged`;
  return `feed ${result.feed.id} ${name}: ${changes}, ${result.errors.length} error(s)`;
}

export function createFeedPoller(options: FeedPollerOptions): FeedPoller {
  const clock = options.clock ?? (() => new Date());
  const abort = new AbortController();
  let running: Promise<FeedPollResult[]> | null = null;
  let task: ReturnType<typeof cron.schedule> | null = null;

  const tick = (): Promise<FeedPollResult[]> => {
    running ??= (async () => {
      try {
        if (options.leader && !(await options.leader())) return [];
        const cutoff = new Date(clock().getTime() - options.intervalMinutes * 60_000 + 30_000).toISOString();
        const due = await options.feeds.listDueFeeds(cutoff);
        return await pollFeeds(due, { stores: options.stores, feeds: options.feeds, policy: options.policy, clock, signal: abort.signal }, (result) => {
          // Quiet when nothing happened; a line when something arrived or went wrong.
          if (result.failed || result.added > 0 || result.updated > 0 || result.errors.length > 0) options.log(formatPollLine(result));
          for (const error of result.errors) options.log(`  ${error}`);
        });
      } catch (error) {
        options.log(`feeds: ${(error as Error).message}`);
        return [];
      }
    })().finally(() => {
      running = null;
    });
    return running;
  };

  return {
    tick,
    start() {
      task ??= cron.schedule('* * * * *', () => tick(), { name: 'mailroom-feeds', noOverlap: true });
      void tick();
    },
    async stop() {
      if (task) {
        await task.stop();
        await task.destroy();
        task = null;
      }
      abort.abort();
      await running;
    },
  };
}
