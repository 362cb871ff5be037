/**
 * One leader per role across every process on the database (the scheduler, the feed poller): a leased row, renewed
 * by its holder and measured on the DATABASE's clock, so hosts with skewed clocks agree on when a lease ran out. A
 * process that stops holding it (crash, kill -9) is replaced once the lease expires. One statement each way, the
 * same on SQLite and Postgres (INSERT … ON CONFLICT DO UPDATE … WHERE).
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { dbNowExpression } from './dialect.ts';
import type { Database } from './schema.ts';

/** Migration 2026-12-05-pg11-leader-leases. */
export const leaderLeasesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('leader_leases')
      .addColumn('role', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
  },
};

export class LeaderStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Takes or renews the lease on `role` for `leaseMs`; true when `owner` holds it now. */
  async claim(role: string, owner: string, leaseMs: number): Promise<boolean> {
    const until = dbNowExpression(this.db, leaseMs);
    const now = dbNowExpression(this.db);
    const result = await sql<{ owner: string }>`INSERT INTO leader_leases (role, owner, expires_at) VALUES (${role}, ${owner}, ${until})
      ON CONFLICT (role) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
      WHERE leader_leases.owner = excluded.owner OR leader_leases.expires_at < ${now}
      RETURNING owner`.execute(this.db);
    return result.rows[0]?.owner === owner;
  }

  /** Gives the lease up (a clean stop), so another process takes over at its next tick. */
  async release(role: string, owner: string): Promise<void> {
    await sql`DELETE FROM leader_leases WHERE role = ${role} AND owner = ${owner}`.execute(this.db);
  }

  /** Who holds the lease on `role` now, if anyone. */
  async holder(role: string): Promise<{ owner: string; expiresAt: string } | null> {
    const now = dbNowExpression(this.db);
    const result = await sql<{ owner: string; expires_at: string }>`SELECT owner, expires_at FROM leader_leases WHERE role = ${role} AND expires_at >= ${now}`.execute(this.db);
    const row = result.rows[0];
    return row ? { owner: row.owner, expiresAt: row.expires_at } : null;
  }
}
