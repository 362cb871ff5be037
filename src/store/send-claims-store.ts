/**
 * Row-level claims for many workers on one campaign (Postgres). Each worker claims a small batch of due send rows in
 * one statement (`UPDATE … WHERE (campaign_id, subscriber_id) IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n)`), so two
 * workers never claim the same row and never wait for each other. A claimed row carries the worker's id and a claim
 * lease on the DATABASE's clock; the worker renews its leases while it sends. A worker that dies (kill -9) loses only
 * its claimed rows: once their lease has run out, another worker takes them back under the in-flight policy (pending
 * again, or held as failed), marked as possible duplicates, and reports them.
 *
 * SQLite has one writer: it keeps the single-process claim path (a campaign lease, then one claim per message), and
 * gets only the `worker` column, so `campaigns show` says who sent what there too.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { DueRecipient, InFlightPolicy, SharedSendClaims, WorkerTally } from '../sending/ports.ts';
import { dbNowExpression } from './dialect.ts';
import type { Database } from './schema.ts';
import { toDueRecipient, type DueRow } from './rows.ts';

/** Migration 2026-12-06-workers-send-claims: who claimed (and so sent) each row, and until when the claim holds. */
export const sendClaimsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('sends').addColumn('worker', 'text').execute();
    await db.schema.alterTable('sends').addColumn('claim_expires_at', 'text').execute();
  },
};

export class SqlSendClaims implements SharedSendClaims {
  /** Per campaign and worker: the highest subscriber id it claimed from `pending` (see claimBatch). */
  private readonly frontier = new Map<string, number>();

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Claims up to `limit` due rows for `worker` (pending ones first, in subscriber order; then deferred ones that are
   * due at `now`), each with a claim lease of `leaseMs` on the database's clock, and returns them joined with their
   * subscriber as they are now (`skipReason` set when they may no longer be mailed).
   */
  async claimBatch(campaignId: number, worker: string, limit: number, leaseMs: number, now: string): Promise<DueRecipient[]> {
    // Pending rows past this worker's last claim first: the scan starts at its frontier instead of walking past every
    // row already sent (which made each claim cost O(rows sent): the planner may pick the primary key, in subscriber
    // order, and filter `pending` from the campaign's first row on; its statistics lag a queue that changes this fast).
    // Rows behind the frontier (released, taken back, or skipped while another worker held them) are claimed by the
    // unbounded pass when the bounded one comes back short, so no pending row is left behind.
    const key = `${campaignId}\u0000${worker}`;
    const after = this.frontier.get(key) ?? 0;
    let pending = await this.claim(campaignId, worker, limit, leaseMs, now, sql`s.status = 'pending' AND s.subscriber_id > ${after}`);
    if (pending.length < limit && after > 0) pending = [...pending, ...(await this.claim(campaignId, worker, limit - pending.length, leaseMs, now, sql`s.status = 'pending'`))];
    if (pending.length > 0) this.frontier.set(key, Math.max(after, ...pending.map((r) => r.subscriberId)));
    else this.frontier.delete(key);
    if (pending.length >= limit) return pending;
    const deferred = await this.claim(campaignId, worker, limit - pending.length, leaseMs, now, sql`s.status = 'deferred' AND s.next_attempt_at <= ${now}`);
    return [...pending, ...deferred];
  }

  private async claim(campaignId: number, worker: string, limit: number, leaseMs: number, now: string, which: ReturnType<typeof sql>): Promise<DueRecipient[]> {
    const { rows } = await sql<DueRow>`WITH claimed AS (
        UPDATE sends SET status = 'sending', worker = ${worker}, claim_expires_at = ${dbNowExpression(this.db, leaseMs)}, updated_at = ${now}
        WHERE (campaign_id, subscriber_id) IN (
          SELECT s.campaign_id, s.subscriber_id FROM sends s
          WHERE s.campaign_id = ${campaignId} AND ${which}
          ORDER BY s.subscriber_id
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        RETURNING subscriber_id, email, attempts, first_attempt_at)
      SELECT claimed.subscriber_id, claimed.email, claimed.attempts, claimed.first_attempt_at,
        sub.name, sub.first_name, sub.last_name, sub.attributes, sub.status AS subscriber_status,
        m.status AS membership_status, x.reason AS suppression_reason,
        EXISTS (SELECT 1 FROM suppressed_domains xd WHERE xd.domain = substr(claimed.email, strpos(claimed.email, '@') + 1)) AS domain_suppressed
      FROM claimed
      JOIN campaigns c ON c.id = ${campaignId}
      LEFT JOIN subscribers sub ON sub.id = claimed.subscriber_id
      LEFT JOIN list_memberships m ON m.subscriber_id = claimed.subscriber_id AND m.list_id = c.list_id
      LEFT JOIN suppressions x ON x.email = claimed.email
      ORDER BY claimed.subscriber_id`.execute(this.db);
    return rows.map(toDueRecipient);
  }

  /** Extends the claim lease of every row `worker` holds in the campaign (its heartbeat). */
  async renewClaims(campaignId: number, worker: string, leaseMs: number): Promise<void> {
    await sql`UPDATE sends SET claim_expires_at = ${dbNowExpression(this.db, leaseMs)}
      WHERE campaign_id = ${campaignId} AND status = 'sending' AND worker = ${worker}`.execute(this.db);
  }

  /**
   * Rows whose claim lease ran out (their worker died or lost the database): pending again, marked as possible
   * duplicates (`resend`), or held as failed for review (`hold`). One statement; a row another worker already took
   * back is no longer `sending` when this one re-checks it. A row in `sending` without a claim lease was left by a
   * sender from before shared claims (an upgrade, or the single-process path): it counts as expired. Returns them
   * with the worker that held them.
   */
  async reclaimExpired(campaignId: number, policy: InFlightPolicy, now: string): Promise<{ email: string; worker: string | null }[]> {
    const set =
      policy === 'resend'
        ? sql`status = 'pending', possible_duplicate = 1, error = ${'was in flight when its worker stopped; sent again, so it may have arrived twice'}`
        : sql`status = 'failed', possible_duplicate = 1, error = ${'held for review: was in flight when its worker stopped and may have been delivered (campaigns retry-failed sends it again)'}`;
    const { rows } = await sql<{ email: string; worker: string | null }>`WITH expired AS (
        SELECT campaign_id, subscriber_id, worker FROM sends
        WHERE campaign_id = ${campaignId} AND status = 'sending' AND (claim_expires_at IS NULL OR claim_expires_at < ${dbNowExpression(this.db)})
        FOR UPDATE SKIP LOCKED)
      UPDATE sends SET ${set}, updated_at = ${now}, claim_expires_at = NULL
      FROM expired
      WHERE sends.campaign_id = expired.campaign_id AND sends.subscriber_id = expired.subscriber_id AND sends.status = 'sending'
      RETURNING sends.email, expired.worker`.execute(this.db);
    return rows;
  }

  /** When the earliest claim held by another worker runs out, in ms from now on the database's clock; null when none is held. */
  async msUntilNextClaimExpires(campaignId: number): Promise<number | null> {
    const { rows } = await sql<{ ms: string | number | null }>`SELECT
        EXTRACT(EPOCH FROM (min(claim_expires_at)::timestamptz - clock_timestamp())) * 1000 AS ms
      FROM sends WHERE campaign_id = ${campaignId} AND status = 'sending'`.execute(this.db);
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? null : Math.max(0, Number(ms));
  }
}

/** How many rows each worker sent in a campaign (the `worker` column), most first. Portable SQL. */
export async function workerTallies(db: Kysely<Database>, campaignId: number): Promise<WorkerTally[]> {
  const { rows } = await sql<{ worker: string | null; sent: number | string; sending: number | string }>`SELECT worker,
      sum(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) AS sent,
      sum(CASE WHEN status = 'sending' THEN 1 ELSE 0 END) AS sending
    FROM sends WHERE campaign_id = ${campaignId} AND worker IS NOT NULL
    GROUP BY worker ORDER BY sent DESC, worker`.execute(db);
  return rows.map((r) => ({ worker: r.worker ?? '', sent: Number(r.sent), sending: Number(r.sending) }));
}
