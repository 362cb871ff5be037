/**
 * A campaign's send rows are counted off the event loop on a SQLite file: better-sqlite3 runs a query synchronously,
 * so the count of a big campaign would hold every request and the sender. The store's countSends asks a worker
 * thread with its own read-only connection, and still sees every committed write.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { openStores, type Stores } from '../src/store/open-store.ts';

let dir: string;
let stores: Stores;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-count-'));
  stores = await openStores(join(dir, 'mailroom.db'));
});
afterEach(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

test("countSends on a SQLite file runs on another connection than the store's, and sees what was just committed", async () => {
  const list = await stores.audience.createList('readers');
  const now = new Date().toISOString();
  await sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
    INSERT INTO subscribers (email, name, first_name, last_name, attributes, status, consent_source, consent_at, created_at, updated_at)
    SELECT 'r' || i || '@example.com', '', '', '', '{}', 'active', 'test', ${now}, ${now}, ${now} FROM n`.execute(stores.db);
  await sql`INSERT INTO list_memberships (list_id, subscriber_id, status, created_at, updated_at) SELECT ${list.id}, id, 'subscribed', ${now}, ${now} FROM subscribers`.execute(stores.db);
  const newsletter = await stores.newsletters.createNewsletter({ slug: 'n', name: 'N', fromName: 'Ann', fromEmail: 'ann@example.com', replyTo: '', listId: list.id, template: 'digest', postalAddress: '1 Main St', logoUrl: '', subjectTemplate: '{{subject}}', maxArticles: 5, language: 'en' });
  const issue = await stores.newsletters.createIssue({ newsletterId: newsletter.id, subject: 'One', preheader: '', html: '<p>Hi</p>', text: 'Hi', articleIds: [] });
  const { campaign } = await stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id });

  // Every statement the store's own connection prepares from here on.
  const main = stores.handle?.sqlite;
  if (!main) throw new Error('not SQLite');
  const prepared: string[] = [];
  const prepare = main.prepare.bind(main);
  main.prepare = ((source: string) => {
    prepared.push(source);
    return prepare(source);
  }) as typeof main.prepare;

  expect(await stores.campaigns.countSends(campaign.id)).toMatchObject({ pending: 500, sent: 0 });
  // A write committed just before the count is in it.
  await sql`UPDATE sends SET status = 'sent' WHERE campaign_id = ${campaign.id} AND subscriber_id IN (SELECT id FROM subscribers ORDER BY id LIMIT 123)`.execute(stores.db);
  expect(await stores.campaigns.countSends(campaign.id)).toMatchObject({ pending: 377, sent: 123 });
  expect(prepared.filter((s) => /count\(\*\)/i.test(s))).toEqual([]);
  main.prepare = prepare;
});
