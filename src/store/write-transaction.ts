/**
 * The one way the stores write in a transaction. SQLite: BEGIN IMMEDIATE on the single connection, so two processes
 * never deadlock or fail on a stale snapshot halfway; the second waits (busy_timeout) and then sees the first one's
 * commit. Postgres: a READ COMMITTED transaction on one pooled connection; what must not interleave takes row locks
 * or advisory locks (lockKeys in dialect.ts), and conditional writes re-check their condition on the row they update.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { isPostgres } from './dialect.ts';
import type { Database } from './schema.ts';
import { holdSqliteConnection, preparedStatement, releaseSqliteConnection, rootSqliteConnection } from './sqlite-connection.ts';

/** SQLite connections inside a BEGIN IMMEDIATE of ours: a nested writeTransaction runs in it. */
const openSqliteTransactions = new WeakSet<Kysely<Database>>();

/** Runs `fn` in a write transaction; called with a transaction already open (`trx`), it runs inside that one. */
export async function writeTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction || openSqliteTransactions.has(db)) return fn(db);
  if (isPostgres(db)) return db.transaction().execute(fn);
  const raw = rootSqliteConnection(db);
  if (raw) return rawSqliteTransaction(db, raw, fn);
  return db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    openSqliteTransactions.add(conn);
    try {
      const result = await fn(conn);
      await sql`COMMIT`.execute(conn);
      return result;
    } catch (error) {
      // A failed ROLLBACK (e.g. SQLite already rolled back) must not hide the error that caused it.
      await sql`ROLLBACK`.execute(conn).catch(() => undefined);
      throw error;
    } finally {
      openSqliteTransactions.delete(conn);
    }
  });
}

/**
 * The same transaction on a connection opened by database.ts: BEGIN IMMEDIATE and COMMIT straight on better-sqlite3
 * (no query built per call), and the held connection marked so the compiled hot statements run on it directly
 * (sqlite-connection.ts). Kysely's connection lock is held throughout, as above.
 */
function rawSqliteTransaction<T>(db: Kysely<Database>, sqlite: BetterSqlite3.Database, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    preparedStatement(sqlite, 'BEGIN IMMEDIATE').run();
    openSqliteTransactions.add(conn);
    holdSqliteConnection(conn, sqlite);
    try {
      const result = await fn(conn);
      preparedStatement(sqlite, 'COMMIT').run();
      return result;
    } catch (error) {
      // A failed ROLLBACK (e.g. SQLite already rolled back) must not hide the error that caused it.
      if (sqlite.inTransaction) {
        try {
          preparedStatement(sqlite, 'ROLLBACK').run();
        } catch {
          // as above
        }
      }
      throw error;
    } finally {
      releaseSqliteConnection(conn);
      openSqliteTransactions.delete(conn);
    }
  });
}
