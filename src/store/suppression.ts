/** Suppression keys and writes shared by the stores: the address hash, and suppressing inside a caller's transaction. */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { SubscriberStatus, SuppressionReason } from '../core/domain.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

/** sha256 of a normalized address: how suppressions are keyed, so an erased person can stay suppressed without their address. */
export function hashEmail(email: string): string {
  return createHash('sha256').update(email).digest('hex');
}

/** Suppression inside a caller's transaction; a hard bounce or a complaint also changes the subscriber's status. */
export async function suppressIn(trx: Db, email: string, reason: SuppressionReason, detail: string, now: string): Promise<void> {
  await trx
    .insertInto('suppressions')
    .values({ email_hash: hashEmail(email), email, reason, detail, created_at: now })
    .onConflict((oc) => oc.column('email_hash').doNothing())
    .execute();
  const status: SubscriberStatus | null = reason === 'hard-bounce' ? 'bounced' : reason === 'complaint' ? 'complained' : null;
  if (status) await trx.updateTable('subscribers').set({ status, updated_at: now }).where('email', '=', email).execute();
}
