import { afterEach, describe, expect, test } from 'vitest';
import { loadDemoWorkspace } from '../src/demo.ts';
import { checkSchedule, runDueSlots } from '../src/schedule/scheduler.ts';
import { openStores } from '../src/store/open-store.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

let ws: Workspace | null = null;
afterEach(async () => {
  await ws?.close();
  ws = null;
});

/** A workspace whose store and scheduler read a clock the test moves. */
async function scheduledWorkspace(cron: string, tz: string, start: string, emptyPolicy: 'skip' | 'send' = 'send') {
  let now = new Date(start);
  const clock = () => now;
  ws = await openWorkspace({}, { clock });
  await loadDemoWorkspace(ws.app);
  const newsletter = await ws.app.stores.newsletters.findNewsletter('weekly');
  if (!newsletter) throw new Error('no newsletter');
  // One article per issue, so each slot has something new for a while.
  await ws.app.stores.db.updateTable('newsletters').set({ max_articles: 1 }).where('id', '=', newsletter.id).execute();
  await ws.app.stores.schedules.saveSchedule(newsletter.id, { ...checkSchedule(cron, tz, 0, now), emptyPolicy });
  const store = ws.app.stores;
  const deps = { stores: store, publicUrl: 'https://news.example.com', catchUpMs: 6 * 3600_000, clock };
  return {
    store,
    deps,
    newsletterId: newsletter.id,
    /** Ticks every `stepMinutes` until `until`, like node-cron would. */
    async tickUntil(until: string, stepMinutes: number) {
      const end = new Date(until).getTime();
      while (now.getTime() < end) {
        now = new Date(Math.min(end, now.getTime() + stepMinutes * 60_000));
        await runDueSlots(deps);
      }
    },
    setNow(at: string) {
      now = new Date(at);
    },
  };
}

async function campaignSlots(store: Workspace['app']['stores'], newsletterId: number) {
  const slots = await store.schedules.listSlots(newsletterId, 100);
  return slots.filter((s) => s.outcome === 'campaign').map((s) => s.slotAt).sort();
}

describe('schedules', () => {
  test('a weekly schedule runs at 09:00 local time across the spring change, once per Monday', async () => {
    const s = await scheduledWorkspace('0 9 * * MON', 'Europe/Berlin', '2026-03-20T00:00:00Z');
    await s.tickUntil('2026-04-10T00:00:00Z', 30);
    expect(await campaignSlots(s.store, s.newsletterId)).toEqual(['2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z']);
    expect(await s.store.campaigns.listCampaigns()).toHaveLength(3);
  });

  test.each([
    ['Europe/Berlin spring', '30 2 * * *', 'Europe/Berlin', '2026-03-27T23:00:00Z', '2026-03-30T23:00:00Z', ['2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']],
    ['Europe/Berlin autumn', '30 2 * * *', 'Europe/Berlin', '2026-10-23T22:00:00Z', '2026-10-26T23:00:00Z', ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']],
    ['America/New_York spring', '30 2 * * *', 'America/New_York', '2026-03-07T05:00:00Z', '2026-03-10T04:00:00Z', ['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z']],
    ['America/New_York autumn', '30 1 * * *', 'America/New_York', '2026-10-31T04:00:00Z', '2026-11-03T05:00:00Z', ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']],
  ])('%s: a daily run in the changing hour happens exactly once a day', async (_name, cron, tz, start, end, expected) => {
    const s = await scheduledWorkspace(cron, tz, start);
    await s.tickUntil(end, 10);
    expect(await campaignSlots(s.store, s.newsletterId)).toEqual(expected);
  });

  test('a slot creates one campaign whichever connection ticks it, however often (restarts included)', async () => {
    const s = await scheduledWorkspace('0 9 * * *', 'UTC', '2026-12-01T08:59:00Z');
    const other = await openStores(ws?.app.config.databaseUrl ?? '', { clock: s.deps.clock });
    try {
      s.setNow('2026-12-01T09:00:30Z');
      // Two connections to one SQLite file (as two processes have); the second finds the slot taken.
      await other.db.updateTable('newsletter_schedules').set({ checked_until: '2026-12-01T08:59:00.000Z' }).execute();
      const results = [await runDueSlots(s.deps), await runDueSlots({ ...s.deps, stores: other })];
      await other.db.updateTable('newsletter_schedules').set({ checked_until: '2026-12-01T08:59:00.000Z' }).execute();
      results.push(await runDueSlots({ ...s.deps, stores: other }));
      const created = results.flat().filter((r) => r.outcome === 'campaign');
      expect(created).toHaveLength(1);
      expect(await s.store.campaigns.listCampaigns()).toHaveLength(1);
      // Restarts and later ticks do not create it again.
      s.setNow('2026-12-01T09:05:00Z');
      await runDueSlots({ ...s.deps, stores: other });
      await runDueSlots(s.deps);
      expect(await s.store.campaigns.listCampaigns()).toHaveLength(1);
      const campaign = (await s.store.campaigns.listCampaigns())[0];
      expect(await s.store.campaigns.countSends(campaign?.id ?? 0)).toMatchObject({ pending: 5 });
    } finally {
      await other.close();
    }
  });

  test('slots missed while down: only the latest young one is sent, older ones are skipped and recorded', async () => {
    const s = await scheduledWorkspace('0 9 * * *', 'UTC', '2026-12-01T08:00:00Z');
    s.setNow('2026-12-04T09:30:00Z');
    const outcomes = await runDueSlots(s.deps);
    expect(outcomes.map((o) => [o.slotAt, o.outcome])).toEqual([
      ['2026-12-01T09:00:00.000Z', 'skipped-missed'],
      ['2026-12-02T09:00:00.000Z', 'skipped-missed'],
      ['2026-12-03T09:00:00.000Z', 'skipped-missed'],
      ['2026-12-04T09:00:00.000Z', 'campaign'],
    ]);
    expect(await runDueSlots(s.deps)).toEqual([]);

    s.setNow('2026-12-05T16:00:00Z');
    const late = await runDueSlots(s.deps);
    expect(late).toEqual([expect.objectContaining({ slotAt: '2026-12-05T09:00:00.000Z', outcome: 'skipped-missed' })]);
    expect(await s.store.campaigns.listCampaigns()).toHaveLength(1);
  });

  test('nothing new since the last issue: the slot is skipped and recorded once (or sent anyway when configured)', async () => {
    const s = await scheduledWorkspace('0 9 * * *', 'UTC', '2026-12-01T08:00:00Z', 'skip');
    // Mark every article as already sent in an earlier issue.
    await s.store.db.updateTable('newsletters').set({ max_articles: 50 }).execute();
    s.setNow('2026-12-01T09:00:10Z');
    expect((await runDueSlots(s.deps)).map((o) => o.outcome)).toEqual(['campaign']);
    s.setNow('2026-12-02T09:00:10Z');
    const second = await runDueSlots(s.deps);
    expect(second).toEqual([expect.objectContaining({ outcome: 'skipped-empty', detail: expect.stringContaining('no new article') })]);
    expect(await runDueSlots(s.deps)).toEqual([]);
    expect((await s.store.schedules.listSlots(s.newsletterId)).map((x) => x.outcome)).toEqual(['skipped-empty', 'campaign']);
  });

  test.each([
    ['61 * * * *', 'UTC', /"61 \* \* \* \*": minute 61 is out of range/],
    ['0 25 * * *', 'UTC', /hour 25 is out of range/],
    ['0 9 * * MON', 'Mars/Olympus', /timezone "Mars\/Olympus" is not an IANA time zone/],
    ['*/10 * * * *', 'UTC', /more often than the minimum of 60 minute/],
    ['0 9 * *', 'UTC', /expected 5 fields/],
  ])('"%s" in %s is refused with a clear message', (cron, tz, message) => {
    expect(() => checkSchedule(cron, tz, 60, new Date('2026-12-01T00:00:00Z'))).toThrow(message);
  });
});
