/** Who a campaign may mail: the recipient rules shared by recipient counting (AudienceStore) and fixing a campaign's recipients (campaign-store.ts). */
import { sql, type Kysely } from 'kysely';
import { isPostgres } from './dialect.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

/**
 * Send states in which a person has an issue from a campaign, or will, or may have: accepted, in flight, still queued
 * there, or flagged as a possible duplicate after a crash. A failure or a skip is not a receipt.
 */
export const RECEIPT_STATUSES = ['sent', 'sending', 'pending', 'deferred'] as const;

/**
 * The rule "nobody receives the same issue twice", as a where-clause on a subscriber id column: they have the issue
 * (see RECEIPT_STATUSES) from a campaign of it other than `exceptCampaignId`. Walks the issue's few campaigns by
 * `campaigns_issue`, then each one's send row by its primary key.
 */
export function receivedIssueElsewhere(issueId: number, exceptCampaignId: number, subscriberColumn: 's.id' | 'sends.subscriber_id') {
  return sql<boolean>`EXISTS (SELECT 1 FROM campaigns AS rc INNER JOIN sends AS rs ON rs.campaign_id = rc.id
    WHERE rc.issue_id = ${issueId} AND rc.id <> ${exceptCampaignId} AND rs.subscriber_id = ${sql.ref(subscriberColumn)}
      AND (rs.status IN (${sql.join(RECEIPT_STATUSES.map((status) => sql.lit(status)))}) OR rs.possible_duplicate = 1))`;
}

/** Who may be mailed a campaign to this list right now: active, subscribed members whose address is not suppressed. */
export function mailableMembers(db: Db, listId: number) {
  return db
    .selectFrom('list_memberships as m')
    .innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
    .where('m.list_id', '=', listId)
    .where('m.status', '=', 'subscribed')
    .where('s.status', '=', 'active')
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('suppressions as x').select(sql<number>`1`.as('one')).whereRef('x.email', '=', 's.email'))))
    .where(notDomainSuppressed(db, 's.email'));
}

/**
 * The address is not in a domain the operator suppressed (`mailroom suppress add @domain`, table from migration
 * 2026-12-04-deliv-bounces): one primary-key lookup of the address's domain (a LIKE per suppressed domain cost ×6.8 at
 * 200 domains: scripts/measure-domain-suppression.ts).
 */
export function notDomainSuppressed(db: Db, column: 's.email' | 'sends.email') {
  // The address's domain: what follows its first @ (instr on SQLite, strpos on Postgres).
  const at = isPostgres(db) ? sql`strpos(${sql.ref(column)}, '@')` : sql`instr(${sql.ref(column)}, '@')`;
  return sql<boolean>`NOT EXISTS (SELECT 1 FROM suppressed_domains AS xd WHERE xd.domain = substr(${sql.ref(column)}, ${at} + 1))`;
}

/** What fixing a campaign's recipients did. */
