/**
 * Many workers on one Postgres campaign (issue 11): scale-out and kill -9, against a real SMTP sink (smtp-server in
 * this process) that answers each message after 20 ms, as a remote relay does, without blocking.
 *
 *   node --import tsx scripts/bench-workers.ts scale --recipients 20000 --pool 5 --repeat 3   # 1, 2 and 4 workers, median of 3
 *   node --import tsx scripts/bench-workers.ts kill --recipients 100000 --pool 5               # kill -9 one of two mid-campaign
 *   node --import tsx scripts/bench-workers.ts million --workers 2 --pool 20 --delay 0         # 1,000,000 recipients
 *
 * `million` times the campaign's creation (recipients fixed), then sends to the sink and reports the rate of the first
 * and the last 10% of the messages and each worker's peak RSS (VmHWM in /proc/PID/status), with progress every 30 s.
 *
 * Each run makes a fresh database (scripts/workers-fixture.ts), starts `mailroom worker` processes (SMTP_POOL_SIZE =
 * --pool each), and measures messages per second at the sink from its first to its last arrival (worker start-up
 * left out). Every run checks 0 missing and 0 duplicates (kill: duplicates only among the dead worker's claimed rows).
 * Postgres at POSTGRES_TEST_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startCountingSink, type CountingSink } from '../tests/helpers/counting-sink.ts';
import { createWorkersDatabase, recipientEmail, type WorkersDatabase } from './workers-fixture.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    recipients: { type: 'string' },
    pool: { type: 'string' },
    delay: { type: 'string' },
    workers: { type: 'string' },
    repeat: { type: 'string', default: '3' },
    'fixture-only': { type: 'boolean', default: false },
    'kill-at': { type: 'string', default: '0.3' },
  },
});
const mode = positionals[0] ?? 'scale';
if (!['scale', 'kill', 'million'].includes(mode)) throw new Error(`bench-workers: unknown mode "${mode}" (scale, kill or million)`);
const defaults = {
  scale: { recipients: '20000', pool: '5', delay: '20', workers: '1,2,4' },
  kill: { recipients: '100000', pool: '5', delay: '20', workers: '2' },
  million: { recipients: '1000000', pool: '20', delay: '0', workers: '2' },
}[mode as 'scale' | 'kill' | 'million'];
const recipients = Number(args.recipients ?? defaults.recipients);
const pool = Number(args.pool ?? defaults.pool);
const delayMs = Number(args.delay ?? defaults.delay);
const workerCounts = (args.workers ?? defaults.workers).split(',').map(Number);
const repeat = Number(args.repeat);
for (const [name, value] of Object.entries({ recipients, pool, delay: delayMs, repeat })) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`bench-workers: --${name} must be a number, got "${String(value)}"`);
}

/** The 1-, 5- and 15-minute load averages, to print next to every figure. */
function load(): string {
  return `load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;
}

/** Peak resident set of a process (VmHWM), MB; null once it has exited. */
function peakRssMb(pid: number | undefined): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** The sink: smtp-server answering each message after `--delay` ms (a remote relay, with a timer, not blocking). */
// The fixture's addresses are reader1@example.com … readerN@example.com: counted by number (see counting-sink.ts).
const startSink = (): Promise<CountingSink> =>
  startCountingSink(0, { delayMs, capacity: recipients + 1, indexOf: readerNumber });
function readerNumber(address: string): number | null {
  const match = /^reader(\d+)@example\.com$/.exec(address);
  return match ? Number(match[1]) : null;
}

function startWorker(db: WorkersDatabase, sink: CountingSink, extra: Record<string, string> = {}): ChildProcess & { out: string[] } {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: db.url,
    SMTP_URL: sink.url,
    SMTP_POOL_SIZE: String(pool),
    SECRET: 'bench-secret-0123456789abcdefghijklmnopqrstuv',
    PUBLIC_URL: 'https://news.example.com',
    NODE_ENV: 'production',
    SCHEDULER_TICK: '*/1 * * * * *',
    ...extra,
  };
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'mailroom.js'), 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => out.push(d.toString()));
  return Object.assign(child, { out });
}

async function q<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

function check(sink: CountingSink, allowedTwice: Set<string> = new Set()): { missing: number; duplicates: number; unexpected: number } {
  let missing = 0;
  let duplicates = 0;
  let unexpected = 0;
  for (let i = 1; i <= recipients; i += 1) {
    const n = sink.countOf(recipientEmail(i));
    if (n === 0) missing += 1;
    if (n > 1) {
      duplicates += n - 1;
      if (!allowedTwice.has(recipientEmail(i))) unexpected += 1;
    }
  }
  return { missing, duplicates, unexpected };
}

async function campaignSent(db: WorkersDatabase): Promise<boolean> {
  return (await q<{ status: string }>(db.url, 'SELECT status FROM campaigns WHERE id = $1', [db.campaignId]))[0]?.status === 'sent';
}

async function scaleRun(n: number): Promise<number> {
  const db = await createWorkersDatabase(recipients);
  const sink = await startSink();
  const workers = Array.from({ length: n }, () => startWorker(db, sink));
  try {
    await until(() => campaignSent(db), 60 * 60_000);
    const a = sink.arrivals;
    const seconds = ((a[a.length - 1] ?? 0) - (a[0] ?? 0)) / 1000;
    const rate = recipients / seconds;
    const perWorker = await q<{ n: string }>(db.url, "SELECT count(*) AS n FROM sends WHERE status = 'sent' GROUP BY worker ORDER BY 1 DESC");
    const { missing, duplicates } = check(sink);
    console.log(
      `  ${n} worker(s) x ${pool} connections, ${recipients} recipients, sink ${delayMs} ms: ${rate.toFixed(0)} msg/s over ${seconds.toFixed(1)} s;` +
        ` missing ${missing}, duplicates ${duplicates}; sent per worker ${perWorker.map((r) => r.n).join('/')}; ${load()}`,
    );
    if (missing > 0 || duplicates > 0) process.exitCode = 1;
    return rate;
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(exited));
    await sink.close();
    await db.drop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function scale(): Promise<void> {
  // Rounds of 1, 2, 4 workers back to back, so each round's ratios share one moment's machine load.
  const rates = new Map<number, number[]>(workerCounts.map((n) => [n, []]));
  console.log(`start: ${load()}`);
  for (let round = 1; round <= repeat; round += 1) {
    console.log(`round ${round}:`);
    const here = new Map<number, number>();
    for (const n of workerCounts) {
      const rate = await scaleRun(n);
      here.set(n, rate);
      rates.get(n)!.push(rate);
    }
    const base = here.get(workerCounts[0]!)!;
    console.log(`  round ${round} ratios: ${workerCounts.map((n) => `${n}: ${(here.get(n)! / base).toFixed(2)}x`).join(', ')}`);
  }
  const base = median(rates.get(workerCounts[0]!)!);
  console.log(
    `median of ${repeat}: ${workerCounts.map((n) => `${n} worker(s) ${median(rates.get(n)!).toFixed(0)} msg/s (${(median(rates.get(n)!) / base).toFixed(2)}x)`).join('; ')}; end: ${load()}`,
  );
}

async function million(): Promise<void> {
  console.log(`start: ${load()}`);
  const t0 = performance.now();
  const db = await createWorkersDatabase(recipients);
  console.log(
    `fixture: ${recipients} subscribers on a list in ${((performance.now() - t0) / 1000).toFixed(1)} s; campaign created (recipients fixed) in ${(db.recipientsFixedMs / 1000).toFixed(1)} s; ${load()}`,
  );
  if (args['fixture-only']) return db.drop();
  const sink = await startSink();
  const n = workerCounts[0] ?? 2;
  const workers = Array.from({ length: n }, () => startWorker(db, sink));
  const peaks = new Map<number, number>();
  const sample = () => {
    for (const w of workers) {
      const mb = peakRssMb(w.pid);
      if (mb !== null) peaks.set(w.pid ?? 0, Math.max(peaks.get(w.pid ?? 0) ?? 0, mb));
    }
  };
  const started = performance.now();
  const progress = setInterval(() => {
    sample();
    const a = sink.arrivals.length;
    console.log(
      `  ${((performance.now() - started) / 1000).toFixed(0)} s: ${a} messages at the sink (${(a / ((performance.now() - started) / 1000)).toFixed(0)} msg/s overall); peak RSS per worker ${[...peaks.values()].map((mb) => mb.toFixed(0)).join('/')} MB; ${load()}`,
    );
  }, 30_000);
  try {
    await until(async () => {
      sample();
      return campaignSent(db);
    }, 3 * 60 * 60_000);
    sample();
    const a = [...sink.arrivals].sort((x, y) => x - y);
    const tenth = Math.floor(a.length / 10);
    const firstRate = tenth / (((a[tenth - 1] ?? 0) - (a[0] ?? 0)) / 1000);
    const lastRate = tenth / (((a[a.length - 1] ?? 0) - (a[a.length - tenth] ?? 0)) / 1000);
    const all = a.length / (((a[a.length - 1] ?? 0) - (a[0] ?? 0)) / 1000);
    const { missing, duplicates } = check(sink);
    console.log(
      `million: ${n} workers x ${pool} connections, sink ${delayMs} ms: ${a.length} messages in ${(((a[a.length - 1] ?? 0) - (a[0] ?? 0)) / 1000).toFixed(0)} s (${all.toFixed(0)} msg/s); ` +
        `first 10% ${firstRate.toFixed(0)} msg/s, last 10% ${lastRate.toFixed(0)} msg/s (${((lastRate / firstRate) * 100).toFixed(0)}%); ` +
        `peak RSS per worker ${[...peaks.values()].map((mb) => mb.toFixed(0)).join('/')} MB; missing ${missing}, duplicates ${duplicates}; ${load()}`,
    );
    if (missing > 0 || duplicates > 0) process.exitCode = 1;
  } finally {
    clearInterval(progress);
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(exited));
    await sink.close();
    await db.drop();
  }
}

async function kill(): Promise<void> {
  console.log(`start: ${load()}`);
  const db = await createWorkersDatabase(recipients);
  const sink = await startSink();
  const env = { CAMPAIGN_LEASE_SECONDS: '5' };
  const victim = startWorker(db, sink, env);
  const survivor = startWorker(db, sink, env);
  try {
    const killAt = Math.floor(recipients * Number(args['kill-at']));
    await until(async () => sink.arrivals.length >= killAt, 30 * 60_000);
    victim.kill('SIGKILL');
    await exited(victim);
    const killedAt = performance.now();
    const held = (await q<{ email: string }>(db.url, "SELECT email FROM sends WHERE status = 'sending' AND worker LIKE $1", [`${victim.pid}@%`])).map((r) => r.email);
    await until(() => campaignSent(db), 30 * 60_000);
    const done = performance.now();
    const { missing, duplicates, unexpected } = check(sink, new Set(held));
    const flagged = await q<{ n: string }>(db.url, 'SELECT count(*) AS n FROM sends WHERE possible_duplicate = 1');
    const reported = held.filter((e) => survivor.out.join('').includes(e)).length;
    const counts = await q<{ status: string; n: string }>(db.url, 'SELECT status, count(*) AS n FROM sends GROUP BY status');
    console.log(
      `kill -9 of 1 of 2 workers at ${killAt} of ${recipients} messages: the survivor finished ${((done - killedAt) / 1000).toFixed(1)} s later; ` +
        `rows ${counts.map((c) => `${c.status} ${c.n}`).join(', ')}; missing ${missing}; duplicates ${duplicates} (outside the dead worker's ${held.length} claimed rows: ${unexpected}); ` +
        `flagged possible duplicate ${flagged[0]?.n ?? 0}; named in the survivor's log ${reported}/${held.length}; ${load()}`,
    );
  } finally {
    for (const w of [victim, survivor]) if (w.exitCode === null) w.kill('SIGTERM');
    await Promise.all([victim, survivor].map(exited));
    await sink.close();
    await db.drop();
  }
}

await (mode === 'kill' ? kill() : mode === 'million' ? million() : scale());
