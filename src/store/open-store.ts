/** Opens the store named by DATABASE_URL: a SQLite file path (WAL mode), migrated to the latest schema. */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { MailroomError, quote } from '../core/errors.ts';
import { migrationProvider } from './migrations.ts';
import type { Database } from './schema.ts';
import { SqlStore } from './sql-store.ts';

export interface OpenStoreOptions {
  readonly clock?: () => Date;
}

export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<SqlStore> {
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw new MailroomError('CONFIG', `DATABASE_URL ${quote(databaseUrl.replace(/\/\/[^@/]*@/, '//…@'))}: Postgres is not supported yet; use a SQLite file path such as data/mailroom.db`);
  }
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
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error, results } = await new Migrator({ db, provider: migrationProvider, allowUnorderedMigrations: true }).migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error');
    throw new MailroomError('CONFIG', `DATABASE_URL ${quote(databaseUrl)}: migration ${failed?.migrationName ?? '?'} failed: ${(error as Error).message}`, [], { cause: error });
  }
  return new SqlStore(db, options.clock, sqlite);
}
