/**
 * Articles belong to newsletters: a newsletter takes only its feeds' items, the articles imported for it or assigned
 * to it, and those with a tag it selects; the demo articles go to the demo newsletter only; `issue build` and `send`
 * say which articles they chose. Through the real binary over a real SMTP sink, and the migration of a database made
 * by the schema before this change, with data in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { openStores } from '../src/store/open-store.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { cliWorkspace, showRun } from './helpers/mailroom.ts';

const DEMO_TITLES = ['Accessible Email in Five Habits', 'Microsoft and OpenAI', 'Recap: Inbox Summit', 'Lantern 3.2', 'Rye & Rise', 'Writing Subject Lines', 'SPF, DKIM and DMARC'];

let sink: SmtpSink;
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('a newsletter takes only its own articles', () => {
  test("a new user's newsletter never pulls in the demo articles; import --newsletter, tags, assign, unassign and --articles decide", async () => {
    sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    const ws = cliWorkspace(sink.url);
    cleanups.push(() => ws.remove());
    const ok = async (args: string[]) => {
      const run = await ws.run(args);
      expect(run.code, `${args.join(' ')}\n${showRun(run)}`).toBe(0);
      return run;
    };

    await ok(['demo']);
    await ok(['lists', 'create', 'readers']);
    await ok(['subscribers', 'add', 'me@example.com', '--list', 'readers', '--name', 'Me Myself']);
    const created = await ok(['newsletter', 'create', 'digest', '--name', 'The Digest', '--from', 'The Digest <d@example.com>', '--list', 'readers', '--postal-address', '1 Main St']);

    // Nothing of its own yet: no issue, no campaign, no mail, and the way forward.
    const empty = await ws.run(['send', 'digest']);
    expect(sink.messages.map((m) => m.parsed.subject)).toEqual([]);
    expect(empty.code, showRun(empty)).toBe(1);
    expect(created.stdout).toContain('it takes only its own articles: npx mailroom articles import PATH --newsletter digest');
    expect(empty.stderr).toContain('mailroom: newsletter "digest" has no articles yet');
    expect(empty.stderr).toContain('mailroom articles import PATH --newsletter digest');
    expect(ws.sql('select count(*) as n from issues')).toEqual([{ n: 0 }]);
    expect(sink.messages).toHaveLength(0);

    ws.file('mine.md', '---\ntitle: My Own News\npublished: 2026-12-01\ntags: [local]\n---\nHello, readers.\n');
    const imported = await ok(['articles', 'import', 'mine.md', '--newsletter', 'digest']);
    expect(imported.stdout).toContain('added     my-own-news  (mine.md) → digest');

    const sent = await ok(['send', 'digest']);
    expect(sent.stdout).toContain('built issue #1: "My Own News" with 1 article(s):\n  1. My Own News (my-own-news)\n');
    expect(sink.messages.map((m) => m.envelopeTo.join())).toEqual(['me@example.com']);
    const html = sink.messages[0]?.parsed.html || '';
    expect(html).toContain('My Own News');
    for (const title of DEMO_TITLES) expect(html, title).not.toContain(title);
    sink.messages.length = 0;

    // A second send finds nothing new: no issue #2 made of demo articles, nobody mailed.
    const again = await ws.run(['send', 'digest']);
    expect(again.code, showRun(again)).toBe(1);
    expect(again.stderr).toContain('mailroom: newsletter "digest": all 1 of its article(s) have been sent already');
    expect(ws.sql("select count(*) as n from issues where newsletter_id = (select id from newsletters where slug = 'digest')")).toEqual([{ n: 1 }]);
    expect(sink.messages).toHaveLength(0);

    // The demo newsletter keeps its articles, and never gets the user's.
    const weekly = await ok(['send', 'weekly']);
    expect(weekly.stdout).toContain('built issue #1: "Mailroom Weekly #1: Accessible Email in Five Habits" with 5 article(s):\n  1. Accessible Email in Five Habits (accessible-email-in-five-habits)\n');
    expect(sink.messages).toHaveLength(5);
    expect(sink.messages.every((m) => !(m.parsed.html || '').includes('My Own News'))).toBe(true);
    sink.messages.length = 0;

    // A tag the newsletter selects brings the articles that carry it (here one demo article), and only those.
    const tagged = await ok(['newsletter', 'set', 'digest', '--tag', 'Accessibility']);
    expect(tagged.stdout).toContain('newsletter digest: selects the tag(s) accessibility; 2 article(s) belong to it, 1 not sent in it yet');
    const byTag = await ok(['issue', 'build', 'digest']);
    expect(byTag.stdout).toContain('issue #2 of digest: "Accessible Email in Five Habits" with 1 article(s):\n  1. Accessible Email in Five Habits (accessible-email-in-five-habits)\n');

    // Taken out of the newsletter, it stays out although its tag still matches.
    const out = await ok(['articles', 'unassign', 'digest', 'accessible-email-in-five-habits']);
    expect(out.stdout).toContain('newsletter digest: 1 article(s) taken out');
    const listed = await ok(['articles', 'list', '--newsletter', 'digest']);
    expect(listed.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[2])).toEqual(['my-own-news']);

    // --articles names any article; it then belongs to the newsletter, and the command says so.
    const named = await ok(['issue', 'build', 'digest', '--articles', 'writing-subject-lines-people-actually-open']);
    expect(named.stdout).toContain('  1. Writing Subject Lines People Actually Open (writing-subject-lines-people-actually-open) (named with --articles; it now belongs to this newsletter)');
    const all = await ok(['articles', 'list']);
    expect(all.stdout).toMatch(/^\d+\s+\S+\s+writing-subject-lines-people-actually-open\s+digest,weekly\s+Writing Subject Lines/m);
    expect(all.stdout).toMatch(/^\d+\s+\S+\s+accessible-email-in-five-habits\s+weekly\s+/m);
    expect(all.stdout).toMatch(/^\d+\s+\S+\s+my-own-news\s+digest\s+/m);

    // An unknown article changes nothing.
    const before = ws.sql('select * from newsletter_articles order by newsletter_id, article_id');
    const unknown = await ws.run(['articles', 'assign', 'digest', 'lantern-3-2-product-update', 'nope']);
    expect(unknown.code, showRun(unknown)).toBe(1);
    expect(unknown.stderr.trim()).toBe('mailroom: no article "nope" (by slug, id or canonical URL; see: mailroom articles list); nothing changed');
    expect(ws.sql('select * from newsletter_articles order by newsletter_id, article_id')).toEqual(before);
    const assigned = await ok(['articles', 'assign', 'digest', 'lantern-3-2-product-update', 'my-own-news']);
    expect(assigned.stdout).toContain('newsletter digest: 1 article(s) assigned: lantern-3-2-product-update');
    expect(assigned.stdout).toContain('newsletter digest: 1 article(s) already belonged to it: my-own-news');

    // An article imported for no newsletter: no issue takes it, and a newsletter with nothing says how to assign it.
    ws.file('lonely.md', '---\ntitle: Lonely Piece\npublished: 2026-12-02\n---\nNobody owns me.\n');
    const lonely = await ok(['articles', 'import', 'lonely.md']);
    expect(lonely.stdout).toContain('1 of them belong to no newsletter, so no issue takes them; import them with --newsletter NEWSLETTER, or: npx mailroom articles assign NEWSLETTER lonely-piece');
    await ok(['newsletter', 'create', 'solo', '--name', 'Solo', '--from', 's@example.com', '--list', 'readers', '--postal-address', '1 Main St']);
    const solo = await ws.run(['issue', 'build', 'solo']);
    expect(solo.code, showRun(solo)).toBe(1);
    expect(solo.stderr).toContain('1 article(s) belong to no newsletter yet: lonely-piece ("Lonely Piece")');
    expect(solo.stderr).toContain('to send them in solo: mailroom articles assign solo lonely-piece');
    const unassignedList = await ok(['articles', 'list', '--unassigned']);
    expect(unassignedList.stdout).toMatch(/^\d+\s+2026-12-02\s+lonely-piece\s+-\s+Lonely Piece$/m);
  }, 240_000);
});

// ---------------------------------------------------------------------------------------------------------------

/** Migrations of the schema before articles belonged to newsletters (every one but this change's). */
const BEFORE = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name !== '2026-12-05-newsletter-articles' && name !== '2026-12-05-campaign-resend')) as Record<string, Migration>;

async function databaseBefore(path: string, fill: (db: BetterSqlite3.Database) => void): Promise<void> {
  const sqlite = new BetterSqlite3(path);
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => BEFORE }, allowUnorderedMigrations: true }).migrateToLatest();
  if (error) throw error;
  expect(sqlite.prepare("select count(*) as n from sqlite_master where name = 'newsletter_articles'").get()).toEqual({ n: 0 });
  fill(sqlite);
  await db.destroy();
}

function everyRow(path: string): Record<string, unknown[]> {
  const sqlite = new BetterSqlite3(path, { readonly: true });
  try {
    const tables = sqlite.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name").all() as { name: string }[];
    return Object.fromEntries(tables.map(({ name }) => [name, sqlite.prepare(`select * from "${name}" order by rowid`).all()]));
  } finally {
    sqlite.close();
  }
}

const T = '2026-11-01T09:00:00.000Z';

function article(db: BetterSqlite3.Database, id: number, slug: string, published: string, tags = '[]'): void {
  db.prepare(
    'insert into articles (id, slug, canonical_url, title, summary, body, author, published_at, tags, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(id, slug, '', `Title ${slug}`, 'Summary.', 'Body.', '', published, tags, T, T);
}

function newsletter(db: BetterSqlite3.Database, id: number, slug: string, listId: number): void {
  db.prepare(
    "insert into newsletters (id, slug, name, from_name, from_email, reply_to, list_id, template, postal_address, logo_url, subject_template, max_articles, language, created_at) values (?, ?, ?, ?, 'n@example.com', '', ?, 'digest', '1 Main St', '', '{title}', 5, 'en', ?)",
  ).run(id, slug, slug, slug, listId, T);
}

function issue(db: BetterSqlite3.Database, id: number, newsletterId: number, number: number, articleIds: number[], createdAt: string): void {
  db.prepare("insert into issues (id, newsletter_id, number, subject, preheader, html, text, created_at) values (?, ?, ?, 's', '', '<p>x</p>', 'x', ?)").run(id, newsletterId, number, createdAt);
  articleIds.forEach((articleId, position) => db.prepare('insert into issue_articles (issue_id, article_id, position) values (?, ?, ?)').run(id, articleId, position));
}

describe('migrating a database made before articles belonged to newsletters', () => {
  test('articles its issues carried belong to each newsletter, feed items to their feed, the rest stays unassigned; nothing is lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-migrate-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'mailroom.db');
    await databaseBefore(path, (db) => {
      db.prepare("insert into lists (id, name, description, created_at) values (1, 'demo', '', ?), (2, 'readers', '', ?)").run(T, T);
      db.prepare(
        "insert into subscribers (id, email, name, first_name, last_name, attributes, status, consent_source, consent_at, created_at, updated_at) values (1, 'ada@example.com', 'Ada', 'Ada', '', '{}', 'active', 'import', ?, ?, ?)",
      ).run(T, T, T);
      db.prepare("insert into list_memberships (list_id, subscriber_id, status, created_at, updated_at) values (1, 1, 'subscribed', ?, ?), (2, 1, 'subscribed', ?, ?)").run(T, T, T, T);
      newsletter(db, 1, 'weekly', 1);
      newsletter(db, 2, 'digest', 2);
      article(db, 1, 'sent-in-weekly', '2026-11-01T00:00:00.000Z');
      article(db, 2, 'sent-in-both', '2026-11-02T00:00:00.000Z');
      article(db, 3, 'in-digest-draft', '2026-11-03T00:00:00.000Z');
      article(db, 4, 'never-used', '2026-11-04T00:00:00.000Z', '["misc"]');
      article(db, 5, 'from-digest-feed', '2026-11-05T00:00:00.000Z');
      issue(db, 1, 1, 1, [1, 2], '2026-11-10T00:00:00.000Z');
      issue(db, 2, 2, 1, [2], '2026-11-11T00:00:00.000Z');
      issue(db, 3, 2, 2, [3], '2026-11-12T00:00:00.000Z');
      db.prepare("insert into campaigns (id, issue_id, newsletter_id, list_id, status, created_at, started_at, finished_at) values (1, 1, 1, 1, 'sent', ?, ?, ?), (2, 2, 2, 2, 'sent', ?, ?, ?)").run(T, T, T, T, T, T);
      db.prepare("insert into sends (campaign_id, subscriber_id, email, status, attempts, smtp_response, updated_at) values (1, 1, 'ada@example.com', 'sent', 1, '250 OK', ?), (2, 1, 'ada@example.com', 'sent', 1, '250 OK', ?)").run(T, T);
      db.prepare("insert into feeds (id, newsletter_id, url, created_at) values (1, 2, 'https://example.com/feed.xml', ?)").run(T);
      db.prepare("insert into feed_items (feed_id, guid, url, article_id, content_hash, first_seen_at, updated_at) values (1, 'g5', 'https://example.com/5', 5, 'h', ?, ?)").run(T, T);
    });
    const before = everyRow(path);

    const store = await openStores(path);
    cleanups.push(() => store.close());
    const after = everyRow(path);
    // Every row of every table is still there, unchanged (campaigns gain a column, false for them).
    for (const [table, rows] of Object.entries(before)) {
      if (table === 'campaigns') expect(after[table]).toEqual(rows.map((row) => ({ ...(row as object), resend: 0 })));
      else expect(after[table], table).toEqual(rows);
    }
    expect(after['newsletter_articles']).toEqual([
      { newsletter_id: 1, article_id: 1, excluded: 0, source: 'migration', added_at: '2026-11-10T00:00:00.000Z' },
      { newsletter_id: 1, article_id: 2, excluded: 0, source: 'migration', added_at: '2026-11-10T00:00:00.000Z' },
      { newsletter_id: 2, article_id: 2, excluded: 0, source: 'migration', added_at: '2026-11-11T00:00:00.000Z' },
      { newsletter_id: 2, article_id: 3, excluded: 0, source: 'migration', added_at: '2026-11-12T00:00:00.000Z' },
    ]);
    const owners = await store.content.newslettersOfArticles([1, 2, 3, 4, 5]);
    expect(Object.fromEntries(owners)).toEqual({ 1: ['weekly'], 2: ['digest', 'weekly'], 3: ['digest'], 4: [], 5: ['digest'] });
    // What each would send next: weekly has sent all of its own; digest its draft's article and its feed item.
    expect(await store.content.listArticlesNotSentIn(1, 10)).toEqual([]);
    expect((await store.content.listArticlesNotSentIn(2, 10)).map((a) => a.slug)).toEqual(['from-digest-feed', 'in-digest-draft']);
    expect(await store.content.listUnassignedArticles(5)).toMatchObject({ count: 1, newest: [expect.objectContaining({ slug: 'never-used' })] });
  });

  test('a database with one newsletter: every article stays its own, as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-migrate-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'mailroom.db');
    await databaseBefore(path, (db) => {
      db.prepare("insert into lists (id, name, description, created_at) values (1, 'demo', '', ?)").run(T);
      newsletter(db, 1, 'weekly', 1);
      article(db, 1, 'sent-one', '2026-11-01T00:00:00.000Z');
      article(db, 2, 'unsent-one', '2026-11-02T00:00:00.000Z');
      issue(db, 1, 1, 1, [1], '2026-11-10T00:00:00.000Z');
      db.prepare("insert into campaigns (id, issue_id, newsletter_id, list_id, status, created_at) values (1, 1, 1, 1, 'sent', ?)").run(T);
    });
    const store = await openStores(path);
    cleanups.push(() => store.close());
    expect(Object.fromEntries(await store.content.newslettersOfArticles([1, 2]))).toEqual({ 1: ['weekly'], 2: ['weekly'] });
    expect((await store.content.listArticlesNotSentIn(1, 10)).map((a) => a.slug)).toEqual(['unsent-one']);
    expect((await store.content.listUnassignedArticles(5)).count).toBe(0);
  });
});
