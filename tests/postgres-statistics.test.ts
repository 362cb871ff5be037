/**
 * Postgres plans from table statistics. A server may run autovacuum late or not at all (the one these tests run
 * against has it off), so Mailroom refreshes them itself after a large import, and the API's list page bounds its
 * scan by the cursor whatever the statistics say. Real Postgres; skipped with a message when no server answers.
 */
import { Readable } from 'node:stream';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Database } from '../src/store/schema.ts';
import { ApiQueries } from '../src/store/api-queries.ts';
import { AudienceStore } from '../src/store/audience-store.ts';
import { openStores, type Stores } from '../src/store/open-store.ts';
import { ANALYZE_AFTER_ROWS } from '../src/store/statistics.ts';
import { readSubscriberCsv } from '../src/subscribers/csv-rows.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/postgres.ts';

describe.skipIf(!postgresAvailable)('Postgres statistics and the list page', () => {
  let database: TestDatabase;
  let store: Stores;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = await openStores(database.url);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  const lastAnalyze = async (table: string): Promise<string | null> =>
    (await sql<{ at: string | null }>`SELECT CAST(last_analyze AS text) AS at FROM pg_stat_user_tables WHERE relname = ${table}`.execute(store.db)).rows[0]?.at ?? null;

  test('a small import leaves the statistics alone; a large one refreshes those of the tables it wrote', async () => {
    const list = await store.audience.createList('readers');
    const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `reader${from + i}@example.com,Reader ${from + i}`);
    const csv = (rows: string[]) => readSubscriberCsv(Readable.from([`email,name\n${rows.join('\n')}\n`]), 'readers.csv');

    await store.audience.importSubscribers(list.id, csv(lines(0, 100)), { source: 'small.csv' });
    expect(await lastAnalyze('subscribers')).toBeNull();

    const report = await store.audience.importSubscribers(list.id, csv(lines(100, ANALYZE_AFTER_ROWS)), { source: 'large.csv' });
    expect(report.addedToList).toBe(ANALYZE_AFTER_ROWS);
    expect(await lastAnalyze('subscribers')).not.toBeNull();
    expect(await lastAnalyze('list_memberships')).not.toBeNull();
    const stale = await sql<{ n: number }>`SELECT n_mod_since_analyze AS n FROM pg_stat_user_tables WHERE relname = 'list_memberships'`.execute(store.db);
    expect(Number(stale.rows[0]?.n)).toBe(0);
  });

  test('a campaign of many recipients refreshes the statistics of its send rows', async () => {
    const list = await store.audience.createList('campaign');
    const now = new Date().toISOString();
    await sql`INSERT INTO subscribers (email, name, first_name, last_name, attributes, status, consent_source, consent_at, created_at, updated_at)
      SELECT 'camp' || i || '@example.com', '', '', '', '{}', 'active', 'test', ${now}, ${now}, ${now} FROM generate_series(1, ${ANALYZE_AFTER_ROWS}) AS i`.execute(store.db);
    await sql`INSERT INTO list_memberships (list_id, subscriber_id, status, created_at, updated_at)
      SELECT ${list.id}, id, 'subscribed', ${now}, ${now} FROM subscribers WHERE email LIKE 'camp%'`.execute(store.db);
    const newsletter = await store.newsletters.createNewsletter({ slug: 'stats', name: 'Stats', fromName: 'Ann', fromEmail: 'ann@example.com', replyTo: '', listId: list.id, template: 'digest', postalAddress: '1 Main St', logoUrl: '', subjectTemplate: '{{subject}}', maxArticles: 5, language: 'en' });
    const issue = await store.newsletters.createIssue({ newsletterId: newsletter.id, subject: 'One', preheader: '', html: '<p>Hi</p>', text: 'Hi', articleIds: [] });
    expect(await lastAnalyze('sends')).toBeNull();
    const { recipients } = await store.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id });
    expect(recipients).toBe(ANALYZE_AFTER_ROWS);
    expect(await lastAnalyze('sends')).not.toBeNull();
  });

  test("a deep page of a list reads about a page of memberships, not every one before the cursor", async () => {
    const list = await store.audience.createList('big');
    const now = new Date().toISOString();
    await sql`INSERT INTO subscribers (email, name, first_name, last_name, attributes, status, consent_source, consent_at, created_at, updated_at)
      SELECT 'big' || i || '@example.com', 'Big ' || i, '', '', '{}', 'active', 'test', ${now}, ${now}, ${now} FROM generate_series(1, 20000) AS i`.execute(store.db);
    await sql`INSERT INTO list_memberships (list_id, subscriber_id, status, created_at, updated_at)
      SELECT ${list.id}, id, 'subscribed', ${now}, ${now} FROM subscribers WHERE email LIKE 'big%'`.execute(store.db);
    await sql`ANALYZE subscribers, list_memberships`.execute(store.db);
    const ids = (await sql<{ id: number }>`SELECT id FROM subscribers WHERE email LIKE 'big%' ORDER BY id`.execute(store.db)).rows.map((r) => Number(r.id));
    const deep = ids[15_000] as number;

    // The query ApiQueries runs, captured as compiled, then explained with its parameters.
    const captured: CompiledQuery[] = [];
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: (event) => void (event.level === 'query' && captured.push(event.query)) });
    try {
      // The API's page and the CLI's (`subscribers list --list big --all` pages by id).
      const api = await new ApiQueries(db).searchSubscribers({ listId: list.id, status: 'active', cursor: { value: String(deep), id: deep }, limit: 50 });
      expect(api.items.map((s) => s.id)).toEqual(ids.slice(15_001, 15_051));
      const cli = await new AudienceStore(db).listSubscribers({ listId: list.id, afterId: deep, limit: 50 });
      expect(cli.map((s) => s.id)).toEqual(ids.slice(15_001, 15_051));
      const pages = captured.filter((q) => /^select .* from "subscribers"/i.test(q.sql));
      expect(pages).toHaveLength(2);
      const client = await pool.connect();
      try {
        for (const query of pages) {
          const plan = (await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${query.sql}`, [...query.parameters])).rows[0]['QUERY PLAN'] as { Plan: PlanNode }[];
          // 51 rows fill the page; without the cursor on the memberships a merge join reads the first 15,000 too.
          expect(rowsRead(plan[0]?.Plan, 'list_memberships'), query.sql).toBeLessThan(500);
        }
      } finally {
        client.release();
      }
    } finally {
      await db.destroy();
    }
  });
});

interface PlanNode {
  readonly 'Relation Name'?: string;
  readonly 'Actual Rows'?: number;
  readonly 'Actual Loops'?: number;
  readonly Plans?: PlanNode[];
}

/** Rows the plan's scans of `table` returned, over all their loops. */
function rowsRead(node: PlanNode | undefined, table: string): number {
  if (!node) return 0;
  const own = node['Relation Name'] === table ? (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1) : 0;
  return own + (node.Plans ?? []).reduce((n, child) => n + rowsRead(child, table), 0);
}
