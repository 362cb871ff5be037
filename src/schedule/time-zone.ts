/** IANA time-zone arithmetic on top of Intl: validating zone names, wall-clock time ⇄ UTC instant, and display. */

import { MailroomError, quote } from '../core/errors.ts';

/** A wall-clock time in some zone; month 1-12. */
export interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

/** A wall-clock time read off an instant, with its weekday (0 = Sunday). */
export interface ZonedWallTime extends WallTime {
  readonly weekday: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * Zones ICU still reports under a name IANA has since replaced (ICU follows CLDR, which keeps the old spelling
 * as its canonical id). Keys are lowercase ICU names; values are the current IANA names.
 */
const RENAMED_ZONES: Readonly<Record<string, string>> = {
  'africa/asmera': 'Africa/Asmara',
  'america/buenos_aires': 'America/Argentina/Buenos_Aires',
  'america/catamarca': 'America/Argentina/Catamarca',
  'america/coral_harbour': 'America/Atikokan',
  'america/cordoba': 'America/Argentina/Cordoba',
  'america/godthab': 'America/Nuuk',
  'america/indianapolis': 'America/Indiana/Indianapolis',
  'america/jujuy': 'America/Argentina/Jujuy',
  'america/louisville': 'America/Kentucky/Louisville',
  'america/mendoza': 'America/Argentina/Mendoza',
  'asia/calcutta': 'Asia/Kolkata',
  'asia/katmandu': 'Asia/Kathmandu',
  'asia/rangoon': 'Asia/Yangon',
  'asia/saigon': 'Asia/Ho_Chi_Minh',
  'atlantic/faeroe': 'Atlantic/Faroe',
  'europe/kiev': 'Europe/Kyiv',
  'pacific/enderbury': 'Pacific/Kanton',
  'pacific/ponape': 'Pacific/Pohnpei',
  'pacific/truk': 'Pacific/Chuuk',
};

/** Letters, digits, `_`, `+`, `-` in `/`-separated parts: rules out offsets ("+01:00") that newer ICU accepts. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/** Locales tried in order for a zone abbreviation; each knows the abbreviations of its own region's zones. */
const ABBREVIATION_LOCALES = ['en-US', 'en-GB', 'en-AU', 'en-NZ', 'en-CA', 'en-IN', 'en-IE', 'en-ZA', 'en-SG'];
const GMT_OFFSET_NAME = /^GMT[+-]/;
const WEEKDAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const canonicalNames = new Map<string, string>();
const partsFormatters = new Map<string, Intl.DateTimeFormat>();
const nameFormatters = new Map<string, Intl.DateTimeFormat[]>();

/**
 * Returns the canonical IANA name for a time zone, matched case-insensitively ("europe/berlin" → "Europe/Berlin";
 * links resolve to their target: "US/Eastern" → "America/New_York", "Asia/Calcutta" → "Asia/Kolkata"). Throws
 * MailroomError('INVALID_INPUT') naming the value otherwise.
 */
export function checkTimeZone(tz: string): string {
  const known = typeof tz === 'string' ? canonicalNames.get(tz) : undefined;
  if (known !== undefined) return known;
  const invalid = () => new MailroomError('INVALID_INPUT', `timezone ${quote(tz)} is not an IANA time zone (e.g. Europe/Berlin)`);
  if (typeof tz !== 'string' || !ZONE_NAME.test(tz)) throw invalid();
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    throw invalid();
  }
  const canonical = RENAMED_ZONES[resolved.toLowerCase()] ?? resolved;
  canonicalNames.set(tz, canonical);
  return canonical;
}

/** The UTC offset (wall-clock minus UTC, in ms) in effect in `tz` at `instant`. */
export function getUtcOffsetMs(tz: string, instant: Date | number): number {
  const ms = typeof instant === 'number' ? instant : checkInstant(instant, 'instant');
  if (!Number.isFinite(ms)) throw new MailroomError('INVALID_INPUT', `instant ${quote(instant)} is not a valid time`);
  const seconds = Math.floor(ms / 1000) * 1000;
  return readNaiveMs(getPartsFormatter(tz), seconds) - seconds;
}

/**
 * The UTC instant of a wall-clock time in `tz`. A wall time that does not exist (spring-forward gap) maps to the
 * instant the same distance past the gap start: 02:30 on Berlin's spring-forward day → 03:30 CEST (01:30Z). A wall
 * time that happens twice (autumn overlap) maps to the earlier instant, its first occurrence.
 */
export function wallTimeToInstant(tz: string, wall: WallTime): Date {
  const formatter = getPartsFormatter(tz);
  const naive = toNaiveMs(wall);
  const offsetAt = (instant: number) => readNaiveMs(formatter, instant) - instant;
  // Every offset that can apply to this wall time is in effect within a day of it (real offsets are within ±15h).
  const offsets = [...new Set([offsetAt(naive - DAY_MS), offsetAt(naive), offsetAt(naive + DAY_MS)])];
  const matches = offsets.map((offset) => naive - offset).filter((instant) => offsetAt(instant) === naive - instant);
  if (matches.length > 0) return new Date(Math.min(...matches));
  // In a gap: read the wall time with the offset in effect just before the jump, which lands past the gap.
  const before = offsetAt(naive - Math.max(...offsets));
  return new Date(naive - before);
}

/** The wall-clock time in `tz` at `instant` (seconds dropped), with its weekday (0 = Sunday). */
export function instantToWallTime(tz: string, instant: Date): ZonedWallTime {
  const ms = checkInstant(instant, 'instant');
  const naive = readNaiveMs(getPartsFormatter(tz), Math.floor(ms / 1000) * 1000);
  const date = new Date(naive);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    weekday: date.getUTCDay(),
  };
}

/** "2026-12-07 09:00 CET (Mon)": the wall-clock time in `tz`, its zone abbreviation (or "UTC+05:45") and weekday. */
export function formatInTimeZone(tz: string, instant: Date): string {
  const wall = instantToWallTime(tz, instant);
  const date = `${String(wall.year).padStart(4, '0')}-${pad(wall.month)}-${pad(wall.day)}`;
  return `${date} ${pad(wall.hour)}:${pad(wall.minute)} ${abbreviateZone(tz, instant)} (${WEEKDAY_NAMES[wall.weekday] ?? '?'})`;
}

function abbreviateZone(tz: string, instant: Date): string {
  let formatters = nameFormatters.get(tz);
  if (formatters === undefined) {
    const timeZone = checkTimeZone(tz);
    formatters = ABBREVIATION_LOCALES.map((locale) => new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' }));
    nameFormatters.set(tz, formatters);
  }
  for (const formatter of formatters) {
    const name = formatter.formatToParts(instant).find((part) => part.type === 'timeZoneName')?.value;
    if (name !== undefined && !GMT_OFFSET_NAME.test(name)) return name;
  }
  const offsetMinutes = Math.round(getUtcOffsetMs(tz, instant) / MINUTE_MS);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function getPartsFormatter(tz: string): Intl.DateTimeFormat {
  let formatter = partsFormatters.get(tz);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: checkTimeZone(tz),
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partsFormatters.set(tz, formatter);
  }
  return formatter;
}

/** The wall-clock time at `instant` (whole seconds), encoded as if it were a UTC timestamp. */
function readNaiveMs(formatter: Intl.DateTimeFormat, instant: number): number {
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  for (const part of formatter.formatToParts(instant)) {
    switch (part.type) {
      case 'year': year = Number(part.value); break;
      case 'month': month = Number(part.value); break;
      case 'day': day = Number(part.value); break;
      case 'hour': hour = Number(part.value); break;
      case 'minute': minute = Number(part.value); break;
      case 'second': second = Number(part.value); break;
      case 'era': bc = part.value.startsWith('B'); break;
      default: break;
    }
  }
  const date = new Date(0);
  date.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

function toNaiveMs(wall: WallTime): number {
  const fields: ReadonlyArray<[keyof WallTime, number, number]> = [
    ['year', 1, 9999],
    ['month', 1, 12],
    ['day', 1, 31],
    ['hour', 0, 23],
    ['minute', 0, 59],
  ];
  for (const [name, min, max] of fields) {
    const value = wall?.[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new MailroomError('INVALID_INPUT', `wall time ${name} ${quote(value)} is not a whole number from ${min} to ${max}`);
    }
  }
  const date = new Date(0);
  date.setUTCFullYear(wall.year, wall.month - 1, wall.day);
  if (date.getUTCDate() !== wall.day) {
    throw new MailroomError('INVALID_INPUT', `wall time ${wall.year}-${pad(wall.month)}-${pad(wall.day)} is not a calendar date`);
  }
  return date.getTime() + (wall.hour * 60 + wall.minute) * MINUTE_MS;
}

function checkInstant(instant: Date, name: string): number {
  const ms = instant instanceof Date ? instant.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new MailroomError('INVALID_INPUT', `${name} ${quote(instant)} is not a valid date`);
  return ms;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
