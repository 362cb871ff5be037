/** Read-only queries of the web app's overview: list growth per day (portable SQL: ISO-8601 text timestamps, days cut with substr). */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

export interface GrowthRow {
  readonly listId: number;
  /** YYYY-MM-DD (UTC). */
  readonly day: string;
  readonly count: number;
}

export class OverviewQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** Memberships that began (confirmed, or created when no confirmation was needed; still-pending ones never count) per list and UTC day since `since`. */
  async joinedPerDay(since: string): Promise<GrowthRow[]> {
    const began = sql<string>`coalesce(confirmed_at, created_at)`;
    const day = sql<string>`substr(coalesce(confirmed_at, created_at), 1, 10)`;
    const rows = await this.db
      .selectFrom('list_memberships')
      .select(['list_id', day.as('day'), sql<number | string>`count(*)`.as('n')])
      .where('status', '!=', 'pending')
      .where(began, '>=', since)
      .groupBy(['list_id', day])
      .execute();
    return rows.map((r) => ({ listId: r.list_id, day: r.day, count: Number(r.n) }));
  }

  /** Unsubscribes per list and UTC day since `since`. */
  async leftPerDay(since: string): Promise<GrowthRow[]> {
    const day = sql<string>`substr(unsubscribed_at, 1, 10)`;
    const rows = await this.db
      .selectFrom('list_memberships')
      .select(['list_id', day.as('day'), sql<number | string>`count(*)`.as('n')])
      .where('unsubscribed_at', 'is not', null)
      .where('unsubscribed_at', '>=', since)
      .groupBy(['list_id', day])
      .execute();
    return rows.map((r) => ({ listId: r.list_id, day: r.day, count: Number(r.n) }));
  }
}
