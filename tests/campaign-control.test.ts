import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { createCampaignRunner } from '../src/sending/campaign-runner.ts';
import { resumeCampaign, sendNewsletter } from '../src/sending/send-newsletter.ts';
import type { ImportRowResult } from '../src/store/store-types.ts';
import { startCountingSink, type CountingSink } from './helpers/counting-sink.ts';
import { startSmtpSink } from './helpers/smtp-sink.ts';
import { makeDataDir, openWorkspace, REPO_ROOT, type Workspace } from './helpers/workspace.ts';

async function* rows(n: number, prefix = 'r'): AsyncGenerator<ImportRowResult> {
  for (let i = 1; i <= n; i += 1) yield { line: i + 1, ok: true, row: { email: `${prefix}${i}@ctl.example`, name: '', firstName: '', lastName: '', attributes: {} } };
}

/** A workspace with `n` extra subscribers on the demo list and a built issue with a fresh campaign. */
async function campaignOf(ws: Workspace, n: number): Promise<number> {
  await loadDemoWorkspace(ws.app);
  const newsletter = await ws.app.stores.newsletters.findNewsletter('weekly');
  if (!newsletter) throw new Error('no newsletter');
  await ws.app.stores.audience.importSubscribers(newsletter.listId, rows(n), { source: 'generated' });
  const { issue } = await buildIssue(ws.app.stores, newsletter, { publicUrl: ws.app.config.publicUrl });
  const { campaign } = await ws.app.stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: newsletter.listId });
  return campaign.id;
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('campaign control', () => {
  test('10% of recipients answered 451 for a while: all delivered later, none failed', async () => {
    const sink = await startSmtpSink();
    const ws = await openWorkspace({ SMTP_URL: sink.url, SEND_RETRY_BASE_SECONDS: '0.2', SEND_MAX_ATTEMPTS: '20' });
    cleanups.push(() => sink.close(), () => ws.close());
    const id = await campaignOf(ws, 195);
    // Greylisting: every tenth address is refused with a 451 on its first two attempts.
    sink.setRule((address, attempt) => (/^r\d*0@/.test(address) && attempt <= 2 ? '451 4.7.1 Greylisted, try again later' : undefined));
    const result = await resumeCampaign(ws.app.sendDeps(), id);
    expect(result.status).toBe('sent');
    expect(result.counts).toMatchObject({ sent: 200, failed: 0, deferred: 0 });
    const greylisted = (await ws.app.stores.campaigns.listSends(id)).filter((s) => /^r\d*0@/.test(s.email));
    expect(greylisted).toHaveLength(19);
    expect(greylisted.every((s) => s.status === 'sent' && s.attempts === 3)).toBe(true);
    expect(sink.messages).toHaveLength(200);
  });

  test('refused credentials pause the campaign without failing anyone', async () => {
    const sink = await startSmtpSink({ auth: { user: 'mailroom', pass: 'right' } });
    const ws = await openWorkspace({ SMTP_URL: `smtp://mailroom:wrong@127.0.0.1:${sink.port}?insecure_auth=local` });
    cleanups.push(() => sink.close(), () => ws.close());
    const id = await campaignOf(ws, 5);
    const result = await resumeCampaign(ws.app.sendDeps(), id);
    expect(result.status).toBe('paused');
    expect(result.error).toMatch(/authentication failed/i);
    expect(result.error).not.toContain('wrong');
    expect(await ws.app.stores.campaigns.countSends(id)).toMatchObject({ pending: 10, failed: 0 });
    expect(await ws.app.stores.campaigns.getCampaign(id)).toMatchObject({ pauseReason: 'smtp' });
  });

  test('a 4xx retried past the maximum age fails with the reason', async () => {
    const sink = await startSmtpSink();
    const ws = await openWorkspace({ SMTP_URL: sink.url, SEND_RETRY_BASE_SECONDS: '0.1', SEND_MAX_ATTEMPTS: '50', SEND_MAX_RETRY_HOURS: String(0.6 / 3600) });
    cleanups.push(() => sink.close(), () => ws.close());
    const id = await campaignOf(ws, 0);
    sink.setRule((a) => (a === 'ada@example.com' ? '450 4.2.0 Mailbox busy' : undefined));
    const result = await resumeCampaign(ws.app.sendDeps(), id);
    expect(result.counts).toMatchObject({ sent: 4, failed: 1 });
    const ada = (await ws.app.stores.campaigns.listSends(id)).find((r) => r.email === 'ada@example.com');
    expect(ada?.error).toMatch(/^gave up after \d+ minutes of retries: /);
    expect(ada?.smtpResponse).toContain('450 4.2.0');
  });

  test('the SMTP server down for a while: the campaign pauses with nobody failed and finishes by itself when it returns', async () => {
    const first = await startCountingSink();
    const port = first.port;
    await first.close();
    const ws = await openWorkspace({ SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_RETRY_SECONDS: '1' });
    cleanups.push(() => ws.close());
    const id = await campaignOf(ws, 45);
    const runner = createCampaignRunner(ws.app.sendDeps());
    cleanups.push(() => runner.stop());
    await runner.tick();
    expect(await ws.app.stores.campaigns.getCampaign(id)).toMatchObject({ status: 'paused', pauseReason: 'smtp' });
    expect(await ws.app.stores.campaigns.countSends(id)).toMatchObject({ pending: 50, failed: 0 });

    // Down for a while: the service keeps ticking, and keeps the campaign paused without failing anyone.
    for (let i = 0; i < 6; i += 1) {
      await delay(500);
      await runner.tick();
    }
    expect(await ws.app.stores.campaigns.countSends(id)).toMatchObject({ failed: 0, sent: 0 });

    const back = await startCountingSink(port);
    cleanups.push(() => back.close());
    for (let i = 0; i < 20 && (await ws.app.stores.campaigns.getCampaign(id))?.status !== 'sent'; i += 1) {
      await delay(300);
      await runner.tick();
    }
    expect(await ws.app.stores.campaigns.getCampaign(id)).toMatchObject({ status: 'sent' });
    expect(await ws.app.stores.campaigns.countSends(id)).toMatchObject({ sent: 50, failed: 0 });
    expect(back.total()).toBe(50);
  });

  test('pause stops a running campaign after the messages in flight; resume sends the rest, each exactly once', async () => {
    const sink = await startCountingSink();
    const ws = await openWorkspace({ SMTP_URL: sink.url, SMTP_RATE_PER_SECOND: '200' });
    cleanups.push(() => sink.close(), () => ws.close());
    const id = await campaignOf(ws, 595);
    const running = resumeCampaign(ws.app.sendDeps(), id);
    while (sink.total() < 50) await delay(10);
    await ws.app.stores.campaigns.pauseCampaign(id);
    const paused = await running;
    expect(paused.status).toBe('paused');
    expect(paused.counts.sending).toBe(0);
    expect(paused.counts.sent).toBeLessThan(600);
    expect(paused.counts.sent).toBe(sink.total());

    const done = await resumeCampaign(ws.app.sendDeps(), id);
    expect(done.status).toBe('sent');
    expect(done.counts.sent).toBe(600);
    expect(sink.total()).toBe(600);
    expect(Math.max(...sink.counts.values())).toBe(1);
  });

  test('cancel skips everyone not yet mailed; a finished campaign cannot be resumed', async () => {
    const sink = await startCountingSink();
    const ws = await openWorkspace({ SMTP_URL: sink.url });
    cleanups.push(() => sink.close(), () => ws.close());
    const id = await campaignOf(ws, 20);
    expect(await ws.app.stores.campaigns.cancelCampaign(id, new Date().toISOString())).toBe(25);
    await expect(resumeCampaign(ws.app.sendDeps(), id)).rejects.toThrow(/campaign \d+ is cancelled; there is nothing to resume/);
    expect(sink.total()).toBe(0);
    const skipped = await ws.app.stores.campaigns.listSends(id, { status: 'skipped' });
    expect(skipped.every((s) => s.error === 'campaign cancelled')).toBe(true);
    await expect(resumeCampaign(ws.app.sendDeps(), 999)).rejects.toThrow(/campaign 999 does not exist/);
  });

  test('retry-failed sends the failed rows again, never a suppressed address', async () => {
    const sink = await startSmtpSink();
    const ws = await openWorkspace({ SMTP_URL: sink.url });
    cleanups.push(() => sink.close(), () => ws.close());
    sink.setRule((a) => (a === 'ada@example.com' ? '554 5.7.1 Message refused by policy' : a === 'grace@example.com' ? '550 5.1.1 No such user' : undefined));
    const report = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' }).catch(async () => {
      await loadDemoWorkspace(ws.app);
      return sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    });
    const id = report.campaign?.id ?? 0;
    expect(report.counts).toMatchObject({ sent: 3, failed: 2 });
    sink.setRule(null);
    expect(await ws.app.stores.campaigns.retryFailed(id, new Date().toISOString())).toEqual({ requeued: 1, receivedElsewhere: 0 });
    const again = await resumeCampaign(ws.app.sendDeps(), id);
    expect(again.counts).toMatchObject({ sent: 4, failed: 1 });
    expect(sink.countFor('ada@example.com')).toBe(1);
    expect(sink.countFor('grace@example.com')).toBe(0);
  });

  test('a one-off campaign scheduled with --at starts when due, its recipients fixed then', async () => {
    let now = new Date('2026-12-01T08:00:00Z');
    const sink = await startCountingSink();
    const ws = await openWorkspace({ SMTP_URL: sink.url }, { clock: () => now });
    cleanups.push(() => sink.close(), () => ws.close());
    await loadDemoWorkspace(ws.app);
    const report = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly', at: new Date('2026-12-01T09:00:00Z') });
    expect(report.mode).toBe('scheduled');
    const id = report.campaign?.id ?? 0;
    expect(await ws.app.stores.campaigns.countSends(id)).toMatchObject({ pending: 0 });
    const runner = createCampaignRunner(ws.app.sendDeps());
    cleanups.push(() => runner.stop());
    await runner.tick();
    expect((await ws.app.stores.campaigns.getCampaign(id))?.status).toBe('scheduled');
    // Someone joins before the start: they are a recipient, because recipients are fixed when it starts.
    await ws.app.stores.audience.addSubscriber((await ws.app.stores.audience.findListByName('demo'))?.id ?? 0, { email: 'late@example.com', name: '', firstName: '', lastName: '', attributes: {} }, 'test');
    now = new Date('2026-12-01T09:00:05Z');
    await runner.tick();
    expect(await ws.app.stores.campaigns.getCampaign(id)).toMatchObject({ status: 'sent' });
    expect(sink.total()).toBe(6);
    expect(sink.counts.get('late@example.com')).toBe(1);
  });
});

describe('the service', () => {
  function serve(dir: string, env: Record<string, string>): ChildProcess & { output: () => string } {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'mailroom.js'), 'serve', '--no-demo'], { cwd: dir, env: { ...(process.env as Record<string, string>), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    return Object.assign(child, { output: () => out });
  }
  const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (c) => resolve(c))));

  test('SIGTERM drains: the messages in flight are recorded, the process exits, and the campaign finishes later with nobody twice', async () => {
    const sink = await startCountingSink();
    const dir = makeDataDir();
    const env = { DATA_DIR: join(dir, 'data'), SMTP_URL: sink.url, PUBLIC_URL: 'https://news.example.com', SECRET: 'service-test-secret-long-enough-0123456789', SCHEDULER_TICK: '* * * * * *', SMTP_RATE_PER_SECOND: '300', CAMPAIGN_LEASE_SECONDS: '2' };
    const app: App = await createApp(loadConfig(env, dir));
    cleanups.push(() => sink.close(), () => app.close());
    const ws = { app, dataDir: join(dir, 'data') } as Workspace;
    const id = await campaignOf(ws, 1995);
    const one = serve(dir, { ...env, PORT: '0' });
    while (sink.total() < 200) {
      if (one.exitCode !== null) throw new Error(one.output());
      await delay(20);
    }
    one.kill('SIGTERM');
    expect(await exited(one), one.output()).toBe(0);
    const afterStop = await app.stores.campaigns.countSends(id);
    expect(afterStop.sending).toBe(0);
    expect(afterStop.sent).toBe(sink.total());
    expect((await app.stores.campaigns.getCampaign(id))?.status).toBe('sending');

    const two = serve(dir, { ...env, PORT: '0' });
    // However long the second process takes to start and send the rest on a busy machine (the test's own timeout bounds it).
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline && (await app.stores.campaigns.getCampaign(id))?.status !== 'sent') await delay(100);
    two.kill('SIGTERM');
    expect(await exited(two)).toBe(0);
    expect(await app.stores.campaigns.countSends(id)).toMatchObject({ sent: 2000, sending: 0, pending: 0 });
    expect(sink.total()).toBe(2000);
    expect(Math.max(...sink.counts.values())).toBe(1);
    expect(await app.stores.campaigns.listSends(id, { possibleDuplicate: true })).toEqual([]);
  }, 240_000);

  test('two `mailroom serve` processes on one database: one campaign per slot, no double send', async () => {
    const sink = await startCountingSink();
    const dir = makeDataDir();
    const env = { DATA_DIR: join(dir, 'data'), SMTP_URL: sink.url, PUBLIC_URL: 'https://news.example.com', SECRET: 'service-test-secret-long-enough-0123456789', SCHEDULER_TICK: '* * * * * *', SCHEDULE_MIN_INTERVAL_MINUTES: '0', CAMPAIGN_LEASE_SECONDS: '2' };
    const app: App = await createApp(loadConfig(env, dir));
    cleanups.push(() => sink.close(), () => app.close());
    await loadDemoWorkspace(app);
    const newsletter = await app.stores.newsletters.findNewsletter('weekly');
    if (!newsletter) throw new Error('no newsletter');
    await app.stores.audience.importSubscribers(newsletter.listId, rows(295), { source: 'generated' });
    await app.stores.schedules.saveSchedule(newsletter.id, { cron: '* * * * *', timezone: 'UTC', emptyPolicy: 'skip' });
    const a = serve(dir, { ...env, PORT: '0' });
    const b = serve(dir, { ...env, PORT: '0' });
    cleanups.push(async () => {
      a.kill('SIGKILL');
      b.kill('SIGKILL');
    });
    // Both processes up, ticking every second: rather than wait up to a minute for the next slot, the schedule's
    // checked-until mark goes back before the minute that began last, which makes that slot due at their next tick,
    // as the minute boundary would (again if a tick that started before the move wrote it forward).
    for (const child of [a, b]) {
      while (!child.output().includes('Mailroom is running')) {
        if (child.exitCode !== null) throw new Error(child.output());
        await delay(100);
      }
    }
    const deadline = Date.now() + 80_000;
    let movedBack = 0;
    while (Date.now() < deadline) {
      const campaigns = await app.stores.campaigns.listCampaigns();
      if (campaigns.some((c) => c.status === 'sent')) break;
      if (campaigns.length === 0 && Date.now() - movedBack > 3000) {
        const beforeSlot = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 1000).toISOString();
        await app.stores.db.updateTable('newsletter_schedules').set({ checked_until: beforeSlot }).where('newsletter_id', '=', newsletter.id).execute();
        movedBack = Date.now();
      }
      await delay(250);
    }
    await delay(1500);
    a.kill('SIGTERM');
    b.kill('SIGTERM');
    expect(await exited(a), a.output()).toBe(0);
    expect(await exited(b), b.output()).toBe(0);
    const campaigns = await app.stores.campaigns.listCampaigns();
    const slots = (await app.stores.schedules.listSlots(newsletter.id, 100)).filter((s) => s.outcome === 'campaign');
    expect(campaigns.length).toBeGreaterThanOrEqual(1);
    expect(slots).toHaveLength(campaigns.length);
    expect(new Set(slots.map((s) => s.slotAt)).size).toBe(slots.length);
    const sentCampaigns = campaigns.filter((c) => c.status === 'sent').length;
    // Every recipient got exactly one message per campaign that was sent, whichever process sent it.
    expect(sink.total()).toBe(300 * sentCampaigns + (await Promise.all(campaigns.filter((c) => c.status !== 'sent').map((c) => app.stores.campaigns.countSends(c.id)))).reduce((n, c) => n + c.sent, 0));
    for (const count of sink.counts.values()) expect(count).toBeLessThanOrEqual(campaigns.length);
    expect([...sink.counts.values()].filter((n) => n > sentCampaigns + 1)).toEqual([]);
  }, 120_000);
});
