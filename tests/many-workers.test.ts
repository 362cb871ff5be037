/**
 * Many workers on one Postgres campaign (issue 11, point 4), as separate `mailroom worker` processes against a real
 * SMTP sink: together they send everyone exactly once, each some; after kill -9 of one, the other finishes, and the
 * only duplicates are among the rows the dead worker had claimed, every one of them reported.
 */
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createWorkersDatabase, recipientEmail, type WorkersDatabase } from '../scripts/workers-fixture.ts';
import { startCountingSink, type CountingSink } from './helpers/counting-sink.ts';
import { CLI_SECRET, exitOf, runInProcess, spawnMailroom } from './helpers/mailroom.ts';
import { postgresAvailable } from './helpers/postgres.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function workerEnv(db: WorkersDatabase, sink: CountingSink, extra: Record<string, string> = {}) {
  return { DATABASE_URL: db.url, SMTP_URL: sink.url, SECRET: CLI_SECRET, PUBLIC_URL: 'https://news.example.com', NODE_ENV: 'production', SMTP_POOL_SIZE: '4', SCHEDULER_TICK: '*/1 * * * * *', ...extra };
}

async function query<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

describe.skipIf(!postgresAvailable)('many workers on one campaign (Postgres)', () => {
  const dir = process.cwd();
  let sink: CountingSink;
  beforeAll(async () => {
    sink = await startCountingSink(0, { delayMs: 20 });
    cleanups.push(() => sink.close());
  });

  test('two worker processes send one campaign together: nobody missing, nobody twice, both sent some; campaigns show lists them', async () => {
    const recipients = 1200;
    const db = await createWorkersDatabase(recipients);
    cleanups.push(() => db.drop());
    sink.counts.clear();
    sink.arrivals.length = 0;
    const workers = [spawnMailroom(dir, ['worker'], workerEnv(db, sink)), spawnMailroom(dir, ['worker'], workerEnv(db, sink))];
    for (const w of workers) cleanups.push(() => w.exitCode === null && w.kill('SIGKILL'));
    await waitFor('the campaign to be sent', async () => (await query<{ status: string }>(db.url, 'SELECT status FROM campaigns WHERE id = $1', [db.campaignId]))[0]?.status === 'sent');
    for (const w of workers) w.kill('SIGTERM');
    expect(await Promise.all(workers.map(exitOf))).toEqual([0, 0]);

    const missing = Array.from({ length: recipients }, (_, i) => recipientEmail(i + 1)).filter((e) => !sink.counts.has(e));
    const twice = [...sink.counts].filter(([, n]) => n > 1);
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
    expect(sink.total()).toBe(recipients);
    const byWorker = await query<{ worker: string; n: string }>(db.url, "SELECT worker, count(*) AS n FROM sends WHERE campaign_id = $1 AND status = 'sent' GROUP BY worker", [db.campaignId]);
    expect(byWorker).toHaveLength(2);
    for (const row of byWorker) expect(Number(row.n)).toBeGreaterThan(0);
    expect(byWorker.map((r) => r.worker.split('@')[0]).sort()).toEqual(workers.map((w) => String(w.pid)).sort());

    const shown = await runInProcess(dir, ['campaigns', 'show', String(db.campaignId)], workerEnv(db, sink));
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('workers: 2');
    for (const row of byWorker) expect(shown.stdout).toMatch(new RegExp(`${row.worker.replace(/[.#]/g, '\\$&')}\\s+${row.n}\\s+0`));
  });

  test('kill -9 of one of two workers mid-campaign: the other finishes; duplicates only among the dead worker’s claimed rows, all reported', async () => {
    const recipients = 2000;
    const db = await createWorkersDatabase(recipients);
    cleanups.push(() => db.drop());
    sink.counts.clear();
    sink.arrivals.length = 0;
    const env = workerEnv(db, sink, { CAMPAIGN_LEASE_SECONDS: '2' });
    const victim = spawnMailroom(dir, ['worker'], env);
    const survivor = spawnMailroom(dir, ['worker'], env);
    for (const w of [victim, survivor]) cleanups.push(() => w.exitCode === null && w.kill('SIGKILL'));
    // Both are sending before the kill.
    await waitFor('both workers to send', async () => (await query(db.url, "SELECT DISTINCT worker FROM sends WHERE status = 'sent'")).length === 2);
    victim.kill('SIGKILL');
    await exitOf(victim);
    const held = (await query<{ email: string }>(db.url, "SELECT email FROM sends WHERE status = 'sending' AND worker LIKE $1", [`${victim.pid}@%`])).map((r) => r.email);
    expect(held.length).toBeGreaterThan(0);

    await waitFor('the campaign to be sent', async () => (await query<{ status: string }>(db.url, 'SELECT status FROM campaigns WHERE id = $1', [db.campaignId]))[0]?.status === 'sent');
    survivor.kill('SIGTERM');
    expect(await exitOf(survivor)).toBe(0);

    const missing = Array.from({ length: recipients }, (_, i) => recipientEmail(i + 1)).filter((e) => !sink.counts.has(e));
    expect(missing).toEqual([]);
    const twice = [...sink.counts].filter(([, n]) => n > 1).map(([e]) => e);
    // Duplicates only among the rows the dead worker held (some of them it had not sent yet)...
    for (const e of twice) expect(held).toContain(e);
    // ...and every one of those rows is reported: marked possible duplicate, and named in the survivor's log.
    const flagged = (await query<{ email: string; status: string }>(db.url, 'SELECT email, status FROM sends WHERE campaign_id = $1 AND possible_duplicate = 1', [db.campaignId])).map((r) => r.email);
    expect(flagged.sort()).toEqual([...held].sort());
    for (const e of held) expect(survivor.output()).toContain(e);
    expect(survivor.output()).toContain(`at worker ${victim.pid}@`);
    const counts = await query<{ status: string; n: string }>(db.url, 'SELECT status, count(*) AS n FROM sends WHERE campaign_id = $1 GROUP BY status', [db.campaignId]);
    expect(counts.map((c) => [c.status, Number(c.n)])).toEqual([['sent', recipients]]);
  });

  test('the relay rate limit holds across two worker processes on one database (SMTP_RATE_PER_SECOND=20)', async () => {
    const recipients = 140;
    const rate = 20;
    const db = await createWorkersDatabase(recipients);
    cleanups.push(() => db.drop());
    const fast = await startCountingSink();
    cleanups.push(() => fast.close());
    const env = workerEnv(db, fast, { SMTP_RATE_PER_SECOND: String(rate) });
    const workers = [spawnMailroom(dir, ['worker'], env), spawnMailroom(dir, ['worker'], env)];
    for (const w of workers) cleanups.push(() => w.exitCode === null && w.kill('SIGKILL'));
    await waitFor('the campaign to be sent', async () => (await query<{ status: string }>(db.url, 'SELECT status FROM campaigns WHERE id = $1', [db.campaignId]))[0]?.status === 'sent');
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(exitOf));
    expect(fast.total()).toBe(recipients);
    const byWorker = await query<{ worker: string; n: string }>(db.url, "SELECT worker, count(*) AS n FROM sends WHERE status = 'sent' GROUP BY worker");
    expect(byWorker).toHaveLength(2);
    // No second (as the sink measured it) holds more than the limit, although each worker alone may send at it.
    const at = [...fast.arrivals].sort((a, b) => a - b);
    let most = 0;
    for (let i = 0, j = 0; i < at.length; i += 1) {
      while ((at[i] as number) - (at[j] as number) >= 1000) j += 1;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(rate);
    // And together they keep close to it.
    const seconds = ((at[at.length - 1] as number) - (at[0] as number)) / 1000;
    expect(recipients / seconds).toBeGreaterThan(rate * 0.8);
  });
});
