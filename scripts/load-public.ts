/**
 * `npm run load:public`: the public endpoints under load while a campaign sends, on loopback (autocannon).
 *
 *   npm run load:public                               # 60 s, 200 connections, 200,000 subscribers
 *   npm run load:public -- --seconds 20 --subscribers 50000
 *
 * Four autocannon runs at once, a quarter of the connections each: one-click unsubscribe (POST /u/TOKEN with a
 * distinct valid token per request), sign-up (POST /subscribe/demo), confirm (POST /confirm/TOKEN) and the archive
 * (GET /issues/weekly). Meanwhile the service's process sends a campaign to the same list through a local SMTP
 * server. Reports status codes per endpoint (429s are the designed sign-up limit), p50/p99 latency, whether every
 * unsubscribe was recorded, and whether anyone who unsubscribed before their send row was claimed got the message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const N = Number(args.subscribers);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-load-'));
  let accepted = 0;
  const smtp = new SMTPServer({ logger: false, disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true, onData: (stream, _s, cb) => { stream.resume(); stream.on('end', () => { accepted += 1; cb(); }); } });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  const smtpPort = (smtp.server.address() as { port: number }).port;
  const config = loadConfig({ DATA_DIR: join(dir, 'data'), PUBLIC_URL: 'https://news.example.com', SECRET: 'load-public-secret-0123456789abcdefghijklmn', SMTP_URL: `smtp://127.0.0.1:${smtpPort}` }, dir);
  const app = await createApp(config);
  await loadDemoWorkspace(app);
  const newsletter = await app.store.findNewsletter('weekly');
  if (!newsletter) throw new Error('no demo newsletter');
  const db = app.store.db;
  const now = new Date().toISOString();
  for (let from = 0; from < N; from += 2000) {
    const rows = Array.from({ length: Math.min(2000, N - from) }, (_, i) => ({ email: `load${from + i}@load.example`, name: '', first_name: '', last_name: '', attributes: '{}', status: 'active', consent_source: 'load', consent_at: now, created_at: now, updated_at: now }));
    await db.insertInto('subscribers').values(rows).execute();
  }
  await sql`INSERT INTO list_memberships (list_id, subscriber_id, status, created_at, updated_at) SELECT ${newsletter.listId}, id, 'subscribed', ${now}, ${now} FROM subscribers WHERE email LIKE '%@load.example'`.execute(db);
  const ids = (await sql<{ id: number }>`SELECT id FROM subscribers WHERE email LIKE '%@load.example' ORDER BY id`.execute(db)).rows.map((r) => r.id);
  const { issue } = await buildIssue(app.store, newsletter, { publicUrl: config.publicUrl, max: 2 });
  const { campaign, recipients } = await app.store.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: newsletter.listId });
  console.log(`load-public: ${N.toLocaleString('en')} subscribers, campaign ${campaign.id} to ${recipients.toLocaleString('en')}; ${CONNECTIONS} connections for ${SECONDS} s`);

  const server = await buildHttpServer({ store: app.store, publicUrl: config.publicUrl, secret: config.secret, mediaDir: join(dir, 'data'), inbox: null, openTransport: app.openTransport, signup: { minResponseMs: 100 } });
  const base = await server.listen({ port: 0, host: '127.0.0.1' });
  const controller = new AbortController();
  const sending = resumeCampaign(app.sendDeps({ signal: controller.signal }), campaign.id);

  const settings = { publicUrl: '', secret: config.secret };
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
            return { ...request, path: unsubscribeUrl(settings, id, newsletter.listId) };
          },
        },
      ],
    }),
    run('sign-up', {
      requests: [{ method: 'POST', headers: form, setupRequest: (request) => ({ ...request, path: '/subscribe/demo', body: `email=new${nextSignup++}%40signup.example&name=New` }) }],
    }),
    run('confirm', {
      requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, path: confirmUrl(settings, ids[nextConfirm++ % 1000] ?? 1, newsletter.listId, new Date(Date.now() + 86_400_000)) }) }],
    }),
    run('archive', { requests: [{ method: 'GET', path: '/issues/weekly' }] }),
  ]);
  const sentDuring = accepted;
  controller.abort();
  await sending.catch(() => undefined);

  for (const r of results) {
    const codes = Object.entries(r.statusCodeStats ?? {}).map(([code, s]) => `${code}: ${(s as { count: number }).count}`).join(', ');
    console.log(`  ${r.title}: ${r.requests.total} requests (${Math.round(r.requests.average)}/s), latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${r.errors}, timeouts ${r.timeouts}; ${codes}`);
  }
  const unsub = results[0];
  // Every unsubscribe answered 200 is recorded; nobody unsubscribed before their row was claimed got the message.
  const distinct = [...new Set(unsubscribed)];
  const recorded = Number((await sql<{ n: number }>`SELECT count(*) AS n FROM list_memberships WHERE list_id = ${newsletter.listId} AND status = 'unsubscribed' AND subscriber_id >= ${Math.min(...distinct)}`.execute(db)).rows[0]?.n ?? 0);
  const violations = Number(
    (
      await sql<{ n: number }>`SELECT count(*) AS n FROM sends s JOIN list_memberships m ON m.subscriber_id = s.subscriber_id AND m.list_id = ${newsletter.listId}
        WHERE s.campaign_id = ${campaign.id} AND s.status = 'sent' AND m.status = 'unsubscribed' AND m.unsubscribed_at < s.first_attempt_at`.execute(db)
    ).rows[0]?.n ?? 0,
  );
  const ok200 = (unsub?.statusCodeStats as Record<string, { count: number }> | undefined)?.['200']?.count ?? 0;
  console.log(`  campaign: ${sentDuring.toLocaleString('en')} messages accepted by SMTP during the run`);
  console.log(`  unsubscribes: ${ok200} answered 200, ${recorded} recorded for ${distinct.length} distinct tokens; sent after unsubscribing before the claim: ${violations}`);
  const otherErrors = results.reduce((n, r) => n + r.errors + r.timeouts + r.non2xx - ((r.statusCodeStats as Record<string, { count: number }> | undefined)?.['429']?.count ?? 0), 0);
  const pass = otherErrors === 0 && (unsub?.latency.p99 ?? Infinity) < 100 && violations === 0 && recorded >= ok200;
  console.log(pass ? 'PASS: no errors but the designed 429s, unsubscribe p99 under 100 ms, every unsubscribe recorded and honoured' : `FAIL: ${otherErrors} error(s) other than 429, unsubscribe p99 ${unsub?.latency.p99} ms, ${violations} violation(s)`);
  await server.close();
  await app.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = pass ? 0 : 1;
}

await main();
