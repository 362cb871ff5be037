/** When a campaign should start: "2026-12-01 09:00" in a time zone, or an ISO instant with an offset (CLI `send --at`, API `at`). */
import { MailroomError, quote } from '../core/errors.ts';
import { checkTimeZone, wallTimeToInstant } from './time-zone.ts';

export function parseSendAt(at: string, tz: string | undefined, now: Date, label: string): Date {
  const zone = checkTimeZone(tz ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  const wall = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})$/.exec(at.trim());
  let instant: Date;
  if (wall) {
    const [year, month, day, hour, minute] = wall.slice(1).map(Number) as [number, number, number, number, number];
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) throw new MailroomError('INVALID_INPUT', `${label} ${quote(at)}: not a valid date and time`);
    instant = wallTimeToInstant(zone, { year, month, day, hour, minute });
  } else if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/.test(at.trim())) {
    instant = new Date(at.trim());
  } else {
    throw new MailroomError('INVALID_INPUT', `${label} ${quote(at)}: expected "YYYY-MM-DD HH:MM" (with a time zone) or an ISO time with an offset`);
  }
  if (Number.isNaN(instant.getTime())) throw new MailroomError('INVALID_INPUT', `${label} ${quote(at)}: not a valid date and time`);
  if (instant.getTime() < now.getTime() - 60_000) throw new MailroomError('INVALID_INPUT', `${label} ${quote(at)}: ${instant.toISOString()} is in the past`);
  return instant;
}
