/**
 * The raw better-sqlite3 connection behind a Kysely instance, for the sending hot path (SQLite only).
 *
 * Kysely's SQLite driver runs each statement through its executor and a promise per statement; better-sqlite3 itself
 * is synchronous. A write transaction (write-transaction.ts) holds Kysely's one SQLite connection for its whole length,
 * so while it is open the statements it runs may go straight to better-sqlite3: nothing else can use the connection
 * in between. `heldConnection` answers only for such a held connection (never for the root Kysely instance, whose
 * connection another caller may hold at that moment), so a statement is never run inside someone else's transaction.
 *
 * The statements are still the one Kysely copy of each query: ReusableQuery (compiled-query.ts) compiles them once and
 * runs the compiled SQL here, with the same parameters and the same result shape as Kysely's SQLite driver.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { QueryResult } from 'kysely';

/** Root Kysely instance (SQLite) → its better-sqlite3 connection; set when the database is opened (database.ts). */
const roots = new WeakMap<object, BetterSqlite3.Database>();
/** Kysely instances bound to the connection while a write transaction of ours holds it. */
const held = new WeakMap<object, BetterSqlite3.Database>();

export function registerSqliteConnection(db: object, sqlite: BetterSqlite3.Database): void {
  roots.set(db, sqlite);
}

/** The raw connection of a root Kysely instance (SQLite, opened by database.ts), or null. */
export function rootSqliteConnection(db: object): BetterSqlite3.Database | null {
  return roots.get(db) ?? null;
}

/** Marks `conn` (a Kysely instance bound to the held connection) as usable directly until `release`. */
export function holdSqliteConnection(conn: object, sqlite: BetterSqlite3.Database): void {
  held.set(conn, sqlite);
}

export function releaseSqliteConnection(conn: object): void {
  held.delete(conn);
}

/** The raw connection when `db` is a Kysely instance bound to a connection a write transaction holds, else null. */
export function heldSqliteConnection(db: object): BetterSqlite3.Database | null {
  return held.get(db) ?? null;
}

/** Prepared statements per connection and SQL text (the hot statements are a handful). */
const statements = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

export function preparedStatement(sqlite: BetterSqlite3.Database, text: string): BetterSqlite3.Statement {
  let cache = statements.get(sqlite);
  if (!cache) {
    cache = new Map();
    statements.set(sqlite, cache);
  }
  let statement = cache.get(text);
  if (!statement) {
    statement = sqlite.prepare(text);
    cache.set(text, statement);
  }
  return statement;
}

/** Runs compiled SQL on the connection as Kysely's SQLite driver does (rows for a reader, changes otherwise). */
export function runCompiled<Row>(sqlite: BetterSqlite3.Database, text: string, parameters: readonly unknown[]): QueryResult<Row> {
  const statement = preparedStatement(sqlite, text);
  if (statement.reader) return { rows: statement.all(...parameters) as Row[] };
  const { changes, lastInsertRowid } = statement.run(...parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}
