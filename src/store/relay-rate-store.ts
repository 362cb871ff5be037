/**
 * A relay's per-second rate shared by every process on the database: one row per relay holding when its next message
 * may start (ms since the epoch, on the DATABASE's clock). Each message reserves the next start in one statement
 * (INSERT … ON CONFLICT DO UPDATE … RETURNING: the row lock serializes racing processes, and nobody retries), and the
 * caller waits until its start. Starts are spaced (1000 + margin) / rate ms apart across all processes, so no window
 * of one second holds more than the rate, however many workers send. Hourly and daily caps: relay-quota-store.ts.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SharedRateStore } from '../smtp/relays.ts';
import { isPostgres } from './dialect.ts';
import type { Database } from './schema.ts';

/** Migration 2026-12-06-workers-relay-rates. */
export const relayRatesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('relay_rates')
      .addColumn('relay', 'text', (c) => c.primaryKey())
      .addColumn('next_at', 'double precision', (c) => c.notNull())
      .execute();
  },
};

/** Added to each message's share of a second, so the jitter of timers and round trips cannot crowd one more message into a window. */
export const SHARED_RATE_MARGIN_MS = 50;

export class SqlRelayRateStore implements SharedRateStore {
  constructor(private readonly db: Kysely<Database>) {}

  private nowMs() {
    return isPostgres(this.db) ? sql`(extract(epoch from clock_timestamp()) * 1000)` : sql`((julianday('now') - 2440587.5) * 86400000.0)`;
  }

  async reserve(relay: string, perSecond: number): Promise<number> {
    const interval = (1000 + SHARED_RATE_MARGIN_MS) / perSecond;
    const now = this.nowMs();
    const greatest = isPostgres(this.db) ? sql`greatest` : sql`max`;
    const { rows } = await sql<{ slot: number | string; now: number | string }>`INSERT INTO relay_rates (relay, next_at) VALUES (${relay}, ${now} + ${interval})
      ON CONFLICT (relay) DO UPDATE SET next_at = ${greatest}(relay_rates.next_at + ${interval}, excluded.next_at)
      RETURNING next_at - ${interval} AS slot, ${now} AS now`.execute(this.db);
    const row = rows[0];
    return row ? Math.max(0, Number(row.slot) - Number(row.now)) : 0;
  }
}
