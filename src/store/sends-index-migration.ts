/**
 * Migration 2026-12-07-workers-drop-sends-status (Postgres only): `sends_status (campaign_id, status)` is a prefix of
 * `sends_due (campaign_id, status, subscriber_id)`, which serves every query it served. Each send row is inserted once
 * (recipients fixed) and changes status twice (claim, outcome), so one index fewer is one index write fewer each time.
 * SQLite has no sends_due and keeps sends_status.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { isPostgres } from './dialect.ts';

export const dropRedundantSendsStatusIndex: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    if (!isPostgres(db)) return;
    await sql`DROP INDEX IF EXISTS sends_status`.execute(db);
  },
};
