/** Campaigns and their sends: creating them with their recipients, operator control, and the sending engine's port (CampaignStore), leases included. */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Campaign, CampaignStatus, PauseReason, RelayFault, SendCounts, SendRow, SendStatus } from '../core/domain.ts';
import { SEND_STATUSES } from '../core/domain.ts';
import { isPostgres } from './dialect.ts';
import { ReusableQuery } from './compiled-query.ts';
import { recordSentRows } from './sent-outcomes.ts';
import type { CampaignStore, DueRecipient, InFlightPolicy, SendOutcome } from '../sending/ports.ts';
import type { CampaignsTable, Database } from './schema.ts';
import { SqlAggregateStore } from './store-base.ts';
import { BatchedWrites } from './batched-write.ts';
import { suppressIn } from './suppression.ts';
import { mailableMembers, notDomainSuppressed, receivedIssueElsewhere } from './recipient-rules.ts';
import { skipReasonOf, toCampaign, toDueRecipient, toSendRow } from './rows.ts';
import type { FixedRecipients } from './store-types.ts';
import { refreshStatisticsAfterBulkWrite } from './statistics.ts';

type Db = Kysely<Database>;

export class SqlCampaignStore extends SqlAggregateStore implements CampaignStore {
  /** Claims and outcomes asked for in the same synchronous turn share one commit (batched-write.ts). */
  private readonly writes = new BatchedWrites(this.db);
  /** Counts send rows off the event loop (a SQLite file: sqlite-send-counter.ts); absent, the query runs here. */
  private readonly countOffLoop: ((campaignId: number) => Promise<SendCounts>) | null;

  constructor(db: Db, clock?: () => Date, countOffLoop: ((campaignId: number) => Promise<SendCounts>) | null = null) {
    super(db, clock);
    this.countOffLoop = countOffLoop;
  }

  private batchedWrite<T>(work: (trx: Db) => Promise<T>): Promise<T> {
    return this.writes.run(work);
  }

  // --------------------------------------------------------------- campaigns

  /** Creates a campaign and fixes its recipients now, in one transaction. `resend`: also to members who already received the issue. */
  async createCampaign(input: { issueId: number; newsletterId: number; listId: number; resend?: boolean }): Promise<{ campaign: Campaign } & FixedRecipients> {
    const created = await this.tx(async (trx) => {
      const now = this.now();
      const row = await insertCampaign(trx, input, now);
      const fixed = await fixRecipients(trx, { id: row.id, listId: input.listId, issueId: input.issueId, resend: input.resend ?? false }, now);
      return { campaign: toCampaign(row), ...fixed };
    });
    await refreshStatisticsAfterBulkWrite(this.db, ['sends'], created.recipients);
    return created;
  }

  /** A one-off campaign that starts at `scheduledAt`; its recipients are fixed when it starts. */
  async scheduleCampaign(input: { issueId: number; newsletterId: number; listId: number; scheduledAt: string; resend?: boolean }): Promise<Campaign> {
    const row = await insertCampaign(this.db, input, this.now());
    return toCampaign(row);
  }

  /** Starts a scheduled campaign that is due: fixes its recipients (by the same rules as a campaign sent now) and moves it to sending, once. Null if it was not due or already started. */
  async startScheduledCampaign(campaignId: number, now: string): Promise<FixedRecipients | null> {
    const started = await this.tx(async (trx) => {
      const updated = await trx
        .updateTable('campaigns')
        .set({ status: 'sending', started_at: now })
        .where('id', '=', campaignId)
        .where('status', '=', 'scheduled')
        .where('scheduled_at', '<=', now)
        .returning(['list_id', 'issue_id', 'resend'])
        .executeTakeFirst();
      if (!updated) return null;
      return fixRecipients(trx, { id: campaignId, listId: updated.list_id, issueId: updated.issue_id, resend: updated.resend === 1 }, now);
    });
    if (started) await refreshStatisticsAfterBulkWrite(this.db, ['sends'], started.recipients);
    return started;
  }

  /** When this newsletter last went out: the start of its newest campaign that sent anything. */
  async lastSentAt(newsletterId: number): Promise<string | null> {
    const row = await this.db
      .selectFrom('campaigns')
      .select(sql<string | null>`max(started_at)`.as('at'))
      .where('newsletter_id', '=', newsletterId)
      .where('status', 'in', ['sending', 'sent', 'paused'])
      .executeTakeFirst();
    return row?.at ?? null;
  }

  async getCampaign(id: number): Promise<Campaign | null> {
    const row = await this.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toCampaign(row) : null;
  }

  async listCampaigns(options: { status?: CampaignStatus; limit?: number } = {}): Promise<Campaign[]> {
    let query = this.db.selectFrom('campaigns').selectAll();
    if (options.status) query = query.where('status', '=', options.status);
    const rows = await query.orderBy('id', 'desc').limit(options.limit ?? 50).execute();
    return rows.map(toCampaign);
  }

  /** Campaigns a runner should pick up now: sending with no live lease, scheduled and due, or paused by SMTP trouble and due for a retry. */
  async listRunnableCampaigns(now: string): Promise<Campaign[]> {
    const rows = await this.db
      .selectFrom('campaigns')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([
            eb('status', '=', 'sending'),
            eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]),
            // Something to do now: rows pending, due, or left in flight, or no deferred row left (only the final status to write).
            eb.or([
              eb.exists(
                eb
                  .selectFrom('sends')
                  .select(sql<number>`1`.as('one'))
                  .whereRef('sends.campaign_id', '=', 'campaigns.id')
                  .where((w) => w.or([w('sends.status', 'in', ['pending', 'sending']), w.and([w('sends.status', '=', 'deferred'), w('sends.next_attempt_at', '<=', now)])])),
              ),
              eb.not(eb.exists(eb.selectFrom('sends').select(sql<number>`1`.as('one')).whereRef('sends.campaign_id', '=', 'campaigns.id').where('sends.status', '=', 'deferred'))),
            ]),
          ]),
          eb.and([eb('status', '=', 'scheduled'), eb('scheduled_at', '<=', now)]),
          eb.and([eb('status', '=', 'paused'), eb('pause_reason', '=', 'smtp'), eb('resume_after', '<=', now)]),
        ]),
      )
      .orderBy('id')
      .execute();
    return rows.map(toCampaign);
  }

  async listSends(campaignId: number, options: { status?: SendStatus; possibleDuplicate?: boolean; limit?: number; offset?: number } = {}): Promise<SendRow[]> {
    let query = this.db.selectFrom('sends').selectAll().where('campaign_id', '=', campaignId);
    if (options.status) query = query.where('status', '=', options.status);
    if (options.possibleDuplicate) query = query.where('possible_duplicate', '=', 1);
    const rows = await query.orderBy('subscriber_id').limit(options.limit ?? 1000).offset(options.offset ?? 0).execute();
    return rows.map(toSendRow);
  }

  /** Messages accepted since `since`, for the current rate. */
  async countSentSince(campaignId: number, since: string): Promise<number> {
    const row = await this.db
      .selectFrom('sends')
      .select(sql<number>`count(*)`.as('n'))
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'sent')
      .where('updated_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Operator control: pause (the runner stops after the messages in flight), resume, cancel, retry the failed rows. */
  async pauseCampaign(campaignId: number): Promise<void> {
    await this.db.updateTable('campaigns').set({ status: 'paused', pause_reason: 'operator', resume_after: null }).where('id', '=', campaignId).where('status', 'in', ['sending', 'scheduled', 'paused']).execute();
  }

  async resumeCampaignStatus(campaignId: number, now: string): Promise<void> {
    await this.tx(async (trx) => {
      const row = await trx.selectFrom('campaigns').select(['started_at']).where('id', '=', campaignId).executeTakeFirst();
      await trx
        .updateTable('campaigns')
        .set({ status: row?.started_at ? 'sending' : 'scheduled', pause_reason: null, relay_fault: null, resume_after: null, last_error: null, finished_at: null })
        .where('id', '=', campaignId)
        .where('status', 'in', ['paused', 'failed'])
        .execute();
    });
  }

  /** Cancels a campaign: rows not yet sent are skipped with the reason; nothing more goes out. */
  async cancelCampaign(campaignId: number, now: string): Promise<number> {
    return this.tx(async (trx) => {
      await trx.updateTable('campaigns').set({ status: 'cancelled', finished_at: now, pause_reason: null, relay_fault: null, resume_after: null }).where('id', '=', campaignId).execute();
      const result = await trx
        .updateTable('sends')
        .set({ status: 'skipped', error: 'campaign cancelled', next_attempt_at: null, updated_at: now })
        .where('campaign_id', '=', campaignId)
        .where('status', 'in', ['pending', 'deferred'])
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  /**
   * Failed rows whose address may still be mailed go back to pending, and the campaign sends again; never a row whose
   * subscriber has received the issue in another campaign meanwhile (unless the campaign was made with `resend`).
   * Returns how many were queued again, and how many were left failed for that reason.
   */
  async retryFailed(campaignId: number, now: string): Promise<{ requeued: number; receivedElsewhere: number }> {
    return this.tx(async (trx) => {
      const campaign = await trx.selectFrom('campaigns').select(['issue_id', 'resend']).where('id', '=', campaignId).executeTakeFirst();
      if (!campaign) return { requeued: 0, receivedElsewhere: 0 };
      const failed = () =>
        trx
          .updateTable('sends')
          .where('campaign_id', '=', campaignId)
          .where('status', '=', 'failed')
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('suppressions as x').select(sql<number>`1`.as('one')).whereRef('x.email', '=', 'sends.email'))));
      let receivedElsewhere = 0;
      let query = failed();
      if (campaign.resend !== 1) {
        const held = await trx
          .selectFrom('sends')
          .select(sql<number>`count(*)`.as('n'))
          .where('campaign_id', '=', campaignId)
          .where('status', '=', 'failed')
          .where(receivedIssueElsewhere(campaign.issue_id, campaignId, 'sends.subscriber_id'))
          .executeTakeFirstOrThrow();
        receivedElsewhere = Number(held.n);
        query = query.where(({ not }) => not(receivedIssueElsewhere(campaign.issue_id, campaignId, 'sends.subscriber_id')));
      }
      const result = await query.set({ status: 'pending', attempts: 0, first_attempt_at: null, next_attempt_at: null, error: null, updated_at: now }).executeTakeFirst();
      const requeued = Number(result.numUpdatedRows);
      if (requeued > 0) {
        await trx.updateTable('campaigns').set({ status: 'sending', finished_at: null, pause_reason: null, relay_fault: null, resume_after: null }).where('id', '=', campaignId).execute();
      }
      return { requeued, receivedElsewhere };
    });
  }

  // ----------------------------------------------------- CampaignStore (engine)

  async acquireLease(campaignId: number, owner: string, until: string, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable('campaigns')
      .set({ lease_owner: owner, lease_expires_at: until })
      .where('id', '=', campaignId)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_expires_at', '<', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async releaseLease(campaignId: number, owner: string): Promise<void> {
    await this.db.updateTable('campaigns').set({ lease_owner: null, lease_expires_at: null }).where('id', '=', campaignId).where('lease_owner', '=', owner).execute();
  }

  async leaseHolder(campaignId: number, now: string): Promise<{ owner: string; expiresAt: string | null } | null> {
    const row = await this.db.selectFrom('campaigns').select(['lease_owner', 'lease_expires_at']).where('id', '=', campaignId).executeTakeFirst();
    if (!row?.lease_owner || (row.lease_expires_at !== null && row.lease_expires_at < now)) return null;
    return { owner: row.lease_owner, expiresAt: row.lease_expires_at };
  }

  async takeOverLease(campaignId: number, from: string, owner: string, until: string): Promise<boolean> {
    const result = await this.db.updateTable('campaigns').set({ lease_owner: owner, lease_expires_at: until }).where('id', '=', campaignId).where('lease_owner', '=', from).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async campaignStatus(campaignId: number): Promise<CampaignStatus | null> {
    const row = await this.db.selectFrom('campaigns').select('status').where('id', '=', campaignId).executeTakeFirst();
    return row ? (row.status as CampaignStatus) : null;
  }

  /**
   * The next due rows: pending ones, and deferred ones whose time has come, lowest subscriber first. Two queries, one
   * per status, each walking its index in order, so a batch costs the same at the end of a million-row campaign as at
   * its start (one query with an OR walked every row already sent). SQLite: in rowid order, which is subscriber
   * order (rows are inserted so); Postgres: by the (campaign_id, status, subscriber_id) index.
   */
  async listDueRecipients(campaignId: number, limit: number, now: string): Promise<DueRecipient[]> {
    const due = (status: 'pending' | 'deferred') => {
      let query = this.db
        .selectFrom('sends')
        .innerJoin('campaigns', 'campaigns.id', 'sends.campaign_id')
        .leftJoin('subscribers', 'subscribers.id', 'sends.subscriber_id')
        .leftJoin('list_memberships', (join) => join.onRef('list_memberships.subscriber_id', '=', 'sends.subscriber_id').onRef('list_memberships.list_id', '=', 'campaigns.list_id'))
        .leftJoin('suppressions', 'suppressions.email', 'sends.email')
        .select([
          'sends.subscriber_id',
          'sends.email',
          'sends.attempts',
          'sends.first_attempt_at',
          'subscribers.name',
          'subscribers.first_name',
          'subscribers.last_name',
          'subscribers.attributes',
          'subscribers.status as subscriber_status',
          'list_memberships.status as membership_status',
          'suppressions.reason as suppression_reason',
        ])
        .where('sends.campaign_id', '=', campaignId)
        .where('sends.status', '=', sql.lit(status));
      if (status === 'deferred') query = query.where('sends.next_attempt_at', '<=', now);
      return query
        .orderBy(isPostgres(this.db) ? sql`sends.subscriber_id` : sql`sends.rowid`)
        .limit(limit)
        .execute();
    };
    const pending = await due('pending');
    const deferred = await due('deferred');
    const rows = deferred.length === 0 ? pending : [...pending, ...deferred].sort((x, y) => x.subscriber_id - y.subscriber_id).slice(0, limit);
    return rows.map(toDueRecipient);
  }

  /**
   * The claim, built once per store (see compiled-query.ts). The eligibility check and the claim are one statement: an
   * unsubscribe that committed first always wins.
   *
   * Fixed statuses in the hot statements' WHERE are SQL literals (sql.lit), not bound values: SQLite re-prepares a
   * statement each time a value is bound to a parameter that could decide whether a partial index applies (sends has
   * one on status = 'failed', list_memberships one on status = 'pending'), which made each claim cost about ten times
   * its work.
   */
  private readonly claimQuery = new ReusableQuery<{ now: string; campaignId: number; subscriberId: number; worker: string | null }>((arg) =>
    this.db
      .updateTable('sends')
      .set({ status: 'sending', updated_at: arg('now'), worker: arg('worker') })
      .where('campaign_id', '=', arg('campaignId'))
      .where('subscriber_id', '=', arg('subscriberId'))
      .where('status', 'in', [sql.lit('pending'), sql.lit('deferred')])
      .where(({ exists, not, selectFrom, and }) =>
        and([
          exists(
            selectFrom('subscribers as s')
              .innerJoin('campaigns as c', 'c.id', 'sends.campaign_id')
              .innerJoin('list_memberships as m', (join) => join.onRef('m.subscriber_id', '=', 's.id').onRef('m.list_id', '=', 'c.list_id'))
              .select(sql<number>`1`.as('one'))
              .whereRef('s.id', '=', 'sends.subscriber_id')
              .where('s.status', '=', sql.lit('active'))
              .where('m.status', '=', sql.lit('subscribed')),
          ),
          not(exists(selectFrom('suppressions as x').select(sql<number>`1`.as('one')).whereRef('x.email', '=', 'sends.email'))),
          notDomainSuppressed(this.db, 'sends.email'),
        ]),
      ),
  );

  async claimForSending(campaignId: number, subscriberIds: readonly number[], now: string, worker: string | null = null): Promise<Map<number, string | null>> {
    const claims = new Map<number, string | null>();
    if (subscriberIds.length === 0) return claims;
    await this.batchedWrite(async (trx) => {
      for (const subscriberId of subscriberIds) {
        const result = await this.claimQuery.execute(trx, { now, campaignId, subscriberId, worker });
        if (Number(result.numAffectedRows ?? 0) > 0) {
          claims.set(subscriberId, null);
          continue;
        }
        const why = await trx
          .selectFrom('sends')
          .innerJoin('campaigns', 'campaigns.id', 'sends.campaign_id')
          .leftJoin('subscribers', 'subscribers.id', 'sends.subscriber_id')
          .leftJoin('list_memberships', (join) => join.onRef('list_memberships.subscriber_id', '=', 'sends.subscriber_id').onRef('list_memberships.list_id', '=', 'campaigns.list_id'))
          .leftJoin('suppressions', 'suppressions.email', 'sends.email')
          .select(['sends.status', 'subscribers.status as subscriber_status', 'list_memberships.status as membership_status', 'suppressions.reason as suppression_reason'])
          .where('sends.campaign_id', '=', campaignId)
          .where('sends.subscriber_id', '=', subscriberId)
          .executeTakeFirst();
        if (!why || (why.status !== 'pending' && why.status !== 'deferred')) claims.set(subscriberId, 'no longer pending');
        else claims.set(subscriberId, skipReasonOf(why.subscriber_status, why.membership_status, why.suppression_reason) ?? 'not mailable');
      }
    });
    return claims;
  }

  /**
   * The statements recordOutcomes runs per message, built once per store (see compiled-query.ts): the same Kysely
   * query for every dialect, without building and compiling it per message.
   */
  private readonly outcomeQueries = {
    /** failed and deferred: `status` is one of them; next_attempt_at is null for failed. */
    unsent: new ReusableQuery<{ status: 'failed' | 'deferred'; now: string; smtpResponse: string | null; error: string; nextAttemptAt: string | null; campaignId: number; subscriberId: number; worker: string | null }>((arg) =>
      this.db
        .updateTable('sends')
        .set((eb) => ({
          status: arg('status'),
          attempts: eb('attempts', '+', 1),
          first_attempt_at: eb.fn.coalesce('first_attempt_at', sql<string>`${arg('now')}`),
          smtp_response: arg('smtpResponse'),
          error: arg('error'),
          next_attempt_at: arg('nextAttemptAt'),
          updated_at: arg('now'),
        }))
        .where('campaign_id', '=', arg('campaignId'))
        .where('subscriber_id', '=', arg('subscriberId'))
        .where('status', '=', sql.lit('sending'))
        .where(claimedBy(arg('worker'))),
    ),
    skipped: new ReusableQuery<{ error: string; now: string; campaignId: number; subscriberId: number; worker: string | null }>((arg) =>
      this.db
        .updateTable('sends')
        .set({ status: 'skipped', error: arg('error'), next_attempt_at: null, updated_at: arg('now') })
        .where('campaign_id', '=', arg('campaignId'))
        .where('subscriber_id', '=', arg('subscriberId'))
        .where('status', 'in', [sql.lit('pending'), sql.lit('deferred'), sql.lit('sending')])
        .where(sql<boolean>`(status <> 'sending' OR ${claimedBy(arg('worker'))})`),
    ),
    released: new ReusableQuery<{ now: string; campaignId: number; subscriberId: number; worker: string | null }>((arg) =>
      this.db
        .updateTable('sends')
        .set({ status: 'pending', updated_at: arg('now') })
        .where('campaign_id', '=', arg('campaignId'))
        .where('subscriber_id', '=', arg('subscriberId'))
        .where('status', '=', sql.lit('sending'))
        .where(claimedBy(arg('worker'))),
    ),
  };

  /**
   * `worker`: who sends them. A row is moved only while it is still that worker's claim: a late answer (its claim ran
   * out and another worker took the row back and claimed it) leaves the other worker's row alone; the row was flagged
   * a possible duplicate when it was taken back. Null: whoever holds the claim.
   */
  async recordOutcomes(campaignId: number, outcomes: readonly SendOutcome[], now: string, worker: string | null = null): Promise<void> {
    if (outcomes.length === 0) return;
    const q = this.outcomeQueries;
    // Every `sent` outcome of the group in one statement (sent-outcomes.ts); on Postgres, when that is all there is,
    // without a transaction around it (one statement is atomic): one round trip for the tick instead of two plus one a message.
    const sent = outcomes.flatMap((o) => (o.status === 'sent' ? [{ subscriberId: o.subscriberId, smtpResponse: o.smtpResponse, messageId: o.messageId }] : []));
    if (sent.length === outcomes.length && isPostgres(this.db)) return recordSentRows(this.db, campaignId, sent, now, worker);
    await this.batchedWrite(async (trx) => {
      if (sent.length > 0) await recordSentRows(trx, campaignId, sent, now, worker);
      for (const outcome of outcomes) {
        const key = { campaignId, subscriberId: outcome.subscriberId, worker };
        switch (outcome.status) {
          case 'sent':
            break; // above, with the group's others
          case 'failed': {
            await q.unsent.execute(trx, { ...key, status: 'failed', now, smtpResponse: outcome.smtpResponse, error: outcome.error, nextAttemptAt: null });
            if (outcome.suppress) {
              const sendRow = await trx.selectFrom('sends').select('email').where('campaign_id', '=', campaignId).where('subscriber_id', '=', outcome.subscriberId).executeTakeFirst();
              if (sendRow) await suppressIn(trx, sendRow.email, outcome.suppress, outcome.smtpResponse ?? outcome.error, now);
            }
            break;
          }
          case 'deferred':
            await q.unsent.execute(trx, { ...key, status: 'deferred', now, smtpResponse: outcome.smtpResponse, error: outcome.error, nextAttemptAt: outcome.nextAttemptAt });
            break;
          case 'skipped':
            await q.skipped.execute(trx, { ...key, error: outcome.error, now });
            break;
          case 'released':
            await q.released.execute(trx, { ...key, now });
            break;
        }
      }
    });
  }

  async releaseInFlight(campaignId: number, policy: InFlightPolicy, now: string): Promise<string[]> {
    return this.tx(async (trx) => {
      const rows = await trx.selectFrom('sends').select('email').where('campaign_id', '=', campaignId).where('status', '=', 'sending').orderBy('subscriber_id').execute();
      if (rows.length > 0) {
        await trx
          .updateTable('sends')
          .set(
            policy === 'resend'
              ? { status: 'pending', possible_duplicate: 1, error: 'was in flight when the sender stopped; sent again, so it may have arrived twice', updated_at: now }
              : { status: 'failed', possible_duplicate: 1, error: 'held for review: was in flight when the sender stopped and may have been delivered (campaigns retry-failed sends it again)', updated_at: now },
          )
          .where('campaign_id', '=', campaignId)
          .where('status', '=', 'sending')
          .execute();
      }
      return rows.map((r) => r.email);
    });
  }

  async nextDeferredAt(campaignId: number): Promise<string | null> {
    const row = await this.db
      .selectFrom('sends')
      .select(sql<string | null>`min(next_attempt_at)`.as('at'))
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'deferred')
      .executeTakeFirst();
    return row?.at ?? null;
  }

  /**
   * A campaign's send rows by status. On a SQLite file the count runs on a worker thread with its own read-only
   * connection: better-sqlite3 counts synchronously, and a million rows would hold the event loop (every request,
   * the sender) for a few hundred milliseconds. It sees what is committed, as a count here would.
   */
  async countSends(campaignId: number): Promise<SendCounts> {
    if (this.countOffLoop) return this.countOffLoop(campaignId);
    const rows = await this.db.selectFrom('sends').select(['status', sql<number>`count(*)`.as('n')]).where('campaign_id', '=', campaignId).groupBy('status').execute();
    const counts = Object.fromEntries(SEND_STATUSES.map((s) => [s, 0])) as Record<SendStatus, number>;
    for (const r of rows) counts[r.status as SendStatus] = Number(r.n);
    return counts;
  }

  async setCampaignStatus(
    campaignId: number,
    status: CampaignStatus,
    fields: { error?: string | null; at?: string; pauseReason?: PauseReason | null; resumeAfter?: string | null; relayFault?: RelayFault | null } = {},
  ): Promise<void> {
    const at = fields.at ?? this.now();
    const finished = status === 'sent' || status === 'failed' || status === 'cancelled';
    await this.db
      .updateTable('campaigns')
      .set((eb) => ({
        status,
        ...(fields.error !== undefined ? { last_error: fields.error } : {}),
        finished_at: finished ? at : null,
        started_at: status === 'sending' ? eb.fn.coalesce('started_at', sql<string>`${at}`) : eb.ref('started_at'),
        pause_reason: status === 'paused' ? (fields.pauseReason ?? 'operator') : null,
        resume_after: status === 'paused' ? (fields.resumeAfter ?? null) : null,
        relay_fault: status === 'paused' && fields.pauseReason === 'smtp' ? (fields.relayFault ?? null) : null,
      }))
      .where('id', '=', campaignId)
      .execute();
  }
}

export async function insertCampaign(trx: Db, input: { issueId: number; newsletterId: number; listId: number; scheduledAt?: string | null; resend?: boolean }, now: string): Promise<Selectable<CampaignsTable>> {
  const scheduled = input.scheduledAt != null;
  return trx
    .insertInto('campaigns')
    .values({
      issue_id: input.issueId,
      newsletter_id: input.newsletterId,
      list_id: input.listId,
      status: scheduled ? 'scheduled' : 'sending',
      created_at: now,
      scheduled_at: input.scheduledAt ?? null,
      started_at: scheduled ? null : now,
      finished_at: null,
      last_error: null,
      lease_owner: null,
      lease_expires_at: null,
      pause_reason: null,
      relay_fault: null,
      resume_after: null,
      resend: input.resend ? 1 : 0,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Fixes a campaign's recipients: one pending send per active, subscribed, unsuppressed member of its list who has
 * not received its issue in an earlier campaign (unless `resend`).
 */
export async function fixRecipients(trx: Db, campaign: { id: number; listId: number; issueId: number; resend: boolean }, now: string): Promise<FixedRecipients> {
  // The rule costs a lookup per member: only when another campaign of this issue exists at all.
  const earlier = campaign.resend
    ? undefined
    : await trx.selectFrom('campaigns').select('id').where('issue_id', '=', campaign.issueId).where('id', '<>', campaign.id).executeTakeFirst();
  let members = mailableMembers(trx, campaign.listId);
  if (earlier) members = members.where(({ not }) => not(receivedIssueElsewhere(campaign.issueId, campaign.id, 's.id')));
  const result = await trx
    .insertInto('sends')
    .columns(['campaign_id', 'subscriber_id', 'email', 'status', 'attempts', 'updated_at'])
    .expression(
      members
        .select([sql<number>`CAST(${campaign.id} AS integer)`.as('campaign_id'), 's.id', 's.email', sql<string>`'pending'`.as('status'), sql<number>`0`.as('attempts'), sql<string>`CAST(${now} AS text)`.as('updated_at')])
        .orderBy('s.id'),
    )
    .executeTakeFirst();
  const recipients = Number(result.numInsertedOrUpdatedRows ?? 0);
  if (!earlier) return { recipients, alreadyReceived: 0 };
  const all = await mailableMembers(trx, campaign.listId).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return { recipients, alreadyReceived: Number(all.n) - recipients };
}

/**
 * The row is `worker`'s claim (the `worker` column a claim sets), or `worker` is null (anyone's). One parameter shape
 * for a reusable statement: the CAST gives Postgres the type of a null argument.
 */
function claimedBy(worker: string | null) {
  return sql<boolean>`coalesce(worker, '') = coalesce(CAST(${worker} AS text), coalesce(worker, ''))`;
}
