/** Progress of long work: pure formatting (count, rate, time left), and the three reporters (terminal bar, plain lines, JSON lines) on injected streams and clocks. */
import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import {
  chooseProgressMode,
  createProgress,
  formatBar,
  formatDuration,
  formatProgressJson,
  formatProgressLine,
  measureProgress,
  type ProgressMode,
} from '../src/cli/progress.ts';

function collector(isTTY = false): Writable & { isTTY?: boolean; columns?: number; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; text(): string };
  if (isTTY) Object.assign(stream, { isTTY: true, columns: 140 });
  return Object.assign(stream, { text: () => chunks.join('') });
}

describe('measureProgress', () => {
  test('rate over the recent window, time left from it', () => {
    const samples = Array.from({ length: 11 }, (_, i) => ({ at: i * 1000, done: i * 100 }));
    const snap = measureProgress(samples, 2000, 10_000);
    expect(snap).toMatchObject({ done: 1000, total: 2000, percent: 50, elapsedSeconds: 10 });
    expect(snap.ratePerSecond).toBeCloseTo(100);
    expect(snap.etaSeconds).toBeCloseTo(10);
  });

  test('a send that slowed down: the rate is the recent one, not the average since the start', () => {
    const fast = Array.from({ length: 11 }, (_, i) => ({ at: i * 1000, done: i * 1000 }));
    const slow = Array.from({ length: 20 }, (_, i) => ({ at: 11_000 + i * 1000, done: 10_000 + (i + 1) * 10 }));
    const snap = measureProgress([...fast, ...slow], 20_000, 30_000);
    expect(snap.ratePerSecond).toBeCloseTo(10, 0);
  });

  test('no total: no percent and no time left; nothing yet: no rate', () => {
    expect(measureProgress([{ at: 0, done: 0 }, { at: 2000, done: 50 }], null, 2000)).toMatchObject({ percent: null, etaSeconds: null, ratePerSecond: 25 });
    expect(measureProgress([{ at: 0, done: 0 }], 10, 0)).toMatchObject({ ratePerSecond: null, etaSeconds: null, percent: 0 });
    expect(measureProgress([{ at: 0, done: 0 }, { at: 1000, done: 10 }], 10, 1000)).toMatchObject({ percent: 100, etaSeconds: 0 });
  });
});

describe('formatting', () => {
  test.each([
    [null, '?'],
    [0.4, '0s'],
    [45, '45s'],
    [185, '3m 05s'],
    [3720, '1h 02m'],
  ])('formatDuration(%s) = %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  test('a line: count of total, percent, rate, time left, details', () => {
    const snap = { done: 12_000, total: 50_000, percent: 24, ratePerSecond: 4000, etaSeconds: 9.5, elapsedSeconds: 3 };
    expect(formatProgressLine('import readers.csv', 'rows', snap)).toBe('import readers.csv: 12,000 of 50,000 rows (24%), 4,000 rows/s, 10s left');
    expect(formatProgressLine('campaign 3', 'messages', { ...snap, ratePerSecond: 2.5 }, { sent: 11_900, failed: 100 })).toBe(
      'campaign 3: 12,000 of 50,000 messages (24%), 2.5 messages/s, 10s left; 11,900 sent, 100 failed',
    );
    expect(formatProgressLine('feeds', 'feeds', { ...snap, done: 50_000, percent: 100, elapsedSeconds: 20 }, undefined, true)).toBe('feeds: 50,000 of 50,000 feeds (100%), in 20s, 2,500 feeds/s');
    expect(formatProgressLine('poll', 'items', { done: 7, total: null, percent: null, ratePerSecond: null, etaSeconds: null, elapsedSeconds: 65 })).toBe('poll: 7 items, ? items/s, 1m 05s so far');
  });

  test('JSON: one object per line with the same numbers', () => {
    const line = formatProgressJson('campaign 3', 'messages', { done: 10, total: 40, percent: 25, ratePerSecond: 2.04, etaSeconds: 14.7, elapsedSeconds: 5 }, { sent: 9, failed: 1 });
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ type: 'progress', task: 'campaign 3', unit: 'messages', done: 10, total: 40, percent: 25, ratePerSecond: 2, etaSeconds: 15, elapsedSeconds: 5, detail: { sent: 9, failed: 1 } });
  });

  test('the bar', () => {
    expect(formatBar(50, 10)).toBe('[█████░░░░░]');
    expect(formatBar(null, 4)).toBe('[░░░░]');
    expect(formatBar(120, 4)).toBe('[████]');
  });

  test.each([
    [{ isTTY: true }, false, 'bar'],
    [{ isTTY: false }, false, 'lines'],
    [{}, false, 'lines'],
    [{ isTTY: true }, true, 'json'],
  ] as const)('mode for %o, json %s: %s', (stream, json, mode) => {
    expect(chooseProgressMode(stream, json)).toBe(mode satisfies ProgressMode);
  });
});

/** A clock the test moves. */
function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('reporters', () => {
  test('lines: one every PROGRESS_INTERVAL_SECONDS, then a final one; logs go to the log stream', () => {
    const c = clock();
    const out = collector();
    const log = collector();
    const progress = createProgress({ task: 'import a.csv', unit: 'rows', mode: 'lines', intervalSeconds: 5, stream: out, logStream: log, now: c.now });
    for (let second = 0; second <= 12; second += 1) {
      progress.update(second * 100, 2000);
      c.advance(1000);
    }
    progress.log('a line for a human');
    progress.finish();
    progress.finish();
    const lines = out.text().trim().split('\n');
    expect(lines).toEqual([
      'import a.csv: 500 of 2,000 rows (25%), 100 rows/s, 15s left',
      'import a.csv: 1,000 of 2,000 rows (50%), 100 rows/s, 10s left',
      'import a.csv: 1,200 of 2,000 rows (60%), in 13s, 92 rows/s',
    ]);
    expect(out.text()).not.toContain('\x1b');
    expect(log.text()).toBe('a line for a human\n');
  });

  test('a job shorter than the interval prints no progress line (its command prints its summary); JSON still says done', () => {
    const c = clock();
    const out = collector();
    const progress = createProgress({ task: 'render', unit: 'templates', mode: 'lines', intervalSeconds: 5, stream: out, now: c.now });
    progress.update(1, 3);
    c.advance(200);
    progress.update(3, 3);
    progress.finish();
    expect(out.text()).toBe('');
    const json = collector();
    const quick = createProgress({ task: 'render', unit: 'templates', mode: 'json', intervalSeconds: 5, stream: out, jsonStream: json, now: c.now });
    quick.update(3, 3);
    c.advance(200);
    quick.finish();
    expect(JSON.parse(json.text())).toMatchObject({ type: 'progress-done', done: 3, total: 3 });
  });

  test('JSON lines: every line parses; the last says done', () => {
    const c = clock();
    const json = collector();
    const err = collector();
    const progress = createProgress({ task: 'campaign 1', unit: 'messages', mode: 'json', intervalSeconds: 1, stream: err, jsonStream: json, now: c.now });
    for (let i = 0; i <= 5; i += 1) {
      progress.update(i * 10, 50, { sent: i * 10, failed: 0 });
      c.advance(500);
    }
    progress.log('human words go to standard error');
    progress.finish();
    const objects = json.text().trim().split('\n').map((l) => JSON.parse(l) as { type: string; done: number; total: number });
    expect(objects.length).toBeGreaterThanOrEqual(3);
    expect(objects.at(-1)).toMatchObject({ type: 'progress-done', done: 50, total: 50, detail: { sent: 50, failed: 0 } });
    expect(objects.slice(0, -1).every((o) => o.type === 'progress')).toBe(true);
    expect(err.text()).toBe('human words go to standard error\n');
  });

  test('bar: on a terminal (isTTY), cli-progress draws the bar with the count, rate and time left, and logs above it', () => {
    const tty = collector(true);
    const progress = createProgress({ task: 'import big.csv', unit: 'rows', mode: 'bar', intervalSeconds: 5, stream: tty });
    for (let i = 0; i <= 100; i += 10) progress.update(i, 100);
    progress.log('warning: something');
    progress.finish();
    const text = tty.text();
    expect(text).toContain('\x1b[');
    expect(text).toMatch(/\[█+░*\] import big\.csv: \d+ of 100 rows \(\d+%\)/);
    expect(text).toContain('[██████████████████████████████] import big.csv: 100 of 100 rows (100%)');
    expect(text).toMatch(/rows\/s, (\d+s|\?) left/);
    expect(text).toContain('warning: something\n');
  });

  test('bar: nothing is drawn when no update came (a job with nothing to do)', () => {
    const tty = collector(true);
    const progress = createProgress({ task: 'x', unit: 'rows', mode: 'bar', intervalSeconds: 5, stream: tty });
    progress.finish();
    expect(tty.text()).toBe('');
  });
});
