/** Newsletter schedules and their slots (a slot's campaign is created with its issue in one transaction). */
import { type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { SqlAggregateStore } from './store-base.ts';
import { toCampaign, toSchedule, toScheduleSlot } from './rows.ts';
import type { NewsletterSchedule, ScheduleSlot, SlotCampaign, SlotCampaignInput } from './store-types.ts';

import { insertIssue } from './newsletter-store.ts';
import { fixRecipients, insertCampaign } from './campaign-store.ts';
import { refreshStatisticsAfterBulkWrite } from './statistics.ts';
type Db = Kysely<Database>;

export class ScheduleStore extends SqlAggregateStore {
  // --------------------------------------------------------------- schedules

  /** Saves a newsletter's schedule. A new schedule starts counting slots from now; it never backfills the past. */
  async saveSchedule(newsletterId: number, fields: { cron: string; timezone: string; emptyPolicy: 'skip' | 'send' }): Promise<NewsletterSchedule> {
    const now = this.now();
    await this.db
      .insertInto('newsletter_schedules')
      .values({ newsletter_id: newsletterId, cron: fields.cron, timezone: fields.timezone, empty_policy: fields.emptyPolicy, enabled: 1, checked_until: now, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('newsletter_id').doUpdateSet({ cron: fields.cron, timezone: fields.timezone, empty_policy: fields.emptyPolicy, enabled: 1, updated_at: now }))
      .execute();
    const saved = await this.getSchedule(newsletterId);
    if (!saved) throw new Error('schedule vanished after saving');
    return saved;
  }

  async getSchedule(newsletterId: number): Promise<NewsletterSchedule | null> {
    const row = await this.db.selectFrom('newsletter_schedules').selectAll().where('newsletter_id', '=', newsletterId).executeTakeFirst();
    return row ? toSchedule(row) : null;
  }

  async listSchedules(): Promise<NewsletterSchedule[]> {
    const rows = await this.db.selectFrom('newsletter_schedules').selectAll().where('enabled', '=', 1).orderBy('newsletter_id').execute();
    return rows.map(toSchedule);
  }

  async removeSchedule(newsletterId: number): Promise<boolean> {
    const result = await this.db.deleteFrom('newsletter_schedules').where('newsletter_id', '=', newsletterId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Moves a schedule's "looked at until" mark forward (never back). */
  async advanceSchedule(newsletterId: number, checkedUntil: string): Promise<void> {
    await this.db.updateTable('newsletter_schedules').set({ checked_until: checkedUntil }).where('newsletter_id', '=', newsletterId).where('checked_until', '<', checkedUntil).execute();
  }

  // ------------------------------------------------------------------- slots

  /**
   * For a schedule slot: records the slot and, when it is new, stores the issue and creates its campaign with its
   * recipients, all in ONE transaction. The slot's primary key makes this happen once per slot, whatever the number
   * of processes. Returns null when the slot was already handled.
   */
  async createSlotCampaign(input: SlotCampaignInput): Promise<SlotCampaign | null> {
    return this.withFreshStatistics(this.tx(async (trx) => {
      const now = this.now();
      const slot = await trx
        .insertInto('schedule_slots')
        .values({ newsletter_id: input.newsletterId, slot_at: input.slotAt, outcome: 'campaign', campaign_id: null, detail: '', created_at: now })
        .onConflict((oc) => oc.columns(['newsletter_id', 'slot_at']).doNothing())
        .executeTakeFirst();
      if (Number(slot.numInsertedOrUpdatedRows ?? 0) === 0) return null;
      return this.attachSlotCampaign(trx, input, now, '');
    }));
  }

  /**
   * Retries a failed slot: turns it from 'failed' into 'campaign' and stores its issue and campaign, in ONE
   * transaction; the condition on 'failed' makes this happen once, however many retries race. Returns null when the
   * slot is not failed (any more).
   */
  async retrySlotCampaign(input: SlotCampaignInput): Promise<SlotCampaign | null> {
    return this.withFreshStatistics(this.tx(async (trx) => {
      const failed = await trx
        .updateTable('schedule_slots')
        .set({ outcome: 'campaign' })
        .where('newsletter_id', '=', input.newsletterId)
        .where('slot_at', '=', input.slotAt)
        .where('outcome', '=', 'failed')
        .returning(['detail'])
        .executeTakeFirst();
      if (!failed) return null;
      return this.attachSlotCampaign(trx, input, this.now(), ` (retried; it had failed: ${failed.detail})`);
    }));
  }

  /** After the slot's transaction: a campaign of many recipients refreshes the statistics of `sends` (statistics.ts). */
  private async withFreshStatistics(made: Promise<SlotCampaign | null>): Promise<SlotCampaign | null> {
    const campaign = await made;
    if (campaign) await refreshStatisticsAfterBulkWrite(this.db, ['sends'], campaign.recipients);
    return campaign;
  }

  private async attachSlotCampaign(trx: Db, input: SlotCampaignInput, now: string, note: string): Promise<SlotCampaign> {
    const issue = await insertIssue(trx, input.issue, now);
    const row = await insertCampaign(trx, { issueId: issue.id, newsletterId: input.newsletterId, listId: input.listId }, now);
    const { recipients } = await fixRecipients(trx, { id: row.id, listId: input.listId, issueId: issue.id, resend: false }, now);
    await trx.updateTable('schedule_slots').set({ campaign_id: row.id, detail: `issue #${issue.number}${note}` }).where('newsletter_id', '=', input.newsletterId).where('slot_at', '=', input.slotAt).execute();
    return { campaign: toCampaign(row), issue, recipients };
  }

  /**
   * Records a slot that created no campaign: nothing new, missed while down, or its issue could not be built
   * ('failed', with the reason; it can be retried). False when the slot was already handled.
   */
  async recordSlotWithoutCampaign(newsletterId: number, slotAt: string, outcome: 'skipped-empty' | 'skipped-missed' | 'failed', detail: string): Promise<boolean> {
    const result = await this.db
      .insertInto('schedule_slots')
      .values({ newsletter_id: newsletterId, slot_at: slotAt, outcome, campaign_id: null, detail, created_at: this.now() })
      .onConflict((oc) => oc.columns(['newsletter_id', 'slot_at']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /**
   * A retry of a failed slot that made no campaign: it failed again (the slot stays failed, with the new reason), or
   * there was nothing to send (it becomes skipped-empty). False when the slot was no longer failed.
   */
  async updateFailedSlot(newsletterId: number, slotAt: string, detail: string, outcome: 'failed' | 'skipped-empty' = 'failed'): Promise<boolean> {
    const result = await this.db.updateTable('schedule_slots').set({ outcome, detail }).where('newsletter_id', '=', newsletterId).where('slot_at', '=', slotAt).where('outcome', '=', 'failed').executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async listSlots(newsletterId: number, limit = 20): Promise<ScheduleSlot[]> {
    const rows = await this.db.selectFrom('schedule_slots').selectAll().where('newsletter_id', '=', newsletterId).orderBy('slot_at', 'desc').limit(limit).execute();
    return rows.map(toScheduleSlot);
  }

  /** One slot, or null when the schedule never reached it. */
  async findSlot(newsletterId: number, slotAt: string): Promise<ScheduleSlot | null> {
    const row = await this.db.selectFrom('schedule_slots').selectAll().where('newsletter_id', '=', newsletterId).where('slot_at', '=', slotAt).executeTakeFirst();
    return row ? toScheduleSlot(row) : null;
  }

  /** Slots whose issue could not be built and that no retry has turned into a campaign yet, newest first; all newsletters unless one is named. */
  async listFailedSlots(options: { newsletterId?: number; limit?: number } = {}): Promise<ScheduleSlot[]> {
    let query = this.db.selectFrom('schedule_slots').selectAll().where('outcome', '=', 'failed');
    if (options.newsletterId !== undefined) query = query.where('newsletter_id', '=', options.newsletterId);
    const rows = await query.orderBy('created_at', 'desc').orderBy('slot_at', 'desc').limit(options.limit ?? 100).execute();
    return rows.map(toScheduleSlot);
  }

}
