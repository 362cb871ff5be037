/** Tests for the cron parser: fields, names, steps, macros, Vixie day matching and every error message. */

import { describe, expect, it } from 'vitest';
import { MailroomError } from '../src/core/errors.ts';
import { matchesDate, matchesWallTime, parseCron } from '../src/schedule/cron.ts';

function sorted(values: ReadonlySet<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

function range(from: number, to: number, step = 1): number[] {
  const values: number[] = [];
  for (let value = from; value <= to; value += step) values.push(value);
  return values;
}

function parseError(expression: string): MailroomError {
  try {
    parseCron(expression);
  } catch (error) {
    expect(error).toBeInstanceOf(MailroomError);
    expect((error as MailroomError).code).toBe('INVALID_INPUT');
    return error as MailroomError;
  }
  throw new Error(`expected ${JSON.stringify(expression)} to be rejected`);
}

describe('parseCron', () => {
  it('expands stars to every value of each field', () => {
    const schedule = parseCron('* * * * *');
    expect(sorted(schedule.minutes)).toEqual(range(0, 59));
    expect(sorted(schedule.hours)).toEqual(range(0, 23));
    expect(sorted(schedule.daysOfMonth)).toEqual(range(1, 31));
    expect(sorted(schedule.months)).toEqual(range(1, 12));
    expect(sorted(schedule.daysOfWeek)).toEqual(range(0, 6));
    expect(schedule.domRestricted).toBe(false);
    expect(schedule.dowRestricted).toBe(false);
  });

  it('reads a typical weekly schedule and keeps the trimmed expression', () => {
    const schedule = parseCron('  0 9 * * MON \t');
    expect(schedule.expression).toBe('0 9 * * MON');
    expect(sorted(schedule.minutes)).toEqual([0]);
    expect(sorted(schedule.hours)).toEqual([9]);
    expect(sorted(schedule.daysOfWeek)).toEqual([1]);
    expect(schedule.domRestricted).toBe(false);
    expect(schedule.dowRestricted).toBe(true);
  });

  it('reads lists, ranges and steps', () => {
    expect(sorted(parseCron('1,15 * * * *').minutes)).toEqual([1, 15]);
    expect(sorted(parseCron('* 1-5 * * *').hours)).toEqual([1, 2, 3, 4, 5]);
    expect(sorted(parseCron('*/15 * * * *').minutes)).toEqual([0, 15, 30, 45]);
    expect(sorted(parseCron('10-50/10 * * * *').minutes)).toEqual([10, 20, 30, 40, 50]);
    expect(sorted(parseCron('1-10/4,30,*/20 * * * *').minutes)).toEqual([0, 1, 5, 9, 20, 30, 40]);
    expect(sorted(parseCron('* * */10 * *').daysOfMonth)).toEqual([1, 11, 21, 31]);
    expect(sorted(parseCron('* * * */5 *').months)).toEqual([1, 6, 11]);
    // A step larger than the range keeps only the start, as in Vixie cron.
    expect(sorted(parseCron('*/90 * * * *').minutes)).toEqual([0]);
    // Leading zeros are fine.
    expect(sorted(parseCron('05 09 * * *').hours)).toEqual([9]);
  });

  it('reads "start/step" as "start to the end of the field, every step"', () => {
    expect(sorted(parseCron('5/15 * * * *').minutes)).toEqual([5, 20, 35, 50]);
    expect(sorted(parseCron('0 0 * * 1/2').daysOfWeek)).toEqual([1, 3, 5]);
  });

  it('reads month and day names in any case', () => {
    expect(sorted(parseCron('0 0 1 jan,Jul,DEC *').months)).toEqual([1, 7, 12]);
    expect(sorted(parseCron('0 0 * FEB-apr *').months)).toEqual([2, 3, 4]);
    expect(sorted(parseCron('0 9 * * mon-FRI').daysOfWeek)).toEqual([1, 2, 3, 4, 5]);
    expect(sorted(parseCron('0 9 * * sun,Sat').daysOfWeek)).toEqual([0, 6]);
    expect(sorted(parseCron('0 9 * * MON-FRI/2').daysOfWeek)).toEqual([1, 3, 5]);
  });

  it('treats 0 and 7 as Sunday and lets a named range end on SUN', () => {
    expect(sorted(parseCron('0 0 * * 0').daysOfWeek)).toEqual([0]);
    expect(sorted(parseCron('0 0 * * 7').daysOfWeek)).toEqual([0]);
    expect(sorted(parseCron('0 0 * * 5-7').daysOfWeek)).toEqual([0, 5, 6]);
    expect(sorted(parseCron('0 0 * * 0-7').daysOfWeek)).toEqual(range(0, 6));
    expect(sorted(parseCron('0 0 * * FRI-SUN').daysOfWeek)).toEqual([0, 5, 6]);
    expect(sorted(parseCron('0 0 * * SUN-TUE').daysOfWeek)).toEqual([0, 1, 2]);
  });

  it('expands the macros, in any case', () => {
    const fields = (expression: string) => {
      const s = parseCron(expression);
      return [s.minutes, s.hours, s.daysOfMonth, s.months, s.daysOfWeek].map(sorted);
    };
    expect(fields('@hourly')).toEqual(fields('0 * * * *'));
    expect(fields('@daily')).toEqual(fields('0 0 * * *'));
    expect(fields('@midnight')).toEqual(fields('0 0 * * *'));
    expect(fields('@weekly')).toEqual(fields('0 0 * * 0'));
    expect(fields('@monthly')).toEqual(fields('0 0 1 * *'));
    expect(fields('@yearly')).toEqual(fields('0 0 1 1 *'));
    expect(fields('@ANNUALLY')).toEqual(fields('0 0 1 1 *'));
    expect(parseCron('@weekly').dowRestricted).toBe(true);
    expect(parseCron('@monthly').domRestricted).toBe(true);
    expect(parseCron('@Daily').expression).toBe('@Daily');
  });

  it('marks a day field restricted unless it starts with "*" (Vixie)', () => {
    expect(parseCron('0 0 1 * MON')).toMatchObject({ domRestricted: true, dowRestricted: true });
    expect(parseCron('0 0 */2 * MON')).toMatchObject({ domRestricted: false, dowRestricted: true });
    expect(parseCron('0 0 1-31 * *')).toMatchObject({ domRestricted: true, dowRestricted: false });
  });

  it('returns a frozen schedule', () => {
    expect(Object.isFrozen(parseCron('0 9 * * MON'))).toBe(true);
  });

  it('accepts February 29 and day-of-week rescues for short months', () => {
    expect(() => parseCron('0 0 29 2 *')).not.toThrow();
    // Both day fields restricted: Mondays in February run even though the 30th never comes.
    expect(() => parseCron('0 0 30 2 MON')).not.toThrow();
    // One month in the list has a 31st.
    expect(() => parseCron('0 0 31 4,5 *')).not.toThrow();
  });
});

describe('parseCron errors', () => {
  const cases: Array<[string, string]> = [
    ['61 * * * *', '"61 * * * *": minute 61 is out of range (0-59)'],
    ['0 24 * * *', '"0 24 * * *": hour 24 is out of range (0-23)'],
    ['0 0 0 * *', '"0 0 0 * *": day of month 0 is out of range (1-31)'],
    ['0 0 32 * *', '"0 0 32 * *": day of month 32 is out of range (1-31)'],
    ['0 0 1 13 *', '"0 0 1 13 *": month 13 is out of range (1-12)'],
    ['0 0 1 0 *', '"0 0 1 0 *": month 0 is out of range (1-12)'],
    ['0 0 * * 8', '"0 0 * * 8": day of week 8 is out of range (0-7)'],
    ['0 0-99 * * *', '"0 0-99 * * *": hour 99 is out of range (0-23)'],
    ['0 9 * * FUNDAY', '"0 9 * * FUNDAY": day of week "FUNDAY" is not a day (SUN-SAT or 0-7)'],
    ['0 9 * * MONDAY', '"0 9 * * MONDAY": day of week "MONDAY" is not a day (SUN-SAT or 0-7)'],
    ['0 9 * FOO *', '"0 9 * FOO *": month "FOO" is not a month (JAN-DEC or 1-12)'],
    ['x * * * *', '"x * * * *": minute "x" is not a number (0-59)'],
    ['MON * * * *', '"MON * * * *": minute "MON" is not a number (0-59)'],
    ['0 9 JAN * *', '"0 9 JAN * *": day of month "JAN" is not a number (1-31)'],
    ['1.5 * * * *', '"1.5 * * * *": minute "1.5" is not a number (0-59)'],
    ['0 9 * *', '"0 9 * *": expected 5 fields (minute hour day-of-month month day-of-week), found 4'],
    ['0 9 * * * *', '"0 9 * * * *": expected 5 fields (minute hour day-of-month month day-of-week), found 6'],
    ['', '"": expected 5 fields (minute hour day-of-month month day-of-week), found 0'],
    ['   ', '"": expected 5 fields (minute hour day-of-month month day-of-week), found 0'],
    ['1,,2 * * * *', '"1,,2 * * * *": minute has an empty list item in "1,,2"'],
    ['0 9 * * MON,', '"0 9 * * MON,": day of week has an empty list item in "MON,"'],
    ['0 9 * * 5-1', '"0 9 * * 5-1": day of week range "5-1" is reversed (5 is after 1)'],
    ['0 9 * * 5-0', '"0 9 * * 5-0": day of week range "5-0" is reversed (5 is after 0)'],
    ['0 0 1 DEC-JAN *', '"0 0 1 DEC-JAN *": month range "DEC-JAN" is reversed (12 is after 1)'],
    ['*/0 * * * *', '"*/0 * * * *": minute step 0 in "*/0" must be at least 1'],
    ['*/x * * * *', '"*/x * * * *": minute step "x" in "*/x" is not a whole number'],
    ['*/ * * * *', '"*/ * * * *": minute step "" in "*/" is not a whole number'],
    ['*/-5 * * * *', '"*/-5 * * * *": minute step "-5" in "*/-5" is not a whole number'],
    ['/5 * * * *', '"/5 * * * *": minute "/5" has no value before the step'],
    ['1- * * * *', '"1- * * * *": minute range "1-" needs a value on both sides of "-"'],
    ['-5 * * * *', '"-5 * * * *": minute range "-5" needs a value on both sides of "-"'],
    ['1-2-3 * * * *', '"1-2-3 * * * *": minute "2-3" is not a number (0-59)'],
    ['0 0 30 2 *', '"0 0 30 2 *": day of month 30 never occurs in February, so this schedule never runs'],
    ['0 0 30,31 FEB *', '"0 0 30,31 FEB *": day of month 30,31 never occurs in February, so this schedule never runs'],
    ['0 0 31 4,6,9,11 *', '"0 0 31 4,6,9,11 *": day of month 31 never occurs in April, June, September or November, so this schedule never runs'],
    // Day of week unrestricted via "*/1": both must match, so it still never runs.
    ['0 0 31 2 */1', '"0 0 31 2 */1": day of month 31 never occurs in February, so this schedule never runs'],
    ['@fortnightly', '"@fortnightly": unknown macro (use @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually or 5 fields)'],
    ['@reboot', '"@reboot": unknown macro (use @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually or 5 fields)'],
  ];

  it.each(cases)('rejects %j', (expression, message) => {
    expect(parseError(expression).message).toBe(message);
  });

  it('shortens a huge expression in the message', () => {
    const message = parseError(`${'1,'.repeat(500)}99 * * * *`).message;
    expect(message.length).toBeLessThan(200);
    expect(message).toContain('minute 99 is out of range (0-59)');
  });

  it('rejects a value that is not a string', () => {
    expect(() => parseCron(42 as unknown as string)).toThrow('cron expression must be a string, got number');
  });
});

describe('matchesDate and matchesWallTime', () => {
  // 2026-06-01 is a Monday; 2026-06-02 a Tuesday; 2026-06-15 a Monday.
  const monday1 = { year: 2026, month: 6, day: 1, weekday: 1 };
  const tuesday2 = { year: 2026, month: 6, day: 2, weekday: 2 };
  const monday15 = { year: 2026, month: 6, day: 15, weekday: 1 };
  const tuesday16 = { year: 2026, month: 6, day: 16, weekday: 2 };

  it('ORs the day fields when both are restricted', () => {
    const schedule = parseCron('0 0 1,2 * MON');
    expect([monday1, tuesday2, monday15, tuesday16].map((date) => matchesDate(schedule, date))).toEqual([true, true, true, false]);
  });

  it('ANDs them when either starts with "*"', () => {
    const oddMondays = parseCron('0 0 */2 * MON');
    expect([monday1, tuesday2, monday15, tuesday16].map((date) => matchesDate(oddMondays, date))).toEqual([true, false, true, false]);
    const firstAndSecond = parseCron('0 0 1,2 * *');
    expect([monday1, tuesday2, monday15, tuesday16].map((date) => matchesDate(firstAndSecond, date))).toEqual([true, true, false, false]);
  });

  it('checks the month and the time of day', () => {
    const schedule = parseCron('30 9 * JUN MON');
    expect(matchesDate(schedule, { ...monday1, month: 7 })).toBe(false);
    expect(matchesWallTime(schedule, { ...monday1, hour: 9, minute: 30 })).toBe(true);
    expect(matchesWallTime(schedule, { ...monday1, hour: 9, minute: 31 })).toBe(false);
    expect(matchesWallTime(schedule, { ...monday1, hour: 10, minute: 30 })).toBe(false);
  });
});
