/**
 * The suppression list as the API and the web app page through it: addresses and whole domains together, newest
 * first, keyset pages on (created_at, key) where the key is the address's hash or `@domain`. Kysely over the same
 * database.
 */
import { sql, type Kysely } from 'kysely';
import type { DeliverabilityTables } from './deliverability-store.ts';
import type { Database } from './schema.ts';

export interface SuppressionRow {
  /** The address or `@domain`; null once the address itself is no longer kept (only its hash stays). */
  readonly target: string | null;
  readonly kind: 'address' | 'domain';
  /** The address (null for a domain, or once only its hash is kept). */
  readonly email: string | null;
  /** The address's hash; for a domain, `@domain`. */
  readonly emailHash: string;
  readonly reason: string;
  readonly detail: string;
  readonly createdAt: string;
}

export interface SuppressionPage {
  readonly items: readonly SuppressionRow[];
  /** Pass as `before` for the next page; null on the last one. */
  readonly nextBefore: string | null;
}

export class SuppressionQueries {
  private readonly db: Kysely<Database & DeliverabilityTables>;
  constructor(db: Kysely<Database>) {
    this.db = db.withTables<DeliverabilityTables>();
  }

  /** `q`: targets starting with it (an address prefix, or `@dom…`). `kind`: only addresses or only domains. */
  async list(options: { limit: number; before?: string | undefined; q?: string | undefined; kind?: 'address' | 'domain' | undefined }): Promise<SuppressionPage> {
    const addresses = this.db.selectFrom('suppressions').select(['email as target', 'email_hash as key', 'reason', 'detail', 'created_at', sql<string>`'address'`.as('kind')]);
    const domains = this.db.selectFrom('suppressed_domains').select([sql<string>`'@' || domain`.as('target'), sql<string>`'@' || domain`.as('key'), 'reason', 'detail', 'created_at', sql<string>`'domain'`.as('kind')]);
    const union = options.kind === 'address' ? addresses : options.kind === 'domain' ? domains : addresses.unionAll(domains);
    let query = this.db.selectFrom(union.as('s')).selectAll();
    if (options.before) {
      const bar = options.before.lastIndexOf('|');
      const at = bar >= 0 ? options.before.slice(0, bar) : options.before;
      const key = bar >= 0 ? options.before.slice(bar + 1) : '';
      query = query.where((eb) => eb.or([eb('s.created_at', '<', at), eb.and([eb('s.created_at', '=', at), eb('s.key', '<', key)])]));
    }
    if (options.q) query = query.where(sql<boolean>`s.target LIKE ${`${options.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`} ESCAPE '\\'`);
    const rows = await query.orderBy('s.created_at', 'desc').orderBy('s.key', 'desc').limit(options.limit + 1).execute();
    const page = rows.slice(0, options.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => {
        const kind = r.kind === 'domain' ? ('domain' as const) : ('address' as const);
        return { target: r.target ?? null, kind, email: kind === 'address' ? (r.target ?? null) : null, emailHash: r.key, reason: r.reason, detail: r.detail, createdAt: r.created_at };
      }),
      nextBefore: rows.length > options.limit && last ? `${last.created_at}|${last.key}` : null,
    };
  }
}
