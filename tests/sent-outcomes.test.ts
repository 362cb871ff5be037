/**
 * A write group's `sent` outcomes go to the database in one statement (src/store/sent-outcomes.ts), on SQLite and on
 * Postgres. Each row keeps its own answer and Message-ID; a row moves to `sent` only from its claim (`sending`); and a
 * worker that dies after the SMTP server answered but before the group's write leaves its rows claimed, so they are
 * taken back as possible duplicates once the lease runs out, while the rows of groups already written stay sent.
 * A worker's late answer never overwrites a row another worker has claimed since (its claim ran out, the row was taken
 * back, flagged, and claimed again): on Postgres's shared claims and on SQLite after a takeover alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendOutcome } from '../src/sending/ports.ts';
import { SqlSendClaims } from '../src/store/send-claims-store.ts';
import type { Stores } from '../src/store/open-store.ts';
import { BACKENDS, campaignOf as campaignOfIn, importRows, newsletterInput, openContractStores, storeForEach } from './store-contract/backends.ts';

describe.each(BACKENDS)('sent outcomes in one statement on $name', (backend) => {
  describe.skipIf(!backend.available)(`${backend.name}`, () => {
    const opened = storeForEach(backend, beforeAll, afterAll);
    let store: Stores;
    beforeAll(() => {
      store = opened();
    });
    const campaignOf = (name: string, people: number) => campaignOfIn(store, name, people);

    it('writes each row its own answer and Message-ID, alongside the group`s other outcomes, and only from `sending`', async () => {
      const id = await campaignOf('batch', 6);
      const now = new Date().toISOString();
      const due = await store.campaigns.listDueRecipients(id, 10, now);
      const ids = due.map((d) => d.subscriberId);
      // The last row is never claimed: a `sent` outcome for it must not move it.
      await store.campaigns.claimForSending(id, ids.slice(0, 5), now);
      const [s0, s1, s2, f3, d4, p5] = ids as [number, number, number, number, number, number];
      const outcomes: SendOutcome[] = [
        { subscriberId: s0, status: 'sent', smtpResponse: '250 ok zero', messageId: '<zero@x>' },
        { subscriberId: f3, status: 'failed', smtpResponse: '550 no', error: 'refused' },
        { subscriberId: s1, status: 'sent', smtpResponse: '250 ok one', messageId: '<one@x>' },
        { subscriberId: d4, status: 'deferred', smtpResponse: '451 later', error: 'later', nextAttemptAt: new Date(Date.now() + 60_000).toISOString() },
        { subscriberId: s2, status: 'sent', smtpResponse: '250 ok two', messageId: '<two@x>' },
        { subscriberId: p5, status: 'sent', smtpResponse: '250 not claimed', messageId: '<five@x>' },
      ];
      await store.campaigns.recordOutcomes(id, outcomes, now);
      const rows = new Map((await store.campaigns.listSends(id)).map((r) => [r.subscriberId, r]));
      expect(rows.get(s0)).toMatchObject({ status: 'sent', smtpResponse: '250 ok zero', messageId: '<zero@x>', attempts: 1, error: null });
      expect(rows.get(s1)).toMatchObject({ status: 'sent', smtpResponse: '250 ok one', messageId: '<one@x>', attempts: 1 });
      expect(rows.get(s2)).toMatchObject({ status: 'sent', smtpResponse: '250 ok two', messageId: '<two@x>', attempts: 1 });
      expect(rows.get(f3)).toMatchObject({ status: 'failed', smtpResponse: '550 no', error: 'refused' });
      expect(rows.get(d4)).toMatchObject({ status: 'deferred', error: 'later' });
      expect(rows.get(p5)).toMatchObject({ status: 'pending', messageId: null, attempts: 0 });
      expect(await store.campaigns.countSends(id)).toMatchObject({ sent: 3, failed: 1, deferred: 1, pending: 1, sending: 0 });
    });

    it('a group of only `sent` outcomes (one statement, no transaction on Postgres) writes them all', async () => {
      const id = await campaignOf('only-sent', 40);
      const now = new Date().toISOString();
      const ids = (await store.campaigns.listDueRecipients(id, 100, now)).map((d) => d.subscriberId);
      await store.campaigns.claimForSending(id, ids, now);
      await store.campaigns.recordOutcomes(id, ids.map((subscriberId) => ({ subscriberId, status: 'sent' as const, smtpResponse: `250 ${subscriberId}`, messageId: `<${subscriberId}@x>` })), now);
      const rows = await store.campaigns.listSends(id);
      expect(rows.every((r) => r.status === 'sent' && r.smtpResponse === `250 ${r.subscriberId}` && r.messageId === `<${r.subscriberId}@x>`)).toBe(true);
      expect(rows).toHaveLength(40);
    });

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

    // Claim leases belong to the shared claims, which only Postgres has (SQLite keeps one sender per campaign).
    if (backend.name === 'postgres') it('a worker that dies between the SMTP answer and the group write: its rows come back as possible duplicates', async () => {
      const id = await campaignOf('crash', 8);
      const claims = new SqlSendClaims(store.db);
      const now = new Date().toISOString();
      // The worker claims 8 rows; the group of the first 4 is written; the server answers the other 4, then the worker
      // is killed before their group is written.
      const claimed = await claims.claimBatch(id, 'dead@host', 8, 300, now);
      expect(claimed).toHaveLength(8);
      const written = claimed.slice(0, 4).map((r) => r.subscriberId);
      await store.campaigns.recordOutcomes(id, written.map((subscriberId) => ({ subscriberId, status: 'sent' as const, smtpResponse: '250 ok', messageId: `<${subscriberId}@x>` })), now);
      expect(await store.campaigns.countSends(id)).toMatchObject({ sent: 4, sending: 4 });
      // Until the lease runs out nobody takes them; after, they are pending again and flagged.
      expect(await claims.reclaimExpired(id, 'resend', now)).toEqual([]);
      await new Promise((r) => setTimeout(r, 400));
      const back = await claims.reclaimExpired(id, 'resend', new Date().toISOString());
      expect(back.map((r) => r.email).sort()).toEqual(claimed.slice(4).map((r) => r.email).sort());
      expect(back.every((r) => r.worker === 'dead@host')).toBe(true);
      const flagged = await store.campaigns.listSends(id, { possibleDuplicate: true });
      expect(flagged.map((r) => r.subscriberId).sort((a, b) => a - b)).toEqual(claimed.slice(4).map((r) => r.subscriberId).sort((a, b) => a - b));
      expect(flagged.every((r) => r.status === 'pending')).toBe(true);
      expect(await store.campaigns.countSends(id)).toMatchObject({ sent: 4, pending: 4, sending: 0 });
      // A late write of the dead worker's group (say its connection's COMMIT arrived after all) moves nothing back.
      await store.campaigns.recordOutcomes(id, claimed.slice(4).map((r) => ({ subscriberId: r.subscriberId, status: 'sent' as const, smtpResponse: '250 late', messageId: '<late@x>' })), now);
      expect(await store.campaigns.countSends(id)).toMatchObject({ sent: 4, pending: 4 });
    });
  });
});

describe.skipIf(!BACKENDS[1]?.available)('shared claims start at the worker`s frontier (Postgres)', () => {
  let store: Stores;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const opened = await openContractStores(BACKENDS[1]!, 1);
    store = opened.stores[0] as Stores;
    close = opened.close;
  });
  afterAll(async () => {
    await close?.();
  });

  it('claims past its last claim first, and still takes rows behind it that became pending again', async () => {
    const list = await store.audience.createList('frontier');
    await store.audience.importSubscribers(list.id, importRows(8, 'frontier'), { source: 'frontier.csv' });
    const newsletter = await store.newsletters.createNewsletter(newsletterInput('frontier', list.id));
    const issue = await store.newsletters.createIssue({ newsletterId: newsletter.id, subject: 'S', preheader: '', html: 'h', text: 't', articleIds: [] });
    const id = (await store.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id })).campaign.id;
    const claims = new SqlSendClaims(store.db);
    const now = new Date().toISOString();
    const first = await claims.claimBatch(id, 'w1', 4, 60_000, now);
    const ids = first.map((r) => r.subscriberId);
    expect(ids).toHaveLength(4);
    // The second of them is released (a stopping connection): pending again, behind the frontier.
    await store.campaigns.recordOutcomes(id, [{ subscriberId: ids[1]!, status: 'released' }], now);
    const second = await claims.claimBatch(id, 'w1', 3, 60_000, now);
    expect(second.every((r) => r.subscriberId > ids[3]!)).toBe(true);
    const rest = await claims.claimBatch(id, 'w1', 10, 60_000, now);
    expect(rest.map((r) => r.subscriberId)).toContain(ids[1]);
    expect(await store.campaigns.countSends(id)).toMatchObject({ pending: 0, sending: 8 });
    expect(await claims.claimBatch(id, 'w1', 10, 60_000, now)).toEqual([]);
  });
});
