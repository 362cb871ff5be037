/**
 * A campaign's lease after its sender died: `campaigns resume` takes over at once when the holder was a process on
 * this host that no longer exists, and otherwise says who holds it (host, pid) and until when.
 * Through the real binary, against a real (slow) SMTP sink.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, test } from 'vitest';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { createCampaignRunner } from '../src/sending/campaign-runner.ts';
import { describeLeaseHolder, formatLeaseOwner, isDeadLocalHolder, parseLeaseOwner, processSpace } from '../src/sending/lease-owner.ts';
import { startCountingSink } from './helpers/counting-sink.ts';
import { cliWorkspace, exitOf, showRun, type CliWorkspace } from './helpers/mailroom.ts';
import { openWorkspace } from './helpers/workspace.ts';
import { isPostgres } from '../src/store/dialect.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('lease owner', () => {
  test('carries host and pid in a form that parses back, the older "host:pid:id" form included', () => {
    const owner = formatLeaseOwner('mail-1.example.org', 4242, 'ab12cd34', 'boot-1.4026531836');
    expect(parseLeaseOwner(owner)).toEqual({ host: 'mail-1.example.org', pid: 4242, id: 'ab12cd34', space: 'boot-1.4026531836' });
    expect(parseLeaseOwner(formatLeaseOwner('mail-1', 7, 'x', ''))).toEqual({ host: 'mail-1', pid: 7, id: 'x', space: null });
    expect(parseLeaseOwner('4242@mail-1#ab12cd34')).toEqual({ host: 'mail-1', pid: 4242, id: 'ab12cd34', space: null });
    expect(parseLeaseOwner('old-host:77:0a1b2c3d')).toEqual({ host: 'old-host', pid: 77, id: '0a1b2c3d', space: null });
    expect(parseLeaseOwner('whatever')).toBeNull();
    expect(parseLeaseOwner(formatLeaseOwner('odd host:with@signs#/', 1, 'x', 'a/b#c'))).toEqual({ host: 'odd host:with@signs#/', pid: 1, id: 'x', space: 'a/b#c' });
  });

  test('a holder in another process space (a container with the same hostname) is never declared dead', () => {
    const here = hostname();
    const gone = 2 ** 22 + 12345;
    expect(isDeadLocalHolder(formatLeaseOwner(here, gone, 'a', 'other-boot.4026531836'))).toBe(false);
    expect(isDeadLocalHolder(formatLeaseOwner(here, gone, 'a'))).toBe(true);
    // Written before the space was recorded: judged by the host alone, as then.
    expect(isDeadLocalHolder(`${gone}@${encodeURIComponent(here)}#a`)).toBe(true);
  });

  // A real second pid namespace on the same host (root only): there, this live test process's pid does not exist.
  const unshare = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
  if (unshare.status !== 0) console.warn(`[lease-takeover] skipping the pid-namespace test: unshare --pid failed (${unshare.error?.message ?? unshare.stderr.toString().trim()})`);
  test.skipIf(unshare.status !== 0)('a process in another pid namespace on this host does not take a live holder for dead', () => {
    const owner = formatLeaseOwner(hostname(), process.pid, 'live0000');
    const script = `import(${JSON.stringify(new URL('../src/sending/lease-owner.ts', import.meta.url).href)}).then((m) => console.log(JSON.stringify({ pid: process.pid, space: m.processSpace(), dead: m.isDeadLocalHolder(process.env.OWNER) })))`;
    const run = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, '--import', 'tsx', '-e', script], { env: { ...process.env, OWNER: owner }, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const inside = JSON.parse(run.stdout.trim()) as { pid: number; space: string; dead: boolean };
    expect(inside.pid).not.toBe(process.pid);
    expect(inside.space).not.toBe(processSpace());
    expect(inside.dead).toBe(false);
  });

  test('a holder is dead only when it is on this host and its pid does not exist', () => {
    const here = hostname();
    expect(isDeadLocalHolder(formatLeaseOwner(here, process.pid, 'a'))).toBe(false);
    // pid 1 exists everywhere (EPERM for an unprivileged user still means alive).
    expect(isDeadLocalHolder(formatLeaseOwner(here, 1, 'a'))).toBe(false);
    expect(isDeadLocalHolder(formatLeaseOwner(here, 2 ** 22 + 12345, 'a'))).toBe(true);
    // Another host: its processes cannot be checked from here.
    expect(isDeadLocalHolder(formatLeaseOwner(`not-${here}`, 2 ** 22 + 12345, 'a'))).toBe(false);
    expect(isDeadLocalHolder('unparseable owner')).toBe(false);
  });

  test('describes the holder for a person', () => {
    expect(describeLeaseHolder(formatLeaseOwner('mail-1', 4242, 'x'), '2026-12-01T09:00:30.000Z')).toBe('process 4242 on host mail-1 (its lease runs until 2026-12-01T09:00:30.000Z)');
    expect(describeLeaseHolder('legacy owner', '2026-12-01T09:00:30.000Z')).toBe('"legacy owner" (its lease runs until 2026-12-01T09:00:30.000Z)');
  });
});

describe('the service after a sender died', () => {
  test('takes a campaign over on its next tick when its lease holder was a process of this host that is gone, not when the lease runs out', async () => {
    const sink = await startCountingSink();
    cleanups.push(() => sink.close());
    const ws = await openWorkspace({ SMTP_URL: sink.url, CAMPAIGN_LEASE_SECONDS: '3600' });
    cleanups.push(() => ws.close());
    await loadDemoWorkspace(ws.app);
    const newsletter = await ws.app.stores.newsletters.findNewsletter('weekly');
    if (!newsletter) throw new Error('no newsletter');
    const { issue } = await buildIssue(ws.app.stores, newsletter, { publicUrl: ws.app.config.publicUrl });
    const dead = await ws.app.stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: newsletter.listId });
    const alive = await ws.app.stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: newsletter.listId, resend: true });
    const hour = new Date(Date.now() + 3600_000).toISOString();
    // One held by a pid that does not exist here, one by this (live) test process.
    expect(await ws.app.stores.campaigns.acquireLease(dead.campaign.id, formatLeaseOwner(hostname(), 2 ** 22 + 4321, 'dead0000'), hour, new Date().toISOString())).toBe(true);
    expect(await ws.app.stores.campaigns.acquireLease(alive.campaign.id, formatLeaseOwner(hostname(), process.pid, 'live0000'), hour, new Date().toISOString())).toBe(true);
    const lines: string[] = [];
    const runner = createCampaignRunner({ ...ws.app.sendDeps(), log: (line) => lines.push(line) });
    cleanups.push(() => runner.stop());
    await runner.tick();
    expect(await ws.app.stores.campaigns.getCampaign(dead.campaign.id)).toMatchObject({ status: 'sent' });
    // Postgres sends with row claims, not a campaign lease: nothing is taken over there (tests/many-workers.test.ts).
    if (!isPostgres(ws.app.stores.db)) expect(lines).toContain(`taking over campaign ${dead.campaign.id} from process ${2 ** 22 + 4321} on host ${hostname()}, which no longer exists (its lease ran until ${hour})`);
    expect(await ws.app.stores.campaigns.getCampaign(alive.campaign.id)).toMatchObject({ status: 'sending' });
    expect(await ws.app.stores.campaigns.countSends(alive.campaign.id)).toMatchObject({ pending: 5, sent: 0 });
    expect(sink.total()).toBe(5);
  });
});

describe('campaigns resume after kill -9', () => {
  let ws: CliWorkspace;

  test('refused while the sender lives, naming its pid, host and lease; taken over at once after kill -9, with nobody missing', async () => {
    const slow = { delayMs: 150 };
    const sink = await startCountingSink(0, slow);
    cleanups.push(() => sink.close());
    ws = cliWorkspace(sink.url);
    cleanups.push(() => ws.remove());
    const env = { SMTP_POOL_SIZE: '2', CAMPAIGN_LEASE_SECONDS: '60' };

    const demo = await ws.run(['demo']);
    expect(demo.code, showRun(demo)).toBe(0);
    const emails = Array.from({ length: 120 }, (_, i) => `reader${i + 1}@crash.example`);
    ws.file('readers.csv', `email\n${emails.join('\n')}\n`);
    const imported = await ws.run(['subscribers', 'import', 'readers.csv', '--list', 'demo']);
    expect(imported.code, showRun(imported)).toBe(0);
    const everyone = [...emails, 'ada@example.com', 'grace@example.com', 'linus@example.org', 'margaret@example.net', 'reader@example.com'];

    const sender = ws.spawn(['send', 'weekly'], env);
    cleanups.push(() => void sender.kill('SIGKILL'));
    const deadline = Date.now() + 60_000;
    while (sink.total() < 10 && Date.now() < deadline) {
      if (sender.exitCode !== null) throw new Error(sender.output());
      await delay(50);
    }
    expect(sink.total()).toBeGreaterThanOrEqual(10);

    // The sender is alive: resume refuses, and says who holds the campaign and until when.
    const refused = await ws.run(['campaigns', 'resume', '1'], env);
    expect(refused.code, showRun(refused)).toBe(1);
    expect(refused.stderr).toContain(`process ${sender.pid} on host ${hostname()}`);
    expect(refused.stderr).toMatch(/its lease runs until \d{4}-\d\d-\d\dT[\d:.]+Z/);
    expect(refused.stderr).not.toMatch(/serve\?/);

    sender.kill('SIGKILL');
    await exitOf(sender);
    const sentBeforeKill = sink.total();
    expect(sentBeforeKill).toBeLessThan(everyone.length);
    slow.delayMs = 0;
    const shown = await ws.run(['campaigns', 'show', '1'], env);
    expect(shown.stdout).toContain(`sender:     process ${sender.pid} on host ${hostname()} (its lease runs until `);
    expect(shown.stdout).toContain('that process no longer exists: npx mailroom campaigns resume 1 takes over at once');

    // The holder is gone: resume takes over now, not after the 60-second lease.
    const started = Date.now();
    const resumed = await ws.run(['campaigns', 'resume', '1'], env);
    const took = Date.now() - started;
    expect(resumed.code, showRun(resumed)).toBe(0);
    expect(took).toBeLessThan(30_000);
    expect(resumed.stdout).toMatch(new RegExp(`taking over campaign 1 from process ${sender.pid} on host ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, which no longer exists`));
    expect(resumed.stdout).toMatch(/campaign 1: sent: \d+ sent, 0 failed/);

    const missing = everyone.filter((email) => !sink.counts.has(email));
    expect(missing).toEqual([]);
    expect(ws.sql("select count(*) as n from sends where campaign_id = 1 and status <> 'sent'")).toEqual([{ n: 0 }]);
    expect(Math.max(...sink.counts.values())).toBeLessThanOrEqual(2);
  }, 180_000);
});
