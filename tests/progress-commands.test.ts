/**
 * Progress on the commands that do long work: subscribers import, send (and campaigns resume), feeds poll, templates
 * render. In process, off a terminal: plain lines every PROGRESS_INTERVAL_SECONDS (0 here: every update), JSON lines
 * with --json. Then once through the real binary under a pseudo-terminal (`script`), where the bar is drawn.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadDemoWorkspace } from '../src/demo.ts';
import { BIN, runInProcess } from './helpers/mailroom.ts';
import { FIXTURES_DIR, startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, REPO_ROOT, type Workspace } from './helpers/workspace.ts';

/** A CLI run in this process, from the test's folder. */
const mailroomInProcess = (env: Record<string, string>, args: readonly string[]) => runInProcess(process.cwd(), args, env);

let ws: Workspace;
let sink: SmtpSink;
let server: FixtureServer;
const env = (extra: Record<string, string> = {}) => ({
  NODE_ENV: '',
  DATA_DIR: ws.dataDir,
  PUBLIC_URL: 'https://news.example.com',
  SECRET: ws.app.config.secret,
  SMTP_URL: sink.url,
  FETCH_ALLOW_PRIVATE: '127.0.0.1',
  FETCH_TIMEOUT_SECONDS: '3',
  PROGRESS_INTERVAL_SECONDS: '0',
  ...extra,
});
const cli = (args: string[], extra: Record<string, string> = {}) => mailroomInProcess(env(extra), args);
const jsonLines = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown> & { type: string });

function csvFile(name: string, rows: number, prefix = 'p'): string {
  const path = join(ws.dir, name);
  writeFileSync(path, ['email,name', ...Array.from({ length: rows }, (_, i) => `${prefix}${i}@progress.example,Person ${i}`)].join('\n') + '\n');
  return path;
}

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startFixtureServer();
  server.set('/feed.xml', { headers: { 'content-type': 'application/rss+xml' }, body: readFileSync(join(FIXTURES_DIR, 'feeds/harbor-times.rss.xml')) });
  ws = await openWorkspace({ SMTP_URL: sink.url });
  await loadDemoWorkspace(ws.app);
});
afterAll(async () => {
  await ws.close();
  await server.close();
  await sink.close();
});

describe('progress off a terminal', () => {
  test('subscribers import: progress lines with count of total, rate and time left on standard error; the report on standard output', async () => {
    const run = await cli(['subscribers', 'import', csvFile('many.csv', 300), '--list', 'many', '--create-list']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line).toMatch(/^import many\.csv: [\d,]+ of 300 rows \(\d+%\), /);
    expect(lines.slice(0, -1).every((l) => / rows\/s, (\d+s|\d+m \d+s|\?) left$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^import many\.csv: 300 of 300 rows \(100%\), in \d+s/);
    expect(run.stdout.trim()).toBe('many.csv: 300 added to list many (300 new people, 0 already known; 0 profiles changed), 0 already on it, 0 unchanged, 0 kept out (unsubscribed, bounced, suppressed or not yet confirmed), 0 rejected');
  });

  test('the default interval (5 s) keeps a quick import quiet: only its report', async () => {
    const run = await cli(['subscribers', 'import', csvFile('few.csv', 20, 'few'), '--list', 'many'], { PROGRESS_INTERVAL_SECONDS: '5' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('few.csv: 20 added to list many');
  });

  test('subscribers import --json: one JSON object per line, progress then the report', async () => {
    const run = await cli(['subscribers', 'import', csvFile('again.csv', 50), '--list', 'many', '--json']);
    const objects = jsonLines(run.stdout);
    expect(objects.at(-2)).toMatchObject({ type: 'progress-done', task: 'import again.csv', unit: 'rows', done: 50, total: 50 });
    expect(objects.at(-1)).toEqual({
      type: 'result',
      file: 'again.csv',
      list: 'many',
      addedToList: 0,
      newPeople: 0,
      alreadyKnown: 50,
      alreadyOnList: 50,
      profilesChanged: 0,
      unchanged: 50,
      keptOut: 0,
      rejected: [],
      applied: true,
    });
    expect(objects.slice(0, -2).every((o) => o.type === 'progress')).toBe(true);
    expect(run.stderr).toContain('again.csv: 0 added to list many');
  });

  test('send --json over real SMTP: progress of the campaign, then its result; every message arrives', async () => {
    const before = sink.messages.length;
    const run = await cli(['send', 'weekly', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const objects = jsonLines(run.stdout);
    const done = objects.find((o) => o.type === 'progress-done');
    expect(done).toMatchObject({ task: 'campaign 1', unit: 'messages', done: 5, total: 5, percent: 100, detail: { sent: 5, failed: 0, skipped: 0 } });
    expect(objects.at(-1)).toMatchObject({ type: 'result', campaign: 1, status: 'sent', counts: { sent: 5, failed: 0 } });
    expect(objects.filter((o) => o.type === 'progress').every((o) => o['total'] === 5)).toBe(true);
    expect(sink.messages.length - before).toBe(5);
    expect(run.stderr).toContain('campaign 1: sent: 5 sent');
  });

  test('send off a terminal: plain progress lines for the campaign, and the engine\'s own counts line is not repeated', async () => {
    const run = await cli(['send', 'weekly', '--issue', '1', '--resend']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^campaign 2: [\d,]+ of 5 messages \(\d+%\), .*; \d+ sent, \d+ failed, \d+ skipped$/m);
    expect(run.stdout).not.toMatch(/^campaign 2: \d+ sent, \d+ failed, \d+ skipped, \d+ deferred, \d+ pending$/m);
    expect(run.stdout).toMatch(/^campaign 2: sent: /m);
  });

  test('feeds poll --json: progress over the feeds, then the totals', async () => {
    expect((await cli(['feeds', 'add', 'weekly', `${server.url}/feed.xml`, '--no-poll'])).code).toBe(0);
    const run = await cli(['feeds', 'poll', '--json']);
    const objects = jsonLines(run.stdout);
    expect(objects.find((o) => o.type === 'progress-done')).toMatchObject({ task: 'feeds poll', unit: 'feeds', done: 1, total: 1 });
    expect(objects.at(-1)).toMatchObject({ type: 'result', feeds: 1, errors: 0 });
    expect(run.stderr).toMatch(/^feed 1 .*: \d+ new, /m);
  });

  test('templates render: progress over the templates; --json lists the files written', async () => {
    const out = join(ws.dir, 'rendered');
    const run = await cli(['templates', 'render', '--out', out, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const objects = jsonLines(run.stdout);
    const done = objects.find((o) => o.type === 'progress-done');
    // Every template in emails/ (the top-level .tsx files) is one step.
    const templates = readdirSync(join(REPO_ROOT, 'emails')).filter((f) => f.endsWith('.tsx')).length;
    expect(templates).toBeGreaterThanOrEqual(3);
    expect(done).toMatchObject({ task: 'templates render', unit: 'templates', total: templates, done: templates });
    expect((objects.at(-1)?.['written'] as string[]).filter((f) => f.endsWith('.html'))).toHaveLength(templates);
  });
});

describe('progress on a terminal', () => {
  test('the real binary under a pseudo-terminal draws the bar (count, rate, time left); the report follows it', async () => {
    const file = csvFile('tty.csv', 2000, 'tty');
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} subscribers import ${JSON.stringify(file)} --list tty --create-list`;
    const { stdout } = await promisify(execFile)('script', ['-qefc', command, '/dev/null'], {
      cwd: ws.dir,
      env: { ...process.env, ...env(), TERM: 'xterm', COLUMNS: '160' },
      timeout: 60_000,
    });
    expect(stdout).toContain('\x1b[');
    expect(stdout).toMatch(/\[█+░*\] import tty\.csv: [\d,]+ of 2,000 rows \(\d+%\), /);
    expect(stdout).toContain('import tty.csv: 2,000 of 2,000 rows (100%)');
    expect(stdout).toContain('tty.csv: 2,000 added to list tty (2,000 new people');
  });
});
