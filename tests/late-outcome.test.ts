/**
 * A worker's late answer never overwrites a row another worker has claimed since. Worker A claims rows; its claim
 * lease runs out (it stalled, or lost the database for a while); worker B takes the rows back (flagged possible
 * duplicates) and claims them. When A's outcomes arrive after all, they must not touch B's rows: B's own outcome is
 * the one recorded. Postgres (shared claims), and SQLite (a campaign taken over by another runner, which claims the
 * rows under its own name).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendOutcome } from '../src/sending/ports.ts';
import { SqlSendClaims } from '../src/store/send-claims-store.ts';
import type { Stores } from '../src/store/open-store.ts';
import { BACKENDS, campaignOf as campaignOfIn, storeForEach } from './store-contract/backends.ts';

describe.each(BACKENDS)('a late outcome on $name', (backend) => {
  describe.skipIf(!backend.available)(`${backend.name}`, () => {
    const opened = storeForEach(backend, beforeAll, afterAll);
    let store: Stores;
    beforeAll(() => {
      store = opened();
    });
    const campaignOf = (name: string, people: number) => campaignOfIn(store, name, people);

    it("leaves a row another worker claimed since alone; that worker's outcome is the one recorded", async () => {
      const id = await campaignOf('late', 4);
      const now = () => new Date().toISOString();
      let ids: number[];
      if (backend.name === 'postgres') {
        const claims = new SqlSendClaims(store.db);
        ids = (await claims.claimBatch(id, 'worker-a', 4, 200, now())).map((r) => r.subscriberId);
        await new Promise((r) => setTimeout(r, 300));
        expect(await claims.reclaimExpired(id, 'resend', now())).toHaveLength(4);
        expect((await claims.claimBatch(id, 'worker-b', 4, 60_000, now())).map((r) => r.subscriberId).sort()).toEqual([...ids].sort());
      } else {
        ids = (await store.campaigns.listDueRecipients(id, 10, now())).map((d) => d.subscriberId);
        await store.campaigns.claimForSending(id, ids, now(), 'worker-a');
        // Another runner takes the campaign over: the rows in flight go back (flagged), and it claims them itself.
        expect(await store.campaigns.releaseInFlight(id, 'resend', now())).toHaveLength(4);
        await store.campaigns.claimForSending(id, ids, now(), 'worker-b');
      }
      const [sentLate, failedLate, deferredLate, skippedLate] = ids as [number, number, number, number];
      // A's answers arrive now: one of each kind.
      const late: SendOutcome[] = [
        { subscriberId: sentLate, status: 'sent', smtpResponse: '250 late', messageId: '<late@a>' },
        { subscriberId: failedLate, status: 'failed', smtpResponse: '550 late', error: 'late failure' },
        { subscriberId: deferredLate, status: 'deferred', smtpResponse: '451 late', error: 'late', nextAttemptAt: new Date(Date.now() + 60_000).toISOString() },
        { subscriberId: skippedLate, status: 'released' },
      ];
      await store.campaigns.recordOutcomes(id, late, now(), 'worker-a');
      expect(await store.campaigns.countSends(id)).toMatchObject({ sending: 4, sent: 0, failed: 0, deferred: 0, pending: 0 });
      // B's answers: all sent.
      await store.campaigns.recordOutcomes(id, ids.map((subscriberId) => ({ subscriberId, status: 'sent' as const, smtpResponse: '250 b', messageId: `<${subscriberId}@b>` })), now(), 'worker-b');
      const rows = await store.campaigns.listSends(id);
      expect(rows.map((r) => [r.status, r.messageId, r.possibleDuplicate])).toEqual(ids.map((i) => ['sent', `<${i}@b>`, true]));
    });

    it('an outcome without a worker (an older caller) is recorded as before', async () => {
      const id = await campaignOf('plain', 1);
      const [due] = await store.campaigns.listDueRecipients(id, 10, new Date().toISOString());
      if (!due) throw new Error('no row');
      await store.campaigns.claimForSending(id, [due.subscriberId], new Date().toISOString(), 'worker-c');
      await store.campaigns.recordOutcomes(id, [{ subscriberId: due.subscriberId, status: 'sent', smtpResponse: '250', messageId: '<c@x>' }], new Date().toISOString());
      expect(await store.campaigns.countSends(id)).toMatchObject({ sent: 1 });
    });
  });
});
