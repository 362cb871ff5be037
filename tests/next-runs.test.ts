/** Tests for expanding cron schedules into run instants: DST changes, window edges, minimum interval and bounded work. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { MailroomError } from '../src/core/errors.ts';
import { matchesWallTime, parseCron } from '../src/schedule/cron.ts';
import { listRunsBetween, minimumInterval, nextRuns } from '../src/schedule/next-runs.ts';
import { formatInTimeZone, instantToWallTime, wallTimeToInstant } from '../src/schedule/time-zone.ts';
import { createRandom } from '../scripts/lib/seeded-random.ts';

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const LORD_HOWE = 'Australia/Lord_Howe';
const KATHMANDU = 'Asia/Kathmandu';
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

interface Day {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** A change day in each zone (local date) and what happens on it. */
const CHANGE_DAYS: ReadonlyArray<{ tz: string; date: Day; kind: 'spring' | 'autumn' }> = [
  { tz: BERLIN, date: { year: 2026, month: 3, day: 29 }, kind: 'spring' },
  { tz: BERLIN, date: { year: 2026, month: 10, day: 25 }, kind: 'autumn' },
  { tz: NEW_YORK, date: { year: 2026, month: 3, day: 8 }, kind: 'spring' },
  { tz: NEW_YORK, date: { year: 2026, month: 11, day: 1 }, kind: 'autumn' },
  { tz: LORD_HOWE, date: { year: 2026, month: 10, day: 4 }, kind: 'spring' },
  { tz: LORD_HOWE, date: { year: 2026, month: 4, day: 5 }, kind: 'autumn' },
];

function addDays(date: Day, days: number): Day {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

function midnight(tz: string, date: Day): number {
  return wallTimeToInstant(tz, { ...date, hour: 0, minute: 0 }).getTime();
}

/** Runs on the local days [from, from + days), i.e. in (first midnight - 1ms, next midnight after them - 1ms]. */
function runsOnLocalDays(expression: string, tz: string, from: Day, days = 1): Date[] {
  const start = midnight(tz, from);
  const end = midnight(tz, addDays(from, days));
  return listRunsBetween(parseCron(expression), tz, new Date(start - 1), new Date(end - 1));
}

function isoList(dates: readonly Date[]): string[] {
  return dates.map((date) => date.toISOString());
}

function localList(tz: string, dates: readonly Date[]): string[] {
  return dates.map((date) => formatInTimeZone(tz, date));
}


/**
 * A slow, independent statement of the rules, minute by minute over local days: an existing wall time runs at its
 * first occurrence; a missing one runs at the shifted instant unless that instant's wall time is scheduled.
 */
function referenceRuns(expression: string, tz: string, from: Day, days: number): string[] {
  const schedule = parseCron(expression);
  const runs = new Set<number>();
  for (let offset = 0; offset < days; offset += 1) {
    const date = addDays(from, offset);
    const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
    for (let minuteOfDay = 0; minuteOfDay < 1440; minuteOfDay += 1) {
      const wall = { ...date, weekday, hour: Math.floor(minuteOfDay / 60), minute: minuteOfDay % 60 };
      if (!matchesWallTime(schedule, wall)) continue;
      const instant = wallTimeToInstant(tz, wall);
      const back = instantToWallTime(tz, instant);
      const exists = back.year === wall.year && back.month === wall.month && back.day === wall.day && back.hour === wall.hour && back.minute === wall.minute;
      if (exists || !matchesWallTime(schedule, back)) runs.add(instant.getTime());
    }
  }
  return [...runs].sort((a, b) => a - b).map((ms) => new Date(ms).toISOString());
}

describe('listRunsBetween across DST changes', () => {
  it('runs a daily 02:30 schedule once per local day around every change (3-day windows)', () => {
    for (const { tz, date } of CHANGE_DAYS) {
      const runs = runsOnLocalDays('30 2 * * *', tz, addDays(date, -1), 3);
      expect(runs, `${tz} ${JSON.stringify(date)}`).toHaveLength(3);
      const days = runs.map((run) => instantToWallTime(tz, run).day);
      expect(days).toEqual([addDays(date, -1).day, date.day, addDays(date, 1).day]);
    }
  });

  it('runs a daily 01:30 schedule once per local day around every change (3-day windows)', () => {
    for (const { tz, date } of CHANGE_DAYS) {
      const runs = runsOnLocalDays('30 1 * * *', tz, addDays(date, -1), 3);
      expect(runs, `${tz} ${JSON.stringify(date)}`).toHaveLength(3);
      expect(new Set(runs.map((run) => instantToWallTime(tz, run).day)).size).toBe(3);
    }
  });

  it('moves a run in the spring gap to the shifted time (02:30 → 03:30)', () => {
    expect(localList(BERLIN, runsOnLocalDays('30 2 * * *', BERLIN, { year: 2026, month: 3, day: 28 }, 3))).toEqual([
      '2026-03-28 02:30 CET (Sat)',
      '2026-03-29 03:30 CEST (Sun)',
      '2026-03-30 02:30 CEST (Mon)',
    ]);
    expect(isoList(runsOnLocalDays('30 2 * * *', NEW_YORK, { year: 2026, month: 3, day: 8 }))).toEqual(['2026-03-08T07:30:00.000Z']);
    expect(localList(NEW_YORK, runsOnLocalDays('30 2 * * *', NEW_YORK, { year: 2026, month: 3, day: 8 }))).toEqual(['2026-03-08 03:30 EDT (Sun)']);
  });

  it('runs a time in the autumn overlap once, at its first occurrence', () => {
    expect(localList(BERLIN, runsOnLocalDays('30 2 * * *', BERLIN, { year: 2026, month: 10, day: 24 }, 3))).toEqual([
      '2026-10-24 02:30 CEST (Sat)',
      '2026-10-25 02:30 CEST (Sun)',
      '2026-10-26 02:30 CET (Mon)',
    ]);
    expect(isoList(runsOnLocalDays('30 1 * * *', NEW_YORK, { year: 2026, month: 11, day: 1 }))).toEqual(['2026-11-01T05:30:00.000Z']);
    expect(localList(NEW_YORK, runsOnLocalDays('30 1 * * *', NEW_YORK, { year: 2026, month: 11, day: 1 }))).toEqual(['2026-11-01 01:30 EDT (Sun)']);
  });

  it('keeps "0 9 * * MON" at 09:00 local: 08:00Z in Berlin winter, 07:00Z in summer', () => {
    const schedule = parseCron('0 9 * * MON');
    expect(isoList(listRunsBetween(schedule, BERLIN, new Date('2026-03-16T00:00:00Z'), new Date('2026-04-07T00:00:00Z')))).toEqual([
      '2026-03-16T08:00:00.000Z',
      '2026-03-23T08:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
      '2026-04-06T07:00:00.000Z',
    ]);
    expect(isoList(listRunsBetween(schedule, BERLIN, new Date('2026-10-12T00:00:00Z'), new Date('2026-11-03T00:00:00Z')))).toEqual([
      '2026-10-12T07:00:00.000Z',
      '2026-10-19T07:00:00.000Z',
      '2026-10-26T08:00:00.000Z',
      '2026-11-02T08:00:00.000Z',
    ]);
    expect(isoList(listRunsBetween(schedule, NEW_YORK, new Date('2026-03-01T00:00:00Z'), new Date('2026-03-17T00:00:00Z')))).toEqual([
      '2026-03-02T14:00:00.000Z',
      '2026-03-09T13:00:00.000Z',
      '2026-03-16T13:00:00.000Z',
    ]);
    expect(isoList(listRunsBetween(schedule, NEW_YORK, new Date('2026-10-25T00:00:00Z'), new Date('2026-11-10T00:00:00Z')))).toEqual([
      '2026-10-26T13:00:00.000Z',
      '2026-11-02T14:00:00.000Z',
      '2026-11-09T14:00:00.000Z',
    ]);
  });

  it('runs hourly 23 times on a spring day and 24 (not 25) times on an autumn day', () => {
    // Spring: the local day has 23 hours; 02:00 does not exist and its shifted instant is 03:00, which runs anyway,
    // so it is not run twice. Autumn: the local day has 25 hours, but only 24 distinct wall-clock hours; 02:00
    // (Berlin) or 01:00 (New York) runs at its first occurrence and not again when the clock passes it a second
    // time ("each wall-clock time runs once").
    for (const { tz, date, kind } of CHANGE_DAYS.filter((change) => change.tz !== LORD_HOWE)) {
      expect(runsOnLocalDays('0 * * * *', tz, date), `${tz} ${kind}`).toHaveLength(kind === 'spring' ? 23 : 24);
      expect(runsOnLocalDays('@hourly', tz, addDays(date, 1)), `${tz} day after`).toHaveLength(24);
    }
  });

  it('has no "*/15" runs in the missing hour and runs 03:00 once', () => {
    const runs = localList(BERLIN, listRunsBetween(parseCron('*/15 * * * *'), BERLIN, new Date('2026-03-29T00:30:00Z'), new Date('2026-03-29T01:30:00Z')));
    expect(runs).toEqual(['2026-03-29 01:45 CET (Sun)', '2026-03-29 03:00 CEST (Sun)', '2026-03-29 03:15 CEST (Sun)', '2026-03-29 03:30 CEST (Sun)']);
    expect(runsOnLocalDays('*/15 * * * *', BERLIN, { year: 2026, month: 3, day: 29 })).toHaveLength(92);
  });

  it('runs "*/15" through the repeated hour once, then pauses during the second pass', () => {
    const runs = isoList(listRunsBetween(parseCron('*/15 * * * *'), BERLIN, new Date('2026-10-24T23:30:00Z'), new Date('2026-10-25T02:15:00Z')));
    expect(runs).toEqual([
      '2026-10-24T23:45:00.000Z', // 01:45 CEST
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T00:15:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T00:45:00.000Z', // 02:45 CEST; 01:00Z-01:45Z is 02:00-02:45 CET again: no runs
      '2026-10-25T02:00:00.000Z', // 03:00 CET
      '2026-10-25T02:15:00.000Z',
    ]);
    expect(runsOnLocalDays('*/15 * * * *', BERLIN, { year: 2026, month: 10, day: 25 })).toHaveLength(96);
  });

  it('drops a gap time whose shifted instant is itself scheduled', () => {
    // 02:00 and 02:30 shift onto 03:00 and 03:30, which run anyway.
    expect(localList(BERLIN, runsOnLocalDays('0,30 2,3 * * *', BERLIN, { year: 2026, month: 3, day: 29 }))).toEqual([
      '2026-03-29 03:00 CEST (Sun)',
      '2026-03-29 03:30 CEST (Sun)',
    ]);
    expect(localList(BERLIN, runsOnLocalDays('30 2,3 * * *', BERLIN, { year: 2026, month: 3, day: 29 }))).toEqual(['2026-03-29 03:30 CEST (Sun)']);
    expect(localList(BERLIN, runsOnLocalDays('0,30 1,2 * * *', BERLIN, { year: 2026, month: 3, day: 29 }))).toEqual([
      '2026-03-29 01:00 CET (Sun)',
      '2026-03-29 01:30 CET (Sun)',
      '2026-03-29 03:00 CEST (Sun)',
      '2026-03-29 03:30 CEST (Sun)',
    ]);
  });

  it('returns ascending unique runs when a shifted gap run lands after a later wall time', () => {
    // 02:45 shifts to 03:45, after the 03:00 run.
    expect(localList(BERLIN, runsOnLocalDays('45 2 * * *', BERLIN, { year: 2026, month: 3, day: 29 }))).toEqual(['2026-03-29 03:45 CEST (Sun)']);
    expect(localList(BERLIN, runsOnLocalDays('0 3 * * *', BERLIN, { year: 2026, month: 3, day: 29 }))).toEqual(['2026-03-29 03:00 CEST (Sun)']);
    const both = runsOnLocalDays('0,45 2,3 * * *', BERLIN, { year: 2026, month: 3, day: 29 });
    expect(localList(BERLIN, both)).toEqual(['2026-03-29 03:00 CEST (Sun)', '2026-03-29 03:45 CEST (Sun)']);
    const mixed = listRunsBetween(parseCron('45 2 * * *'), BERLIN, new Date('2026-03-28T00:00:00Z'), new Date('2026-03-31T00:00:00Z'));
    expect(isoList(mixed)).toEqual([...isoList(mixed)].sort());
  });

  it('matches a minute-by-minute reference around every change', () => {
    const expressions = ['*/15 * * * *', '30 2 * * *', '0 * * * *', '0,30 2,3 * * *', '45 1,2 * * *', '15 2 * * *', '* 2 * * *', '*/7 1-3 * * *', '59 1 * * *', '0 3 * * *', '*/10 * * * SUN'];
    for (const { tz, date } of CHANGE_DAYS) {
      const from = addDays(date, -1);
      for (const expression of expressions) {
        expect(isoList(runsOnLocalDays(expression, tz, from, 3)), `${expression} in ${tz}`).toEqual(referenceRuns(expression, tz, from, 3));
      }
    }
  });
});

describe('listRunsBetween windows', () => {
  it('treats the range as (after, until]', () => {
    const schedule = parseCron('0 9 * * *');
    const run = new Date('2026-06-01T07:00:00Z');
    expect(isoList(listRunsBetween(schedule, BERLIN, run, new Date('2026-06-01T23:00:00Z')))).toEqual([]);
    expect(isoList(listRunsBetween(schedule, BERLIN, new Date(run.getTime() - 1), run))).toEqual(['2026-06-01T07:00:00.000Z']);
    expect(listRunsBetween(schedule, BERLIN, run, run)).toEqual([]);
    expect(listRunsBetween(schedule, BERLIN, new Date('2026-06-02T00:00:00Z'), new Date('2026-06-01T00:00:00Z'))).toEqual([]);
  });

  it('gives the same runs for consecutive windows as for one big window (property)', () => {
    const random = createRandom(20260329);
    const expressions = ['*/15 * * * *', '30 2 * * *', '0 * * * *', '0,30 1-3 * * *', '45 2 * * SUN', '*/20 2 * * *', '0 9 * * MON', '5 0 * * *', '* 2-3 * * *'];
    for (let trial = 0; trial < 60; trial += 1) {
      const change = CHANGE_DAYS[trial % CHANGE_DAYS.length] as (typeof CHANGE_DAYS)[number];
      const schedule = parseCron(expressions[Math.floor(random() * expressions.length)] as string);
      const centre = midnight(change.tz, change.date);
      const start = centre - Math.floor(random() * 3 * DAY);
      const end = centre + Math.floor(random() * 3 * DAY);
      // Cut points anywhere, including on run instants and in the middle of the changed hour.
      const cuts = Array.from({ length: 1 + Math.floor(random() * 8) }, () => start + Math.floor(random() * (end - start) / MINUTE) * MINUTE + (random() < 0.3 ? 0 : Math.floor(random() * MINUTE)));
      const edges = [start, ...cuts.sort((a, b) => a - b), end];
      const pieces: string[] = [];
      for (let index = 1; index < edges.length; index += 1) {
        pieces.push(...isoList(listRunsBetween(schedule, change.tz, new Date(edges[index - 1] as number), new Date(edges[index] as number))));
      }
      expect(pieces, `${schedule.expression} in ${change.tz}`).toEqual(isoList(listRunsBetween(schedule, change.tz, new Date(start), new Date(end))));
    }
  });

  it('refuses ranges with more than a million runs', () => {
    const everyMinute = parseCron('* * * * *');
    expect(() => listRunsBetween(everyMinute, 'UTC', new Date('2026-01-01T00:00:00Z'), new Date('2028-01-01T00:00:00Z'))).toThrow(
      'schedule "* * * * *" has more than 1000000 runs between 2026-01-01T00:00:00.000Z and 2028-01-01T00:00:00.000Z; ask for a shorter range',
    );
  });

  it('rejects invalid dates and zones', () => {
    const schedule = parseCron('@daily');
    expect(() => listRunsBetween(schedule, BERLIN, new Date('nope'), new Date())).toThrow(MailroomError);
    expect(() => listRunsBetween(schedule, BERLIN, new Date('nope'), new Date())).toThrow('afterExclusive "Invalid Date" is not a valid date');
    expect(() => listRunsBetween(schedule, 'Europe/Berln', new Date(0), new Date())).toThrow('timezone "Europe/Berln" is not an IANA time zone (e.g. Europe/Berlin)');
  });
});

describe('other zones', () => {
  it('handles Lord Howe’s 30-minute change', () => {
    // Spring: 02:00-02:30 is missing; 02:00 and 02:15 shift onto 02:30 and 02:45, which run anyway.
    expect(runsOnLocalDays('*/15 * * * *', LORD_HOWE, { year: 2026, month: 10, day: 4 })).toHaveLength(94);
    expect(isoList(runsOnLocalDays('15 2 * * *', LORD_HOWE, { year: 2026, month: 10, day: 4 }))).toEqual(['2026-10-03T15:45:00.000Z']);
    expect(localList(LORD_HOWE, runsOnLocalDays('15 2 * * *', LORD_HOWE, { year: 2026, month: 10, day: 4 }))).toEqual(['2026-10-04 02:45 LHDT (Sun)']);
    // Autumn: 01:30-02:00 happens twice; each quarter-hour still runs once.
    expect(runsOnLocalDays('*/15 * * * *', LORD_HOWE, { year: 2026, month: 4, day: 5 })).toHaveLength(96);
    expect(isoList(runsOnLocalDays('45 1 * * *', LORD_HOWE, { year: 2026, month: 4, day: 5 }))).toEqual(['2026-04-04T14:45:00.000Z']);
    expect(runsOnLocalDays('0 * * * *', LORD_HOWE, { year: 2026, month: 4, day: 5 })).toHaveLength(24);
    expect(runsOnLocalDays('0 * * * *', LORD_HOWE, { year: 2026, month: 10, day: 4 })).toHaveLength(24);
  });

  it('handles Kathmandu (+05:45)', () => {
    const runs = listRunsBetween(parseCron('0 9 * * *'), KATHMANDU, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-04T00:00:00Z'));
    expect(isoList(runs)).toEqual(['2026-01-01T03:15:00.000Z', '2026-01-02T03:15:00.000Z', '2026-01-03T03:15:00.000Z']);
    expect(minimumInterval(parseCron('0 9 * * *'), KATHMANDU, new Date('2026-01-01T00:00:00Z'))).toBe(DAY);
  });

  it('handles UTC', () => {
    const runs = listRunsBetween(parseCron('0 9 * * MON'), 'UTC', new Date('2026-03-20T00:00:00Z'), new Date('2026-04-07T00:00:00Z'));
    expect(isoList(runs)).toEqual(['2026-03-23T09:00:00.000Z', '2026-03-30T09:00:00.000Z', '2026-04-06T09:00:00.000Z']);
    expect(runsOnLocalDays('*/15 * * * *', 'UTC', { year: 2026, month: 3, day: 29 })).toHaveLength(96);
    expect(minimumInterval(parseCron('0 9 * * MON'), 'UTC', new Date('2026-01-01T00:00:00Z'))).toBe(7 * DAY);
  });

  it('handles a zone that skipped a whole day (Samoa, 2011-12-30) without doubling', () => {
    const runs = listRunsBetween(parseCron('30 2 * * *'), 'Pacific/Apia', new Date('2011-12-28T00:00:00Z'), new Date('2012-01-01T00:00:00Z'));
    // The 30th's 02:30 would shift onto the 31st's 02:30, which runs anyway.
    expect(localList('Pacific/Apia', runs)).toEqual([
      '2011-12-28 02:30 UTC-10:00 (Wed)',
      '2011-12-29 02:30 UTC-10:00 (Thu)',
      '2011-12-31 02:30 UTC+14:00 (Sat)',
      '2012-01-01 02:30 UTC+14:00 (Sun)',
    ]);
  });
});

describe('nextRuns', () => {
  it('returns the next runs strictly after the given instant', () => {
    const schedule = parseCron('0 9 * * MON');
    expect(isoList(nextRuns(schedule, BERLIN, new Date('2026-03-23T08:00:00Z'), 3))).toEqual([
      '2026-03-30T07:00:00.000Z',
      '2026-04-06T07:00:00.000Z',
      '2026-04-13T07:00:00.000Z',
    ]);
    expect(nextRuns(schedule, BERLIN, new Date('2026-03-23T08:00:00Z'), 0)).toEqual([]);
  });

  it('agrees with listRunsBetween', () => {
    for (const expression of ['*/15 * * * *', '30 2 * * *', '0 0 1 * *', '0 9 1 * MON', '@hourly']) {
      const schedule = parseCron(expression);
      const after = new Date('2026-03-01T00:00:00Z');
      const next = nextRuns(schedule, BERLIN, after, 200);
      expect(next).toHaveLength(200);
      const last = next.at(-1) as Date;
      expect(isoList(next), expression).toEqual(isoList(listRunsBetween(schedule, BERLIN, after, last)));
    }
  });

  it('finds sparse schedules years ahead', () => {
    expect(isoList(nextRuns(parseCron('0 0 29 2 *'), 'UTC', new Date('2026-01-01T00:00:00Z'), 3))).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
      '2036-02-29T00:00:00.000Z',
    ]);
    // 2100 is not a leap year: eight years between leap days.
    expect(isoList(nextRuns(parseCron('0 0 29 2 *'), 'UTC', new Date('2096-03-01T00:00:00Z'), 1))).toEqual(['2104-02-29T00:00:00.000Z']);
    // "*/28" (days 1 and 29) starts with "*", so day of month AND day of week must match: a Monday the 1st or 29th.
    const leapMonday = nextRuns(parseCron('0 0 */28 2 MON'), 'UTC', new Date('2026-01-01T00:00:00Z'), 4);
    for (const run of leapMonday) expect(run.getUTCDay()).toBe(1);
    expect(isoList(leapMonday)).toEqual(['2027-02-01T00:00:00.000Z', '2038-02-01T00:00:00.000Z', '2044-02-01T00:00:00.000Z', '2044-02-29T00:00:00.000Z']);
  });

  it('rejects a bad count', () => {
    const schedule = parseCron('@daily');
    expect(() => nextRuns(schedule, BERLIN, new Date(), -1)).toThrow('run count "-1" is not a whole number from 0 to 1000000');
    expect(() => nextRuns(schedule, BERLIN, new Date(), 1.5)).toThrow(MailroomError);
    expect(() => nextRuns(schedule, BERLIN, new Date(), Number.NaN)).toThrow(MailroomError);
  });
});

describe('minimumInterval', () => {
  const from = new Date('2026-01-01T00:00:00Z');

  it('returns the smallest gap between runs', () => {
    expect(minimumInterval(parseCron('*/15 * * * *'), BERLIN, from)).toBe(15 * MINUTE);
    expect(minimumInterval(parseCron('* * * * *'), BERLIN, from)).toBe(MINUTE);
    expect(minimumInterval(parseCron('0 9,17 * * *'), BERLIN, from)).toBe(8 * HOUR);
    expect(minimumInterval(parseCron('0 9 * * 1,2'), 'UTC', from)).toBe(DAY);
    expect(minimumInterval(parseCron('@yearly'), BERLIN, from)).toBe(365 * DAY);
    expect(minimumInterval(parseCron('0 0 29 2 *'), 'UTC', from)).toBe(4 * 365 * DAY + DAY);
  });

  it('counts the hour a spring change removes', () => {
    // 01:00 CET → 03:00 CEST is one hour on 2026-03-29.
    expect(minimumInterval(parseCron('0 1,3 * * *'), BERLIN, from)).toBe(HOUR);
    // Monday 09:00 CET → Monday 09:00 CEST is a week less an hour.
    expect(minimumInterval(parseCron('0 9 * * MON'), BERLIN, from)).toBe(7 * DAY - HOUR);
    expect(minimumInterval(parseCron('@daily'), BERLIN, from)).toBe(23 * HOUR);
    expect(minimumInterval(parseCron('@daily'), LORD_HOWE, from)).toBe(23.5 * HOUR);
  });

  it('agrees with the runs listed over the same year (property)', () => {
    const random = createRandom(11);
    const expressions = ['0 1,3 * * *', '30 2 * * *', '0 */5 * * *', '15,45 2 * * SUN', '0 9 * * MON', '0 0 1 */2 *', '*/45 1-3 * * *', '0 12 * * 1-5'];
    for (const tz of [BERLIN, NEW_YORK, LORD_HOWE, KATHMANDU]) {
      for (const expression of expressions) {
        const schedule = parseCron(expression);
        const start = new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 700) * DAY + Math.floor(random() * DAY));
        const runs = listRunsBetween(schedule, tz, start, new Date(start.getTime() + 366 * DAY)).map((run) => run.getTime());
        runs.push((nextRuns(schedule, tz, new Date(runs.at(-1) as number), 1)[0] as Date).getTime());
        let smallest = Number.POSITIVE_INFINITY;
        for (let index = 1; index < runs.length; index += 1) smallest = Math.min(smallest, (runs[index] as number) - (runs[index - 1] as number));
        expect(minimumInterval(schedule, tz, start), `${expression} in ${tz} from ${start.toISOString()}`).toBe(smallest);
      }
    }
  });
});

describe('bounded work', () => {
  let calls = 0;
  const original = Intl.DateTimeFormat.prototype.formatToParts;

  function countFormatCalls<T>(work: () => T): { result: T; calls: number } {
    calls = 0;
    const spy = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts').mockImplementation(function (this: Intl.DateTimeFormat, date?: Date | number) {
      calls += 1;
      return original.call(this, date);
    });
    try {
      return { result: work(), calls };
    } finally {
      spy.mockRestore();
    }
  }

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('looks at matching days, not minutes, over long ranges', () => {
    const weekly = countFormatCalls(() => listRunsBetween(parseCron('0 9 * * MON'), BERLIN, new Date('2026-01-01T00:00:00Z'), new Date('2036-01-01T00:00:00Z')));
    expect(weekly.result).toHaveLength(522);
    // About eight zone look-ups per matching day; minute-by-minute would need millions.
    expect(weekly.calls).toBeLessThan(522 * 10);

    const yearly = countFormatCalls(() => listRunsBetween(parseCron('0 0 1 1 *'), BERLIN, new Date('2026-01-01T00:00:00Z'), new Date('2126-01-01T00:00:00Z')));
    expect(yearly.result).toHaveLength(100);
    expect(yearly.calls).toBeLessThan(100 * 10);
  });

  it('expands every-minute schedules without a zone look-up per minute', () => {
    const { result, calls: used } = countFormatCalls(() => listRunsBetween(parseCron('* * * * *'), BERLIN, new Date('2026-01-01T00:00:00Z'), new Date('2026-02-01T00:00:00Z')));
    expect(result).toHaveLength(31 * 1440);
    expect(used).toBeLessThan(31 * 10);
  });

  it('computes minimumInterval for dense schedules from day summaries', () => {
    const { result, calls: used } = countFormatCalls(() => minimumInterval(parseCron('* * * * *'), BERLIN, new Date('2026-01-01T00:00:00Z')));
    expect(result).toBe(MINUTE);
    expect(used).toBeLessThan(366 * 5);
  });

  it('stops nextRuns early for dense schedules and searches far for sparse ones', () => {
    expect(countFormatCalls(() => nextRuns(parseCron('* * * * *'), BERLIN, new Date('2026-01-01T00:00:00Z'), 10)).calls).toBeLessThan(50);
    expect(countFormatCalls(() => nextRuns(parseCron('0 0 29 2 *'), BERLIN, new Date('2026-01-01T00:00:00Z'), 3)).calls).toBeLessThan(200);
  });
});
