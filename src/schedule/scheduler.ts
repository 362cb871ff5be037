/**
 * The scheduler: node-cron only ticks; the due slots, the campaign each creates and their outcomes live in the
 * database. A slot is recorded under a unique (newsletter, slot) key in the same transaction as its issue and
 * campaign, so each slot creates exactly one campaign across restarts and processes.
 */
import type { Newsletter } from '../core/domain.ts';
import { isMailroomError, MailroomError, quote } from '../core/errors.ts';
import { composeIssue, type ComposedIssue } from '../issues/build-issue.ts';
import type { NewsletterSchedule, SqlStore } from '../store/sql-store.ts';
import { parseCron } from './cron.ts';
import { listRunsBetween, minimumInterval } from './next-runs.ts';
import { checkTimeZone } from './time-zone.ts';

/** How far back a tick looks for missed slots to record. */
const LOOK_BACK_MS = 7 * 24 * 3600_000;

export interface SchedulerDeps {
  readonly store: SqlStore;
  readonly publicUrl: string;
  /** A slot missed while the service was down is still sent when younger than this; else skipped and logged. */
  readonly catchUpMs: number;
  readonly clock?: () => Date;
  readonly log?: (line: string) => void;
}

export type SlotOutcome =
  | { readonly newsletter: string; readonly slotAt: string; readonly outcome: 'campaign'; readonly campaignId: number; readonly recipients: number }
  | { readonly newsletter: string; readonly slotAt: string; readonly outcome: 'skipped-empty' | 'skipped-missed'; readonly detail: string }
  /** Another process handled this slot first. */
  | { readonly newsletter: string; readonly slotAt: string; readonly outcome: 'taken' };

/** Validates a schedule before it is saved; every error names the field and the value. */
export function checkSchedule(cron: string, timezone: string, minIntervalMinutes: number, now: Date): { cron: string; timezone: string } {
  const parsed = parseCron(cron);
  const tz = checkTimeZone(timezone);
  const gap = minimumInterval(parsed, tz, now);
  if (minIntervalMinutes > 0 && gap < minIntervalMinutes * 60_000) {
    throw new MailroomError(
      'INVALID_INPUT',
      `schedule ${quote(cron)}: runs every ${Math.round(gap / 60_000)} minute(s) at times, more often than the minimum of ${minIntervalMinutes} minute(s) (SCHEDULE_MIN_INTERVAL_MINUTES)`,
    );
  }
  return { cron: parsed.expression, timezone: tz };
}

async function composeForSlot(deps: SchedulerDeps, newsletter: Newsletter, schedule: NewsletterSchedule, now: Date): Promise<ComposedIssue | string> {
  const since = await deps.store.lastSentAt(newsletter.id);
  try {
    return await composeIssue(deps.store, newsletter, { publicUrl: deps.publicUrl, now, publishedAfter: since });
  } catch (error) {
    if (!(isMailroomError(error) && error.code === 'NOT_FOUND')) throw error;
    const nothingNew = `no new article${since ? ` published since the last issue went out (${since})` : ''}`;
    if (schedule.emptyPolicy === 'skip') return nothingNew;
    try {
      return await composeIssue(deps.store, newsletter, { publicUrl: deps.publicUrl, now });
    } catch (again) {
      if (isMailroomError(again) && again.code === 'NOT_FOUND') return `${nothingNew}, and no unsent article at all`;
      throw again;
    }
  }
}

/** Looks at every schedule's slots up to now and acts on each exactly once. */
export async function runDueSlots(deps: SchedulerDeps): Promise<SlotOutcome[]> {
  const clock = deps.clock ?? (() => new Date());
  const log = deps.log ?? (() => undefined);
  const outcomes: SlotOutcome[] = [];
  for (const schedule of await deps.store.listSchedules()) {
    const newsletter = await deps.store.getNewsletter(schedule.newsletterId);
    if (!newsletter) continue;
    const now = clock();
    try {
      const cron = parseCron(schedule.cron);
      // After a very long outage, slots older than the look-back are not even listed (they could be millions).
      const lookBack = now.getTime() - Math.max(deps.catchUpMs, LOOK_BACK_MS);
      const from = new Date(Math.max(new Date(schedule.checkedUntil).getTime(), lookBack));
      if (from.getTime() > new Date(schedule.checkedUntil).getTime()) log(`schedule ${newsletter.slug}: slots before ${from.toISOString()} were missed while the service was down and are not sent`);
      const runs = listRunsBetween(cron, schedule.timezone, from, now);
      for (const [index, run] of runs.entries()) {
        const slotAt = run.toISOString();
        const age = now.getTime() - run.getTime();
        const superseded = index < runs.length - 1;
        if (superseded || age > deps.catchUpMs) {
          const detail = superseded ? 'missed while the service was down; a later slot is sent instead' : `missed while the service was down (${Math.round(age / 60_000)} min ago, over the catch-up limit)`;
          if (await deps.store.recordSkippedSlot(newsletter.id, slotAt, 'skipped-missed', detail)) {
            log(`schedule ${newsletter.slug}: slot ${slotAt} skipped: ${detail}`);
            outcomes.push({ newsletter: newsletter.slug, slotAt, outcome: 'skipped-missed', detail });
          }
          continue;
        }
        const composed = await composeForSlot(deps, newsletter, schedule, now);
        if (typeof composed === 'string') {
          if (await deps.store.recordSkippedSlot(newsletter.id, slotAt, 'skipped-empty', composed)) {
            log(`schedule ${newsletter.slug}: slot ${slotAt} skipped: ${composed}`);
            outcomes.push({ newsletter: newsletter.slug, slotAt, outcome: 'skipped-empty', detail: composed });
          }
          continue;
        }
        const created = await deps.store.createSlotCampaign({ newsletterId: newsletter.id, listId: newsletter.listId, slotAt, issue: composed.input });
        if (!created) {
          outcomes.push({ newsletter: newsletter.slug, slotAt, outcome: 'taken' });
          continue;
        }
        log(`schedule ${newsletter.slug}: slot ${slotAt}: campaign ${created.campaign.id}, issue #${created.issue.number}, ${created.recipients} recipient(s)`);
        outcomes.push({ newsletter: newsletter.slug, slotAt, outcome: 'campaign', campaignId: created.campaign.id, recipients: created.recipients });
      }
      await deps.store.advanceSchedule(newsletter.id, now.toISOString());
    } catch (error) {
      log(`schedule ${newsletter.slug}: ${(error as Error).message}`);
    }
  }
  return outcomes;
}
