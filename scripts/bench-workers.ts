/**
 * Many workers on one Postgres campaign (issue 11): scale-out and kill -9, against a real SMTP sink (smtp-server in
 * this process) that answers each message after 20 ms, as a remote relay does, without blocking.
 *
 *   node --import tsx scripts/bench-workers.ts scale --recipients 4000 --pool 5      # 1, 2 and 4 workers
 *   node --import tsx scripts/bench-workers.ts kill --recipients 100000 --pool 5     # kill -9 one of two mid-campaign
 *
 * Each run makes a fresh database (scripts/workers-fixture.ts), starts `mailroom worker` processes (SMTP_POOL_SIZE =
 * --pool each), and measures messages per second at the sink from its first to its last arrival (worker start-up
 * left out). Every run checks 0 missing and 0 duplicates (kill: duplicates only among the dead worker's claimed rows).
 * Postgres at POSTGRES_TEST_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { createWorkersDatabase, recipientEmail, type WorkersDatabase } from './workers-fixture.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    recipients: { type: 'string', default: '4000' },
    pool: { type: 'string', default: '5' },
    delay: { type: 'string', default: '20' },
    workers: { type: 'string', default: '1,2,4' },
    'kill-at': { type: 'string', default: '0.3' },
  },
});
const mode = positionals[0] ?? 'scale';
const recipients = Number(args.recipients);
const pool = Number(args.pool);
const delayMs = Number(args.delay);

interface Sink {
  readonly url: string;
  readonly counts: Map<string, number>;
  readonly arrivals: number[];
  close(): Promise<void>;
}

async function startSink(): Promise<Sink> {
  const counts = new Map<string, number>();
  const arrivals: number[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    maxClients: 1000,
    onData(stream, session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () =>
        setTimeout(() => {
          for (const r of session.envelope.rcptTo) counts.set(r.address, (counts.get(r.address) ?? 0) + 1);
          arrivals.push(performance.now());
          callback();
        }, delayMs),
      );
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `smtp://127.0.0.1:${port}`, counts, arrivals, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function startWorker(db: WorkersDatabase, sink: Sink, extra: Record<string, string> = {}): ChildProcess & { out: string[] } {
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

function check(sink: Sink, allowedTwice: Set<string> = new Set()): { missing: number; duplicates: number; unexpected: number } {
  let missing = 0;
  let duplicates = 0;
  let unexpected = 0;
  for (let i = 1; i <= recipients; i += 1) {
    const n = sink.counts.get(recipientEmail(i)) ?? 0;
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

async function scale(): Promise<void> {
  const rates: Record<number, number> = {};
  for (const n of args.workers.split(',').map(Number)) {
    const db = await createWorkersDatabase(recipients);
    const sink = await startSink();
    const workers = Array.from({ length: n }, () => startWorker(db, sink));
    try {
      await until(() => campaignSent(db), 30 * 60_000);
      const a = sink.arrivals;
      const seconds = ((a[a.length - 1] ?? 0) - (a[0] ?? 0)) / 1000;
      rates[n] = recipients / seconds;
      const perWorker = await q<{ n: string }>(db.url, "SELECT count(*) AS n FROM sends WHERE status = 'sent' GROUP BY worker ORDER BY 1 DESC");
      const { missing, duplicates } = check(sink);
      console.log(
        `${n} worker(s) x ${pool} connections, ${recipients} recipients, sink ${delayMs} ms: ${rates[n]?.toFixed(0)} msg/s over ${seconds.toFixed(1)} s` +
          ` (${(rates[n]! / rates[1]!).toFixed(2)}x of 1 worker); missing ${missing}, duplicates ${duplicates}; sent per worker ${perWorker.map((r) => r.n).join('/')}`,
      );
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map(exited));
      await sink.close();
      await db.drop();
    }
  }
}

async function kill(): Promise<void> {
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
        `flagged possible duplicate ${flagged[0]?.n ?? 0}; named in the survivor's log ${reported}/${held.length}`,
    );
  } finally {
    for (const w of [victim, survivor]) if (w.exitCode === null) w.kill('SIGTERM');
    await Promise.all([victim, survivor].map(exited));
    await sink.close();
    await db.drop();
  }
}

await (mode === 'kill' ? kill() : scale());
