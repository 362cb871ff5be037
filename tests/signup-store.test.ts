/**
 * The store under the subscriber's side: migration 0003 on a database with data in it, imports that keep pending
 * people pending, and rate limits and sign-ups that stay exact when several processes share one SQLite file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { openStores } from '../src/store/open-store.ts';
import { SubscriberStore } from '../src/store/subscriber-store.ts';
import { REPO_ROOT } from './helpers/workspace.ts';

const run = promisify(execFile);
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-signup-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 0003_signup', () => {
  test('rebuilds list_memberships with every row, copies consent, and accepts pending', async () => {
    const path = join(dir, 'old.db');
    // A database as the first release left it: only 0001 applied, with people in it.
    const sqlite = new BetterSqlite3(path);
    sqlite.pragma('foreign_keys = ON');
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
    const initial = MIGRATIONS['0001_initial'];
    if (!initial) throw new Error('no 0001_initial');
    const migrated = await new Migrator({ db: old, provider: { getMigrations: async () => ({ '0001_initial': initial }) } }).migrateToLatest();
    expect(migrated.error).toBeUndefined();
    const t = '2025-01-01T00:00:00.000Z';
    await sql`INSERT INTO lists (id, name, description, created_at) VALUES (1, 'main', '', ${t}), (2, 'other', '', ${t})`.execute(old);
    await sql`INSERT INTO subscribers (id, email, name, first_name, last_name, attributes, status, consent_source, consent_at, created_at, updated_at)
      VALUES (1, 'a@example.com', 'A', 'A', '', '{}', 'active', 'import:a.csv', ${t}, ${t}, ${t}),
             (2, 'b@example.com', 'B', 'B', '', '{}', 'active', 'cli', '2025-02-02T00:00:00.000Z', ${t}, ${t})`.execute(old);
    await sql`INSERT INTO list_memberships (list_id, subscriber_id, status, created_at, updated_at)
      VALUES (1, 1, 'subscribed', ${t}, ${t}), (2, 1, 'unsubscribed', ${t}, '2025-03-03T00:00:00.000Z'), (1, 2, 'subscribed', ${t}, ${t})`.execute(old);
    await old.destroy();

    const store = await openStores(path);
    try {
      const rows = await store.db.selectFrom('list_memberships').selectAll().orderBy('list_id').orderBy('subscriber_id').execute();
      expect(rows).toEqual([
        { list_id: 1, subscriber_id: 1, status: 'subscribed', created_at: t, updated_at: t, consent_source: 'import:a.csv', consent_at: t, consent_ip: null, confirmed_at: null, confirmed_ip: null, confirmation_sent_at: null, unsubscribed_at: null },
        { list_id: 1, subscriber_id: 2, status: 'subscribed', created_at: t, updated_at: t, consent_source: 'cli', consent_at: '2025-02-02T00:00:00.000Z', consent_ip: null, confirmed_at: null, confirmed_ip: null, confirmation_sent_at: null, unsubscribed_at: null },
        { list_id: 2, subscriber_id: 1, status: 'unsubscribed', created_at: t, updated_at: '2025-03-03T00:00:00.000Z', consent_source: 'import:a.csv', consent_at: t, consent_ip: null, confirmed_at: null, confirmed_ip: null, confirmation_sent_at: null, unsubscribed_at: '2025-03-03T00:00:00.000Z' },
      ]);
      await store.db.insertInto('list_memberships').values({ list_id: 2, subscriber_id: 2, status: 'pending', created_at: t, updated_at: t }).execute();
      await expect(store.db.insertInto('list_memberships').values({ list_id: 2, subscriber_id: 2, status: 'bogus', created_at: t, updated_at: t }).execute()).rejects.toThrow();
      await expect(sql`UPDATE list_memberships SET status = 'bogus' WHERE list_id = 1`.execute(store.db)).rejects.toThrow(/CHECK/);
      // Foreign keys survived the rebuild.
      await expect(store.db.insertInto('list_memberships').values({ list_id: 99, subscriber_id: 1, status: 'pending', created_at: t, updated_at: t }).execute()).rejects.toThrow(/FOREIGN KEY/);
      await store.db.deleteFrom('subscribers').where('id', '=', 1).execute();
      expect(await store.db.selectFrom('list_memberships').select('list_id').where('subscriber_id', '=', 1).execute()).toEqual([]);
      expect((await sql<{ n: number }>`SELECT count(*) AS n FROM pragma_foreign_key_check`.execute(store.db)).rows[0]?.n).toBe(0);
      expect(await store.db.selectFrom('lists').select(['name', 'signup_open']).orderBy('id').execute()).toEqual([
        { name: 'main', signup_open: 1 },
        { name: 'other', signup_open: 1 },
      ]);
      const indexes = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'list_memberships' AND name NOT LIKE 'sqlite_%' ORDER BY name`.execute(store.db);
      // (+ the partial indexes outbound webhooks find confirmations and unsubscribes by: migration 2026-12-04-deliv-webhooks)
      expect(indexes.rows.map((r) => r.name)).toEqual(['list_memberships_confirmed_at', 'list_memberships_pending', 'list_memberships_subscriber', 'list_memberships_unsubscribed_at']);
    } finally {
      await store.close();
    }
  });
});

describe('imports and pending sign-ups', () => {
  test('an import never confirms a pending sign-up; the person counts as kept out', async () => {
    const store = await openStores(join(dir, 'm.db'));
    try {
      const list = await store.audience.createList('main');
      const subscribers = new SubscriberStore(store.db);
      await subscribers.requestSignup({ listId: list.id, email: 'p@example.com', name: '', firstName: '', lastName: '', source: 'signup:form', ip: null, now: new Date() });
      const outcome = await store.audience.addSubscriber(list.id, { email: 'p@example.com', name: '', firstName: '', lastName: '', attributes: {} }, 'cli');
      expect(outcome).toEqual({ person: 'known', list: 'kept-out', profileChanged: false });
      const id = (await store.audience.findSubscriberByEmail('p@example.com'))?.id ?? 0;
      expect(await store.audience.membershipStatus(id, list.id)).toBe('pending');
      expect(await store.audience.listRecipients(list.id, 0, 10)).toEqual([]);
      // A new person on the same import gets the import's consent on their membership.
      await store.audience.addSubscriber(list.id, { email: 'n@example.com', name: '', firstName: '', lastName: '', attributes: {} }, 'import:x.csv');
      const nid = (await store.audience.findSubscriberByEmail('n@example.com'))?.id ?? 0;
      const row = await store.db.selectFrom('list_memberships').select(['consent_source', 'consent_at']).where('subscriber_id', '=', nid).executeTakeFirst();
      expect(row?.consent_source).toBe('import:x.csv');
      expect(typeof row?.consent_at).toBe('string');
    } finally {
      await store.close();
    }
  });
});

describe('several processes on one database', () => {
  test('four processes racing on one rate limit (10 a minute) get exactly 10 hits, and one subscriber per address', async () => {
    const path = join(dir, 'shared.db');
    const first = await openStores(path);
    const list = await first.audience.createList('main');
    await first.close();
    const script = join(dir, 'race.mts');
    writeFileSync(
      script,
      `import { openStores } from ${JSON.stringify(join(REPO_ROOT, 'src/store/open-store.ts'))};
import { SubscriberStore } from ${JSON.stringify(join(REPO_ROOT, 'src/store/subscriber-store.ts'))};
const store = await openStores(${JSON.stringify(path)});
const subscribers = new SubscriberStore(store.db);
const now = new Date('2026-01-01T00:00:00.000Z');
// Start together, so the processes really interleave.
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(process.env.START) - Date.now())));
let allowed = 0;
const kinds = [];
for (let i = 0; i < 100; i += 1) {
  if ((await subscribers.hitRateLimit('test', 'one-key', now, 60_000, 10)).allowed) allowed += 1;
  kinds.push((await subscribers.requestSignup({ listId: ${list.id}, email: 'race' + (i % 5) + '@example.com', name: '', firstName: '', lastName: '', source: 'signup:form', ip: null, now })).kind);
}
await store.close();
console.log(JSON.stringify({ allowed, kinds }));
`,
    );
    const start = String(Date.now() + 2500);
    const results = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, env: { ...process.env, START: start } })));
    const outputs = results.map((r) => JSON.parse(r.stdout) as { allowed: number; kinds: string[] });
    expect(outputs.reduce((sum, o) => sum + o.allowed, 0)).toBe(10);
    expect(outputs.flatMap((o) => o.kinds).every((k) => k === 'confirm')).toBe(true);
    const store = await openStores(path);
    try {
      const people = await store.db.selectFrom('subscribers').select('email').orderBy('email').execute();
      expect(people.map((p) => p.email)).toEqual(['race0@example.com', 'race1@example.com', 'race2@example.com', 'race3@example.com', 'race4@example.com']);
      expect(await store.db.selectFrom('list_memberships').select('status').execute()).toHaveLength(5);
    } finally {
      await store.close();
    }
  });
});
