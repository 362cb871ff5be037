/**
 * `npm run load:public`: the public endpoints under load while a campaign sends, on loopback (autocannon).
 *
 *   npm run load:public                               # 60 s, 200 connections, 200,000 subscribers
 *   npm run load:public -- --seconds 20 --subscribers 50000
 *
 * Four autocannon runs at once, a quarter of the connections each: one-click unsubscribe (POST /u/TOKEN with a
 * distinct valid token per request), sign-up (POST /subscribe/demo), confirm (POST /confirm/TOKEN) and the archive
 * (GET /issues/weekly). Meanwhile the service's process sends a campaign to the same list through a local SMTP
 * server, in its own process (the load generator runs in this one, so it never slows the server's event loop). Reports status codes per endpoint (429s are the designed sign-up limit), p50/p99 latency, whether every
 * unsubscribe was recorded, and whether anyone who unsubscribed before their send row was claimed got the message.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { confirmUrl, unsubscribeUrl } from '../src/core/links.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { resumeCampaign } from '../src/sending/send-newsletter.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    connections: { type: 'string', default: '200' },
    subscribers: { type: 'string', default: '200000' },
    child: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const N = Number(args.subscribers);

interface Ready {
  readonly base: string;
  readonly secret: string;
  readonly listId: number;
  readonly ids: number[];
  readonly campaignId: number;
  readonly recipients: number;
}

interface Checks {
  readonly accepted: number;
  readonly recorded: number;
  readonly violations: number;
}

/** The service's side: a workspace, the HTTP server and a campaign sending; answers "check" on stdin with the database's view. */
async function child(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-load-'));
  let accepted = 0;
  const smtp = new SMTPServer({ logger: false, disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true, onData: (stream, _s, cb) => { stream.resume(); stream.on('end', () => { accepted += 1; cb(); }); } });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  const smtpPort = (smtp.server.address() as { port: number }).port;
  const config = loadConfig({ DATA_DIR: join(dir, 'data'), PUBLIC_URL: 'https://news.example.com', SECRET: 'load-public-secret-0123456789abcdefghijklmn', SMTP_URL: `smtp://127.0.0.1:${smtpPort}` }, dir);
  const app = await createApp(config);
  await loadDemoWorkspace(app);
  const newsletter = await app.stores.newsletters.findNewsletter('weekly');
  if (!newsletter) throw new Error('no demo newsletter');
  const db = app.stores.db;
  const now = new Date().toISOString();
  for (let from = 0; from < N; from += 2000) {
    const rows = Array.from({ length: Math.min(2000, N - from) }, (_, i) => ({ email: `load${from + i}@load.example`, name: '', first_name: '', last_name: '', attributes: '{}', status: 'active', consent_source: 'load', consent_at: now, created_at: now, updated_at: now }));
    await db.insertInto('subscribers').values(rows).execute();
  }
  await sql`INSERT INTO list_memberships (list_id, subscriber_id, status, created_at, updated_at) SELECT ${newsletter.listId}, id, 'subscribed', ${now}, ${now} FROM subscribers WHERE email LIKE '%@load.example'`.execute(db);
  const ids = (await sql<{ id: number }>`SELECT id FROM subscribers WHERE email LIKE '%@load.example' ORDER BY id`.execute(db)).rows.map((r) => r.id);
  const { issue } = await buildIssue(app.stores, newsletter, { publicUrl: config.publicUrl, max: 2 });
  const { campaign, recipients } = await app.stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: newsletter.listId });
  const server = await buildHttpServer({ stores: app.stores, publicUrl: config.publicUrl, secret: config.secret, mediaDir: join(dir, 'data'), inbox: null, openTransport: app.openTransport, signup: { minResponseMs: 100 } });
  const base = await server.listen({ port: 0, host: '127.0.0.1' });
  const controller = new AbortController();
  const sending = resumeCampaign(app.sendDeps({ signal: controller.signal }), campaign.id);
  const ready: Ready = { base, secret: config.secret, listId: newsletter.listId, ids, campaignId: campaign.id, recipients };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'check') continue;
    const sentDuring = accepted;
    controller.abort();
    await sending.catch(() => undefined);
    const recorded = Number((await sql<{ n: number }>`SELECT count(*) AS n FROM list_memberships WHERE list_id = ${newsletter.listId} AND status = 'unsubscribed'`.execute(db)).rows[0]?.n ?? 0);
    // Sent although the unsubscribe was recorded before the row was claimed for sending.
    const violations = Number(
      (
        await sql<{ n: number }>`SELECT count(*) AS n FROM sends s JOIN list_memberships m ON m.subscriber_id = s.subscriber_id AND m.list_id = ${newsletter.listId}
          WHERE s.campaign_id = ${campaign.id} AND s.status = 'sent' AND m.status = 'unsubscribed' AND m.unsubscribed_at < s.first_attempt_at`.execute(db)
      ).rows[0]?.n ?? 0,
    );
    const checks: Checks = { accepted: sentDuring, recorded, violations };
    process.stdout.write(`${JSON.stringify(checks)}\n`);
    break;
  }
  await server.close();
  await app.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--subscribers', String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const readJson = async <T>(): Promise<T> => {
    const next = await lines.next();
    if (next.done) throw new Error('the server process ended early');
    return JSON.parse(next.value) as T;
  };
  const ready = await readJson<Ready>();
  const { base, ids } = ready;
  console.log(`load-public: ${N.toLocaleString('en')} subscribers, campaign ${ready.campaignId} to ${ready.recipients.toLocaleString('en')}; ${CONNECTIONS} connections for ${SECONDS} s`);
  const settings = { publicUrl: '', secret: ready.secret };
  // Unsubscribe from the end of the list (the campaign sends in id order, so these rows are claimed late).
  let nextUnsubscribe = ids.length - 1;
  const unsubscribed: number[] = [];
  let nextConfirm = 0;
  let nextSignup = 0;
  const quarter = Math.max(1, Math.floor(CONNECTIONS / 4));
  const run = (title: string, options: Omit<autocannon.Options, 'url'>) =>
    new Promise<autocannon.Result>((resolve, reject) => {
      autocannon({ url: base, connections: quarter, duration: SECONDS, title, ...options }, (error, result) => (error ? reject(error) : resolve(result)));
    });
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const results = await Promise.all([
    run('one-click unsubscribe', {
      requests: [
        {
          method: 'POST',
          headers: form,
          body: 'List-Unsubscribe=One-Click',
          setupRequest: (request) => {
            const id = ids[nextUnsubscribe--] ?? ids[0] ?? 0;
            unsubscribed.push(id);
            return { ...request, path: unsubscribeUrl(settings, id, ready.listId) };
          },
        },
      ],
    }),
    run('sign-up', {
      requests: [{ method: 'POST', headers: form, setupRequest: (request) => ({ ...request, path: '/subscribe/demo', body: `email=new${nextSignup++}%40signup.example&name=New` }) }],
    }),
    run('confirm', {
      requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, path: confirmUrl(settings, ids[nextConfirm++ % 1000] ?? 1, ready.listId, new Date(Date.now() + 86_400_000)) }) }],
    }),
    run('archive', { requests: [{ method: 'GET', path: '/issues/weekly' }] }),
  ]);
  proc.stdin.write('check\n');
  const checks = await readJson<Checks>();
  proc.stdin.end();
  await new Promise((resolve) => proc.once('exit', resolve));

  for (const r of results) {
    const codes = Object.entries(r.statusCodeStats ?? {}).map(([code, st]) => `${code}: ${(st as { count: number }).count}`).join(', ');
    console.log(`  ${r.title}: ${r.requests.total} requests (${Math.round(r.requests.average)}/s), latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${r.errors}, timeouts ${r.timeouts}; ${codes}`);
  }
  const unsub = results[0];
  const distinct = new Set(unsubscribed).size;
  const ok200 = (unsub?.statusCodeStats as Record<string, { count: number }> | undefined)?.['200']?.count ?? 0;
  console.log(`  campaign: ${checks.accepted.toLocaleString('en')} messages accepted by SMTP during the run`);
  console.log(`  unsubscribes: ${ok200} answered 200, ${checks.recorded} recorded (${distinct} distinct tokens sent); sent after an unsubscribe recorded before the claim: ${checks.violations}`);
  const otherErrors = results.reduce((n, r) => n + r.errors + r.timeouts + r.non2xx - ((r.statusCodeStats as Record<string, { count: number }> | undefined)?.['429']?.count ?? 0), 0);
  const pass = otherErrors === 0 && (unsub?.latency.p99 ?? Infinity) < 100 && checks.violations === 0 && checks.recorded >= ok200;
  console.log(pass ? 'PASS: no errors but the designed 429s, unsubscribe p99 under 100 ms, every unsubscribe recorded and honoured' : `FAIL: ${otherErrors} error(s) other than 429, unsubscribe p99 ${unsub?.latency.p99} ms, ${checks.violations} violation(s)`);
  process.exitCode = pass ? 0 : 1;
}

await (args.child ? child() : main());
