/**
 * Relay quotas in the database (src/smtp/relay-quota.ts has the model): each cap is a set of reusable slots, one row
 * each, so the hourly and daily caps hold across restarts and across every process on the same database.
 *
 * Taking a unit is one conditional write: an UPDATE that claims the least recently used slot whose last use is a
 * whole window old, or an INSERT of the next slot while there are fewer slots than the limit; a second process
 * racing for the last unit finds the row already claimed, or the slot number already taken (the primary key), and
 * gets nothing. No transaction stays open between statements. A message takes its caps one after the other and gives
 * back what it took when a later one is used up: all or none.
 * (Postgres: the same statements, with `FOR UPDATE SKIP LOCKED` in the UPDATE's subquery; the outer WHERE re-checks.)
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { QUOTA_WINDOW_MS, type QuotaCap, type QuotaTake, type QuotaTicket, type QuotaUnit, type QuotaUsage, type RelayQuotaStore, UNIT_FREE } from '../smtp/relay-quota.ts';
import type { Database } from './schema.ts';
import { epochMsType, isPostgres } from './dialect.ts';

/** Migration 2026-12-04-relay-quotas: one row per unit of a relay's cap, holding when it was last used (ms since the epoch). */
export const relayQuotasMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`CREATE TABLE relay_quota_slots (
      relay text NOT NULL,
      cap text NOT NULL CHECK (cap IN ('hourly', 'daily')),
      slot integer NOT NULL CHECK (slot >= 0),
      used_at ${sql.raw(epochMsType(db))} NOT NULL,
      PRIMARY KEY (relay, cap, slot)
    )`.execute(db);
    await sql`CREATE INDEX relay_quota_slots_used ON relay_quota_slots (relay, cap, used_at)`.execute(db);
  },
};

export class SqlRelayQuotaStore implements RelayQuotaStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Postgres: a racing process takes the next free slot instead of waiting for this one and then finding it used. */
  private skipLocked(): ReturnType<typeof sql> {
    return isPostgres(this.db) ? sql` FOR UPDATE SKIP LOCKED` : sql``;
  }

  async take(relay: string, caps: readonly QuotaCap[], now: number): Promise<QuotaTake> {
    const taken: QuotaUnit[] = [];
    for (const cap of caps) {
      const slot = await this.takeUnit(relay, cap, now);
      if (slot === null) {
        // All or none: the units of the caps before this one go back (for a moment they counted, which only errs on the safe side).
        if (taken.length > 0) await this.giveBack({ relay, takenAt: now, units: taken });
        return { taken: false, window: cap.window, freeAt: await this.freeAt(relay, cap, now) };
      }
      taken.push({ window: cap.window, slot });
    }
    return { taken: true, ticket: { relay, takenAt: now, units: taken } };
  }

  /**
   * One unit of one cap, in one statement each way (no transaction is held open): claim the least recently used slot
   * whose last use is a whole window old, else add the next slot while there are fewer than the limit. Null when the
   * cap is used up. Slots above a lowered limit are not used again, but count while they are in the window (the count
   * is only made when there are some).
   */
  private async takeUnit(relay: string, cap: QuotaCap, now: number): Promise<number | null> {
    const since = now - QUOTA_WINDOW_MS[cap.window];
    const reused = await sql<{ slot: number }>`UPDATE relay_quota_slots SET used_at = ${now}
      WHERE relay = ${relay} AND cap = ${cap.window} AND used_at <= ${since}
        AND slot = (SELECT slot FROM relay_quota_slots
                    WHERE relay = ${relay} AND cap = ${cap.window} AND slot < ${cap.limit} AND used_at <= ${since}
                    ORDER BY used_at LIMIT 1${this.skipLocked()})
        AND (NOT EXISTS (SELECT 1 FROM relay_quota_slots
                         WHERE relay = ${relay} AND cap = ${cap.window} AND slot >= ${cap.limit} AND used_at > ${since})
             OR (SELECT count(*) FROM relay_quota_slots WHERE relay = ${relay} AND cap = ${cap.window} AND used_at > ${since}) < ${cap.limit})
      RETURNING slot`.execute(this.db);
    const slot = reused.rows[0]?.slot;
    if (slot !== undefined) return Number(slot);
    // Slots are numbered from 0 and never deleted, so the next one is their count; the primary key stops a racing twin.
    const added = await sql<{ slot: number }>`INSERT INTO relay_quota_slots (relay, cap, slot, used_at)
      SELECT CAST(${relay} AS text), CAST(${cap.window} AS text), count(*), CAST(${now} AS bigint) FROM relay_quota_slots WHERE relay = ${relay} AND cap = ${cap.window}
      HAVING count(*) < ${cap.limit}
      ON CONFLICT DO NOTHING
      RETURNING slot`.execute(this.db);
    const next = added.rows[0]?.slot;
    return next === undefined ? null : Number(next);
  }

  async settle(ticket: QuotaTicket, at: number): Promise<void> {
    await this.update(ticket, isPostgres(this.db) ? sql`greatest(used_at, CAST(${at} AS bigint))` : sql`max(used_at, ${at})`);
  }

  async giveBack(ticket: QuotaTicket): Promise<void> {
    await this.update(ticket, sql`CAST(${UNIT_FREE} AS bigint)`);
  }

  async usage(relay: string, caps: readonly QuotaCap[], now: number): Promise<QuotaUsage[]> {
    const usage: QuotaUsage[] = [];
    for (const cap of caps) {
      const { rows } = await sql<{ used: number }>`SELECT count(*) AS used FROM relay_quota_slots
        WHERE relay = ${relay} AND cap = ${cap.window} AND used_at > ${now - QUOTA_WINDOW_MS[cap.window]}`.execute(this.db);
      usage.push({ window: cap.window, limit: cap.limit, used: Number(rows[0]?.used ?? 0) });
    }
    return usage;
  }

  /** Moves the ticket's slots to `value`, each only while it still holds this ticket's use. */
  private async update(ticket: QuotaTicket, value: ReturnType<typeof sql>): Promise<void> {
    for (const unit of ticket.units) {
      await sql`UPDATE relay_quota_slots SET used_at = ${value}
        WHERE relay = ${ticket.relay} AND cap = ${unit.window} AND slot = ${unit.slot} AND used_at = ${ticket.takenAt}`.execute(this.db);
    }
  }

  /** When a unit of a used-up cap frees: when the window no longer holds the oldest of the uses over the limit. */
  private async freeAt(relay: string, cap: QuotaCap, now: number): Promise<number> {
    const span = QUOTA_WINDOW_MS[cap.window];
    const since = now - span;
    const { rows } = await sql<{ used_at: number }>`SELECT used_at FROM relay_quota_slots
      WHERE relay = ${relay} AND cap = ${cap.window} AND used_at > ${since}
      ORDER BY used_at
      LIMIT 1 OFFSET ${sql.raw(isPostgres(this.db) ? 'greatest' : 'max')}(0, (SELECT count(*) FROM relay_quota_slots WHERE relay = ${relay} AND cap = ${cap.window} AND used_at > ${since}) - ${cap.limit})`.execute(this.db);
    const at = rows[0]?.used_at;
    return at === undefined ? now : Math.max(now, Number(at) + span);
  }
}
