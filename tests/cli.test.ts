/**
 * The `mailroom` command in a throwaway workspace (a copy of the demo content) against a real SMTP sink and a real
 * SQLite file: help for every command, the whole happy path, import semantics, and bad input (non-zero exit, a message
 * naming the thing, the value and where it came from, and nothing half-written). Help and usage errors go through the
 * real binary; the rest runs main() in-process (tests/helpers/mailroom.ts), the same program without a process start.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { buildProgram } from '../src/cli/main.ts';
import { openStores } from '../src/store/open-store.ts';
import { runInProcess } from './helpers/mailroom.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { makeDataDir, REPO_ROOT } from './helpers/workspace.ts';

// Each spawn takes about a second (more on a loaded machine); some tests spawn fifteen.
vi.setConfig({ testTimeout: 180_000 });

const BIN = join(REPO_ROOT, 'bin', 'mailroom.js');
const SECRET = 'cli-test-secret-0123456789abcdefghijklmn'; // 40 characters
const DEMO_EMAILS = ['ada@example.com', 'grace@example.com', 'linus@example.org', 'margaret@example.net', 'reader@example.com'];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Ws {
  readonly dir: string;
  readonly dataDir: string;
  readonly db: string;
  readonly smtpUrl: string;
  /** Writes a file in the workspace and returns its path relative to it. */
  file(name: string, content: string | Buffer): string;
  read(name: string): string;
}

const created: string[] = [];

function workspace(smtpUrl: string): Ws {
  const dir = makeDataDir();
  created.push(dir);
  const dataDir = join(dir, 'data');
  return {
    dir,
    dataDir,
    db: join(dataDir, 'mailroom.db'),
    smtpUrl,
    file(name, content) {
      writeFileSync(join(dir, name), content);
      return name;
    },
    read(name) {
      return readFileSync(join(dir, name), 'utf8');
    },
  };
}

afterAll(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

function envFor(ws: Ws, extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Nothing from the developer's own environment may leak into the workspace.
  for (const key of Object.keys(env)) if (/^(DATABASE_URL|SMTP_|DKIM_|SEND_|INBOX_|PORT$|HOST$|FEEDBACK_ID_SENDER$|TSX_)/.test(key)) delete env[key];
  // The working directory is the workspace, outside the repository, as for a user running `npx mailroom` in their
  // own folder (tsx must still find the repository's tsconfig for the JSX templates).
  Object.assign(env, { DATA_DIR: ws.dataDir, PUBLIC_URL: 'https://news.example.com', SECRET, SMTP_URL: ws.smtpUrl });
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs `mailroom …args` in the workspace, in-process. */
function mailroom(ws: Ws, args: readonly string[], extraEnv: Record<string, string | undefined> = {}): Promise<Run> {
  return runInProcess(ws.dir, args, envFor(ws, extraEnv));
}

/** Runs `node bin/mailroom.js …args` in the workspace. */
function mailroomBin(ws: Ws, args: readonly string[], extraEnv: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ws.dir, env: envFor(ws, extraEnv), timeout: 60_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** For failure messages: the whole run. */
function show(run: Run): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

function expectOk(run: Run): void {
  expect(run.code, show(run)).toBe(0);
}

/** Rows of a query on the workspace's SQLite file, opened read-only. */
function sqlite<T = Record<string, unknown>>(ws: Ws, query: string, ...params: unknown[]): T[] {
  const db = new BetterSqlite3(ws.db, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(query).all(...params) as T[];
  } finally {
    db.close();
  }
}

function count(ws: Ws, table: string): number {
  return Number(sqlite<{ n: number }>(ws, `select count(*) as n from ${table}`)[0]?.n);
}

/** Every row of every table (migrations bookkeeping aside), to prove a failed command wrote nothing. */
function snapshot(ws: Ws): string {
  if (!existsSync(ws.db)) return '(no database)';
  const tables = sqlite<{ name: string }>(ws, "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name");
  return JSON.stringify(Object.fromEntries(tables.map(({ name }) => [name, sqlite(ws, `select * from "${name}"`).map((r) => JSON.stringify(r)).sort()])), null, 1);
}

interface JsonSubscriber {
  email: string;
  name: string;
  firstName: string;
  lastName: string;
  attributes: Record<string, string>;
  status: string;
  lists: { name: string; status: string }[];
}

async function membersOf(ws: Ws, list: string): Promise<JsonSubscriber[]> {
  const run = await mailroom(ws, ['subscribers', 'list', '--list', list, '--json']);
  expectOk(run);
  return JSON.parse(run.stdout) as JsonSubscriber[];
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink.close();
});

// ---------------------------------------------------------------------------------------------------------------

describe('help', () => {
  function allCommands(command: Command, path: readonly string[] = []): { path: string[]; command: Command }[] {
    const here = [...path, command.name()];
    return [{ path: here, command }, ...command.commands.flatMap((sub) => allCommands(sub, here))];
  }

  test('every command and subcommand has help that names it, describes it and lists its arguments and options', () => {
    const everything = allCommands(buildProgram());
    const names = everything.map((c) => c.path.join(' '));
    // The full tree, so a new command cannot slip in without a description.
    expect(names).toEqual(
      expect.arrayContaining([
        'mailroom serve',
        'mailroom demo',
        'mailroom articles import',
        'mailroom articles list',
        'mailroom subscribers import',
        'mailroom subscribers add',
        'mailroom subscribers remove',
        'mailroom subscribers list',
        'mailroom lists create',
        'mailroom lists list',
        'mailroom newsletter create',
        'mailroom newsletter list',
        'mailroom issue build',
        'mailroom issue list',
        'mailroom preview',
        'mailroom send',
        'mailroom campaigns list',
        'mailroom campaigns show',
        'mailroom campaigns resume',
        'mailroom templates render',
      ]),
    );
    expect(everything.length).toBeGreaterThanOrEqual(28);
    for (const { path, command } of everything) {
      const help = command.helpInformation();
      const where = `help of "${path.join(' ')}":\n${help}`;
      expect(help.startsWith(`Usage: ${path.join(' ')}`), where).toBe(true);
      const description = command.description();
      expect(description.trim().length, where).toBeGreaterThan(10);
      expect(oneLine(help), where).toContain(oneLine(description));
      for (const argument of command.registeredArguments) {
        const name = `${argument.name()}${argument.variadic ? '...' : ''}`;
        expect(help, where).toContain(argument.required ? `<${name}>` : `[${name}]`);
      }
      for (const option of command.options) expect(help, where).toContain(option.flags);
      for (const sub of command.commands) {
        expect(help, where).toContain(sub.name());
        // The parent's list shows the start of each description (wrapped).
        expect(oneLine(help), where).toContain(oneLine(sub.description()).slice(0, 30));
      }
    }
  });

  test('--help through the real binary exits 0 and prints the usage and the description', async () => {
    const ws = workspace(sink.url);
    const cases = [
      [['--help'], 'mailroom', /articles → React Email/],
      [['articles', '--help'], 'mailroom articles', /Import and list articles/],
      [['subscribers', 'import', '--help'], 'mailroom subscribers import', /Import subscribers from a CSV/],
      [['newsletter', 'create', '--help'], 'mailroom newsletter create', /--postal-address <text>/],
      [['send', '--help'], 'mailroom send', /--dry-run/],
      [['campaigns', 'show', '--help'], 'mailroom campaigns show', /Progress of one campaign/],
    ] as const;
    const runs = await Promise.all(cases.map(([args]) => mailroomBin(ws, args)));
    runs.forEach((run, i) => {
      const [, usage, pattern] = cases[i] ?? ['', '', /$^/];
      expectOk(run);
      expect(run.stdout, show(run)).toContain(`Usage: ${usage}`);
      expect(oneLine(run.stdout), show(run)).toMatch(pattern);
      expect(run.stderr).toBe('');
    });
    // Help touches nothing: no database was created.
    expect(existsSync(ws.db)).toBe(false);
  });

  test('usage errors exit 2 at every level, unlike a command that ran and failed (1)', async () => {
    const ws = workspace(sink.url);
    const [unknown, missingOption] = await Promise.all([mailroomBin(ws, ['nope']), mailroomBin(ws, ['subscribers', 'import', 'people.csv'])]);
    expect(unknown.code, show(unknown)).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'nope'");
    expect(missingOption.stderr).toContain("required option '--list <name>' not specified");
    // main() maps every commander error to 2, but subcommands never got exitOverride(): they exit 1, the code that
    // `subscribers import` uses for "some rows were rejected".
    expect(missingOption.code, show(missingOption)).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('the happy path', () => {
  test('demo, lists, articles, CSV import, newsletter, issue, preview, dry run, test send, send, campaigns', async () => {
    const ws = workspace(sink.url);
    sink.messages.length = 0;

    const demo = await mailroom(ws, ['demo']);
    expectOk(demo);
    expect(demo.stdout).toContain('demo workspace: newsletter "weekly" created, 7 article(s), 5 subscriber(s) on list "demo"');
    expect(demo.stderr).toBe('');

    const lists = await mailroom(ws, ['lists', 'list']);
    expectOk(lists);
    expect(lists.stdout).toMatch(/^ID\s+NAME\s+SUBSCRIBED\s+PENDING\s+UNSUBSCRIBED\s+DESCRIPTION$/m);
    expect(lists.stdout).toMatch(/^1\s+demo\s+5\s+0\s+0\s+Demo readers/m);

    const articles = await mailroom(ws, ['articles', 'list']);
    expectOk(articles);
    const articleRows = articles.stdout.trim().split('\n').slice(1);
    expect(articleRows).toHaveLength(7);
    expect(articleRows[0]).toMatch(/^7\s+2026-11-24\s+accessible-email-in-five-habits\s+weekly\s+Accessible Email in Five Habits$/);
    expect(articleRows[6]).toMatch(/^1\s+2026-10-29\s+spf-dkim-and-dmarc/);

    ws.file(
      'readers.csv',
      ['Email,First Name,Last Name,Company', 'Ann@Example.com,Ann,Arbor,Acme', 'ben@example.org,Ben,Bitdiddle,"Widgets, Inc."', 'cat@example.net,Cat,,', ''].join('\n'),
    );
    const imported = await mailroom(ws, ['subscribers', 'import', 'readers.csv', '--list', 'readers', '--create-list']);
    expectOk(imported);
    expect(imported.stdout.trim()).toBe('readers.csv: 3 added to list readers (3 new people, 0 already known; 0 profiles changed), 0 already on it, 0 unchanged, 0 kept out (unsubscribed, bounced, suppressed or not yet confirmed), 0 rejected');
    expect(imported.stderr).toBe('');

    const readers = await membersOf(ws, 'readers');
    expect(readers.map((s) => ({ email: s.email, name: s.name, firstName: s.firstName, lastName: s.lastName, attributes: s.attributes, status: s.status, lists: s.lists }))).toEqual([
      { email: 'ann@example.com', name: 'Ann Arbor', firstName: 'Ann', lastName: 'Arbor', attributes: { company: 'Acme' }, status: 'active', lists: [{ name: 'readers', status: 'subscribed' }] },
      {
        email: 'ben@example.org',
        name: 'Ben Bitdiddle',
        firstName: 'Ben',
        lastName: 'Bitdiddle',
        attributes: { company: 'Widgets, Inc.' },
        status: 'active',
        lists: [{ name: 'readers', status: 'subscribed' }],
      },
      { email: 'cat@example.net', name: 'Cat', firstName: 'Cat', lastName: '', attributes: {}, status: 'active', lists: [{ name: 'readers', status: 'subscribed' }] },
    ]);

    const created = await mailroom(ws, [
      'newsletter',
      'create',
      'letters',
      '--name',
      'Reader Letters',
      '--from',
      'Reader Letters <letters@news.example.com>',
      '--list',
      'readers',
      '--postal-address',
      '1 Main Street, Springfield',
      '--subject',
      '{name}: {title}',
      '--max-articles',
      '2',
    ]);
    expectOk(created);
    expect(created.stdout.trim().split('\n')[0]).toBe('newsletter letters created: "Reader Letters" from letters@news.example.com to list readers');
    expect(sqlite(ws, 'select slug, from_name, from_email, template, max_articles, postal_address from newsletters order by id')).toEqual([
      { slug: 'weekly', from_name: 'Mailroom Weekly', from_email: 'news@mailroom.example', template: 'digest', max_articles: 5, postal_address: expect.stringContaining('Springfield') },
      { slug: 'letters', from_name: 'Reader Letters', from_email: 'letters@news.example.com', template: 'digest', max_articles: 2, postal_address: '1 Main Street, Springfield' },
    ]);

    const built = await mailroom(ws, ['issue', 'build', 'weekly']);
    expectOk(built);
    expect(built.stdout).toContain('issue #1 of weekly: "Mailroom Weekly #1: Accessible Email in Five Habits" with 5 article(s)');
    expect(built.stdout).toContain('preview: npx mailroom preview weekly/1 --out issue.html');

    const html = await mailroom(ws, ['preview', 'weekly', '--out', 'f.html', '--as', 'ada@example.com']);
    expectOk(html);
    expect(html.stdout).toMatch(/^weekly\/1 "Mailroom Weekly #1: Accessible Email in Five Habits" as Ada Lovelace <ada@example\.com> \(greeted as "Ada"\) → f\.html \(HTML, [\d.]+ KB\)$/m);
    const page = ws.read('f.html');
    expect(page).toContain('Hi Ada,');
    expect(page).not.toContain('{{');
    expect(page).toContain('https://news.example.com/u/');
    expect(page).toContain('https://news.example.com/issues/weekly/1');

    const text = await mailroom(ws, ['preview', 'weekly/1', '--text', '--out', 'f.txt']);
    expectOk(text);
    expect(text.stdout).toContain('as the sample reader Sample Reader <reader@example.com> (not a subscriber; greeted as "Sample"; --as EMAIL previews a real one) → f.txt (text,');
    const plain = ws.read('f.txt');
    expect(plain).toContain('Hi Sample,');
    expect(plain).toContain('Accessible Email in Five Habits');
    expect(plain).toContain('https://news.example.com/u/');
    expect(plain).not.toContain('{{');
    expect(plain).not.toMatch(/<\/?(?:p|div|a|table|tr|td|span|br|h[1-6]|img|strong|em)\b/i);

    const dry = await mailroom(ws, ['send', 'weekly', '--dry-run']);
    expectOk(dry);
    expect(dry.stdout).toContain('dry run: issue #1 would go to 5 recipient(s) of list demo;');
    expect(dry.stdout).toContain('nothing sent');
    expect(sink.messages).toHaveLength(0);
    expect(count(ws, 'campaigns')).toBe(0);

    const testCopy = await mailroom(ws, ['send', 'weekly', '--test', 'X@Example.com']);
    expectOk(testCopy);
    expect(testCopy.stdout).toContain(`test copy of issue #1 sent to X@Example.com via ${sink.url}`);
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]?.envelopeTo).toEqual(['x@example.com']);
    expect(sink.messages[0]?.parsed.subject).toBe('[TEST] Mailroom Weekly #1: Accessible Email in Five Habits');
    expect(count(ws, 'campaigns')).toBe(0);
    sink.messages.length = 0;

    const sent = await mailroom(ws, ['send', 'weekly']);
    expectOk(sent);
    expect(sent.stdout).toContain('campaign 1: issue #1 "Mailroom Weekly #1: Accessible Email in Five Habits" to 5 recipient(s) of list demo');
    expect(sent.stdout).toContain('campaign 1: sent: 5 sent, 0 failed, 0 skipped, 0 deferred, 0 pending');
    expect(sent.stdout).toContain('web version: https://news.example.com/issues/weekly/1');
    expect(sink.messages).toHaveLength(5);
    for (const email of DEMO_EMAILS) expect(sink.countFor(email), email).toBe(1);
    const ada = sink.messages.find((m) => m.envelopeTo.includes('ada@example.com'));
    expect(ada?.parsed.text).toContain('Hi Ada,');
    expect(ada?.raw).not.toContain('{{');
    sink.messages.length = 0;

    // The newsletter made from the command line takes only its own articles, and goes to the imported people, personalized.
    expectOk(await mailroom(ws, ['articles', 'assign', 'letters', 'accessible-email-in-five-habits', 'writing-subject-lines-people-actually-open']));
    const letters = await mailroom(ws, ['send', 'letters']);
    expectOk(letters);
    expect(letters.stdout).toContain('built issue #1: "Reader Letters: Accessible Email in Five Habits"');
    expect(letters.stdout).toContain('campaign 2: sent: 3 sent, 0 failed');
    expect(sink.messages.map((m) => m.envelopeTo.join()).sort()).toEqual(['ann@example.com', 'ben@example.org', 'cat@example.net']);
    const ann = sink.messages.find((m) => m.envelopeTo.includes('ann@example.com'));
    expect(ann?.parsed.text).toContain('Hi Ann,');
    expect(ann?.parsed.from?.value[0]).toEqual({ name: 'Reader Letters', address: 'letters@news.example.com' });

    const campaigns = await mailroom(ws, ['campaigns', 'list']);
    expectOk(campaigns);
    expect(campaigns.stdout).toMatch(/^ID\s+CREATED\s+ISSUE\s+STATUS\s+SENT\s+FAILED\s+SKIPPED\s+LEFT$/m);
    expect(campaigns.stdout).toMatch(/^2\s+\S+ \S+\s+letters\/1\s+sent\s+3\s+0\s+0\s+0$/m);
    expect(campaigns.stdout).toMatch(/^1\s+\S+ \S+\s+weekly\/1\s+sent\s+5\s+0\s+0\s+0$/m);

    const one = await mailroom(ws, ['campaigns', 'show', '1']);
    expectOk(one);
    expect(one.stdout).toMatch(/^campaign 1: sent$/m);
    expect(one.stdout).toMatch(/^issue:\s+#1 "Mailroom Weekly #1: Accessible Email in Five Habits"$/m);
    expect(one.stdout).toMatch(/^list:\s+demo$/m);
    expect(one.stdout).toMatch(/^created:\s+\S+.*, finished \S+$/m);
    expect(one.stdout).toMatch(/^progress:\s.*\b5 sent\b/m);
    expect(one.stdout).toMatch(/^progress:\s.*\b0 failed\b.*\b0 skipped\b/m);
    expect(one.stdout).not.toMatch(/^(failed|skipped|deferred).*:$/m);
    expect(sqlite(ws, "select count(*) as n from sends where campaign_id = 1 and status = 'sent'")).toEqual([{ n: 5 }]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('import semantics', () => {
  const TEAM = ['Email,First Name,Last Name,Company', 'amy@example.com,Amy,Adams,Acme', 'bea@example.com,Bea,Brown,Bolt', 'cy@example.com,Cy,,', 'dan@example.com,Dan,Day,Dots'];

  test('re-import is all unchanged; unsubscribed, bounced and suppressed people stay out; --strict imports nothing', async () => {
    const ws = workspace(sink.url);
    ws.file('team.csv', `${TEAM.join('\n')}\n`);
    const first = await mailroom(ws, ['subscribers', 'import', 'team.csv', '--list', 'team', '--create-list']);
    expectOk(first);
    expect(first.stdout).toContain('team.csv: 4 added to list team (4 new people, 0 already known; 0 profiles changed), 0 already on it, 0 unchanged, 0 kept out');

    const again = await mailroom(ws, ['subscribers', 'import', 'team.csv', '--list', 'team']);
    expectOk(again);
    expect(again.stdout.trim()).toBe('team.csv: 0 added to list team (0 new people, 4 already known; 0 profiles changed), 4 already on it, 4 unchanged, 0 kept out (unsubscribed, bounced, suppressed or not yet confirmed), 0 rejected');

    // Bea unsubscribes (as the one-click link does), Cy's mail hard-bounces, eve@ is on the suppression list only.
    const store = await openStores(ws.db);
    try {
      const team = await store.audience.findListByName('team');
      const bea = await store.audience.findSubscriberByEmail('bea@example.com');
      if (!team || !bea) throw new Error('team or bea missing');
      await store.audience.unsubscribeFromList(bea.id, team.id);
      await store.audience.suppressAddress('cy@example.com', 'hard-bounce', '550 5.1.1 <cy@example.com>: User unknown');
      await store.audience.suppressAddress('eve@example.com', 'manual', 'asked not to be mailed');
    } finally {
      await store.close();
    }
    ws.file('team.csv', `${[...TEAM, 'EVE@example.com,Eve,,'].join('\n')}\n`);
    const third = await mailroom(ws, ['subscribers', 'import', 'team.csv', '--list', 'team']);
    expectOk(third);
    expect(third.stdout.trim()).toBe('team.csv: 0 added to list team (0 new people, 4 already known; 0 profiles changed), 2 already on it, 2 unchanged, 3 kept out (unsubscribed, bounced, suppressed or not yet confirmed), 0 rejected');
    const members = await membersOf(ws, 'team');
    expect(members.map((s) => [s.email, s.status, s.lists.map((l) => `${l.name}:${l.status}`).join()])).toEqual([
      ['amy@example.com', 'active', 'team:subscribed'],
      ['bea@example.com', 'active', 'team:unsubscribed'],
      ['cy@example.com', 'bounced', 'team:subscribed'],
      ['dan@example.com', 'active', 'team:subscribed'],
    ]);
    expect(sqlite(ws, "select count(*) as n from subscribers where email like 'eve%'")).toEqual([{ n: 0 }]);

    // --strict with one bad row: nothing at all.
    ws.file('strict.csv', 'Email,First Name,Last Name,Company\nfay@example.com,Fay,,\nbob@,Bob,,\ngus@example.com,Gus,,\namy@example.com,Amy,Adams,NewCo\n');
    const before = snapshot(ws);
    const strict = await mailroom(ws, ['subscribers', 'import', 'strict.csv', '--list', 'team', '--strict']);
    expect(strict.code, show(strict)).toBe(1);
    expect(strict.stderr.trim()).toBe('strict.csv line 3: "bob@" is not an email address');
    expect(strict.stdout.trim()).toBe('strict.csv: nothing imported (--strict): 1 row(s) rejected');
    expect(snapshot(ws)).toBe(before);

    // Without --strict: the good rows go in, exit code 1, each rejection printed with file and line.
    const lenient = await mailroom(ws, ['subscribers', 'import', 'strict.csv', '--list', 'team']);
    expect(lenient.code, show(lenient)).toBe(1);
    expect(lenient.stderr.trim()).toBe('strict.csv line 3: "bob@" is not an email address');
    expect(lenient.stdout.trim()).toBe('strict.csv: 2 added to list team (2 new people, 1 already known; 1 profile changed), 1 already on it, 0 unchanged, 0 kept out (unsubscribed, bounced, suppressed or not yet confirmed), 1 rejected');
    expect(sqlite(ws, "select email, attributes from subscribers where email in ('fay@example.com', 'gus@example.com', 'amy@example.com') order by email")).toEqual([
      { email: 'amy@example.com', attributes: '{"company":"NewCo"}' },
      { email: 'fay@example.com', attributes: '{}' },
      { email: 'gus@example.com', attributes: '{}' },
    ]);
  });
  test('a 550 5.1.1 from the SMTP server bounces and suppresses the address: later imports keep it out', async () => {
    const bouncer = await startSmtpSink();
    try {
      bouncer.setRule((address) => (address === 'linus@example.org' ? '550 5.1.1 <linus@example.org>: Recipient address rejected: User unknown' : undefined));
      const ws = workspace(bouncer.url);
      expectOk(await mailroom(ws, ['demo']));
      const sent = await mailroom(ws, ['send', 'weekly']);
      expect(sent.code, show(sent)).toBe(1);
      expect(sent.stdout).toContain('campaign 1: sent: 4 sent, 1 failed, 0 skipped, 0 deferred, 0 pending');
      expect(bouncer.messages).toHaveLength(4);

      const shown = await mailroom(ws, ['campaigns', 'show', '1']);
      expectOk(shown);
      expect(shown.stdout).toMatch(/^campaign 1: sent/m);
      expect(shown.stdout).toMatch(/^progress:\s.*\b4 sent\b.*\b1 failed\b/m);
      expect(shown.stdout).toMatch(/^failed:\n.*EMAIL\s+ATTEMPTS\s+SMTP.*\nlinus@example\.org\s+1\s+550 5\.1\.1 /m);
      expect(sqlite(ws, 'select email, reason from suppressions')).toEqual([{ email: 'linus@example.org', reason: 'hard-bounce' }]);

      const again = await mailroom(ws, ['subscribers', 'import', 'data/demo-subscribers.csv', '--list', 'demo']);
      expectOk(again);
      expect(again.stdout).toContain('demo-subscribers.csv: 0 added to list demo (0 new people, 5 already known; 0 profiles changed), 4 already on it, 4 unchanged, 1 kept out');
      const fresh = await mailroom(ws, ['subscribers', 'import', 'data/demo-subscribers.csv', '--list', 'fresh', '--create-list']);
      expectOk(fresh);
      expect(fresh.stdout).toContain('demo-subscribers.csv: 4 added to list fresh (0 new people, 5 already known; 0 profiles changed), 0 already on it, 0 unchanged, 1 kept out');
      expect(sqlite(ws, "select s.status, group_concat(l.name || ':' || m.status) as lists from subscribers s join list_memberships m on m.subscriber_id = s.id join lists l on l.id = m.list_id where s.email = 'linus@example.org'")).toEqual([
        { status: 'bounced', lists: 'demo:subscribed' },
      ]);
    } finally {
      await bouncer.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('bad input: non-zero exit, a message naming the thing, the value and where, nothing half-written', () => {
  test('subscriber CSVs: invalid and duplicate emails, no email column, BOM, quoted line breaks, unknown list, missing file', async () => {
    const ws = workspace(sink.url);

    ws.file('bad.csv', 'Email,First Name,Last Name,Company\nann@example.com,Ann,Arbor,Acme\nbob@,Bob,,\nANN@Example.COM,Annie,,Other\ncid@example.com,Cid,,\n');
    const bad = await mailroom(ws, ['subscribers', 'import', 'bad.csv', '--list', 'club', '--create-list']);
    expect(bad.code, show(bad)).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual(['bad.csv line 3: "bob@" is not an email address', 'bad.csv line 4: "ANN@Example.COM" duplicates line 2']);
    expect(bad.stdout).toContain('bad.csv: 2 added to list club (2 new people, 0 already known; 0 profiles changed), 0 already on it, 0 unchanged, 0 kept out (unsubscribed, bounced, suppressed or not yet confirmed), 2 rejected');
    expect(sqlite(ws, 'select email, first_name, attributes from subscribers order by id')).toEqual([
      { email: 'ann@example.com', first_name: 'Ann', attributes: '{"company":"Acme"}' },
      { email: 'cid@example.com', first_name: 'Cid', attributes: '{}' },
    ]);

    // No email column: refused before anything is read, nothing written, the file, line and header named.
    ws.file('noemail.csv', 'Name,Company\nDee,Acme\n');
    let before = snapshot(ws);
    const noEmail = await mailroom(ws, ['subscribers', 'import', 'noemail.csv', '--list', 'club']);
    expect(noEmail.code, show(noEmail)).toBe(1);
    expect(noEmail.stderr.trim()).toBe('mailroom: noemail.csv line 1: no email column in the header (found: "Name", "Company")');
    expect(noEmail.stdout).toBe('');
    expect(snapshot(ws)).toBe(before);
    // …also with --create-list: a refused file must not leave an empty list behind.
    const noEmailNewList = await mailroom(ws, ['subscribers', 'import', 'noemail.csv', '--list', 'ghost', '--create-list']);
    expect(noEmailNewList.code, show(noEmailNewList)).toBe(1);
    expect(noEmailNewList.stderr).toContain('noemail.csv line 1: no email column');
    // …and --strict --create-list with rejected rows: "nothing imported" must include the list.
    const strictNewList = await mailroom(ws, ['subscribers', 'import', 'bad.csv', '--list', 'ghost2', '--create-list', '--strict']);
    expect(strictNewList.code, show(strictNewList)).toBe(1);
    expect(strictNewList.stdout.trim()).toBe('bad.csv: nothing imported (--strict): 2 row(s) rejected');
    expect.soft(sqlite(ws, 'select name from lists order by name'), 'lists "ghost"/"ghost2" created although nothing was imported').toEqual([{ name: 'club' }]);

    // A UTF-8 byte-order mark (as Excel writes "CSV UTF-8") and CRLF line endings.
    ws.file('bom.csv', Buffer.from('\uFEFFE-mail,Name,Société\r\nbom@example.com,Bo Mason,Ümlaut GmbH\r\n', 'utf8'));
    const bom = await mailroom(ws, ['subscribers', 'import', 'bom.csv', '--list', 'club']);
    expectOk(bom);
    expect(bom.stdout).toContain('bom.csv: 1 added to list club (1 new person, 0 already known; 0 profiles changed), 0 already on it, 0 unchanged');
    expect(sqlite(ws, "select name, first_name, last_name, attributes from subscribers where email = 'bom@example.com'")).toEqual([
      { name: 'Bo Mason', first_name: 'Bo', last_name: 'Mason', attributes: '{"societe":"Ümlaut GmbH"}' },
    ]);

    // Quoted values spanning lines: parsed as one value, later line numbers still those of the file.
    ws.file(
      'quoted.csv',
      [
        'Email,First Name,Last Name,Company', // 1
        '"eve@example.com","Eve",,"Acme', // 2
        '"', // 3: a trailing line break inside quotes, trimmed away
        'fay@example.com,Fay,,"Big', // 4
        'Co"', // 5: a line break inside a value is refused (it could end up in a subject)
        'gil@,Gil,,', // 6
        '"hal@example.com","Hal",,"Notes: ""quoted"""', // 7
        '',
      ].join('\n'),
    );
    const quoted = await mailroom(ws, ['subscribers', 'import', 'quoted.csv', '--list', 'club']);
    expect(quoted.code, show(quoted)).toBe(1);
    expect(quoted.stderr.trim().split('\n')).toEqual([
      'quoted.csv line 4: "Big\\nCo" in column "Company" contains a line break',
      'quoted.csv line 6: "gil@" is not an email address',
    ]);
    expect(quoted.stdout).toContain('quoted.csv: 2 added to list club (2 new people, 0 already known; 0 profiles changed), 0 already on it, 0 unchanged, 0 kept out (unsubscribed, bounced, suppressed or not yet confirmed), 2 rejected');
    expect(sqlite(ws, "select email, attributes from subscribers where email in ('eve@example.com', 'hal@example.com') order by email")).toEqual([
      { email: 'eve@example.com', attributes: '{"company":"Acme"}' },
      { email: 'hal@example.com', attributes: '{"company":"Notes: \\"quoted\\""}' },
    ]);

    // Unknown list and missing file: named, and nothing written.
    before = snapshot(ws);
    const [noList, noFile] = await Promise.all([
      mailroom(ws, ['subscribers', 'import', 'bad.csv', '--list', 'nope']),
      mailroom(ws, ['subscribers', 'import', 'missing.csv', '--list', 'club']),
    ]);
    expect(noList.code, show(noList)).toBe(1);
    expect(noList.stderr.trim()).toMatch(/^mailroom: list "nope" does not exist \(known: club[\w, ]*\)$/);
    expect(noFile.code, show(noFile)).toBe(1);
    expect(noFile.stderr.trim()).toBe('mailroom: missing.csv: no such file');
    expect(snapshot(ws)).toBe(before);
  });

  test('unknown newsletter, template, campaign and issue; bad article files; bad and unreachable SMTP_URL', async () => {
    const ws = workspace(sink.url);
    expectOk(await mailroom(ws, ['demo']));
    let before = snapshot(ws);
    const messagesBefore = sink.messages.length;

    const [nope, fancy, show999, issue99] = await Promise.all([
      mailroom(ws, ['send', 'nope']),
      mailroom(ws, ['newsletter', 'create', 'x', '--template', 'fancy', '--name', 'X', '--from', 'x@example.com', '--list', 'demo', '--postal-address', '1 Main St']),
      mailroom(ws, ['campaigns', 'show', '999']),
      mailroom(ws, ['send', 'weekly', '--issue', '99']),
    ]);
    expect(nope.code, show(nope)).toBe(1);
    expect(nope.stderr.trim()).toBe('mailroom: newsletter "nope" does not exist (known: weekly)');
    expect(fancy.code, show(fancy)).not.toBe(0);
    expect(fancy.stderr).toContain("option '--template <name>' argument 'fancy' is invalid. Allowed choices are digest, article.");
    expect(show999.code, show(show999)).toBe(1);
    expect(show999.stderr.trim()).toBe('mailroom: campaign "999" does not exist (see: npx mailroom campaigns list)');
    expect(issue99.code, show(issue99)).toBe(1);
    expect(issue99.stderr.trim()).toBe('mailroom: newsletter "weekly" has no issue #99 (see: mailroom issue list weekly)');
    expect(sink.messages.length).toBe(messagesBefore);
    expect(snapshot(ws)).toBe(before);

    // Articles: a bad file names the file, the field and the value; in a folder the good file still goes in.
    ws.file('bad.md', '---\ntitle: Bad One\npublished: yesterday\n---\nBody.\n');
    const badArticle = await mailroom(ws, ['articles', 'import', 'bad.md']);
    expect(badArticle.code, show(badArticle)).toBe(1);
    expect(badArticle.stderr.trim()).toBe('rejected  bad.md: front matter "published": "yesterday" is not a date (write it like 2026-11-20 or 2026-11-20T09:00:00Z)');
    expect(badArticle.stdout.trim()).toBe('0 added, 0 updated, 0 unchanged, 1 rejected');
    expect(snapshot(ws)).toBe(before);

    mkdirSync(join(ws.dir, 'posts'));
    ws.file('posts/a-good.md', '---\ntitle: Good One\npublished: 2026-12-01\ntags: [news]\n---\nHello **body**.\n');
    ws.file('posts/b-bad.md', '---\ntitle: Bad Two\npublished: 2026-12-02\ncolour: red\n---\nBody.\n');
    const folder = await mailroom(ws, ['articles', 'import', 'posts']);
    expect(folder.code, show(folder)).toBe(1);
    expect(folder.stdout).toContain('added     good-one  (posts/a-good.md)');
    expect(folder.stdout).toContain('1 added, 0 updated, 0 unchanged, 1 rejected');
    expect(folder.stderr).toMatch(/^rejected {2}posts\/b-bad\.md: .*"colour"/m);
    expect(sqlite(ws, "select slug, title, published_at from articles where slug in ('good-one', 'bad-two')")).toEqual([
      { slug: 'good-one', title: 'Good One', published_at: expect.stringMatching(/^2026-12-01/) },
    ]);

    // SMTP_URL that is not an SMTP URL: named with its value and where it came from.
    before = snapshot(ws);
    const httpUrl = await mailroom(ws, ['send', 'weekly'], { SMTP_URL: 'http://x' });
    expect(httpUrl.code, show(httpUrl)).toBe(1);
    expect(httpUrl.stderr.trim()).toBe('mailroom: SMTP_URL="http://x" (from the environment): scheme "http:" is not smtp: or smtps:');
    expect(snapshot(ws)).toBe(before);

    // Nothing listening: a clear message, no campaign, no send row (so none failed).
    const port = await closedPort();
    const unreachable = await mailroom(ws, ['send', 'weekly'], { SMTP_URL: `smtp://mailer:s3cret@127.0.0.1:${port}` });
    expect(unreachable.code, show(unreachable)).toBe(1);
    expect(unreachable.stderr).toContain(`cannot be reached`);
    expect(unreachable.stderr).toContain(`127.0.0.1:${port}`);
    expect(unreachable.stderr).toContain('check SMTP_URL');
    expect(unreachable.stderr).toContain('nothing was sent and no recipient was marked failed');
    expect(unreachable.stderr).not.toContain('s3cret');
    expect(unreachable.stderr).not.toContain('unexpected error');
    expect(count(ws, 'campaigns')).toBe(0);
    expect(count(ws, 'sends')).toBe(0);
  });
});
