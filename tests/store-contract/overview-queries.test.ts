/** The overview's growth queries on SQLite and Postgres: joins per list and UTC day (pending never counts), unsubscribes per day. */
import { describe, expect, test } from 'vitest';
import { OverviewQueries } from '../../src/store/overview-queries.ts';
import { BACKENDS, openContractStores } from './backends.ts';

describe.each(BACKENDS)('overview queries on $name', (backend) => {
  test.skipIf(!backend.available)('joined and left per list and day since a time', async () => {
    const { stores, close } = await openContractStores(backend, 1);
    try {
      const db = stores[0]!.db;
      const t = '2026-11-01T00:00:00.000Z';
      const list = await db.insertInto('lists').values({ name: 'readers', description: '', created_at: t }).returning('id').executeTakeFirstOrThrow();
      const people = [
        // joined Nov 30 (single opt-in), still there
        { email: 'a@example.org', status: 'subscribed', created: '2026-11-30T10:00:00.000Z', confirmed: null, left: null },
        // signed up Nov 29, confirmed Dec 1, left Dec 2
        { email: 'b@example.org', status: 'unsubscribed', created: '2026-11-29T23:00:00.000Z', confirmed: '2026-12-01T08:00:00.000Z', left: '2026-12-02T09:30:00.000Z' },
        // pending: never counts
        { email: 'c@example.org', status: 'pending', created: '2026-12-01T08:00:00.000Z', confirmed: null, left: null },
        // joined before the window
        { email: 'd@example.org', status: 'subscribed', created: '2026-10-01T08:00:00.000Z', confirmed: null, left: null },
      ];
      for (const p of people) {
        const s = await db
          .insertInto('subscribers')
          .values({ email: p.email, name: '', first_name: '', last_name: '', attributes: '{}', status: 'active', consent_source: 'test', consent_at: p.created, created_at: p.created, updated_at: p.created })
          .returning('id')
          .executeTakeFirstOrThrow();
        await db
          .insertInto('list_memberships')
          .values({ list_id: list.id, subscriber_id: s.id, status: p.status, created_at: p.created, updated_at: p.created, consent_at: p.created, consent_ip: null, confirmed_at: p.confirmed, confirmed_ip: null, confirmation_sent_at: null, unsubscribed_at: p.left })
          .execute();
      }
      const queries = new OverviewQueries(db);
      const since = '2026-11-15T00:00:00.000Z';
      const byDay = (rows: { day: string; count: number }[]) => Object.fromEntries(rows.map((r) => [r.day, r.count]));
      expect(byDay(await queries.joinedPerDay(since))).toEqual({ '2026-11-30': 1, '2026-12-01': 1 });
      expect(byDay(await queries.leftPerDay(since))).toEqual({ '2026-12-02': 1 });
      expect((await queries.joinedPerDay(since)).every((r) => r.listId === list.id)).toBe(true);
    } finally {
      await close();
    }
  });
});
