/**
 * The database handle: what DATABASE_URL names, opened once. A SQLite file (the embedded default: WAL, foreign keys,
 * a busy timeout) or PostgreSQL (`postgres://…`, a pg Pool behind Kysely's PostgresDialect). Every store is built on
 * its Kysely instance; `dialect` says which statements to use where the two must differ (see dialect.ts).
 *
 * Migrations: `migrate()` applies what is missing, under a Postgres advisory lock held by its own session, so two
 * processes starting together never both migrate (the second waits, then finds nothing to do). `checkMigrated()`
 * is for processes told not to migrate: it fails with what is missing.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type SqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import { MailroomError, quote } from '../core/errors.ts';
import { migrationProvider } from './migrations.ts';
import type { Database } from './schema.ts';
import type { SqlDialect } from './dialect.ts';
import { registerSqliteConnection } from './sqlite-connection.ts';

export type { SqlDialect } from './dialect.ts';

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** DATABASE_URL as it may be printed: a Postgres password is hidden. */
  readonly displayUrl: string;
  /** The raw SQLite connection Kysely uses (SQLite only). */
  readonly sqlite: BetterSqlite3.Database | null;
  /** The pg pool Kysely uses (Postgres only): for what Kysely does not do, such as COPY (subscriber-import.ts). */
  readonly pgPool: pg.Pool | null;
  /** Applies every migration not applied yet; returns their names. */
  migrate(): Promise<string[]>;
  /** Fails with a clear error when migrations are missing (a process told not to migrate). */
  checkMigrated(): Promise<void>;
  /** The database's clock, as ISO-8601 text with milliseconds (the same form every timestamp column holds). */
  dbNow(): Promise<string>;
  close(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** A Postgres URL without its password, for messages and logs. */
export function displayDatabaseUrl(url: string): string {
  return isPostgresUrl(url) ? url.replace(/(\/\/[^:@/]*):[^@/]*@/, '$1:…@') : url;
}

/** The advisory lock key every Mailroom process takes around migrations ("mailroom" in ASCII, as a bigint). */
const MIGRATION_LOCK_KEY = '7881966747826663533';

/** pg returns int8 (count(*), sums, bigint columns) and numeric as strings: Mailroom's numbers fit a JS number. */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 /* int8 */) return (value: string) => Number(value);
    if (oid === 1700 /* numeric */) return (value: string) => Number(value);
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  },
} as pg.CustomTypesConfig;

export interface OpenDatabaseOptions {
  /** Postgres pool size (default 10). */
  readonly poolSize?: number;
}

export async function openDatabase(databaseUrl: string, options: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
  return isPostgresUrl(databaseUrl) ? openPostgres(databaseUrl, options) : openSqlite(databaseUrl);
}

function openSqlite(databaseUrl: string): DatabaseHandle {
  const path = databaseUrl.startsWith('file:') ? databaseUrl.slice('file:'.length) : databaseUrl;
  let sqlite: BetterSqlite3.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    sqlite = new BetterSqlite3(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
  } catch (error) {
    throw new MailroomError('CONFIG', `DATABASE_URL ${quote(databaseUrl)}: cannot open the SQLite database: ${(error as Error).message}`, [], { cause: error });
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  registerSqliteConnection(db, sqlite);
  return makeHandle(db, 'sqlite', databaseUrl, sqlite, null, async (run) => run(), sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`);
}

/**
 * Kysely's SQLite driver prepares every statement it runs; the hot paths (claim, record, due rows) run the same few
 * statements per message, so prepared statements are kept by their SQL text (the newest 500), as Postgres keeps its
 * plans. `iterate` (Kysely's stream) gets a statement of its own, so a reused one is never busy.
 */
function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string): SqliteStatement {
      const cached = cache.get(text);
      if (cached) {
        // Most recently used last, so the oldest goes first when the cache is full.
        cache.delete(text);
        cache.set(text, cached);
        return cached;
      }
      const statement = sqlite.prepare(text);
      const wrapped: SqliteStatement = {
        reader: statement.reader,
        all: (parameters) => statement.all(...parameters),
        run: (parameters) => statement.run(...parameters),
        iterate: (parameters) => sqlite.prepare(text).iterate(...parameters) as IterableIterator<unknown>,
      };
      cache.set(text, wrapped);
      if (cache.size > 500) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      return wrapped;
    },
  };
}

async function openPostgres(databaseUrl: string, options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const shown = displayDatabaseUrl(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 10, types: pgTypes });
  // An idle client's error (the server restarted) must not crash the process: the pool drops it and opens another.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new MailroomError('CONFIG', `DATABASE_URL ${quote(shown)}: cannot connect to Postgres: ${(error as Error).message}`, [], { cause: error });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const withMigrationLock = async <T>(run: () => Promise<T>): Promise<T> => {
    // A session lock on a connection of its own: held across Kysely's migration transaction, released even on error.
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      try {
        return await run();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
      }
    } finally {
      client.release();
    }
  };
  return makeHandle(db, 'postgres', shown, null, pool, withMigrationLock, sql<string>`to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
}

function makeHandle(
  db: Kysely<Database>,
  dialect: SqlDialect,
  displayUrl: string,
  sqlite: BetterSqlite3.Database | null,
  pgPool: pg.Pool | null,
  withMigrationLock: <T>(run: () => Promise<T>) => Promise<T>,
  nowExpression: ReturnType<typeof sql<string>>,
): DatabaseHandle {
  const migrator = () => new Migrator({ db, provider: migrationProvider, allowUnorderedMigrations: true });
  return {
    db,
    dialect,
    displayUrl,
    sqlite,
    pgPool,
    migrate: () =>
      withMigrationLock(async () => {
        const { error, results } = await migrator().migrateToLatest();
        if (error) {
          const failed = results?.find((r) => r.status === 'Error');
          throw new MailroomError('CONFIG', `DATABASE_URL ${quote(displayUrl)}: migration ${failed?.migrationName ?? '?'} failed: ${(error as Error).message}`, [], { cause: error });
        }
        return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
      }),
    async checkMigrated() {
      const missing = (await migrator().getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
      if (missing.length > 0) {
        throw new MailroomError(
          'CONFIG',
          `DATABASE_URL ${quote(displayUrl)}: the database schema is behind (${missing.length} migration(s) not applied: ${missing.join(', ')}); run: mailroom migrate`,
        );
      }
    },
    async dbNow() {
      const row = await sql<{ now: string }>`SELECT ${nowExpression} AS now`.execute(db);
      const now = row.rows[0]?.now;
      if (!now) throw new Error('the database returned no time');
      return now;
    },
    close: () => db.destroy(),
  };
}
