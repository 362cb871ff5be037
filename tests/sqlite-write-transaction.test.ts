/**
 * SQLite write transactions on a database opened by openDatabase: BEGIN/COMMIT and the compiled hot statements
 * (ReusableQuery) go straight to better-sqlite3 on the connection the transaction holds (sqlite-connection.ts).
 * What must hold: they are part of that transaction (rolled back with it), and never part of anyone else's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ReusableQuery } from '../src/store/compiled-query.ts';
import { openDatabase, type DatabaseHandle } from '../src/store/database.ts';
import { heldSqliteConnection } from '../src/store/sqlite-connection.ts';
import { writeTransaction } from '../src/store/write-transaction.ts';

let dir: string;
let handle: DatabaseHandle;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-tx-'));
  handle = await openDatabase(join(dir, 'test.db'));
  await handle.migrate();
  const now = new Date().toISOString();
  await handle.db.insertInto('lists').values([{ name: 'a', description: 'a0', created_at: now }, { name: 'b', description: 'b0', created_at: now }]).execute();
});

afterEach(async () => {
  await handle.close();
  rmSync(dir, { recursive: true, force: true });
});

const describeList = () =>
  new ReusableQuery<{ name: string; description: string }>((arg) => handle.db.updateTable('lists').set({ description: arg('description') }).where('name', '=', arg('name')));
const descriptions = async () => Object.fromEntries((await handle.db.selectFrom('lists').select(['name', 'description']).orderBy('name').execute()).map((r) => [r.name, r.description]));

describe('SQLite write transactions with compiled statements', () => {
  test('a compiled statement runs on the held connection, inside the transaction: it commits with it, and rolls back with it', async () => {
    const update = describeList();
    await writeTransaction(handle.db, async (trx) => {
      expect(heldSqliteConnection(trx)).not.toBeNull();
      const result = await update.execute(trx, { name: 'a', description: 'a1' });
      expect(Number(result.numAffectedRows)).toBe(1);
      // Kysely's own statements in the same transaction see the write.
      expect((await trx.selectFrom('lists').select('description').where('name', '=', 'a').executeTakeFirst())?.description).toBe('a1');
    });
    expect(await descriptions()).toEqual({ a: 'a1', b: 'b0' });

    await expect(
      writeTransaction(handle.db, async (trx) => {
        await update.execute(trx, { name: 'a', description: 'a2' });
        await trx.updateTable('lists').set({ description: 'b2' }).where('name', '=', 'b').execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await descriptions()).toEqual({ a: 'a1', b: 'b0' });
    // The connection is usable again, outside and inside a transaction.
    expect(heldSqliteConnection(handle.db)).toBeNull();
    await update.execute(handle.db, { name: 'b', description: 'b3' });
    await writeTransaction(handle.db, (trx) => update.execute(trx, { name: 'a', description: 'a3' }));
    expect(await descriptions()).toEqual({ a: 'a3', b: 'b3' });
  });

  test("another caller's compiled statements wait for an open transaction instead of joining it", async () => {
    const update = describeList();
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = writeTransaction(handle.db, async (trx) => {
      await update.execute(trx, { name: 'a', description: 'rolled back' });
      entered();
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new Error('first fails after the second asked to write');
    });
    await inside;
    // Outside any transaction: through Kysely, which waits for the connection the first one holds.
    const second = update.execute(handle.db, { name: 'b', description: 'kept' });
    const third = writeTransaction(handle.db, (trx) => update.execute(trx, { name: 'a', description: 'kept too' }));
    await expect(first).rejects.toThrow('first fails');
    await second;
    await third;
    expect(await descriptions()).toEqual({ a: 'kept too', b: 'kept' });
  });
});
