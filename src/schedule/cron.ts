/** Parses standard 5-field cron expressions (Vixie semantics, names, steps, macros) into sets of matching values. */

import { MailroomError, quote } from '../core/errors.ts';

export interface CronSchedule {
  /** The expression as given, trimmed. */
  readonly expression: string;
  /** 0-59. */
  readonly minutes: ReadonlySet<number>;
  /** 0-23. */
  readonly hours: ReadonlySet<number>;
  /** 1-31. */
  readonly daysOfMonth: ReadonlySet<number>;
  /** 1-12. */
  readonly months: ReadonlySet<number>;
  /** 0-6, 0 = Sunday (7 in the expression is stored as 0). */
  readonly daysOfWeek: ReadonlySet<number>;
  /**
   * Vixie's rule: a day field is restricted unless it starts with `*`. When both day fields are restricted a day
   * matches if EITHER matches ("0 0 1 * MON" = the 1st and every Monday); otherwise both must match, so
   * "0 0 *\/2 * MON" = Mondays that fall on an odd day of the month.
   */
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
}

/** The calendar date part of a wall-clock time, as `matchesDate` needs it. */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** 0 = Sunday. */
  readonly weekday: number;
}

interface FieldSpec {
  /** Used in messages: "minute 61 is out of range (0-59)". */
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Uppercase names mapped to values, index + nameBase. */
  readonly names?: readonly string[];
  readonly nameBase?: number;
  /** How a value that is neither a number nor a name is described. */
  readonly kind: string;
  /** The valid range as shown in messages. */
  readonly shown: string;
}

const FIELDS: readonly FieldSpec[] = [
  { label: 'minute', min: 0, max: 59, kind: 'a number', shown: '0-59' },
  { label: 'hour', min: 0, max: 23, kind: 'a number', shown: '0-23' },
  { label: 'day of month', min: 1, max: 31, kind: 'a number', shown: '1-31' },
  {
    label: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
    nameBase: 1,
    kind: 'a month',
    shown: 'JAN-DEC or 1-12',
  },
  {
    label: 'day of week',
    min: 0,
    max: 7,
    names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
    nameBase: 0,
    kind: 'a day',
    shown: 'SUN-SAT or 0-7',
  },
];

const MACROS: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The longest each month can be (February counts its leap day). */
const MAX_DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const NUMBER = /^[0-9]+$/;
const NAME = /^[A-Za-z]+$/;

/**
 * Parses a 5-field cron expression (minute hour day-of-month month day-of-week) or a macro (@hourly, @daily,
 * @midnight, @weekly, @monthly, @yearly, @annually). Supports `*`, lists, ranges, steps (`*\/15`, `10-50/10`, and
 * `5/15` meaning `5-59/15`), month and day names in any case, and 0 or 7 for Sunday; a day-name range may end in
 * SUN (`FRI-SUN`). Throws MailroomError('INVALID_INPUT') naming the field and value for anything else, and for a
 * day-of-month/month combination that never happens ("0 0 30 2 *").
 */
export function parseCron(expression: string): CronSchedule {
  if (typeof expression !== 'string') throw new MailroomError('INVALID_INPUT', `cron expression must be a string, got ${typeof expression}`);
  const trimmed = expression.trim();
  const fail = (reason: string): never => {
    throw new MailroomError('INVALID_INPUT', `${quote(trimmed)}: ${reason}`);
  };

  let body = trimmed;
  if (trimmed.startsWith('@')) {
    const macro = MACROS[trimmed.toLowerCase()];
    if (macro === undefined) fail(`unknown macro (use ${Object.keys(MACROS).join(', ')} or 5 fields)`);
    body = macro ?? '';
  }

  const fields = body === '' ? [] : body.split(/\s+/);
  if (fields.length !== 5) fail(`expected 5 fields (minute hour day-of-month month day-of-week), found ${fields.length}`);

  const sets = fields.map((text, index) => parseField(text, FIELDS[index] as FieldSpec, fail));
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  const domRestricted = !(fields[2] as string).startsWith('*');
  const dowRestricted = !(fields[4] as string).startsWith('*');

  // With OR semantics every month has every weekday, so only the day-of-month path can be impossible.
  if (!(domRestricted && dowRestricted)) {
    const possible = [...months].some((month) => [...daysOfMonth].some((day) => day <= (MAX_DAYS_IN_MONTH[month - 1] ?? 0)));
    if (!possible) {
      const days = [...daysOfMonth].sort((a, b) => a - b).join(',');
      const monthList = [...months].sort((a, b) => a - b).map((month) => MONTH_NAMES[month - 1] ?? String(month));
      const inMonths = monthList.length > 1 ? `${monthList.slice(0, -1).join(', ')} or ${monthList.at(-1)}` : monthList.join('');
      fail(`day of month ${days} never occurs in ${inMonths}, so this schedule never runs`);
    }
  }

  return Object.freeze({ expression: trimmed, minutes, hours, daysOfMonth, months, daysOfWeek, domRestricted, dowRestricted });
}

/** Whether a calendar date is a run day: month, then Vixie's day-of-month/day-of-week rule. */
export function matchesDate(schedule: CronSchedule, date: CalendarDate): boolean {
  if (!schedule.months.has(date.month)) return false;
  const domMatch = schedule.daysOfMonth.has(date.day);
  const dowMatch = schedule.daysOfWeek.has(date.weekday);
  return schedule.domRestricted && schedule.dowRestricted ? domMatch || dowMatch : domMatch && dowMatch;
}

/** Whether a wall-clock time (date, hour and minute) matches the schedule. */
export function matchesWallTime(schedule: CronSchedule, wall: CalendarDate & { readonly hour: number; readonly minute: number }): boolean {
  return schedule.minutes.has(wall.minute) && schedule.hours.has(wall.hour) && matchesDate(schedule, wall);
}

function parseField(text: string, spec: FieldSpec, fail: (reason: string) => never): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') fail(`${spec.label} has an empty list item in ${quote(text)}`);
    const slash = item.indexOf('/');
    const rangeText = slash < 0 ? item : item.slice(0, slash);
    let step = 1;
    if (slash >= 0) {
      const stepText = item.slice(slash + 1);
      if (!NUMBER.test(stepText)) fail(`${spec.label} step ${quote(stepText)} in ${quote(item)} is not a whole number`);
      step = Number(stepText);
      if (step === 0) fail(`${spec.label} step 0 in ${quote(item)} must be at least 1`);
    }

    let start: number;
    let end: number;
    // Stepping to the end of the day-of-week field stops at Saturday, so 7 cannot sneak Sunday in.
    const lastStepped = spec.label === 'day of week' ? 6 : spec.max;
    if (rangeText === '*') {
      start = spec.min;
      end = lastStepped;
    } else if (rangeText === '') {
      fail(`${spec.label} ${quote(item)} has no value before the step`);
    } else {
      const dash = rangeText.indexOf('-');
      if (dash < 0) {
        start = parseValue(rangeText, spec, fail);
        // "5/15" means "from 5 to the end, every 15" (as in Quartz and cronie); a bare "5" is just 5.
        end = slash >= 0 ? lastStepped : start;
      } else {
        const startText = rangeText.slice(0, dash);
        const endText = rangeText.slice(dash + 1);
        if (startText === '' || endText === '') fail(`${spec.label} range ${quote(rangeText)} needs a value on both sides of "-"`);
        start = parseValue(startText, spec, fail);
        end = parseValue(endText, spec, fail);
        // "FRI-SUN": a range written with day names may end on Sunday, read as 7.
        if (spec.label === 'day of week' && end === 0 && start > 0 && NAME.test(endText)) end = 7;
        if (start > end) fail(`${spec.label} range ${quote(rangeText)} is reversed (${start} is after ${end})`);
      }
    }
    for (let value = start; value <= end; value += step) values.add(spec.label === 'day of week' && value === 7 ? 0 : value);
  }
  return values;
}

function parseValue(text: string, spec: FieldSpec, fail: (reason: string) => never): number {
  if (NUMBER.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) fail(`${spec.label} ${value} is out of range (${spec.min}-${spec.max})`);
    return value;
  }
  if (spec.names && NAME.test(text)) {
    const index = spec.names.indexOf(text.toUpperCase());
    if (index >= 0) return index + (spec.nameBase ?? 0);
  }
  return fail(`${spec.label} ${quote(text)} is not ${spec.kind} (${spec.shown})`);
}
