/**
 * Relay hourly and daily caps, counted in the database: one contract for both quota stores (in memory, SQLite);
 * two app instances and two real processes on one SQLite file share a daily cap of N and send exactly N; a restart
 * (a new process, or `mailroom campaigns resume` through the binary) keeps the count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { TransportError, type OutgoingMessage } from '../src/sending/ports.ts';
import { createMemoryQuotaStore, QUOTA_WINDOW_MS, type QuotaCap, type RelayQuotaStore } from '../src/smtp/relay-quota.ts';
import type { RelayTransport } from '../src/smtp/relays.ts';
import { openStores } from '../src/store/open-store.ts';
import { SqlRelayQuotaStore } from '../src/store/relay-quota-store.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { makeDataDir, REPO_ROOT } from './helpers/workspace.ts';

vi.setConfig({ testTimeout: 120_000 });

const HOUR = QUOTA_WINDOW_MS.hourly;
const DAY = QUOTA_WINDOW_MS.daily;
const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-quota-'));
  dirs.push(dir);
  return dir;
}

async function sqliteQuotas(): Promise<RelayQuotaStore> {
  const store = await openStores(join(tempDir(), 'mailroom.db'));
  cleanups.push(() => store.close());
  return new SqlRelayQuotaStore(store.db);
}

const hourly = (limit: number): QuotaCap => ({ window: 'hourly', limit });
const daily = (limit: number): QuotaCap => ({ window: 'daily', limit });

describe.each([
  ['in memory', async () => createMemoryQuotaStore()],
  ['in SQLite', sqliteQuotas],
] as const)('the relay quota store, %s', (_name, make) => {
  test('takes units up to the limit, refuses the next until the first is a window old', async () => {
    const quotas = await make();
    for (let i = 0; i < 3; i += 1) expect((await quotas.take('a', [hourly(3)], T0 + i * 1000)).taken).toBe(true);
    expect(await quotas.take('a', [hourly(3)], T0 + 5000)).toEqual({ taken: false, window: 'hourly', freeAt: T0 + HOUR });
    expect(await quotas.take('a', [hourly(3)], T0 + HOUR - 1)).toMatchObject({ taken: false });
    expect((await quotas.take('a', [hourly(3)], T0 + HOUR)).taken).toBe(true);
    expect(await quotas.take('a', [hourly(3)], T0 + HOUR)).toEqual({ taken: false, window: 'hourly', freeAt: T0 + 1000 + HOUR });
    expect(await quotas.usage('a', [hourly(3)], T0 + HOUR)).toEqual([{ window: 'hourly', limit: 3, used: 3 }]);
    // Another relay has its own units.
    expect((await quotas.take('b', [hourly(3)], T0 + 5000)).taken).toBe(true);
  });

  test('every cap or none: a message refused by the daily cap takes nothing from the hourly one', async () => {
    const quotas = await make();
    const caps = [hourly(5), daily(2)];
    expect((await quotas.take('a', caps, T0)).taken).toBe(true);
    expect((await quotas.take('a', caps, T0 + 1)).taken).toBe(true);
    expect(await quotas.take('a', caps, T0 + 2)).toEqual({ taken: false, window: 'daily', freeAt: T0 + DAY });
    expect(await quotas.usage('a', caps, T0 + 2)).toEqual([
      { window: 'hourly', limit: 5, used: 2 },
      { window: 'daily', limit: 2, used: 2 },
    ]);
  });

  test('a unit given back frees at once; a settled one counts from the answer', async () => {
    const quotas = await make();
    const first = await quotas.take('a', [hourly(1)], T0);
    if (!first.taken) throw new Error('not taken');
    await quotas.giveBack(first.ticket);
    const second = await quotas.take('a', [hourly(1)], T0 + 10);
    if (!second.taken) throw new Error('not taken after a give-back');
    await quotas.settle(second.ticket, T0 + 2000);
    expect(await quotas.take('a', [hourly(1)], T0 + HOUR + 10)).toEqual({ taken: false, window: 'hourly', freeAt: T0 + 2000 + HOUR });
    expect((await quotas.take('a', [hourly(1)], T0 + 2000 + HOUR)).taken).toBe(true);
  });

  test('a lowered limit holds at once: units used under the old one still count until they are a window old', async () => {
    const quotas = await make();
    for (let i = 0; i < 4; i += 1) expect((await quotas.take('a', [daily(4)], T0 + i)).taken).toBe(true);
    expect(await quotas.take('a', [daily(2)], T0 + 10)).toEqual({ taken: false, window: 'daily', freeAt: T0 + 2 + DAY });
    // Then only the newest old unit is still in the window: one more makes two, the new limit.
    expect((await quotas.take('a', [daily(2)], T0 + 2 + DAY)).taken).toBe(true);
    expect(await quotas.take('a', [daily(2)], T0 + 2 + DAY)).toEqual({ taken: false, window: 'daily', freeAt: T0 + 3 + DAY });
    expect((await quotas.take('a', [daily(2)], T0 + 3 + DAY)).taken).toBe(true);
    expect(await quotas.take('a', [daily(2)], T0 + 3 + DAY)).toMatchObject({ taken: false });
    // Raised again: room for the difference.
    expect((await quotas.take('a', [daily(6)], T0 + 3 + DAY)).taken).toBe(true);
  });
});

const message = (tag: string, i: number): OutgoingMessage => {
  const to = `${tag}-${i}@quota.example`;
  return { envelopeTo: to, options: { envelope: { from: 'news@example.com', to: [to] }, raw: Buffer.from(`From: news@example.com\r\nTo: ${to}\r\nSubject: ${i}\r\n\r\nHi\r\n`), messageId: `<${tag}.${i}@example.com>` } };
};

async function sink(): Promise<SmtpSink> {
  const s = await startSmtpSink({ countOnly: true });
  cleanups.push(() => s.close());
  return s;
}

/** An app on a shared SQLite file, sending through SMTP_URL. */
async function appOn(db: string, smtpUrl: string) {
  const dir = tempDir();
  const app = await createApp(loadConfig({ DATABASE_URL: db, DATA_DIR: join(dir, 'data'), SMTP_URL: smtpUrl, PUBLIC_URL: 'https://news.example.com', SECRET: 'quota-test-secret-0123456789abcdefghijklm' }, dir));
  return app;
}

/** Sends `count` messages over `lanes` concurrent sends; those still waiting for a cap when `stop` fires are stopped. */
async function sendMany(transport: RelayTransport, tag: string, count: number, lanes: number, stop: AbortSignal): Promise<{ sent: number; stopped: number }> {
  let next = 0;
  let sent = 0;
  let stopped = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) {
        const i = next++;
        try {
          await transport.send(message(tag, i), stop);
          sent += 1;
        } catch (error) {
          if (!(error instanceof TransportError) || error.kind !== 'unavailable') throw error;
          stopped += 1;
        }
      }
    }),
  );
  return { sent, stopped };
}

describe('a daily cap shared through the database', () => {
  test('two app instances on one SQLite file, sending at once, send exactly N between them; a restart keeps the count', async () => {
    const s = await sink();
    const db = join(tempDir(), 'shared.db');
    const url = `${s.url}?daily=25&name=shared`;
    const [one, two] = [await appOn(db, url), await appOn(db, url)];
    const stop = AbortSignal.timeout(2000);
    const [first, second] = [one.openTransport() as RelayTransport, two.openTransport() as RelayTransport];
    const results = await Promise.all([sendMany(first, 'one', 40, 4, stop), sendMany(second, 'two', 40, 4, stop)]);
    expect(results.map((r) => r.sent).reduce((a, b) => a + b)).toBe(25);
    expect(s.arrivals).toHaveLength(25);
    await Promise.all([first.close(), second.close()]);
    await Promise.all([one.close(), two.close()]);

    // A restart: a new app on the same file finds the cap used up, and says until when.
    const three = await appOn(db, url);
    cleanups.push(() => three.close());
    const transport = three.openTransport() as RelayTransport;
    const waiting = transport.send(message('three', 0), AbortSignal.timeout(500));
    await expect(waiting).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringContaining('stopped before the message was sent') });
    expect(transport.status()[0]?.cappedUntil).toBeGreaterThan(Date.now() + DAY - 60_000);
    expect(s.arrivals).toHaveLength(25);
    await transport.close();
  });

  test('two processes racing on one SQLite file send exactly N; a third, later, sends none', async () => {
    const s = await sink();
    const dir = tempDir();
    const db = join(dir, 'shared.db');
    const url = `${s.url}?daily=30&name=shared&pool=4`;
    // The database exists (migrated) before the race, as it would for two services.
    const store = await openStores(db);
    await store.close();
    /** Starts a sender process; `go()` lets it send once it is ready, `result` is what it reports. */
    const sender = (tag: string, stopAfterMs: number) => {
      const env = { ...process.env, DATABASE_URL: db, DATA_DIR: join(dir, 'data'), SMTP_URL: url, PUBLIC_URL: 'https://news.example.com', SECRET: 'quota-test-secret-0123456789abcdefghijklm', COUNT: '60', LANES: '4', STOP_AFTER_MS: String(stopAfterMs), TAG: tag };
      const child = spawn(process.execPath, ['--import', pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(REPO_ROOT, 'tests', 'helpers', 'quota-sender.ts')], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const ready = (async () => {
        for (let i = 0; i < 600 && !out.includes('ready') && child.exitCode === null; i += 1) await delay(100);
        if (!out.includes('ready')) throw new Error(`${tag} did not start: ${err}`);
      })();
      const result = new Promise<{ sent: number; stopped: number }>((resolve, reject) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          if (code !== 0) return reject(new Error(`${tag} exited with ${code}: ${err}`));
          resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { sent: number; stopped: number });
        });
      });
      return { ready, go: () => child.stdin.end('go\n'), result };
    };
    const [a, b] = [sender('a', 4000), sender('b', 4000)];
    await Promise.all([a.ready, b.ready]);
    a.go();
    b.go();
    const results = await Promise.all([a.result, b.result]);
    expect(results[0].sent + results[1].sent, JSON.stringify(results)).toBe(30);
    expect(results[0].stopped + results[1].stopped, JSON.stringify(results)).toBe(90);
    // Both really raced for the units.
    expect(results.every((r) => r.sent > 0), JSON.stringify(results)).toBe(true);
    expect(s.arrivals).toHaveLength(30);
    const c = sender('c', 1500);
    await c.ready;
    c.go();
    expect(await c.result).toEqual({ sent: 0, stopped: 60 });
    expect(s.arrivals).toHaveLength(30);
    const sqlite = new BetterSqlite3(db, { readonly: true });
    try {
      expect(sqlite.prepare("select count(*) as n from relay_quota_slots where relay = 'shared' and cap = 'daily'").get()).toEqual({ n: 30 });
    } finally {
      sqlite.close();
    }
  });
});

describe('through the binary', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  test('mailroom send stops at a daily cap of 3; killed and resumed, it still sends nothing more', async () => {
    const s = await sink();
    const dir = makeDataDir();
    dirs.push(dir);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env)) if (/^(DATABASE_URL|SMTP_|DKIM_|SEND_|INBOX_|CAMPAIGN_|PORT$|HOST$|TSX_)/.test(key)) delete env[key];
    Object.assign(env, { DATA_DIR: join(dir, 'data'), PUBLIC_URL: 'https://news.example.com', SECRET: 'quota-test-secret-0123456789abcdefghijklm', SMTP_URL: `${s.url}?daily=3`, CAMPAIGN_LEASE_SECONDS: '1', SEND_RETRY_BASE_SECONDS: '0.1' });
    const bin = join(REPO_ROOT, 'bin', 'mailroom.js');
    let output = '';
    const start = (args: string[]): ChildProcess => {
      const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      children.push(child);
      return child;
    };
    const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    await exited(start(['demo']));
    /** Waits until the sink has `n` messages and nothing more arrives for `quietMs`. */
    const settle = async (n: number, quietMs: number): Promise<void> => {
      for (let i = 0; i < 300 && s.arrivals.length < n; i += 1) await delay(100);
      await delay(quietMs);
    };

    const send = start(['send', 'weekly']);
    await settle(3, 2000);
    expect(s.arrivals).toHaveLength(3);
    // Still waiting for the cap, not finished: the demo list has five readers.
    expect(send.exitCode, output).toBeNull();
    send.kill('SIGKILL');
    await exited(send);
    await delay(1200);

    output = '';
    const resumed = start(['campaigns', 'resume', '1']);
    // Once it has taken the campaign over (the two readers in flight at the kill go again), it has time to send.
    for (let i = 0; i < 300 && !/in flight when the last run stopped/.test(output); i += 1) await delay(100);
    expect(output).toContain('campaign 1: 2 message(s) were in flight when the last run stopped; sending them again');
    await settle(3, 3000);
    expect(s.arrivals, output).toHaveLength(3);
    // It is running, waiting for the cap too.
    expect(resumed.exitCode, output).toBeNull();
    resumed.kill('SIGKILL');
    await exited(resumed);
  });
});
