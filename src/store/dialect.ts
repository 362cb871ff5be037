/**
 * What differs between SQLite and Postgres, in one place. Stores and migrations receive a Kysely instance; its
 * adapter says which database it talks to, so no store needs the dialect passed around.
 */
import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';

/** Any Kysely instance or transaction, whatever its tables. */
interface HasExecutor {
  getExecutor(): { readonly adapter: unknown };
}

export type SqlDialect = 'sqlite' | 'postgres';

export function dialectOf(db: HasExecutor): SqlDialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

export function isPostgres(db: HasExecutor): boolean {
  return dialectOf(db) === 'postgres';
}

/**
 * Serializes transactions that read and then write the same thing (the same address, slug, newsletter, rate-limit
 * key), inside the caller's transaction. SQLite already runs one write transaction at a time (BEGIN IMMEDIATE), so
 * this is a no-op there; on Postgres it takes transaction-scoped advisory locks on the keys, in a fixed order so two
 * transactions never wait for each other in a circle. Released at COMMIT or ROLLBACK.
 */
export async function lockKeys<DB>(trx: Kysely<DB>, keys: readonly string[]): Promise<void> {
  if (!isPostgres(trx)) return;
  for (const key of [...new Set(keys)].sort()) {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
  }
}

/** The column type of milliseconds since the epoch: SQLite's integer holds 64 bits, Postgres needs bigint. */
export function epochMsType(db: HasExecutor): string {
  return isPostgres(db) ? 'bigint' : 'integer';
}

/**
 * The database's clock as ISO-8601 text with milliseconds (the form every timestamp column holds), `offsetMs` later:
 * for leases that every process, whatever its own clock, measures on the same clock.
 */
export function dbNowExpression(db: HasExecutor, offsetMs = 0): RawBuilder<string> {
  const ms = Math.trunc(offsetMs);
  if (isPostgres(db)) {
    return sql<string>`to_char((clock_timestamp() + ${sql.lit(ms)} * interval '1 millisecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  }
  return sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ${sql.lit(`${ms / 1000} seconds`)})`;
}
