/**
 * Content is data, never template, through the real binary: hostile article titles, summaries, authors and
 * newsletter names reach every reader as themselves (Subject read back with mailparser from a real SMTP sink), a
 * build that fails stores nothing, a scheduled slot whose issue cannot be built is recorded, listed and retried once,
 * and dry runs, previews and every other read-only command change nothing in the database.
 */
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { compileIssue } from '../src/personalization/personalize.ts';
import { runDueSlots } from '../src/schedule/scheduler.ts';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { openStores } from '../src/store/open-store.ts';
import { cliWorkspace, expectOk, mailroom, show, snapshot, sqlite, sqliteWrite, type CliWorkspace } from './helpers/mailroom.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { startSmtpSink, type SinkMessage, type SmtpSink } from './helpers/smtp-sink.ts';

vi.setConfig({ testTimeout: 300_000 });

const READERS = [
  ['ada@example.com', 'Ada', 'Lovelace'],
  ['grace@example.com', 'Grace', 'Hopper'],
  // A reader's own name is a value: it prints as itself too.
  ['curly@example.com', '{{email}}', ''],
] as const;

const HOSTILE_TITLES = ['Deal {{unsubscribeUrl}} {{email}}', '{{nope}} news', 'Poll: {{#if}} or not', 'Triple {{{x}}} braces', 'Escaped \\{{x}} text', 'Comment {{!comment}} here', 'Tail brace {', 'Tail backslash \\'];

let sink: SmtpSink;
const workspaces: CliWorkspace[] = [];
beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink.close();
  for (const ws of workspaces) ws.remove();
});

function workspace(): CliWorkspace {
  const ws = cliWorkspace(sink.url);
  workspaces.push(ws);
  return ws;
}

/** A Markdown article file whose every field is given (JSON strings are valid YAML). */
function articleFile(fields: { slug: string; title: string; summary: string; author: string; body: string; published: string }): string {
  return `---\ntitle: ${JSON.stringify(fields.title)}\nslug: ${JSON.stringify(fields.slug)}\nsummary: ${JSON.stringify(fields.summary)}\nauthor: ${JSON.stringify(fields.author)}\npublished: ${fields.published}\n---\n${fields.body}\n`;
}

/** A list of three readers and a newsletter whose name is hostile and whose subject pattern greets each reader. */
async function hostileNewsletter(ws: CliWorkspace, name: string): Promise<void> {
  ws.file('readers.csv', ['email,first_name,last_name', ...READERS.map((r) => r.join(','))].join('\n'));
  expectOk(await mailroom(ws, ['subscribers', 'import', 'readers.csv', '--list', 'readers', '--create-list']));
  expectOk(
    await mailroom(ws, [
      'newsletter', 'create', 'hostile', '--name', name, '--from', 'Hostile News <news@example.com>', '--list', 'readers',
      '--postal-address', '1 Main St, Springfield', '--subject', '{{firstName}}: {title} ({name} #{number})', '--max-articles', '1',
    ]),
  );
}

function messagesTo(messages: readonly SinkMessage[], email: string): SinkMessage {
  const found = messages.find((m) => m.envelopeTo.includes(email));
  if (!found) throw new Error(`no message to ${email} among ${messages.length}`);
  return found;
}

/** What React and Handlebars make of text in HTML. */
const inHtml = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#x27;');

describe('hostile content through issue build and send', () => {
  test('titles, summaries, authors and the newsletter name print as themselves in every Subject, HTML and text part', async () => {
    const ws = workspace();
    const name = 'News {{email}} \\{{x}} {{#if}}';
    await hostileNewsletter(ws, name);
    HOSTILE_TITLES.forEach((title, i) => {
      ws.file(
        `articles/a${i}.md`,
        articleFile({
          slug: `hostile-${i}`,
          title,
          summary: `Summary {{unsubscribeUrl}} {{{email}}} ${i}`,
          author: `Author {{email}} {{!x}} ${i}`,
          body: `Body with {{email}} and an entity &#123;&#123;email&#125;&#125; and {{#each x}}{{/each}} (${i}).`,
          published: `2026-11-${String(10 + i).padStart(2, '0')}T09:00:00Z`,
        }),
      );
    });
    expectOk(await mailroom(ws, ['articles', 'import', 'articles']));

    for (const [i, title] of HOSTILE_TITLES.entries()) {
      const build = await mailroom(ws, ['issue', 'build', 'hostile', '--articles', `hostile-${i}`]);
      expectOk(build);
      sink.messages.length = 0;
      const send = await mailroom(ws, ['send', 'hostile']);
      expectOk(send);
      expect(sink.messages, show(send)).toHaveLength(READERS.length);
      for (const [email, firstName] of READERS) {
        const message = messagesTo(sink.messages, email);
        const where = `${title} to ${email}\n${show(send)}`;
        // The reader's own first name (a value, printed as is), then the title and the name exactly as written.
        expect(message.parsed.subject, where).toBe(`${firstName}: ${title} (${name} #${i + 1})`);
        const text = message.parsed.text ?? '';
        const html = typeof message.parsed.html === 'string' ? message.parsed.html : '';
        expect(text, where).toContain(title);
        expect(html, where).toContain(inHtml(title));
        expect(text, where).toContain(`Author {{email}} {{!x}} ${i}`);
        expect(html, where).toContain(inHtml(`Summary {{unsubscribeUrl}} {{{email}}} ${i}`));
        expect(text, where).toContain(`Body with {{email}} and an entity {{email}} and {{#each x}}{{/each}} (${i}).`);
        expect(html, where).toContain(`<title>${inHtml(`${firstName}: ${title} (${name} #${i + 1})`)}</title>`);
        // The address appears once, where the footer names it, and the unsubscribe link only where it belongs.
        expect(text.split(email).length - 1, where).toBe(1);
        expect(message.parsed.subject, where).not.toContain('/u/');
      }
    }
    expect(sqlite(ws, 'select number from issues order by number').map((r) => r['number'])).toEqual(HOSTILE_TITLES.map((_t, i) => i + 1));
  });

  test('a build that fails (a --subject or a stored pattern with an unknown placeholder) stores nothing and names the cause', async () => {
    const ws = workspace();
    await hostileNewsletter(ws, 'Plain News');
    ws.file('articles/one.md', articleFile({ slug: 'one', title: 'One', summary: 'S', author: 'A', body: 'Body.', published: '2026-11-01T09:00:00Z' }));
    expectOk(await mailroom(ws, ['articles', 'import', 'articles', '--newsletter', 'hostile']));
    const before = snapshot(ws);

    const badSubject = await mailroom(ws, ['issue', 'build', 'hostile', '--subject', 'Hello {{password}}']);
    expect(badSubject.code, show(badSubject)).toBe(1);
    expect(badSubject.stderr).toMatch(/subject: placeholder \{\{password\}\} is not an allowed variable/);
    expect(snapshot(ws)).toBe(before);

    // A pattern an older version stored without checking it.
    sqliteWrite(ws, "update newsletters set subject_template = '{{nope}} {title}' where slug = 'hostile'");
    const stored = snapshot(ws);
    for (const args of [['issue', 'build', 'hostile'], ['send', 'hostile'], ['send', 'hostile', '--dry-run'], ['preview', 'hostile', '--out', 'p.html']]) {
      const run = await mailroom(ws, args);
      expect(run.code, show(run)).toBe(1);
      expect(run.stderr, show(run)).toMatch(/\{\{nope\}\} is not an allowed variable/);
      expect(snapshot(ws), args.join(' ')).toBe(stored);
    }

    const refused = await mailroom(ws, ['newsletter', 'create', 'other', '--name', 'Other', '--from', 'o@example.com', '--list', 'readers', '--postal-address', 'x', '--subject', '{{nope}} {title}']);
    expect(refused.code, show(refused)).toBe(1);
    expect(refused.stderr).toMatch(/--subject "\{\{nope\}\} \{title\}": .*\{\{nope\}\} is not an allowed variable/);
  });
});

describe('dry runs, previews and read-only commands change nothing', () => {
  test('send --dry-run, preview and every listing leave every table as it was; the next real send is issue #1', async () => {
    const ws = workspace();
    expectOk(await mailroom(ws, ['demo']));
    const before = snapshot(ws);
    const dry = await mailroom(ws, ['send', 'weekly', '--dry-run']);
    expectOk(dry);
    expect(dry.stdout).toMatch(/dry run: issue #1 .*would go to 5 recipient\(s\)/);
    expect(snapshot(ws), 'send --dry-run').toBe(before);
    for (const args of [
      ['send', 'weekly', '--dry-run'],
      ['preview', 'weekly', '--out', 'out/p.html'],
      ['preview', 'weekly', '--text', '--out', 'out/p.txt', '--as', 'ada@example.com'],
      ['issue', 'list', 'weekly'],
      ['campaigns', 'list'],
      ['schedule', 'list'],
      ['articles', 'list'],
      ['lists', 'list'],
      ['newsletter', 'list'],
      ['subscribers', 'list'],
      ['subscribers', 'list', '--json'],
      ['subscribers', 'export', 'ada@example.com', '--out', 'out/ada.json'],
      ['lists', 'form', 'demo'],
      ['feeds', 'list'],
    ]) {
      expectOk(await mailroom(ws, args));
      expect(snapshot(ws), args.join(' ')).toBe(before);
    }
    expect(ws.read('out/p.html')).toContain('Mailroom Weekly');
    expect(ws.read('out/p.txt')).toContain('Hi Ada,');

    sink.messages.length = 0;
    const send = await mailroom(ws, ['send', 'weekly']);
    expectOk(send);
    expect(send.stdout).toMatch(/issue #1\b/);
    expect(sqlite(ws, 'select number from issues').map((r) => r['number'])).toEqual([1]);
    expect(sink.messages).toHaveLength(5);

    // With a sent issue and a campaign: showing them, previewing them and dry-running them again change nothing either.
    const sent = snapshot(ws);
    for (const args of [
      ['campaigns', 'show', '1'],
      ['campaigns', 'list'],
      ['issue', 'list', 'weekly'],
      ['preview', 'weekly/1', '--out', 'out/1.html'],
      ['preview', 'weekly', '--out', 'out/next.html'],
      ['send', 'weekly', '--dry-run'],
      ['send', 'weekly', '--dry-run', '--issue', '1'],
    ]) {
      expectOk(await mailroom(ws, args));
      expect(snapshot(ws), args.join(' ')).toBe(sent);
    }
  });
});

describe('scheduled slots', () => {
  let feeds: FixtureServer;
  beforeAll(async () => {
    feeds = await startFixtureServer();
  });
  afterAll(async () => {
    await feeds.close();
  });

  function rss(items: readonly { title: string; slug: string; date: string }[]): string {
    const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
    return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Hostile feed</title><link>${feeds.url}/</link><description>d</description>${items
      .map(
        (item) =>
          `<item><title>${escape(item.title)}</title><link>${feeds.url}/posts/${item.slug}</link><guid>${item.slug}</guid><pubDate>${new Date(item.date).toUTCString()}</pubDate><description>${escape(`<p>Summary of ${item.title}: {{unsubscribeUrl}}</p>`)}</description></item>`,
      )
      .join('')}</channel></rss>`;
  }

  /**
   * The scheduler's tick (what `serve` runs every 20 s) on the workspace's database, as if it were `at`: the slots
   * due by then are acted on; rows carry the real time, like the binary's, so "arrived since" compares alike.
   */
  async function tick(ws: CliWorkspace, at: Date) {
    const store = await openStores(ws.db);
    try {
      return await runDueSlots({ stores: store, publicUrl: 'https://news.example.com', catchUpMs: 6 * 3600_000, clock: () => at });
    } finally {
      await store.close();
    }
  }

  test('a feed item with a hostile title is sent as itself; a slot whose issue cannot be built is recorded, listed and retried exactly once', async () => {
    const ws = workspace();
    const env = { FETCH_ALLOW_PRIVATE: '127.0.0.1' };
    await hostileNewsletter(ws, 'Feed {{email}} News');
    const first = { title: 'Deal {{unsubscribeUrl}} {{email}} {{nope}} {{#if}}', slug: 'first', date: '2026-11-01T08:00:00Z' };
    feeds.set('/feed.xml', { headers: { 'content-type': 'application/rss+xml' }, body: rss([first]) });
    expectOk(await mailroom(ws, ['feeds', 'add', 'hostile', `${feeds.url}/feed.xml`, '--full-content', 'feed'], env));
    expectOk(await mailroom(ws, ['newsletter', 'schedule', 'hostile', '0 9 * * *', '--tz', 'UTC']));

    // The next 09:00 UTC, one minute later.
    const day = new Date();
    day.setUTCHours(9, 1, 0, 0);
    if (day.getTime() <= Date.now()) day.setUTCDate(day.getUTCDate() + 1);
    const slot1 = new Date(day.getTime() - 60_000).toISOString();
    const outcomes = await tick(ws, day);
    expect(outcomes).toMatchObject([{ newsletter: 'hostile', slotAt: slot1, outcome: 'campaign' }]);
    const campaignId = outcomes[0]?.outcome === 'campaign' ? outcomes[0].campaignId : 0;
    sink.messages.length = 0;
    const resume = await mailroom(ws, ['campaigns', 'resume', String(campaignId)]);
    expectOk(resume);
    expect(sink.messages).toHaveLength(READERS.length);
    expect(messagesTo(sink.messages, 'ada@example.com').parsed.subject).toBe(`Ada: ${first.title} (Feed {{email}} News #1)`);

    // A stored pattern that cannot be built (an older version saved it unchecked), and something new in the feed.
    sqliteWrite(ws, "update newsletters set subject_template = '{{nope}} {title}' where slug = 'hostile'");
    const second = { title: 'Second {{email}}', slug: 'second', date: '2026-11-02T08:00:00Z' };
    feeds.set('/feed.xml', { headers: { 'content-type': 'application/rss+xml' }, body: rss([second, first]) });
    expectOk(await mailroom(ws, ['feeds', 'poll'], env));
    const issuesBefore = sqlite(ws, 'select id from issues').length;
    const nextDay = new Date(day.getTime() + 24 * 3600_000);
    const slot2 = new Date(nextDay.getTime() - 60_000).toISOString();
    const failed = await tick(ws, nextDay);
    expect(failed).toMatchObject([{ newsletter: 'hostile', slotAt: slot2, outcome: 'failed' }]);
    expect(failed[0]?.outcome === 'failed' ? failed[0].detail : '').toMatch(/\{\{nope\}\} is not an allowed variable/);
    // Nothing half-made: no issue, no campaign; the next tick does not try the slot again.
    expect(sqlite(ws, 'select id from issues')).toHaveLength(issuesBefore);
    expect(sqlite(ws, 'select id from campaigns')).toHaveLength(1);
    expect(await tick(ws, new Date(nextDay.getTime() + 60_000))).toEqual([]);

    const list = await mailroom(ws, ['schedule', 'list']);
    expectOk(list);
    expect(list.stdout).toMatch(/past .* failed: .*\{\{nope\}\} is not an allowed variable/);
    expect(list.stdout).toContain(`retry: npx mailroom schedule retry hostile ${slot2}`);
    const campaigns = await mailroom(ws, ['campaigns', 'list']);
    expectOk(campaigns);
    expect(campaigns.stdout).toMatch(new RegExp(`^-\\s+.*hostile slot ${slot2.slice(0, 16).replace('T', ' ')}.*no campaign: build failed`, 'm'));
    expect(campaigns.stdout).toMatch(/\{\{nope\}\} is not an allowed variable/);

    // Retrying while the cause is still there fails again, says why, and keeps the slot retryable.
    const again = await mailroom(ws, ['schedule', 'retry', 'hostile']);
    expect(again.code, show(again)).toBe(1);
    expect(again.stderr).toMatch(/\{\{nope\}\} is not an allowed variable/);
    expect(sqlite(ws, 'select outcome from schedule_slots where slot_at = ?', slot2)).toEqual([{ outcome: 'failed' }]);
    expect(sqlite(ws, 'select id from issues')).toHaveLength(issuesBefore);

    sqliteWrite(ws, "update newsletters set subject_template = '{{firstName}}: {title}' where slug = 'hostile'");
    sink.messages.length = 0;
    const [retry, racing] = await Promise.all([ws.runBin(['schedule', 'retry', 'hostile', slot2]), ws.runBin(['schedule', 'retry', 'hostile', slot2])]);
    const winners = [retry, racing].filter((r) => r.code === 0);
    expect(winners, `${show(retry)}\n${show(racing)}`).toHaveLength(1);
    const loser = [retry, racing].find((r) => r.code !== 0);
    expect(loser?.stderr).toMatch(/already (produced campaign \d+|being retried)|no failed slot/);
    expect(sink.messages).toHaveLength(READERS.length);
    expect(messagesTo(sink.messages, 'grace@example.com').parsed.subject).toBe(`Grace: ${second.title}`);
    expect(sqlite(ws, 'select outcome, campaign_id from schedule_slots where slot_at = ?', slot2)).toEqual([{ outcome: 'campaign', campaign_id: 2 }]);
    const afterwards = await mailroom(ws, ['schedule', 'retry', 'hostile', slot2]);
    expect(afterwards.code).toBe(1);
    expect(afterwards.stderr).toContain(`schedule retry hostile ${slot2}: this slot already produced campaign 2`);
    const listed = await mailroom(ws, ['campaigns', 'list']);
    expect(listed.stdout).not.toMatch(/no campaign: build failed/);
  });
});

describe('existing databases', () => {
  test('migrate without losing a slot; slots may then fail; old preheaders keep printing as text', async () => {
    const ws = workspace();
    const path = join(ws.dataDir, 'old.db');
    // A database as the last release left it: migrations up to 0004 only.
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(path) }) });
    const shipped = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name.startsWith('000')));
    const migrated = await new Migrator({ db: old, provider: { getMigrations: async () => shipped } }).migrateToLatest();
    expect(migrated.error).toBeUndefined();
    await old.destroy();
    const raw = new BetterSqlite3(path);
    raw.exec(`INSERT INTO lists (id, name, created_at) VALUES (1, 'l', 'x');
      INSERT INTO newsletters (id, slug, name, from_name, from_email, reply_to, list_id, template, postal_address, logo_url, subject_template, max_articles, language, created_at)
        VALUES (1, 'n', 'N', 'N', 'n@example.com', '', 1, 'digest', 'a', '', '{title}', 5, 'en', 'x');
      INSERT INTO issues (id, newsletter_id, number, subject, preheader, html, text, created_at) VALUES (1, 1, 1, 's', 'Psst {{email}} {{#if}}', '', '', 'x'), (2, 1, 2, 's', 'plain', '', '', 'x');
      INSERT INTO schedule_slots (newsletter_id, slot_at, outcome, campaign_id, detail, created_at) VALUES (1, '2026-01-01T09:00:00.000Z', 'skipped-empty', NULL, 'nothing new', 'x');`);
    raw.close();

    const store = await openStores(path);
    try {
      expect(await store.schedules.listSlots(1)).toMatchObject([{ slotAt: '2026-01-01T09:00:00.000Z', outcome: 'skipped-empty', detail: 'nothing new' }]);
      expect(await store.schedules.recordSlotWithoutCampaign(1, '2026-01-02T09:00:00.000Z', 'failed', 'broken')).toBe(true);
      expect(await store.schedules.listFailedSlots()).toMatchObject([{ newsletterId: 1, slotAt: '2026-01-02T09:00:00.000Z', detail: 'broken' }]);
      const [first, second] = [await store.newsletters.getIssue(1), await store.newsletters.getIssue(2)];
      expect(second?.preheader).toBe('plain');
      const shown = compileIssue({ subject: first?.preheader ?? '', html: '', text: '' }).personalize({
        firstName: 'A', lastName: '', fullName: 'A', email: 'a@example.com', unsubscribeUrl: 'u', preferencesUrl: 'p', webVersionUrl: 'w', attributes: {},
      });
      expect(shown.subject).toBe('Psst {{email}} {{#if}}');
    } finally {
      await store.close();
    }
  });
});
