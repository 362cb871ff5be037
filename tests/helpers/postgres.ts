/**
 * A fresh Postgres database per test file: `create database mailroom_test_<random>` on the server these machines run
 * (POSTGRES_TEST_URL, default postgres://postgres@127.0.0.1:5432/test), dropped after. When no server answers, the
 * Postgres tests skip with a message saying so (`describe.skipIf(!postgresAvailable)`), and the SQLite ones still run.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_ADMIN_URL = process.env.POSTGRES_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const probeError = await probe();
/** True when the test server answers; the reason it does not is printed once per file. */
export const postgresAvailable = probeError === null;
if (probeError !== null) {
  console.warn(`[postgres] skipping the Postgres tests: no server answers at ${POSTGRES_ADMIN_URL} (${probeError}); set POSTGRES_TEST_URL to run them`);
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  /** postgres://… of the fresh database. */
  readonly url: string;
  readonly name: string;
  /** Drops it (closing whatever connections are still open to it). */
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `mailroom_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
