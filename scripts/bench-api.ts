/**
 * `npm run bench:api`: the API on a large database, through the real HTTP server on a loopback socket.
 *
 *   npm run bench:api                          # SQLite, 1,000,000 subscribers, a 1,000,000-recipient campaign
 *   npm run bench:api -- --database postgres   # the same on a fresh Postgres database (scripts/lib/scratch-database.ts)
 *   npm run bench:api -- --subscribers 100000 --requests 300 --send-seconds 10
 *
 * Measures p50/p95 of: subscriber search by email prefix, a list page (keyset, deep in the list), a campaign's
 * progress; each next to the same store query called directly (the baseline in the same run, so the ratio is the
 * HTTP, auth and JSON overhead). Then it sends the big campaign to an in-process SMTP sink for --send-seconds while
 * reading GET /campaigns/:id/events, and reports the longest gap between progress events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { AccountService } from '../src/accounts/account-service.ts';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { resumeCampaign } from '../src/sending/send-newsletter.ts';
import { AccountStore } from '../src/store/account-store.ts';
import { ApiQueries } from '../src/store/api-queries.ts';
import { refreshStatisticsAfterBulkWrite } from '../src/store/statistics.ts';
import { createScratchDatabase } from './lib/scratch-database.ts';

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '200' },
    'send-seconds': { type: 'string', default: '15' },
    keep: { type: 'boolean', default: false },
    /** `sqlite` (a file in a temporary folder) or `postgres` (a fresh database on POSTGRES_TEST_URL's server). */
    database: { type: 'string', default: 'sqlite' },
  },
});
const N = Number(args.subscribers);
const REQUESTS = Number(args.requests);
const SEND_SECONDS = Number(args['send-seconds']);

if (args.database !== 'sqlite' && args.database !== 'postgres') throw new Error(`--database ${JSON.stringify(args.database)}: use sqlite or postgres`);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-api-'));
  const sink = new SMTPServer({ logger: false, disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true, onData: (stream, _s, cb) => { stream.resume(); stream.on('end', () => cb()); } });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()));
  const smtpPort = (sink.server.address() as { port: number }).port;
  const postgres = args.database === 'postgres' ? await createScratchDatabase('mailroom_bench_api') : null;
  const config = loadConfig({ DATA_DIR: join(dir, 'data'), ...(postgres ? { DATABASE_URL: postgres.url } : {}), PUBLIC_URL: 'https://news.example.com', SECRET: 'bench-api-secret-0123456789abcdefghijklmnop', SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, SMTP_POOL_SIZE: '5' }, dir);
  const app = await createApp(config);
  console.log(`bench-api: ${N.toLocaleString('en')} subscribers in ${postgres ? `Postgres database ${postgres.name}` : dir}`);
  await loadDemoWorkspace(app);
  const newsletter = await app.stores.newsletters.findNewsletter('weekly');
  if (!newsletter) throw new Error('no demo newsletter');

  // ---------------------------------------------------------------- data
  let start = performance.now();
  const now = new Date().toISOString();
  const db = app.stores.db;
  const BATCH = 2000;
  for (let from = 0; from < N; from += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, N - from) }, (_, i) => {
      const k = from + i;
      return { email: `user${k}@bench.example`, name: `Reader ${k}`, first_name: 'Reader', last_name: String(k), attributes: '{}', status: 'active', consent_source: 'bench', consent_at: now, created_at: now, updated_at: now };
    });
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('subscribers').values(rows).execute();
    });
  }
  await sql`INSERT INTO list_memberships (list_id, subscriber_id, status, created_at, updated_at) SELECT ${newsletter.listId}, id, 'subscribed', ${now}, ${now} FROM subscribers WHERE email LIKE '%@bench.example'`.execute(db);
  // Loaded by plain INSERTs, not the CSV import: refresh Postgres's statistics as the import does after a large one.
  await refreshStatisticsAfterBulkWrite(db, ['subscribers', 'list_memberships'], N);
  console.log(`  loaded in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  start = performance.now();
  const { issue } = await buildIssue(app.stores, newsletter, { publicUrl: config.publicUrl, max: 2 });
  const { campaign, recipients } = await app.stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: newsletter.listId });
  console.log(`  campaign ${campaign.id}: ${recipients.toLocaleString('en')} recipients fixed in ${((performance.now() - start) / 1000).toFixed(1)} s`);

  const accounts = new AccountService(new AccountStore(db), { publicUrl: config.publicUrl });
  const { secret } = await accounts.createToken('bench', 'viewer');
  const server = await buildHttpServer({ stores: app.stores, publicUrl: config.publicUrl, secret: config.secret, mediaDir: join(dir, 'data'), inbox: null, accounts, api: { eventIntervalMs: 1000 } });
  const base = await server.listen({ port: 0, host: '127.0.0.1' });
  const headers = { authorization: `Bearer ${secret}` };
  const queries = new ApiQueries(db);
  const get = async (path: string) => {
    const response = await fetch(`${base}/api/v1${path}`, { headers });
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  const random = (n: number) => Math.floor(Math.random() * n);

  // --------------------------------------------------------- measurements
  const cases: { name: string; http: () => Promise<void>; direct: () => Promise<unknown> }[] = [];
  let prefix = '';
  let after = 0;
  cases.push({
    name: 'search by email prefix',
    http: () => get(`/subscribers?email=${prefix}&limit=50`),
    direct: () => queries.searchSubscribers({ email: prefix, limit: 50 }),
  });
  cases.push({
    name: 'search by name',
    http: () => get(`/subscribers?name=${encodeURIComponent(`reader ${prefix.slice(4)}`)}&limit=50`),
    direct: () => queries.searchSubscribers({ name: `reader ${prefix.slice(4)}`, limit: 50 }),
  });
  cases.push({
    name: 'list page (keyset, filtered by list and status)',
    http: () => get(`/subscribers?list=demo&status=active&cursor=${Buffer.from(JSON.stringify({ value: String(after), id: after })).toString('base64url')}&limit=50`),
    direct: () => queries.searchSubscribers({ listId: newsletter.listId, status: 'active', cursor: { value: String(after), id: after }, limit: 50 }),
  });
  cases.push({
    name: 'campaign progress (answers at most 1 s old; store: the count behind it)',
    http: () => get(`/campaigns/${campaign.id}`),
    direct: () => app.stores.campaigns.countSends(campaign.id),
  });
  const results: Record<string, { httpP50: number; httpP95: number; directP50: number; directP95: number }> = {};
  for (const c of cases) {
    const http: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < REQUESTS; i += 1) {
      prefix = `user${random(N)}`.slice(0, 4 + 1 + random(5));
      after = random(N);
      direct.push(await timed(c.direct));
      http.push(await timed(c.http));
    }
    results[c.name] = { httpP50: percentile(http, 50), httpP95: percentile(http, 95), directP50: percentile(direct, 50), directP95: percentile(direct, 95) };
    console.log(`  ${c.name}: HTTP p50 ${fmt(percentile(http, 50))}, p95 ${fmt(percentile(http, 95))}; store p95 ${fmt(percentile(direct, 95))} (HTTP/store ${(percentile(http, 95) / Math.max(0.01, percentile(direct, 95))).toFixed(2)}×)`);
  }

  // ------------------------------------------------------ SSE while sending
  const controller = new AbortController();
  const sending = resumeCampaign(app.sendDeps({ signal: controller.signal }), campaign.id);
  const stream = await fetch(`${base}/api/v1/campaigns/${campaign.id}/events`, { headers });
  const reader = stream.body?.getReader();
  const arrivals: number[] = [];
  const sentAt: number[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const deadline = performance.now() + SEND_SECONDS * 1000;
  while (reader && performance.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = /^data: (.*)$/m.exec(event)?.[1];
      if (event.startsWith('event: progress') && data) {
        arrivals.push(performance.now());
        sentAt.push((JSON.parse(data) as { counts: { sent: number } }).counts.sent);
      }
    }
  }
  await reader?.cancel();
  controller.abort();
  await sending.catch(() => undefined);
  const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] ?? t));
  const sentDuring = (sentAt.at(-1) ?? 0) - (sentAt[0] ?? 0);
  console.log(`  SSE while sending: ${arrivals.length} progress events in ${SEND_SECONDS} s, longest gap ${fmt(Math.max(0, ...gaps))}, p95 gap ${fmt(percentile(gaps, 95))}; ${sentDuring.toLocaleString('en')} messages sent meanwhile (${Math.round(sentDuring / SEND_SECONDS)}/s)`);

  const verdict = Object.entries(results).every(([, r]) => r.httpP95 < 200) && Math.max(0, ...gaps) < 2000;
  console.log(verdict ? 'PASS: every p95 under 200 ms and SSE gaps under 2 s' : 'FAIL: a p95 is 200 ms or more, or an SSE gap is 2 s or more');
  await server.close();
  await app.close();
  await new Promise<void>((resolve) => sink.close(() => resolve()));
  if (!args.keep) {
    rmSync(dir, { recursive: true, force: true });
    await postgres?.drop();
  }
  process.exitCode = verdict ? 0 : 1;
}

await main();
