/** The one way the stores write in a transaction: BEGIN IMMEDIATE on the single connection, so two processes never deadlock or fail on a stale snapshot halfway; the second waits (busy_timeout) and then sees the first one's commit. */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

export async function writeTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`COMMIT`.execute(conn);
      return result;
    } catch (error) {
      // A failed ROLLBACK (e.g. SQLite already rolled back) must not hide the error that caused it.
      await sql`ROLLBACK`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}
