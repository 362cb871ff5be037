/** Opens the store named by DATABASE_URL (a SQLite file path, or postgres://…), migrated to the latest schema unless told not to. */
import { openDatabase, type DatabaseHandle } from './database.ts';
import { SqlStore } from './sql-store.ts';

export interface OpenStoreOptions {
  readonly clock?: () => Date;
  /** false: do not migrate; fail with a clear error if the schema is behind (`serve --no-migrate`, MIGRATE_ON_START=false). */
  readonly migrate?: boolean;
}

export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<SqlStore> {
  const handle = await openDatabase(databaseUrl);
  try {
    await prepareSchema(handle, options.migrate ?? true);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return new SqlStore(handle.db, options.clock, handle);
}

async function prepareSchema(handle: DatabaseHandle, migrate: boolean): Promise<void> {
  if (migrate) await handle.migrate();
  else await handle.checkMigrated();
}
