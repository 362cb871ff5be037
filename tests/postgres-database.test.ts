/** DATABASE_URL=postgres://…: the handle opens Postgres, migrates once under an advisory lock, and reads numbers as numbers. */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/store/database.ts';
import { openStores } from '../src/store/open-store.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/postgres.ts';

describe.skipIf(!postgresAvailable)('Postgres database handle', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('two processes starting together migrate once: the second waits for the lock, then finds nothing to do', async () => {
    const [a, b] = await Promise.all([openDatabase(database.url), openDatabase(database.url)]);
    try {
      const [appliedA, appliedB] = await Promise.all([a.migrate(), b.migrate()]);
      // One of them applied every migration, the other none (and neither failed).
      expect([appliedA.length, appliedB.length].sort((x, y) => x - y)[0]).toBe(0);
      expect(Math.max(appliedA.length, appliedB.length)).toBeGreaterThan(5);
      await a.checkMigrated();
      expect(a.dialect).toBe('postgres');
      const count = await sql<{ n: number }>`SELECT count(*) AS n FROM kysely_migration`.execute(a.db);
      expect(count.rows[0]?.n).toBe(Math.max(appliedA.length, appliedB.length));
      expect(typeof count.rows[0]?.n).toBe('number');
      expect(await a.dbNow()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a process told not to migrate fails clearly on a schema that is behind', async () => {
    const fresh = await createTestDatabase();
    try {
      await expect(openStores(fresh.url, { migrate: false })).rejects.toThrow(/schema is behind .*run: mailroom migrate/);
    } finally {
      await fresh.drop();
    }
  });

  it('a server that does not answer is an error naming DATABASE_URL without its password', async () => {
    await expect(openDatabase('postgres://postgres:hunter2@127.0.0.1:1/none')).rejects.toThrow(/DATABASE_URL "postgres:\/\/postgres:…@127\.0\.0\.1:1\/none": cannot connect to Postgres/);
  });
});
