/**
 * The scheduler: node-cron only ticks; the due slots, the campaign each creates and their outcomes live in the
 * database. A slot is recorded under a unique (newsletter, slot) key in the same transaction as its issue and
 * campaign, so each slot creates exactly one campaign across restarts and processes.
 */
import type { Newsletter } from '../core/domain.ts';
import { isMailroomError, MailroomError, quote } from '../core/errors.ts';
import { composeIssue, type ComposedIssue, type IssueBuilderStores } from '../issues/build-issue.ts';
import type { NewsletterSchedule, ScheduleSlot, SlotCampaign, SlotCampaignInput } from '../store/store-types.ts';
import { parseCron } from './cron.ts';
import { listRunsBetween, minimumInterval } from './next-runs.ts';
import { checkTimeZone } from './time-zone.ts';

/** What the scheduler needs of the stores (app.stores has it). */
export type SchedulerStores = IssueBuilderStores & {
  readonly campaigns: {
    lastSentAt(newsletterId: number): Promise<string | null>;
  };
  readonly newsletters: {
    getNewsletter(id: number): Promise<Newsletter | null>;
  };
  readonly schedules: {
    advanceSchedule(newsletterId: number, checkedUntil: string): Promise<void>;
    createSlotCampaign(input: SlotCampaignInput): Promise<SlotCampaign | null>;
    findSlot(newsletterId: number, slotAt: string): Promise<ScheduleSlot | null>;
    listFailedSlots(options?: { newsletterId?: number; limit?: number }): Promise<ScheduleSlot[]>;
    listSchedules(): Promise<NewsletterSchedule[]>;
    recordSlotWithoutCampaign(newsletterId: number, slotAt: string, outcome: 'skipped-empty' | 'skipped-missed' | 'failed', detail: string): Promise<boolean>;
    retrySlotCampaign(input: SlotCampaignInput): Promise<SlotCampaign | null>;
    updateFailedSlot(newsletterId: number, slotAt: string, detail: string, outcome?: 'failed' | 'skipped-empty'): Promise<boolean>;
  };
};

/** How far back a tick looks for missed slots to record. */
const LOOK_BACK_MS = 7 * 24 * 3600_000;

export interface SchedulerDeps {
  readonly stores: SchedulerStores;
  readonly publicUrl: string;
  /** A slot missed while the service was down is still sent when younger than this; else skipped and logged. */
  readonly catchUpMs: number;
  readonly clock?: () => Date;
  readonly log?: (line: string) => void;
}

export type SlotOutcome =
  | { readonly newsletter: string; readonly slotAt: string; readonly outcome: 'campaign'; readonly campaignId: number; readonly recipients: number }
  | { readonly newsletter: string; readonly slotAt: string; readonly outcome: 'skipped-empty' | 'skipped-missed'; readonly detail: string }
  /** The slot's issue could not be built: recorded with the reason, shown by `schedule list` and `campaigns list`, retried by `schedule retry`. */
  | { readonly newsletter: string; readonly slotAt: string; readonly outcome: 'failed'; readonly detail: string }
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

type SlotIssue = { readonly kind: 'issue'; readonly composed: ComposedIssue } | { readonly kind: 'empty' | 'failed'; readonly detail: string };

/** The issue a slot sends: built from what is new (or, with `--when-empty send`, what was never sent), nothing, or why it cannot be built. */
async function composeForSlot(deps: SchedulerDeps, newsletter: Newsletter, emptyPolicy: string, now: Date): Promise<SlotIssue> {
  const since = await deps.stores.campaigns.lastSentAt(newsletter.id);
  const nothingNew = `no new article${since ? ` published since the last issue went out (${since})` : ''}`;
  try {
    try {
      return { kind: 'issue', composed: await composeIssue(deps.stores, newsletter, { publicUrl: deps.publicUrl, now, publishedAfter: since }) };
    } catch (error) {
      if (!(isMailroomError(error) && error.code === 'NOT_FOUND')) throw error;
      if (emptyPolicy === 'skip') return { kind: 'empty', detail: nothingNew };
    }
    try {
      return { kind: 'issue', composed: await composeIssue(deps.stores, newsletter, { publicUrl: deps.publicUrl, now }) };
    } catch (error) {
      if (isMailroomError(error) && error.code === 'NOT_FOUND') return { kind: 'empty', detail: `${nothingNew}, and no unsent article at all` };
      throw error;
    }
  } catch (error) {
    // Whatever stops the build (a template that does not render, a pattern with an unknown placeholder, a store
    // error) is this slot's outcome: recorded, shown, retried by the operator; never a campaign that cannot send.
    return { kind: 'failed', detail: `the issue could not be built: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Looks at every schedule's slots up to now and acts on each exactly once. */
export async function runDueSlots(deps: SchedulerDeps): Promise<SlotOutcome[]> {
  const clock = deps.clock ?? (() => new Date());
  const log = deps.log ?? (() => undefined);
  const outcomes: SlotOutcome[] = [];
  for (const schedule of await deps.stores.schedules.listSchedules()) {
    const newsletter = await deps.stores.newsletters.getNewsletter(schedule.newsletterId);
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
          if (await deps.stores.schedules.recordSlotWithoutCampaign(newsletter.id, slotAt, 'skipped-missed', detail)) {
            log(`schedule ${newsletter.slug}: slot ${slotAt} skipped: ${detail}`);
            outcomes.push({ newsletter: newsletter.slug, slotAt, outcome: 'skipped-missed', detail });
          }
          continue;
        }
        const slot = await composeForSlot(deps, newsletter, schedule.emptyPolicy, now);
        if (slot.kind !== 'issue') {
          const outcome = slot.kind === 'empty' ? 'skipped-empty' : 'failed';
          if (await deps.stores.schedules.recordSlotWithoutCampaign(newsletter.id, slotAt, outcome, slot.detail)) {
            log(`schedule ${newsletter.slug}: slot ${slotAt} ${outcome === 'failed' ? `failed (retry: npx mailroom schedule retry ${newsletter.slug} ${slotAt})` : 'skipped'}: ${slot.detail}`);
            outcomes.push({ newsletter: newsletter.slug, slotAt, outcome, detail: slot.detail });
          }
          continue;
        }
        const created = await deps.stores.schedules.createSlotCampaign({ newsletterId: newsletter.id, listId: newsletter.listId, slotAt, issue: slot.composed.input });
        if (!created) {
          outcomes.push({ newsletter: newsletter.slug, slotAt, outcome: 'taken' });
          continue;
        }
        log(`schedule ${newsletter.slug}: slot ${slotAt}: campaign ${created.campaign.id}, issue #${created.issue.number}, ${created.recipients} recipient(s)`);
        outcomes.push({ newsletter: newsletter.slug, slotAt, outcome: 'campaign', campaignId: created.campaign.id, recipients: created.recipients });
      }
      await deps.stores.schedules.advanceSchedule(newsletter.id, now.toISOString());
    } catch (error) {
      log(`schedule ${newsletter.slug}: ${(error as Error).message}`);
    }
  }
  return outcomes;
}

export interface RetriedSlot {
  readonly slotAt: string;
  readonly campaignId: number;
  readonly issueNumber: number;
  readonly recipients: number;
}

/**
 * `schedule retry`: builds the issue of a failed slot (the latest one unless `slotAt` names it) now and creates its
 * campaign, once: the slot turns from failed into campaign in the same transaction, so racing retries make one
 * campaign. A build that fails again keeps the slot failed with the new reason; nothing new to send resolves it
 * as skipped. Every refusal names the newsletter, the slot and why.
 */
export async function retryFailedSlot(deps: SchedulerDeps, newsletter: Newsletter, slotAt?: string): Promise<RetriedSlot> {
  const { stores } = deps;
  const now = (deps.clock ?? (() => new Date()))();
  const where = `schedule retry ${newsletter.slug}${slotAt ? ` ${slotAt}` : ''}`;
  const slot = slotAt ? await stores.schedules.findSlot(newsletter.id, slotAt) : ((await stores.schedules.listFailedSlots({ newsletterId: newsletter.id, limit: 1 }))[0] ?? null);
  if (!slot) {
    throw new MailroomError('NOT_FOUND', slotAt ? `${where}: the schedule has no such slot (see: npx mailroom schedule list)` : `${where}: no failed slot to retry (see: npx mailroom schedule list)`);
  }
  const named = `schedule retry ${newsletter.slug} ${slot.slotAt}`;
  const refuse = (current: { outcome: string; campaignId: number | null; detail: string }): never => {
    if (current.outcome === 'campaign') throw new MailroomError('CONFLICT', `${named}: this slot already produced campaign ${current.campaignId ?? '?'} (see: npx mailroom campaigns show ${current.campaignId ?? ''})`.trimEnd());
    throw new MailroomError('CONFLICT', `${named}: this slot was ${current.outcome} (${current.detail}), not failed; only a failed slot can be retried`);
  };
  if (slot.outcome !== 'failed') refuse(slot);
  const schedule = (await stores.schedules.listSchedules()).find((s) => s.newsletterId === newsletter.id);
  const built = await composeForSlot(deps, newsletter, schedule?.emptyPolicy ?? 'skip', now);
  if (built.kind === 'issue') {
    const created = await stores.schedules.retrySlotCampaign({ newsletterId: newsletter.id, listId: newsletter.listId, slotAt: slot.slotAt, issue: built.composed.input });
    if (created) return { slotAt: slot.slotAt, campaignId: created.campaign.id, issueNumber: created.issue.number, recipients: created.recipients };
  } else if (built.kind === 'failed') {
    if (await stores.schedules.updateFailedSlot(newsletter.id, slot.slotAt, built.detail)) throw new MailroomError('TEMPLATE', `${named}: ${built.detail}; the slot stays failed`);
  } else if (await stores.schedules.updateFailedSlot(newsletter.id, slot.slotAt, built.detail, 'skipped-empty')) {
    throw new MailroomError('NOT_FOUND', `${named}: nothing to send (${built.detail}); the slot is now recorded as skipped`);
  }
  // Another retry got there first.
  const current = await stores.schedules.findSlot(newsletter.id, slot.slotAt);
  return refuse(current ?? { outcome: 'gone', campaignId: null, detail: 'removed with its schedule' });
}
