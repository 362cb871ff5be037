/** `subscribers list` says how many of how many it shows, pages with --limit/--offset or --all, and searches by address or name; the query lives in the store. */
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeListingPage } from '../src/cli/listing.ts';
import type { ImportRowResult } from '../src/store/store-types.ts';
import { filterSubscribers, prefixUpperBound } from '../src/store/subscriber-filter.ts';
import { runInProcess } from './helpers/mailroom.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

/** A CLI run in this process, from the test's folder. */
const mailroomInProcess = (env: Record<string, string>, args: readonly string[]) => runInProcess(process.cwd(), args, env);

let ws: Workspace;
const env = () => ({ NODE_ENV: '', DATA_DIR: ws.dataDir, PUBLIC_URL: 'https://news.example.com', SECRET: ws.app.config.secret, SMTP_URL: 'smtp://127.0.0.1:9' });
const cli = (...args: string[]) => mailroomInProcess(env(), ['subscribers', 'list', ...args]);

const NAMED = [
  ['ann.arbor@example.com', 'Ann Arbor'],
  ['bob@example.org', 'Joanna Banner'],
  ['carl@annex.example', 'Carl Carlsen'],
  ['dora_50%@example.com', 'Dora Percent'],
  ['dora50x@example.com', 'Dora Plain'],
] as const;

async function* rows(): AsyncGenerator<ImportRowResult> {
  let line = 1;
  for (let i = 1; i <= 250; i += 1) yield { line: (line += 1), ok: true, row: { email: `r${i}@bulk.example`, name: '', firstName: '', lastName: '', attributes: {} } };
  for (const [email, name] of NAMED) yield { line: (line += 1), ok: true, row: { email, name, firstName: name.split(' ')[0] ?? '', lastName: name.split(' ')[1] ?? '', attributes: {} } };
}

beforeAll(async () => {
  ws = await openWorkspace();
  const list = await ws.app.stores.audience.createList('big');
  await ws.app.stores.audience.createList('empty');
  await ws.app.stores.audience.importSubscribers(list.id, rows(), { source: 'generated' });
});
afterAll(async () => {
  await ws.close();
});

const emailsOf = (stdout: string) => (JSON.parse(stdout) as { email: string }[]).map((s) => s.email);

describe('subscribers list', () => {
  test('by default: the first 100, and it says so with the total and how to go on', async () => {
    const run = await cli();
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1 + 100 + 1);
    expect(lines.at(-1)).toBe('showing 100 of 255 subscribers (1–100; next: --offset 100, or --all)');
  });

  test('--limit and --offset page; the last page says it is the last', async () => {
    const run = await cli('--limit', '10', '--offset', '250');
    expect(run.stdout.trim().split('\n').slice(1, -1).map((l) => l.split(/\s+/)[1])).toEqual(NAMED.map(([email]) => email));
    expect(run.stdout.trim().split('\n').at(-1)).toBe('showing 5 of 255 subscribers (251–255; the last page; everything: --all)');
    expect((await cli('--offset', '900')).stdout.trim()).toBe('showing 0 of 255 subscribers (--offset 900 is past the end)');
  });

  test('--all: every one, paged through by id, in order', async () => {
    const run = await cli('--all', '--json');
    const emails = emailsOf(run.stdout);
    expect(emails).toHaveLength(255);
    expect(new Set(emails).size).toBe(255);
    expect(run.stderr.trim()).toBe('all 255 subscribers');
  });

  test('--search: case-insensitive, anywhere in the address or the name; % and _ are plain characters', async () => {
    const ann = await cli('--search', 'ANN', '--json');
    expect(emailsOf(ann.stdout)).toEqual(['ann.arbor@example.com', 'bob@example.org', 'carl@annex.example']);
    expect(ann.stderr.trim()).toBe('all 3 matching subscribers');
    expect(emailsOf((await cli('--search', '50%', '--json')).stdout)).toEqual(['dora_50%@example.com']);
    expect(emailsOf((await cli('--search', 'a_5', '--json')).stdout)).toEqual(['dora_50%@example.com']);
    expect(emailsOf((await cli('--search', 'joanna banner', '--json')).stdout)).toEqual(['bob@example.org']);
    const none = await cli('--search', 'nobody-like-this');
    expect(none.code).toBe(0);
    expect(none.stdout.trim()).toBe('no subscribers match');
  });

  test('--search with --prefix: addresses that start with it, counted the same way', async () => {
    const run = await cli('--search', 'R1', '--prefix', '--limit', '5');
    const lines = run.stdout.trim().split('\n');
    // r1, r10-r19, r100-r199: 111 addresses.
    expect(lines.at(-1)).toBe('showing 5 of 111 matching subscribers (1–5; next: --offset 5, or --all)');
    const all = emailsOf((await cli('--search', 'r1', '--prefix', '--all', '--json')).stdout);
    expect(all).toHaveLength(111);
    expect(all.every((e) => e.startsWith('r1'))).toBe(true);
    expect(emailsOf((await cli('--search', 'ann', '--prefix', '--json')).stdout)).toEqual(['ann.arbor@example.com']);
  });

  test('filters combine with the count; bad options name the option and the value', async () => {
    expect((await cli('--list', 'empty')).stdout.trim()).toBe('no subscribers match');
    expect((await cli('--list', 'big', '--search', 'dora', '--json')).stderr.trim()).toBe('all 2 matching subscribers');
    const bad = await cli('--limit', 'lots');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--limit "lots": not a whole number');
    const prefixAlone = await cli('--prefix');
    expect(prefixAlone.code).toBe(1);
    expect(prefixAlone.stderr).toContain('--prefix: give the start of the address with --search TEXT');
  });

  test('the store counts and pages the same filter', async () => {
    expect(await ws.app.stores.audience.countSubscribers({ search: 'dora' })).toBe(2);
    // r2, r20-r29, r200-r250
    expect(await ws.app.stores.audience.countSubscribers({ search: 'r2', prefix: true })).toBe(62);
    const page = await ws.app.stores.audience.listSubscribers({ search: 'r2', prefix: true, afterId: 0, limit: 1000 });
    expect(page).toHaveLength(62);
  });

  test('a prefix search is answered from the address index, not a scan', async () => {
    const query = filterSubscribers(ws.app.stores.db.selectFrom('subscribers').select('id'), { search: 'r1', prefix: true }).compile();
    const handle = new BetterSqlite3(join(ws.dataDir, 'mailroom.db'), { readonly: true });
    try {
      const details = (handle.prepare(`explain query plan ${query.sql}`).all(...query.parameters) as { detail: string }[]).map((r) => r.detail).join('\n');
      expect(details).toMatch(/SEARCH subscribers USING (COVERING )?INDEX .*\(email>\? AND email<\?\)/);
      const contains = filterSubscribers(ws.app.stores.db.selectFrom('subscribers').select('id'), { search: 'r1' }).compile();
      expect((handle.prepare(`explain query plan ${contains.sql}`).all(...contains.parameters) as { detail: string }[]).map((r) => r.detail).join()).toMatch(/SCAN subscribers/);
    } finally {
      handle.close();
    }
  });
});

describe('describeListingPage', () => {
  test.each([
    [{ shown: 100, offset: 0, total: 50_000, filtered: false }, 'showing 100 of 50,000 subscribers (1–100; next: --offset 100, or --all)'],
    [{ shown: 3, offset: 0, total: 3, filtered: false }, 'all 3 subscribers'],
    [{ shown: 0, offset: 0, total: 0, filtered: false }, 'no subscribers'],
    [{ shown: 0, offset: 0, total: 0, filtered: true }, 'no subscribers match'],
    [{ shown: 20, offset: 49_980, total: 50_000, filtered: true }, 'showing 20 of 50,000 matching subscribers (49,981–50,000; the last page; everything: --all)'],
  ])('%o', (page, text) => {
    expect(describeListingPage({ ...page, noun: 'subscribers' })).toBe(text);
  });

  test('prefixUpperBound: the next string after every one with the prefix', () => {
    expect(prefixUpperBound('ann')).toBe('ano');
    expect(prefixUpperBound('a\uffff')).toBe('b');
    expect(prefixUpperBound('\uffff')).toBeNull();
  });
});
