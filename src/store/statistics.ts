/**
 * Planner statistics after bulk writes. Postgres plans from statistics that only ANALYZE refreshes (autovacuum does
 * it eventually, if the server runs it: the test servers here do not), so right after a write of many rows a query
 * may be planned for the tables as they were: a page of a list read as a scan of every membership, a campaign's
 * claims as a scan of its sends. The stores that write many rows at once refresh the statistics of what they wrote.
 * SQLite plans from its indexes without sampling and needs none of this.
 */
import { sql, type Kysely } from 'kysely';
import { isPostgres } from './dialect.ts';
import type { Database } from './schema.ts';

/** A write of at least this many rows refreshes the statistics of the tables it wrote. */
export const ANALYZE_AFTER_ROWS = 10_000;

/** Postgres: ANALYZE `tables` when `rows` (how many the write added or changed) reaches ANALYZE_AFTER_ROWS. True when it did. */
export async function refreshStatisticsAfterBulkWrite(db: Kysely<Database>, tables: readonly (keyof Database & string)[], rows: number): Promise<boolean> {
  if (!isPostgres(db) || rows < ANALYZE_AFTER_ROWS || tables.length === 0) return false;
  await sql`ANALYZE ${sql.join(tables.map((t) => sql.table(t)))}`.execute(db);
  return true;
}
