import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import type { ImportRowResult } from '../src/store/store-types.ts';
import { startCountingSink, type CountingSink } from './helpers/counting-sink.ts';
import { makeDataDir, REPO_ROOT } from './helpers/workspace.ts';

const RECIPIENTS = 20_000;
const POOL = 5;
const KILLS = 10;

function envFor(dir: string, sink: CountingSink, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    DATA_DIR: join(dir, 'data'),
    SMTP_URL: sink.url,
    PUBLIC_URL: 'https://news.example.com',
    SECRET: 'crash-test-secret-that-is-long-enough-0123456789',
    SMTP_POOL_SIZE: String(POOL),
    CAMPAIGN_LEASE_SECONDS: '1',
    ...extra,
  };
}

function runCli(args: string[], env: Record<string, string>, cwd: string): ChildProcess {
  return spawn(process.execPath, [join(REPO_ROOT, 'bin', 'mailroom.js'), ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
}

async function* generatedRows(n: number): AsyncGenerator<ImportRowResult> {
  for (let i = 1; i <= n; i += 1) {
    yield { line: i + 1, ok: true, row: { email: `reader${i}@load.example`, name: `Reader ${i}`, firstName: 'Reader', lastName: String(i), attributes: {} } };
  }
}

async function setUpCampaign(dir: string, sink: CountingSink, recipients: number): Promise<{ app: App; campaignId: number }> {
  const app = await createApp(loadConfig(envFor(dir, sink), dir));
  const list = await app.stores.audience.createList('load');
  const report = await app.stores.audience.importSubscribers(list.id, generatedRows(recipients), { source: 'generated' });
  expect(report.newPeople).toBe(recipients);
  const { readArticleSources } = await import('../src/content/article-file.ts');
  const articleIds: number[] = [];
  for (const { article } of (await readArticleSources(join(dir, 'data', 'articles'))).articles) articleIds.push((await app.stores.content.upsertArticle(article)).article.id);
  const newsletter = await app.stores.newsletters.createNewsletter({
    slug: 'load',
    name: 'Load Test',
    fromName: 'Load Test',
    fromEmail: 'news@load.example',
    replyTo: '',
    listId: list.id,
    template: 'digest',
    postalAddress: '1 Test Street, Testville',
    logoUrl: '',
    subjectTemplate: '{title}',
    maxArticles: 3,
    language: 'en',
  });
  await app.stores.content.assignArticles(newsletter.id, articleIds, 'assign');
  const { issue } = await buildIssue(app.stores, newsletter, { publicUrl: 'https://news.example.com' });
  const { campaign } = await app.stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id });
  return { app, campaignId: campaign.id };
}

describe('crash safety', () => {
  let sink: CountingSink;
  let dir: string;
  let app: App;
  let campaignId: number;

  beforeAll(async () => {
    sink = await startCountingSink();
    dir = makeDataDir();
    ({ app, campaignId } = await setUpCampaign(dir, sink, RECIPIENTS));
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await sink?.close();
  });

  test(`kill -9 at random points of a ${RECIPIENTS}-recipient campaign, ${KILLS} times: nobody missing, duplicates only from the in-flight window and all reported`, async () => {
    const env = envFor(dir, sink);
    let kills = 0;
    while (kills < KILLS) {
      const before = sink.total();
      const child = runCli(['campaigns', 'resume', String(campaignId)], env, dir);
      // Kill it at a random point of its sending, counted in messages (not time: on a fast machine a second of sending
      // is thousands of messages, and ten runs would finish the campaign before the tenth kill).
      const killAt = before + 50 + Math.floor(Math.random() * 1000);
      const deadline = Date.now() + 20_000;
      while (sink.total() < killAt && Date.now() < deadline && child.exitCode === null) await delay(5);
      if (child.exitCode !== null) break; // finished before we could kill it
      child.kill('SIGKILL');
      await exited(child);
      kills += 1;
      // The dead process's lease (CAMPAIGN_LEASE_SECONDS=1) must run out before another may take over.
      await delay(1100);
    }
    expect(kills).toBe(KILLS);

    const final = runCli(['campaigns', 'resume', String(campaignId)], env, dir);
    let output = '';
    final.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    final.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    expect(await exited(final), output).toBe(0);

    const counts = await app.stores.campaigns.countSends(campaignId);
    expect(counts).toMatchObject({ sent: RECIPIENTS, pending: 0, sending: 0, failed: 0, deferred: 0 });
    const missing = Array.from({ length: RECIPIENTS }, (_, i) => `reader${i + 1}@load.example`).filter((email) => !sink.counts.has(email));
    expect(missing).toEqual([]);
    const duplicated = [...sink.counts].filter(([, n]) => n > 1).map(([email]) => email);
    const flagged = new Set((await app.stores.campaigns.listSends(campaignId, { possibleDuplicate: true, limit: 100_000 })).map((s) => s.email));
    // Every duplicate was in flight at a crash and is reported; at most one message per connection per crash.
    for (const email of duplicated) expect(flagged.has(email), `${email} arrived twice without being reported`).toBe(true);
    expect(flagged.size).toBeLessThanOrEqual(KILLS * POOL);
    expect(Math.max(...sink.counts.values())).toBeLessThanOrEqual(2);

    // `campaigns show` lists them.
    const show = runCli(['campaigns', 'show', String(campaignId)], env, dir);
    let shown = '';
    show.stdout?.on('data', (d: Buffer) => (shown += d.toString()));
    expect(await exited(show)).toBe(0);
    if (flagged.size > 0) {
      expect(shown).toContain(`possibly sent twice (in flight when a sender stopped abruptly): ${flagged.size}`);
      for (const email of flagged) expect(shown).toContain(email);
    }
    console.log(`crash safety: ${kills} kills, ${sink.total()} messages for ${RECIPIENTS} recipients, ${duplicated.length} duplicates, ${flagged.size} reported as possible duplicates`);
  }, 400_000);
});
