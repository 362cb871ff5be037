/**
 * Accounts in the database: users with a role, browser sessions, API tokens and one-time login links. Secrets are
 * never stored: sessions, tokens and links are kept as their SHA-256, passwords as a scrypt hash
 * (src/accounts/passwords.ts). Portable SQL through Kysely's builder (it runs on Postgres too).
 */
import type { Generated, Selectable, Kysely, Migration } from 'kysely';
import type { Role } from '../accounts/roles.ts';
import type { Database } from './schema.ts';
import { idColumn } from './dialect.ts';

/** Migration 2026-12-04-api-accounts. */
export const accountsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('users')
      .addColumn('id', 'integer', (c) => idColumn(db, c))
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text')
      .addColumn('disabled_at', 'text')
      .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('locked_until', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('user_sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('user_sessions_user').on('user_sessions').column('user_id').execute();
    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'integer', (c) => idColumn(db, c))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text')
      .addColumn('revoked_at', 'text')
      .execute();
    await db.schema
      .createTable('login_links')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('used_at', 'text')
      .execute();
  },
};

interface UsersTable {
  id: Generated<number>;
  email: string;
  role: string;
  password_hash: string | null;
  disabled_at: string | null;
  failed_logins: number;
  locked_until: string | null;
  created_at: string;
  updated_at: string;
}
interface SessionsTable {
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}
interface TokensTable {
  id: Generated<number>;
  name: string;
  role: string;
  token_hash: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}
interface LinksTable {
  token_hash: string;
  user_id: number;
  purpose: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}
export interface AccountTables {
  users: UsersTable;
  user_sessions: SessionsTable;
  api_tokens: TokensTable;
  login_links: LinksTable;
}

export interface StoredUser {
  readonly id: number;
  readonly email: string;
  readonly role: Role;
  readonly passwordHash: string | null;
  readonly disabledAt: string | null;
  readonly failedLogins: number;
  readonly lockedUntil: string | null;
  readonly createdAt: string;
}
export interface StoredToken {
  readonly id: number;
  readonly name: string;
  readonly role: Role;
  readonly prefix: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}
export interface StoredSession {
  readonly userId: number;
  readonly csrfToken: string;
  readonly expiresAt: string;
}
export type LinkPurpose = 'login' | 'reset';

function toUser(row: Selectable<UsersTable>): StoredUser {
  return {
    id: row.id,
    email: row.email,
    role: row.role as Role,
    passwordHash: row.password_hash,
    disabledAt: row.disabled_at,
    failedLogins: row.failed_logins,
    lockedUntil: row.locked_until,
    createdAt: row.created_at,
  };
}
function toToken(row: Selectable<TokensTable>): StoredToken {
  return { id: row.id, name: row.name, role: row.role as Role, prefix: row.prefix, createdAt: row.created_at, lastUsedAt: row.last_used_at, revokedAt: row.revoked_at };
}

export class AccountStore {
  private readonly db: Kysely<AccountTables>;

  /** Any Kysely handle on the Mailroom database (its own table types do not matter here). */
  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<AccountTables>;
  }

  async createUser(input: { email: string; role: Role; at: string }): Promise<StoredUser> {
    const row = await this.db
      .insertInto('users')
      .values({ email: input.email, role: input.role, password_hash: null, disabled_at: null, failed_logins: 0, locked_until: null, created_at: input.at, updated_at: input.at })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toUser(row);
  }

  async findUserByEmail(email: string): Promise<StoredUser | null> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async getUser(id: number): Promise<StoredUser | null> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async listUsers(): Promise<StoredUser[]> {
    return (await this.db.selectFrom('users').selectAll().orderBy('id').execute()).map(toUser);
  }

  async countUsers(): Promise<number> {
    const row = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async setDisabled(id: number, at: string | null, now: string): Promise<void> {
    await this.db.updateTable('users').set({ disabled_at: at, updated_at: now }).where('id', '=', id).execute();
    if (at !== null) await this.db.deleteFrom('user_sessions').where('user_id', '=', id).execute();
  }

  async setRole(id: number, role: Role, now: string): Promise<void> {
    await this.db.updateTable('users').set({ role, updated_at: now }).where('id', '=', id).execute();
  }

  async setPassword(id: number, hash: string, now: string): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: hash, failed_logins: 0, locked_until: null, updated_at: now }).where('id', '=', id).execute();
    // A new password ends every session of the old one.
    await this.db.deleteFrom('user_sessions').where('user_id', '=', id).execute();
  }

  /** One more failed login; at `lockAfter` failures the account is locked until `lockUntil`. Returns the new count. */
  async recordFailedLogin(id: number, lockAfter: number, lockUntil: string, now: string): Promise<{ failures: number; lockedUntil: string | null }> {
    await this.db
      .updateTable('users')
      .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1), updated_at: now }))
      .where('id', '=', id)
      .execute();
    const user = await this.getUser(id);
    const failures = user?.failedLogins ?? 0;
    if (failures >= lockAfter) {
      await this.db.updateTable('users').set({ locked_until: lockUntil, failed_logins: 0 }).where('id', '=', id).execute();
      return { failures, lockedUntil: lockUntil };
    }
    return { failures, lockedUntil: null };
  }

  async clearFailedLogins(id: number): Promise<void> {
    await this.db.updateTable('users').set({ failed_logins: 0, locked_until: null }).where('id', '=', id).execute();
  }

  // ------------------------------------------------------------------ sessions

  async createSession(input: { idHash: string; userId: number; csrfToken: string; at: string; expiresAt: string }): Promise<void> {
    await this.db.insertInto('user_sessions').values({ id_hash: input.idHash, user_id: input.userId, csrf_token: input.csrfToken, created_at: input.at, expires_at: input.expiresAt }).execute();
  }

  async findSession(idHash: string, now: string): Promise<StoredSession | null> {
    const row = await this.db.selectFrom('user_sessions').selectAll().where('id_hash', '=', idHash).where('expires_at', '>', now).executeTakeFirst();
    return row ? { userId: row.user_id, csrfToken: row.csrf_token, expiresAt: row.expires_at } : null;
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.deleteFrom('user_sessions').where('id_hash', '=', idHash).execute();
  }

  async pruneSessions(now: string): Promise<void> {
    await this.db.deleteFrom('user_sessions').where('expires_at', '<=', now).execute();
  }

  // -------------------------------------------------------------------- tokens

  async createToken(input: { name: string; role: Role; tokenHash: string; prefix: string; at: string }): Promise<StoredToken> {
    const row = await this.db
      .insertInto('api_tokens')
      .values({ name: input.name, role: input.role, token_hash: input.tokenHash, prefix: input.prefix, created_at: input.at, last_used_at: null, revoked_at: null })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toToken(row);
  }

  async findActiveToken(tokenHash: string): Promise<StoredToken | null> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
    return row ? toToken(row) : null;
  }

  async touchToken(id: number, at: string): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async listTokens(): Promise<StoredToken[]> {
    return (await this.db.selectFrom('api_tokens').selectAll().orderBy('id').execute()).map(toToken);
  }

  async findTokens(ref: string): Promise<StoredToken[]> {
    const id = /^\d+$/.test(ref) ? Number(ref) : -1;
    return (await this.db.selectFrom('api_tokens').selectAll().where((eb) => eb.or([eb('id', '=', id), eb('name', '=', ref)])).execute()).map(toToken);
  }

  async revokeToken(id: number, at: string): Promise<boolean> {
    const result = await this.db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  // --------------------------------------------------------------------- links

  async createLink(input: { tokenHash: string; userId: number; purpose: LinkPurpose; at: string; expiresAt: string }): Promise<void> {
    await this.db.insertInto('login_links').values({ token_hash: input.tokenHash, user_id: input.userId, purpose: input.purpose, created_at: input.at, expires_at: input.expiresAt, used_at: null }).execute();
  }

  async findLink(tokenHash: string, now: string): Promise<{ userId: number; purpose: LinkPurpose } | null> {
    const row = await this.db.selectFrom('login_links').selectAll().where('token_hash', '=', tokenHash).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
    return row ? { userId: row.user_id, purpose: row.purpose as LinkPurpose } : null;
  }

  /** Marks the link used; false when it was already used, expired or unknown (one use only, even under a race). */
  async useLink(tokenHash: string, now: string): Promise<boolean> {
    const result = await this.db.updateTable('login_links').set({ used_at: now }).where('token_hash', '=', tokenHash).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
