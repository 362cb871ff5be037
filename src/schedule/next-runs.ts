/** Expands a cron schedule in an IANA zone into UTC run instants, with one run per wall-clock match across DST changes. */

import { MailroomError, quote } from '../core/errors.ts';
import { matchesDate, matchesWallTime } from './cron.ts';
import type { CalendarDate, CronSchedule } from './cron.ts';
import { checkTimeZone, getUtcOffsetMs } from './time-zone.ts';

/*
 * Daylight saving rules (the same as `wallTimeToInstant`, applied per scheduled wall-clock time):
 *
 * - Each wall-clock time runs once. A time that happens twice (autumn overlap) runs at its FIRST occurrence only;
 *   the second pass through the repeated hour does not run again. So "30 2 * * *" runs once on Berlin's autumn day,
 *   at 02:30 CEST, and "0 * * * *" runs 24 times that day (the local day has 25 hours, but only 24 distinct
 *   wall-clock hours).
 * - A wall time that does not exist (spring-forward gap) runs at the shifted instant (the same distance past the
 *   gap start: 02:30 → 03:30 on Berlin's spring day), UNLESS that shifted wall time is itself scheduled or another
 *   missing time already maps to the same instant. So "30 2 * * *" runs at 03:30 and is not skipped, while
 *   "*\/15 * * * *" simply has no runs in the missing hour instead of running 03:00-03:45 twice.
 *
 * Each run instant is a function of its wall-clock time alone, so results do not depend on how a range is split
 * into windows: (a, b] followed by (b, c] equals (a, c].
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Offsets are sampled on this grid; two transitions closer together than this would go unnoticed (none exist). */
const SAMPLE_MS = 12 * HOUR_MS;
/** Larger than any UTC offset, so a local day's instants all lie within the day ± this. */
const OFFSET_MARGIN_MS = 16 * HOUR_MS;
/** Local days searched either side of a range, so every wall time whose instant falls inside it is seen. */
const DAY_MARGIN = 2;
/** The Gregorian calendar repeats every 400 years, so a schedule that can run at all runs within that span. */
const SEARCH_SPAN_MS = 401 * 366 * DAY_MS;
/** The span `minimumInterval` looks ahead. */
const INTERVAL_SPAN_MS = 366 * DAY_MS;
/** Refuse to build result lists larger than this ("* * * * *" over two years). */
const MAX_RUNS = 1_000_000;
/** The last millisecond a Date can hold, less the margins used here. */
const LAST_USABLE_MS = 8.64e15 - 10 * DAY_MS;

/** One stretch of constant UTC offset, from `start` until the next segment's start. */
interface Segment {
  readonly start: number;
  readonly offset: number;
}

/** A schedule bound to a zone, with the offset samples taken so far (reused across days and windows). */
interface Plan {
  readonly schedule: CronSchedule;
  readonly tz: string;
  /** Scheduled times of day, in minutes after midnight, ascending. */
  readonly times: readonly number[];
  /** Smallest gap between two scheduled times of the same day, in ms (Infinity for a single time). */
  readonly innerGapMs: number;
  readonly samples: Map<number, number>;
}

/**
 * Every run instant in (afterExclusive, untilInclusive], ascending and unique, each scheduled wall-clock time
 * appearing once (see the DST rules above). Work grows with the number of matching days, not minutes. Throws
 * MailroomError('INVALID_INPUT') for invalid dates or when the range holds more than 1,000,000 runs.
 */
export function listRunsBetween(schedule: CronSchedule, tz: string, afterExclusive: Date, untilInclusive: Date): Date[] {
  const plan = createPlan(schedule, tz);
  const after = readInstant(afterExclusive, 'afterExclusive');
  const until = readInstant(untilInclusive, 'untilInclusive');
  return collectRuns(plan, after, until, Number.POSITIVE_INFINITY).map((ms) => new Date(ms));
}

/** The next `count` run instants strictly after `after`, ascending (fewer only if the schedule never runs again). */
export function nextRuns(schedule: CronSchedule, tz: string, after: Date, count: number): Date[] {
  if (!Number.isInteger(count) || count < 0 || count > MAX_RUNS) {
    throw new MailroomError('INVALID_INPUT', `run count ${quote(count)} is not a whole number from 0 to ${MAX_RUNS}`);
  }
  const plan = createPlan(schedule, tz);
  return findNextRuns(plan, readInstant(after, 'after'), count).map((ms) => new Date(ms));
}

/**
 * The smallest gap in ms between consecutive runs whose first run is within a year (366 days) after `from`: for a
 * "too frequent" check. Counts DST: "0 1,3 * * *" in Berlin gives one hour (the spring day skips 02:00-03:00).
 * Infinity if the schedule runs fewer than twice from `from` on. Days without a DST change are summarised from the
 * schedule's times of day instead of being expanded, so "* * * * *" costs about as much as "@daily".
 */
export function minimumInterval(schedule: CronSchedule, tz: string, from: Date): number {
  const plan = createPlan(schedule, tz);
  const start = readInstant(from, 'from');
  const end = Math.min(start + INTERVAL_SPAN_MS, LAST_USABLE_MS);
  const firstTime = plan.times[0] ?? 0;
  const lastTime = plan.times.at(-1) ?? 0;
  let smallest = Number.POSITIVE_INFINITY;
  let previousLast: number | undefined;

  forEachRunDay(plan, start, end, (dayMs, date) => {
    const segments = sampleSegments(plan, dayMs);
    const uniform = segments.length === 1 ? (segments[0] as Segment).offset : undefined;
    let first: number;
    let last: number;
    let inner: number;
    if (uniform !== undefined && dayMs + firstTime * MINUTE_MS - uniform > start && dayMs + lastTime * MINUTE_MS - uniform <= end) {
      first = dayMs + firstTime * MINUTE_MS - uniform;
      last = dayMs + lastTime * MINUTE_MS - uniform;
      inner = plan.innerGapMs;
    } else {
      const runs = sortUnique(collectDayRuns(plan, dayMs, date, segments).filter((ms) => ms > start && ms <= end));
      if (runs.length === 0) return;
      first = runs[0] as number;
      last = runs.at(-1) as number;
      inner = smallestGap(runs);
    }
    smallest = Math.min(smallest, inner);
    // A later day's first run is after an earlier day's last unless a zone jumped by a whole day (a duplicate then).
    if (previousLast !== undefined && first > previousLast) smallest = Math.min(smallest, first - previousLast);
    previousLast = Math.max(previousLast ?? first, last);
  });

  // The pair that starts with the window's last run ends after the window; with no run inside, take the next two.
  const tail = previousLast === undefined ? findNextRuns(plan, start, 2) : [previousLast, ...findNextRuns(plan, Math.max(previousLast, end), 1)];
  if (tail.length === 2) smallest = Math.min(smallest, (tail[1] as number) - (tail[0] as number));
  return smallest;
}

function createPlan(schedule: CronSchedule, tz: string): Plan {
  const zone = checkTimeZone(tz);
  const times: number[] = [];
  for (const hour of [...schedule.hours].sort((a, b) => a - b)) {
    for (const minute of [...schedule.minutes].sort((a, b) => a - b)) times.push(hour * 60 + minute);
  }
  if (times.length === 0) throw new MailroomError('INVALID_INPUT', `schedule ${quote(schedule.expression)} has no times of day`);
  const innerGapMs = smallestGap(times) * MINUTE_MS;
  return { schedule, tz: zone, times, innerGapMs, samples: new Map() };
}

function findNextRuns(plan: Plan, after: number, count: number): number[] {
  const found: number[] = [];
  const limit = Math.min(after + SEARCH_SPAN_MS, LAST_USABLE_MS);
  let from = after;
  let span = DAY_MS;
  while (found.length < count && from < limit) {
    const until = Math.min(from + span, limit);
    for (const run of collectRuns(plan, from, until, count - found.length)) found.push(run);
    from = until;
    span = Math.min(span * 2, INTERVAL_SPAN_MS);
  }
  return found.slice(0, count);
}

/** Runs in (after, until], ascending and unique; stops once `wanted` runs are certain (the earliest ones). */
function collectRuns(plan: Plan, after: number, until: number, wanted: number): number[] {
  if (!(until > after)) return [];
  const runs: number[] = [];
  const end = Math.min(until, LAST_USABLE_MS);
  forEachRunDay(plan, after, end, (dayMs, date) => {
    for (const run of collectDayRuns(plan, dayMs, date, sampleSegments(plan, dayMs))) {
      if (run > after && run <= end) runs.push(run);
    }
    if (runs.length > MAX_RUNS) {
      throw new MailroomError(
        'INVALID_INPUT',
        `schedule ${quote(plan.schedule.expression)} has more than ${MAX_RUNS} runs between ${new Date(after).toISOString()} and ${new Date(until).toISOString()}; ask for a shorter range`,
      );
    }
    // Runs of a day lie within a day or so of its midnight, so once we hold enough runs from well before this
    // day, later days cannot add earlier ones.
    if (runs.length >= wanted && Number.isFinite(wanted)) {
      const settled = runs.filter((run) => run < dayMs - DAY_MARGIN * DAY_MS).length;
      if (settled >= wanted) return false;
    }
    return true;
  });
  return sortUnique(runs);
}

/**
 * Calls `visit` for each local calendar day matching the schedule whose wall times can land in (after, until],
 * passing the day's midnight encoded as a UTC timestamp ("naive") and its date. Months outside the schedule are
 * skipped whole. `visit` may return false to stop.
 */
function forEachRunDay(plan: Plan, after: number, until: number, visit: (dayMs: number, date: CalendarDate) => boolean | void): void {
  const firstDay = startOfNaiveDay(after + offsetAt(plan, after)) - DAY_MARGIN * DAY_MS;
  const lastDay = startOfNaiveDay(until + offsetAt(plan, until)) + DAY_MARGIN * DAY_MS;
  const cursor = new Date(firstDay);
  while (cursor.getTime() <= lastDay) {
    const month = cursor.getUTCMonth() + 1;
    if (!plan.schedule.months.has(month)) {
      cursor.setUTCMonth(cursor.getUTCMonth() + 1, 1);
      continue;
    }
    const date: CalendarDate = { year: cursor.getUTCFullYear(), month, day: cursor.getUTCDate(), weekday: cursor.getUTCDay() };
    if (matchesDate(plan.schedule, date) && visit(cursor.getTime(), date) === false) return;
    cursor.setUTCDate(cursor.getUTCDate() + 1);
  }
}

/**
 * The run instants of one local day (unsorted when a gap shifts runs). `segments` describe the offsets around the
 * day; with a single segment every wall time exists once and maps by plain subtraction.
 */
function collectDayRuns(plan: Plan, dayMs: number, date: CalendarDate, segments: readonly Segment[]): number[] {
  if (segments.length === 1) {
    const offset = (segments[0] as Segment).offset;
    return plan.times.map((time) => dayMs + time * MINUTE_MS - offset);
  }
  const runs: number[] = [];
  for (const time of plan.times) {
    const naive = dayMs + time * MINUTE_MS;
    const resolved = resolveWallTime(segments, naive);
    if (resolved.exists) {
      runs.push(resolved.instant);
      continue;
    }
    // A missing wall time runs at the shifted instant unless that instant's own wall time is scheduled (it runs
    // anyway); two missing times never share an instant within one gap, and sortUnique drops any duplicate.
    const shifted = new Date(resolved.shiftedNaive);
    const shiftedWall = {
      year: shifted.getUTCFullYear(),
      month: shifted.getUTCMonth() + 1,
      day: shifted.getUTCDate(),
      weekday: shifted.getUTCDay(),
      hour: shifted.getUTCHours(),
      minute: shifted.getUTCMinutes(),
    };
    if (!matchesWallTime(plan.schedule, shiftedWall)) runs.push(resolved.instant);
  }
  return runs;
}

/** Maps a naive wall time to its instant the way `wallTimeToInstant` does, from known offset segments. */
function resolveWallTime(segments: readonly Segment[], naive: number): { exists: true; instant: number } | { exists: false; instant: number; shiftedNaive: number } {
  let earliest = Number.POSITIVE_INFINITY;
  for (let index = 0; index < segments.length; index += 1) {
    const segment = segments[index] as Segment;
    const start = index === 0 ? Number.NEGATIVE_INFINITY : segment.start;
    const end = segments[index + 1]?.start ?? Number.POSITIVE_INFINITY;
    const instant = naive - segment.offset;
    if (instant >= start && instant < end) earliest = Math.min(earliest, instant);
  }
  if (earliest !== Number.POSITIVE_INFINITY) return { exists: true, instant: earliest };
  // In a gap: the forward jump whose skipped wall times include this one.
  for (let index = 1; index < segments.length; index += 1) {
    const before = (segments[index - 1] as Segment).offset;
    const jump = segments[index] as Segment;
    if (jump.start + before <= naive && naive < jump.start + jump.offset) {
      return { exists: false, instant: naive - before, shiftedNaive: naive - before + jump.offset };
    }
  }
  // Unreachable: a wall time either has an instant or lies in a forward jump.
  const fallback = naive - (segments[0] as Segment).offset;
  return { exists: true, instant: fallback };
}

/**
 * The offset segments covering every instant a wall time on this local day can map to, found from samples on a
 * fixed grid (shared across days) and a binary search to the second where two neighbouring samples differ.
 */
function sampleSegments(plan: Plan, dayMs: number): Segment[] {
  const from = Math.floor((dayMs - OFFSET_MARGIN_MS) / SAMPLE_MS) * SAMPLE_MS;
  const to = Math.ceil((dayMs + DAY_MS + OFFSET_MARGIN_MS) / SAMPLE_MS) * SAMPLE_MS;
  const segments: Segment[] = [{ start: from, offset: sampleOffset(plan, from) }];
  for (let previous = from, next = from + SAMPLE_MS; next <= to; previous = next, next += SAMPLE_MS) {
    const offset = sampleOffset(plan, next);
    const current = (segments.at(-1) as Segment).offset;
    if (offset === current) continue;
    let low = previous;
    let high = next;
    while (high - low > 1000) {
      const middle = low + Math.floor((high - low) / 2000) * 1000;
      if (offsetAt(plan, middle) === current) low = middle;
      else high = middle;
    }
    segments.push({ start: high, offset });
  }
  return segments;
}

function sampleOffset(plan: Plan, instant: number): number {
  let offset = plan.samples.get(instant);
  if (offset === undefined) {
    offset = offsetAt(plan, instant);
    plan.samples.set(instant, offset);
  }
  return offset;
}

function offsetAt(plan: Plan, instant: number): number {
  return getUtcOffsetMs(plan.tz, instant);
}

function startOfNaiveDay(naive: number): number {
  return Math.floor(naive / DAY_MS) * DAY_MS;
}

function readInstant(value: Date, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new MailroomError('INVALID_INPUT', `${name} ${quote(value)} is not a valid date`);
  if (Math.abs(ms) > LAST_USABLE_MS) throw new MailroomError('INVALID_INPUT', `${name} ${value.toISOString()} is too far from today to schedule`);
  return ms;
}

function sortUnique(values: number[]): number[] {
  values.sort((a, b) => a - b);
  return values.filter((value, index) => index === 0 || value !== values[index - 1]);
}

function smallestGap(sorted: readonly number[]): number {
  let smallest = Number.POSITIVE_INFINITY;
  for (let index = 1; index < sorted.length; index += 1) smallest = Math.min(smallest, (sorted[index] as number) - (sorted[index - 1] as number));
  return smallest;
}
