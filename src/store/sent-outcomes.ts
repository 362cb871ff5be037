/**
 * The `sent` outcomes of one write group in ONE statement (`WITH v(…) AS (VALUES …) UPDATE sends … FROM v`), instead of
 * one UPDATE per message: with many connections per worker, a tick's outcomes cost one round trip to the database, not
 * one each. The same statement on SQLite (3.33+ has UPDATE … FROM) and Postgres. A row moves to `sent` only from
 * `sending` (its claim), as the per-row statement did: a row taken back after its claim lease ran out is left alone.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

export interface SentRow {
  readonly subscriberId: number;
  readonly smtpResponse: string;
  readonly messageId: string;
}

/** Rows per statement: far below the bound-parameter limits of both databases (3 parameters a row). */
const CHUNK = 1000;

/** `worker`: only rows still claimed by that worker move (a late answer leaves another worker's claim alone); null: any claim. */
export async function recordSentRows(db: Kysely<Database>, campaignId: number, rows: readonly SentRow[], now: string, worker: string | null = null): Promise<void> {
  const claimedBy = worker === null ? sql`` : sql` AND sends.worker = ${worker}`;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = sql.join(rows.slice(i, i + CHUNK).map((r) => sql`(CAST(${r.subscriberId} AS integer), ${r.smtpResponse}, ${r.messageId})`));
    await sql`WITH v (subscriber_id, smtp_response, message_id) AS (VALUES ${values})
      UPDATE sends SET status = 'sent', attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, ${now}),
        smtp_response = v.smtp_response, message_id = v.message_id, error = NULL, next_attempt_at = NULL, updated_at = ${now}
      FROM v
      WHERE sends.campaign_id = ${campaignId} AND sends.subscriber_id = v.subscriber_id AND sends.status = 'sending'${claimedBy}`.execute(db);
  }
}
