/**
 * Which subscribers a listing shows: by list, by status, and by a search in the address or the name. One filter for
 * the page and for its count, so "showing 100 of 50,000" counts exactly what is paged through. Portable SQL (Kysely).
 */
import { sql, type SelectQueryBuilder } from 'kysely';
import type { SubscriberStatus } from '../core/domain.ts';
import type { Database } from './schema.ts';

export interface SubscriberFilter {
  readonly listId?: number;
  readonly status?: SubscriberStatus;
  /** Text to look for, case-insensitive: anywhere in the address or the name (a scan), or with `prefix` at the start of the address. */
  readonly search?: string;
  /**
   * Only addresses that start with `search`: answered from the unique index on the address (a range, addresses
   * are stored in lower case), so it stays fast on a large table.
   */
  readonly prefix?: boolean;
}

/** `%`, `_` and the escape character itself taken literally in a LIKE pattern (ESCAPE '\'). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The smallest string greater than every string that starts with `prefix` in code-unit order ("ann" → "ano"). */
export function prefixUpperBound(prefix: string): string | null {
  for (let i = prefix.length - 1; i >= 0; i -= 1) {
    const code = prefix.charCodeAt(i);
    if (code < 0xffff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return null;
}

/**
 * Only members of the list (any membership status). `afterId` (a keyset page in id order, the caller bounds
 * subscribers.id itself) bounds the memberships too: Postgres carries equalities across a join but not ranges, so
 * without it a merge join reads the list's memberships from its first subscriber on every page.
 */
export function onList<O>(query: SelectQueryBuilder<Database, 'subscribers', O>, listId: number, afterId?: number | null): SelectQueryBuilder<Database, 'subscribers', O> {
  return query.where(({ exists, selectFrom }) => {
    let members = selectFrom('list_memberships').select(sql<number>`1`.as('one')).whereRef('list_memberships.subscriber_id', '=', 'subscribers.id').where('list_memberships.list_id', '=', listId);
    if (afterId !== undefined && afterId !== null) members = members.where('list_memberships.subscriber_id', '>', afterId);
    return exists(members);
  });
}

/**
 * `afterId`: only subscribers after this id (a keyset page in id order). It bounds the list's memberships too:
 * Postgres carries equalities across a join but not ranges, so without it a merge join reads the list's memberships
 * from its first subscriber on every page.
 */
export function filterSubscribers<O>(query: SelectQueryBuilder<Database, 'subscribers', O>, filter: SubscriberFilter, afterId?: number): SelectQueryBuilder<Database, 'subscribers', O> {
  let q = query;
  if (afterId !== undefined) q = q.where('subscribers.id', '>', afterId);
  if (filter.listId !== undefined) q = onList(q, filter.listId, afterId);
  if (filter.status) q = q.where('subscribers.status', '=', filter.status);
  const search = filter.search?.trim().toLowerCase() ?? '';
  if (search === '') return q;
  if (filter.prefix) {
    // The range uses the index; the exact comparison keeps the answer right whatever the database's collation.
    q = q.where('subscribers.email', '>=', search);
    const upper = prefixUpperBound(search);
    if (upper !== null) q = q.where('subscribers.email', '<', upper);
    return q.where(sql<string>`substr(subscribers.email, 1, ${Array.from(search).length})`, '=', search);
  }
  const pattern = `%${escapeLike(search)}%`;
  return q.where((eb) =>
    eb.or([
      eb(sql<string>`lower(subscribers.email)`, 'like', sql<string>`${pattern} escape '\\'`),
      eb(sql<string>`lower(subscribers.name)`, 'like', sql<string>`${pattern} escape '\\'`),
      eb(sql<string>`lower(subscribers.first_name || ' ' || subscribers.last_name)`, 'like', sql<string>`${pattern} escape '\\'`),
    ]),
  );
}
