/** The rate and ETA of `campaigns show`: the pure function, and what the real binary prints for a young and a finished campaign. */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, test } from 'vitest';
import { campaignRate, formatCampaignRate, formatDuration, rateWindowStart } from '../src/sending/campaign-rate.ts';
import { startCountingSink } from './helpers/counting-sink.ts';
import { cliWorkspace, exitOf, showRun } from './helpers/mailroom.ts';

const NOW = new Date('2026-12-01T09:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

describe('campaignRate', () => {
  test('a campaign seconds old: the rate is over the seconds it has been running, not over a whole minute', () => {
    expect(rateWindowStart(ago(8000), NOW).toISOString()).toBe(ago(8000));
    const rate = campaignRate({ status: 'sending', startedAt: ago(8000), finishedAt: null, sent: 4400, sentInWindow: 4400, remaining: 5600, now: NOW });
    expect(rate).toEqual({ kind: 'running', perSecond: 550, windowMs: 8000, etaMs: (5600 / 550) * 1000 });
    expect(formatCampaignRate(rate, 'sending', NOW)).toBe(`550 messages/s over the last 8.0 s (since it started); ETA ${new Date(NOW.getTime() + (5600 / 550) * 1000).toISOString()} (in 10.2 s)`);
  });

  test('an older campaign: the window is the last minute', () => {
    expect(rateWindowStart(ago(3_600_000), NOW).toISOString()).toBe(ago(60_000));
    const rate = campaignRate({ status: 'sending', startedAt: ago(3_600_000), finishedAt: null, sent: 90_000, sentInWindow: 1200, remaining: 2400, now: NOW });
    expect(rate).toEqual({ kind: 'running', perSecond: 20, windowMs: 60_000, etaMs: 120_000 });
    expect(formatCampaignRate(rate, 'sending', NOW)).toBe('20.0 messages/s over the last minute; ETA 2026-12-01T09:02:00.000Z (in 2 min 00 s)');
    // No start recorded: a minute, never a negative or empty window.
    expect(rateWindowStart(null, NOW).toISOString()).toBe(ago(60_000));
  });

  test('paused, or nothing sent yet: a rate but no ETA', () => {
    const paused = campaignRate({ status: 'paused', startedAt: ago(120_000), finishedAt: null, sent: 10, sentInWindow: 0, remaining: 90, now: NOW });
    expect(paused).toEqual({ kind: 'running', perSecond: 0, windowMs: 60_000, etaMs: null });
    expect(formatCampaignRate(paused, 'paused', NOW)).toBe('0.0 messages/s over the last minute; no ETA while paused');
    const justStarted = campaignRate({ status: 'sending', startedAt: NOW.toISOString(), finishedAt: null, sent: 0, sentInWindow: 0, remaining: 5, now: NOW });
    expect(justStarted).toEqual({ kind: 'running', perSecond: 0, windowMs: 0, etaMs: null });
    expect(formatCampaignRate(justStarted, 'sending', NOW)).toMatch(/; no ETA yet$/);
  });

  test('finished: the overall average and the duration, no ETA', () => {
    const four = campaignRate({ status: 'sent', startedAt: '2026-12-01T08:59:59.980Z', finishedAt: '2026-12-01T09:00:00.000Z', sent: 4, sentInWindow: 4, remaining: 0, now: NOW });
    expect(four).toEqual({ kind: 'finished', averagePerSecond: 200, durationMs: 20 });
    expect(formatCampaignRate(four, 'sent', NOW)).toBe('200 messages/s on average; took 20 ms from start to finish');
    const long = campaignRate({ status: 'cancelled', startedAt: ago(7_380_000), finishedAt: NOW.toISOString(), sent: 73_800, sentInWindow: 0, remaining: 0, now: NOW });
    expect(formatCampaignRate(long, 'cancelled', NOW)).toBe('10.0 messages/s on average; took 2 h 03 min from start to finish');
    // Same millisecond: never a division by zero.
    expect(campaignRate({ status: 'sent', startedAt: NOW.toISOString(), finishedAt: NOW.toISOString(), sent: 1, sentInWindow: 1, remaining: 0, now: NOW })).toEqual({ kind: 'finished', averagePerSecond: 1000, durationMs: 1 });
    expect(campaignRate({ status: 'failed', startedAt: null, finishedAt: NOW.toISOString(), sent: 0, sentInWindow: 0, remaining: 3, now: NOW })).toEqual({ kind: 'finished', averagePerSecond: null, durationMs: null });
  });

  test('scheduled: not started', () => {
    const rate = campaignRate({ status: 'scheduled', startedAt: null, finishedAt: null, sent: 0, sentInWindow: 0, remaining: 0, now: NOW });
    expect(formatCampaignRate(rate, 'scheduled', NOW)).toBe('not started yet');
  });

  test('durations read naturally', () => {
    expect([850, 12_345, 245_000, 7_380_000].map(formatDuration)).toEqual(['850 ms', '12.3 s', '4 min 05 s', '2 h 03 min']);
  });
});

describe('campaigns show', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('a young campaign shows the rate it really sends at; a finished one its average and duration, without an ETA', async () => {
    const sink = await startCountingSink(0, { delayMs: 100 });
    cleanups.push(() => sink.close());
    const ws = cliWorkspace(sink.url);
    cleanups.push(() => ws.remove());
    expect((await ws.run(['demo'])).code).toBe(0);
    ws.file('readers.csv', `email\n${Array.from({ length: 195 }, (_, i) => `r${i}@rate.example`).join('\n')}\n`);
    expect((await ws.run(['subscribers', 'import', 'readers.csv', '--list', 'demo'])).code).toBe(0);

    const sender = ws.spawn(['send', 'weekly'], { SMTP_POOL_SIZE: '2' });
    cleanups.push(() => void sender.kill('SIGKILL'));
    while (sink.total() < 40) {
      if (sender.exitCode !== null) throw new Error(sender.output());
      await delay(50);
    }
    // What the sink measured (first arrival to the latest), read just before and just after `campaigns show` asked:
    // the rate it printed lies between those, within a factor of 2 (the defect was a factor of 7 on a young campaign).
    const sinkRate = () => {
      const arrivals = [...sink.arrivals];
      return (arrivals.length - 1) / (((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)) / 1000);
    };
    const before = sinkRate();
    const shown = await ws.run(['campaigns', 'show', '1']);
    const after = sinkRate();
    expect(shown.code, showRun(shown)).toBe(0);
    const line = /^rate:\s+([\d.]+) messages\/s over the last ([\d.]+ s) \(since it started\); ETA \S+ \(in [^)]+\)$/m.exec(shown.stdout);
    expect(line, showRun(shown)).not.toBeNull();
    const printed = Number(line?.[1]);
    const measured = `printed ${printed}/s, the sink measured ${before.toFixed(1)}/s before and ${after.toFixed(1)}/s after`;
    expect(printed, measured).toBeGreaterThan(Math.min(before, after) * 0.5);
    expect(printed, measured).toBeLessThan(Math.max(before, after) * 2);

    expect(await exitOf(sender), sender.output()).toBe(0);
    const finished = await ws.run(['campaigns', 'show', '1']);
    expect(finished.code, showRun(finished)).toBe(0);
    expect(finished.stdout).not.toContain('ETA');
    const [times] = ws.sql<{ started_at: string; finished_at: string }>('select started_at, finished_at from campaigns where id = 1');
    const durationMs = Date.parse(times?.finished_at ?? '') - Date.parse(times?.started_at ?? '');
    const average = /^rate:\s+([\d.]+) messages\/s on average; took ([\d.]+ (?:ms|s)) from start to finish$/m.exec(finished.stdout);
    expect(average, showRun(finished)).not.toBeNull();
    expect(Number(average?.[1])).toBeCloseTo(200_000 / durationMs, 0);
    expect(average?.[2]).toBe(`${(durationMs / 1000).toFixed(1)} s`);
  }, 120_000);
});
