/**
 * Queries the API needs beyond the aggregate stores': subscriber search with keyset pagination, and deleting an article.
 * Kysely's builder only (portable SQL): prefix search is a range on the unique email index, pages go by id.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { MembershipStatus, SubscriberStatus } from '../core/domain.ts';
import type { Database } from './schema.ts';
import { onList } from './subscriber-filter.ts';

/** Migration 2026-12-04-api-subscriber-name: subscriber search by the start of a name uses an index. */
export const subscriberNameIndexMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`CREATE INDEX subscribers_name_lower ON subscribers (lower(name))`.execute(db);
  },
};

export interface SubscriberSearch {
  /** Addresses that start with this (then ordered by address). */
  readonly email?: string | undefined;
  /** Names that start with this, case-insensitively (then ordered by name). */
  readonly name?: string | undefined;
  readonly listId?: number | undefined;
  readonly status?: SubscriberStatus | undefined;
  /** Where the previous page ended (its `nextCursor`). */
  readonly cursor?: SearchCursor | undefined;
  readonly limit: number;
}

/** A keyset position: the sort value of the last row and its id. */
export interface SearchCursor {
  readonly value: string;
  readonly id: number;
}

export interface SubscriberHit {
  readonly id: number;
  readonly email: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly status: SubscriberStatus;
  readonly attributes: Record<string, string>;
  readonly createdAt: string;
  readonly lists: { readonly name: string; readonly status: MembershipStatus }[];
}

export class ApiQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * One page of subscribers. Each search is one range on an index, read in that index's order, so a page costs the
   * same on the first page and the thousandth: by email prefix on the unique email index, by name prefix on
   * lower(name) (migration 2026-12-04-api-subscriber-name), otherwise by id.
   */
  async searchSubscribers(search: SubscriberSearch): Promise<{ items: SubscriberHit[]; nextCursor: SearchCursor | null }> {
    let query = this.db.selectFrom('subscribers').select(['id', 'email', 'name', 'first_name', 'last_name', 'status', 'attributes', 'created_at']);
    const lowerName = sql<string>`lower(name)`;
    const email = search.email?.trim().toLowerCase();
    const name = search.name?.trim().toLowerCase();
    const cursor = search.cursor;
    let sortKey: (row: { id: number; email: string; name: string }) => string;
    if (email) {
      query = query.where('email', '>=', email).where('email', '<', `${email}\uffff`);
      if (cursor) query = query.where('email', '>', cursor.value);
      query = query.orderBy('email');
      sortKey = (row) => row.email;
    } else if (name) {
      query = query.where(lowerName, '>=', name).where(lowerName, '<', `${name}\uffff`);
      if (cursor) query = query.where((eb) => eb.or([eb(lowerName, '>', cursor.value), eb.and([eb(lowerName, '=', cursor.value), eb('id', '>', cursor.id)])]));
      query = query.orderBy(lowerName).orderBy('id');
      sortKey = (row) => row.name.toLowerCase();
    } else {
      if (cursor) query = query.where('id', '>', cursor.id);
      query = query.orderBy('id');
      sortKey = (row) => String(row.id);
    }
    // Paging in id order: the cursor bounds the memberships too (subscriber-filter.ts).
    if (search.listId !== undefined) query = onList(query, search.listId, !email && !name && cursor ? cursor.id : null);
    if (search.status) query = query.where('status', '=', search.status);
    const rows = await query.limit(search.limit + 1).execute();
    const page = rows.slice(0, search.limit);
    const memberships =
      page.length === 0
        ? []
        : await this.db
            .selectFrom('list_memberships')
            .innerJoin('lists', 'lists.id', 'list_memberships.list_id')
            .select(['list_memberships.subscriber_id', 'lists.name', 'list_memberships.status'])
            .where('list_memberships.subscriber_id', 'in', page.map((r) => r.id))
            .execute();
    const items = page.map((r) => ({
      id: r.id,
      email: r.email,
      name: r.name,
      firstName: r.first_name,
      lastName: r.last_name,
      status: r.status as SubscriberStatus,
      attributes: JSON.parse(r.attributes) as Record<string, string>,
      createdAt: r.created_at,
      lists: memberships.filter((m) => m.subscriber_id === r.id).map((m) => ({ name: m.name, status: m.status as MembershipStatus })),
    }));
    const last = page[page.length - 1];
    return { items, nextCursor: rows.length > search.limit && last ? { value: sortKey(last), id: last.id } : null };
  }

  /** Deletes an article that no issue contains; an article in a sent or built issue stays (the issue must keep showing it). */
  async deleteArticle(id: number): Promise<'deleted' | 'in-issue' | 'missing'> {
    return this.db.transaction().execute(async (trx) => {
      const article = await trx.selectFrom('articles').select('id').where('id', '=', id).executeTakeFirst();
      if (!article) return 'missing';
      const used = await trx.selectFrom('issue_articles').select('issue_id').where('article_id', '=', id).executeTakeFirst();
      if (used) return 'in-issue';
      await trx.deleteFrom('newsletter_articles').where('article_id', '=', id).execute();
      await trx.deleteFrom('feed_items').where('article_id', '=', id).execute();
      await trx.deleteFrom('articles').where('id', '=', id).execute();
      return 'deleted';
    });
  }
}
