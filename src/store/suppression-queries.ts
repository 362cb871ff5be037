/** The suppression list as the web app pages through it: newest first, keyset pages on (created_at, email_hash). Kysely over the same database. */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export interface SuppressionRow {
  /** Null once the address itself is no longer kept (only its hash stays). */
  readonly email: string | null;
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
  constructor(private readonly db: Kysely<Database>) {}

  async list(options: { limit: number; before?: string | undefined; q?: string | undefined }): Promise<SuppressionPage> {
    let query = this.db.selectFrom('suppressions').select(['email', 'email_hash', 'reason', 'detail', 'created_at']);
    if (options.before) {
      const [at = '', hash = ''] = options.before.split('|');
      query = query.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('email_hash', '<', hash)])]));
    }
    if (options.q) query = query.where('email', 'like', `${options.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const rows = await query.orderBy('created_at', 'desc').orderBy('email_hash', 'desc').limit(options.limit + 1).execute();
    const page = rows.slice(0, options.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({ email: r.email ?? null, emailHash: r.email_hash, reason: r.reason, detail: r.detail, createdAt: r.created_at })),
      nextBefore: rows.length > options.limit && last ? `${last.created_at}|${last.email_hash}` : null,
    };
  }
}
