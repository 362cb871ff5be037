/**
 * Nobody receives the same issue twice across campaigns: a later campaign of an issue (sent now, scheduled with --at,
 * or retried) goes only to members who have not received it in an earlier one, unless --resend (or --force) is given.
 * Through the real binary over a real SMTP sink, and through the service's runner for a scheduled campaign.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { loadDemoWorkspace } from '../src/demo.ts';
import { createCampaignRunner } from '../src/sending/campaign-runner.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { cliWorkspace, showRun } from './helpers/mailroom.ts';
import { openWorkspace } from './helpers/workspace.ts';

const DEMO = ['ada@example.com', 'grace@example.com', 'linus@example.org', 'margaret@example.net', 'reader@example.com'];

let sink: SmtpSink;
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function received(): string[] {
  return sink.messages.map((m) => m.envelopeTo.join()).sort();
}

describe('the same issue never goes twice to the same person', () => {
  test('a second send of issue 1 mails only the newcomer; dry run counts who is skipped; --resend mails everyone again', async () => {
    sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    const ws = cliWorkspace(sink.url);
    cleanups.push(() => ws.remove());
    expect((await ws.run(['demo'])).code).toBe(0);

    const first = await ws.run(['send', 'weekly']);
    expect(first.code, showRun(first)).toBe(0);
    expect(received()).toEqual([...DEMO].sort());
    sink.messages.length = 0;

    const added = await ws.run(['subscribers', 'add', 'newcomer@example.com', '--list', 'demo', '--name', 'New Comer']);
    expect(added.code, showRun(added)).toBe(0);

    const dry = await ws.run(['send', 'weekly', '--issue', '1', '--dry-run']);
    expect(dry.code, showRun(dry)).toBe(0);
    expect(dry.stdout).toContain('dry run: issue #1 would go to 1 recipient(s) of list demo; 5 would be skipped: they already received issue #1 in an earlier campaign');
    expect(sink.messages).toHaveLength(0);

    const second = await ws.run(['send', 'weekly', '--issue', '1']);
    expect(second.code, showRun(second)).toBe(0);
    expect(second.stdout).toContain('campaign 2: issue #1 "Mailroom Weekly #1: Accessible Email in Five Habits" to 1 recipient(s) of list demo');
    expect(second.stdout).toContain('5 left out: they already received issue #1 in an earlier campaign (--resend mails them again)');
    expect(received()).toEqual(['newcomer@example.com']);
    sink.messages.length = 0;

    // Everyone has it now: nothing is sent, no empty campaign is made.
    const third = await ws.run(['send', 'weekly', '--issue', '1']);
    expect(third.code, showRun(third)).toBe(0);
    expect(third.stdout).toContain('issue #1 of weekly: all 6 recipient(s) of list demo have already received it; nothing sent (--resend mails them again)');
    expect(sink.messages).toHaveLength(0);
    expect(ws.sql('select count(*) as n from campaigns')).toEqual([{ n: 2 }]);

    // --resend: on purpose, to everyone.
    const again = await ws.run(['send', 'weekly', '--issue', '1', '--resend']);
    expect(again.code, showRun(again)).toBe(0);
    expect(again.stdout).toContain('to 6 recipient(s) of list demo');
    expect(received()).toEqual([...DEMO, 'newcomer@example.com'].sort());
    sink.messages.length = 0;

    // --force keeps its old meaning too (every check overridden), so scripts written for it behave as before.
    const forced = await ws.run(['send', 'weekly', '--issue', '1', '--force']);
    expect(forced.code, showRun(forced)).toBe(0);
    expect(received()).toHaveLength(6);
    sink.messages.length = 0;
  }, 180_000);

  test('retry-failed does not re-send to someone who got the issue from a later campaign', async () => {
    const ws = cliWorkspace(sink.url);
    cleanups.push(() => ws.remove());
    expect((await ws.run(['demo'])).code).toBe(0);
    sink.setRule((address) => (address === 'ada@example.com' || address === 'grace@example.com' ? '554 5.7.1 Message refused by policy' : undefined));
    const first = await ws.run(['send', 'weekly']);
    expect(first.code, showRun(first)).toBe(1); // failures make the exit code 1
    expect(first.stdout).toContain('campaign 1: sent: 3 sent, 2 failed');
    sink.setRule((address) => (address === 'grace@example.com' ? '554 5.7.1 Message refused by policy' : undefined));
    sink.messages.length = 0;

    // Campaign 2 of the same issue: only those who did not get it (a failure is not a receipt).
    const second = await ws.run(['send', 'weekly', '--issue', '1']);
    expect(second.stdout).toContain('to 2 recipient(s) of list demo');
    expect(received()).toEqual(['ada@example.com']);
    sink.setRule(null);
    sink.messages.length = 0;

    // Retrying campaign 1: ada has it from campaign 2 and is left alone; grace (failed everywhere) is retried.
    const retried = await ws.run(['campaigns', 'retry-failed', '1', '--now']);
    expect(retried.code, showRun(retried)).toBe(0);
    expect(retried.stdout).toContain('campaign 1: 1 failed send(s) queued again; 1 not retried: they received issue #1 in another campaign');
    expect(received()).toEqual(['grace@example.com']);
    expect(ws.sql("select email, status from sends where campaign_id = 1 and email in ('ada@example.com', 'grace@example.com') order by email")).toEqual([
      { email: 'ada@example.com', status: 'failed' },
      { email: 'grace@example.com', status: 'sent' },
    ]);
  }, 180_000);

  test('a campaign scheduled with --at fixes its recipients at its start by the same rule', async () => {
    let now = new Date('2026-12-01T08:00:00Z');
    const ws = await openWorkspace({ SMTP_URL: sink.url }, { clock: () => now });
    cleanups.push(() => ws.close());
    await loadDemoWorkspace(ws.app);
    const scheduled = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly', at: new Date('2026-12-01T09:00:00Z') });
    const forced = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly', issue: 1, at: new Date('2026-12-01T09:00:00Z'), resend: true });
    sink.messages.length = 0;
    // Issue 1 goes out now to everyone, before the scheduled campaigns start.
    const now1 = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly', issue: 1 });
    expect(now1.counts).toMatchObject({ sent: 5 });
    const list = await ws.app.stores.audience.findListByName('demo');
    await ws.app.stores.audience.addSubscriber(list?.id ?? 0, { email: 'late@example.com', name: '', firstName: '', lastName: '', attributes: {} }, 'test');
    sink.messages.length = 0;

    now = new Date('2026-12-01T09:00:05Z');
    const runner = createCampaignRunner(ws.app.sendDeps());
    cleanups.push(() => runner.stop());
    await runner.tick();
    expect(await ws.app.stores.campaigns.getCampaign(scheduled.campaign?.id ?? 0)).toMatchObject({ status: 'sent' });
    expect(await ws.app.stores.campaigns.countSends(scheduled.campaign?.id ?? 0)).toMatchObject({ sent: 1 });
    // The one scheduled with resend: to everyone, as asked.
    expect(await ws.app.stores.campaigns.countSends(forced.campaign?.id ?? 0)).toMatchObject({ sent: 6 });
    expect(received().filter((e) => e === 'late@example.com')).toHaveLength(2);
    expect(received().filter((e) => e === 'ada@example.com')).toHaveLength(1);
  }, 60_000);
});
