/** Tests for time-zone validation, wall-clock ⇄ instant conversion across DST changes, and display formatting. */

import { describe, expect, it } from 'vitest';
import { MailroomError } from '../src/core/errors.ts';
import { checkTimeZone, formatInTimeZone, getUtcOffsetMs, instantToWallTime, wallTimeToInstant } from '../src/schedule/time-zone.ts';
import { createRandom } from '../scripts/lib/seeded-random.ts';

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const LORD_HOWE = 'Australia/Lord_Howe';
const KATHMANDU = 'Asia/Kathmandu';

function wall(text: string) {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/.exec(text);
  if (!match) throw new Error(`bad wall time ${text}`);
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  return { year, month, day, hour, minute };
}

function toUtc(tz: string, text: string): string {
  return wallTimeToInstant(tz, wall(text)).toISOString();
}


describe('checkTimeZone', () => {
  it('returns canonical IANA names, fixing case', () => {
    expect(checkTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(checkTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(checkTimeZone('AMERICA/NEW_YORK')).toBe('America/New_York');
    expect(checkTimeZone('UTC')).toBe('UTC');
    expect(checkTimeZone('utc')).toBe('UTC');
    expect(checkTimeZone('Etc/UTC')).toBe('UTC');
    expect(checkTimeZone('Australia/Lord_Howe')).toBe('Australia/Lord_Howe');
    expect(checkTimeZone('Etc/GMT+5')).toBe('Etc/GMT+5');
  });

  it('resolves links to their target, using the current IANA spelling rather than ICU’s older one', () => {
    expect(checkTimeZone('US/Eastern')).toBe('America/New_York');
    expect(checkTimeZone('Asia/Kolkata')).toBe('Asia/Kolkata');
    expect(checkTimeZone('Asia/Calcutta')).toBe('Asia/Kolkata');
    expect(checkTimeZone('asia/kathmandu')).toBe('Asia/Kathmandu');
    expect(checkTimeZone('Europe/Kyiv')).toBe('Europe/Kyiv');
    expect(checkTimeZone('Europe/Kiev')).toBe('Europe/Kyiv');
  });

  it.each(['Europe/Berln', 'Berlin', '', ' Europe/Berlin', '+01:00', 'UTC+1', 'Europe/../Berlin', 'Mars/Olympus_Mons'])('rejects %j, naming it', (tz) => {
    let caught: unknown;
    try {
      checkTimeZone(tz);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MailroomError);
    expect((caught as MailroomError).code).toBe('INVALID_INPUT');
    expect((caught as MailroomError).message).toBe(`timezone ${JSON.stringify(tz)} is not an IANA time zone (e.g. Europe/Berlin)`);
  });

  it('rejects a value that is not a string', () => {
    expect(() => checkTimeZone(undefined as unknown as string)).toThrow('timezone "undefined" is not an IANA time zone (e.g. Europe/Berlin)');
  });
});

describe('wallTimeToInstant', () => {
  it('uses winter and summer offsets in Berlin (08:00Z vs 07:00Z for 09:00)', () => {
    expect(toUtc(BERLIN, '2026-03-23 09:00')).toBe('2026-03-23T08:00:00.000Z');
    expect(toUtc(BERLIN, '2026-03-30 09:00')).toBe('2026-03-30T07:00:00.000Z');
    expect(toUtc(BERLIN, '2026-10-19 09:00')).toBe('2026-10-19T07:00:00.000Z');
    expect(toUtc(BERLIN, '2026-10-26 09:00')).toBe('2026-10-26T08:00:00.000Z');
  });

  it('moves a Berlin spring-gap time forward by the gap (02:30 → 03:30 CEST)', () => {
    expect(toUtc(BERLIN, '2026-03-29 01:59')).toBe('2026-03-29T00:59:00.000Z');
    expect(toUtc(BERLIN, '2026-03-29 02:00')).toBe('2026-03-29T01:00:00.000Z');
    expect(toUtc(BERLIN, '2026-03-29 02:30')).toBe('2026-03-29T01:30:00.000Z');
    expect(toUtc(BERLIN, '2026-03-29 02:59')).toBe('2026-03-29T01:59:00.000Z');
    expect(toUtc(BERLIN, '2026-03-29 03:00')).toBe('2026-03-29T01:00:00.000Z');
    expect(toUtc(BERLIN, '2026-03-29 03:30')).toBe('2026-03-29T01:30:00.000Z');
  });

  it('picks the first occurrence of a Berlin autumn-overlap time', () => {
    expect(toUtc(BERLIN, '2026-10-25 01:59')).toBe('2026-10-24T23:59:00.000Z');
    expect(toUtc(BERLIN, '2026-10-25 02:00')).toBe('2026-10-25T00:00:00.000Z');
    expect(toUtc(BERLIN, '2026-10-25 02:30')).toBe('2026-10-25T00:30:00.000Z');
    expect(toUtc(BERLIN, '2026-10-25 02:59')).toBe('2026-10-25T00:59:00.000Z');
    expect(toUtc(BERLIN, '2026-10-25 03:00')).toBe('2026-10-25T02:00:00.000Z');
  });

  it('handles New York spring (2026-03-08) and autumn (2026-11-01)', () => {
    expect(toUtc(NEW_YORK, '2026-03-08 01:30')).toBe('2026-03-08T06:30:00.000Z');
    expect(toUtc(NEW_YORK, '2026-03-08 02:30')).toBe('2026-03-08T07:30:00.000Z');
    expect(toUtc(NEW_YORK, '2026-03-08 03:30')).toBe('2026-03-08T07:30:00.000Z');
    expect(toUtc(NEW_YORK, '2026-11-01 00:59')).toBe('2026-11-01T04:59:00.000Z');
    expect(toUtc(NEW_YORK, '2026-11-01 01:30')).toBe('2026-11-01T05:30:00.000Z');
    expect(toUtc(NEW_YORK, '2026-11-01 02:00')).toBe('2026-11-01T07:00:00.000Z');
  });

  it('handles Lord Howe’s 30-minute change', () => {
    // Spring 2026-10-04: 02:00 LHST (+10:30) jumps to 02:30 LHDT (+11).
    expect(toUtc(LORD_HOWE, '2026-10-04 01:59')).toBe('2026-10-03T15:29:00.000Z');
    expect(toUtc(LORD_HOWE, '2026-10-04 02:15')).toBe('2026-10-03T15:45:00.000Z');
    expect(toUtc(LORD_HOWE, '2026-10-04 02:30')).toBe('2026-10-03T15:30:00.000Z');
    // Autumn 2026-04-05: 02:00 LHDT (+11) falls back to 01:30 LHST (+10:30); 01:45 happens twice.
    expect(toUtc(LORD_HOWE, '2026-04-05 01:45')).toBe('2026-04-04T14:45:00.000Z');
    expect(toUtc(LORD_HOWE, '2026-04-05 02:00')).toBe('2026-04-04T15:30:00.000Z');
  });

  it('handles Kathmandu (+05:45) and UTC', () => {
    expect(toUtc(KATHMANDU, '2026-06-01 09:00')).toBe('2026-06-01T03:15:00.000Z');
    expect(toUtc(KATHMANDU, '2026-01-01 00:00')).toBe('2025-12-31T18:15:00.000Z');
    expect(toUtc('UTC', '2026-03-29 02:30')).toBe('2026-03-29T02:30:00.000Z');
  });

  it('handles a zone that skipped a whole day (Samoa, 2011-12-30)', () => {
    expect(toUtc('Pacific/Apia', '2011-12-29 23:30')).toBe('2011-12-30T09:30:00.000Z');
    // The missing day's 02:30 lands 02:30 into the day after the gap start.
    expect(toUtc('Pacific/Apia', '2011-12-30 02:30')).toBe('2011-12-30T12:30:00.000Z');
    expect(toUtc('Pacific/Apia', '2011-12-31 02:30')).toBe('2011-12-30T12:30:00.000Z');
  });

  it('rejects wall times that are not calendar times', () => {
    expect(() => wallTimeToInstant(BERLIN, wall('2026-02-29 09:00'))).toThrow('wall time 2026-02-29 is not a calendar date');
    expect(() => wallTimeToInstant(BERLIN, { ...wall('2026-02-01 09:00'), hour: 24 })).toThrow('wall time hour "24" is not a whole number from 0 to 23');
    expect(() => wallTimeToInstant(BERLIN, { ...wall('2026-02-01 09:00'), minute: 1.5 })).toThrow('wall time minute "1.5" is not a whole number from 0 to 59');
    expect(() => wallTimeToInstant('Europe/Berln', wall('2026-02-01 09:00'))).toThrow('timezone "Europe/Berln" is not an IANA time zone');
  });

  it('round-trips every instant that is the first occurrence of its wall time (property)', () => {
    const random = createRandom(7);
    const zones = [BERLIN, NEW_YORK, LORD_HOWE, KATHMANDU, 'UTC', 'America/Sao_Paulo', 'Pacific/Chatham', 'America/St_Johns'];
    for (let index = 0; index < 2000; index += 1) {
      const tz = zones[index % zones.length] as string;
      // Any minute between 2020 and 2035.
      const base = Date.UTC(2020, 0, 1) + Math.floor(random() * 15 * 365 * 24 * 60) * 60_000;
      const instant = new Date(base);
      const back = wallTimeToInstant(tz, instantToWallTime(tz, instant));
      // Either the same instant, or (second pass of an overlap) an earlier one with the same wall time.
      expect(back.getTime()).toBeLessThanOrEqual(instant.getTime());
      expect(instantToWallTime(tz, back)).toEqual(instantToWallTime(tz, instant));
      if (back.getTime() !== instant.getTime()) expect(getUtcOffsetMs(tz, back)).toBeGreaterThan(getUtcOffsetMs(tz, instant));
    }
  });

  it('maps back to an earlier instant exactly during the second pass of an overlap', () => {
    const cases = [
      { tz: BERLIN, start: Date.UTC(2026, 2, 28, 22), overlapMinutes: 0 },
      { tz: BERLIN, start: Date.UTC(2026, 9, 24, 22), overlapMinutes: 60 },
      { tz: LORD_HOWE, start: Date.UTC(2026, 9, 3, 12), overlapMinutes: 0 },
      { tz: LORD_HOWE, start: Date.UTC(2026, 3, 4, 12), overlapMinutes: 30 },
    ];
    for (const { tz, start, overlapMinutes } of cases) {
      let secondPass = 0;
      for (let ms = start; ms < start + 6 * 3_600_000; ms += 60_000) {
        const wallTime = instantToWallTime(tz, new Date(ms));
        const back = wallTimeToInstant(tz, wallTime).getTime();
        expect(instantToWallTime(tz, new Date(back))).toEqual(wallTime);
        if (back !== ms) {
          secondPass += 1;
          expect(back).toBeLessThan(ms);
        }
      }
      expect(secondPass).toBe(overlapMinutes);
    }
  });
});

describe('instantToWallTime', () => {
  it('reads the wall-clock time and weekday', () => {
    expect(instantToWallTime(BERLIN, new Date('2026-12-07T08:00:00Z'))).toEqual({ year: 2026, month: 12, day: 7, hour: 9, minute: 0, weekday: 1 });
    expect(instantToWallTime(NEW_YORK, new Date('2026-01-01T04:59:59.999Z'))).toEqual({ year: 2025, month: 12, day: 31, hour: 23, minute: 59, weekday: 3 });
    expect(instantToWallTime(KATHMANDU, new Date('2026-06-01T03:15:00Z'))).toEqual({ year: 2026, month: 6, day: 1, hour: 9, minute: 0, weekday: 1 });
  });

  it('gives midnight as hour 0, not 24', () => {
    expect(instantToWallTime(BERLIN, new Date('2026-06-30T22:00:00Z'))).toMatchObject({ month: 7, day: 1, hour: 0 });
  });

  it('rejects an invalid date', () => {
    expect(() => instantToWallTime(BERLIN, new Date('nope'))).toThrow('is not a valid date');
  });
});

describe('getUtcOffsetMs', () => {
  it('returns the offset in ms, including non-hour offsets', () => {
    expect(getUtcOffsetMs(BERLIN, new Date('2026-01-15T12:00:00Z'))).toBe(3_600_000);
    expect(getUtcOffsetMs(BERLIN, new Date('2026-07-15T12:00:00Z'))).toBe(7_200_000);
    expect(getUtcOffsetMs(NEW_YORK, new Date('2026-01-15T12:00:00Z'))).toBe(-5 * 3_600_000);
    expect(getUtcOffsetMs(KATHMANDU, Date.UTC(2026, 0, 15))).toBe((5 * 60 + 45) * 60_000);
    expect(getUtcOffsetMs(LORD_HOWE, Date.UTC(2026, 6, 15))).toBe(10.5 * 3_600_000);
  });
});

describe('formatInTimeZone', () => {
  it('shows date, time, zone abbreviation and weekday', () => {
    expect(formatInTimeZone(BERLIN, new Date('2026-12-07T08:00:00Z'))).toBe('2026-12-07 09:00 CET (Mon)');
    expect(formatInTimeZone(BERLIN, new Date('2026-07-06T07:00:00Z'))).toBe('2026-07-06 09:00 CEST (Mon)');
    expect(formatInTimeZone(NEW_YORK, new Date('2026-11-01T05:30:00Z'))).toBe('2026-11-01 01:30 EDT (Sun)');
    expect(formatInTimeZone(NEW_YORK, new Date('2026-11-01T06:30:00Z'))).toBe('2026-11-01 01:30 EST (Sun)');
    expect(formatInTimeZone('Europe/London', new Date('2026-01-05T09:00:00Z'))).toBe('2026-01-05 09:00 GMT (Mon)');
    expect(formatInTimeZone('UTC', new Date('2026-01-05T09:00:00Z'))).toBe('2026-01-05 09:00 UTC (Mon)');
    expect(formatInTimeZone(LORD_HOWE, new Date('2026-07-06T00:00:00Z'))).toBe('2026-07-06 10:30 LHST (Mon)');
  });

  it('falls back to a numeric offset where no abbreviation is known', () => {
    expect(formatInTimeZone(KATHMANDU, new Date('2026-06-01T03:15:00Z'))).toBe('2026-06-01 09:00 UTC+05:45 (Mon)');
    expect(formatInTimeZone('America/Sao_Paulo', new Date('2026-06-01T12:00:00Z'))).toBe('2026-06-01 09:00 UTC-03:00 (Mon)');
  });
});
