/**
 * The accounts service, shared by the CLI (`mailroom users|tokens`) and the HTTP API: users and their roles,
 * one-time links, password logins throttled per account and per IP, browser sessions with their CSRF token, and
 * API tokens shown once and stored as a hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { checkEmail, normalizeEmail } from '../core/email-address.ts';
import { MailroomError, quote } from '../core/errors.ts';
import type { LinkPurpose, StoredSession, StoredToken, StoredUser } from '../store/account-store.ts';
import { DUMMY_HASH, MIN_PASSWORD_LENGTH, hashPassword, verifyPassword } from './passwords.ts';
import { isRole, type Role } from './roles.ts';

export interface AccountSettings {
  readonly publicUrl: string;
  /** How long a browser session lasts (default 12 hours). */
  readonly sessionHours?: number;
  /** Failed passwords in a row that lock an account (default 5), and for how long (default 15 minutes). */
  readonly lockAfter?: number;
  readonly lockMinutes?: number;
  /** Failed logins from one IP address per 15 minutes before it gets 429s (default 20). */
  readonly failuresPerIp?: number;
  /** How long a one-time link works (default 24 hours). */
  readonly linkHours?: number;
}

export interface Principal {
  readonly kind: 'session' | 'token';
  readonly role: Role;
  /** The user's email, or `token:NAME`. */
  readonly name: string;
  readonly userId: number | null;
  /** Sessions only: the token every state-changing request must carry. */
  readonly csrfToken: string | null;
}

export interface NewSession {
  readonly sessionId: string;
  readonly csrfToken: string;
  readonly expiresAt: string;
  readonly user: PublicUser;
}

export interface PublicUser {
  readonly id: number;
  readonly email: string;
  readonly role: Role;
  readonly disabled: boolean;
  readonly hasPassword: boolean;
  readonly createdAt: string;
}

export interface PublicToken {
  readonly id: number;
  readonly name: string;
  readonly role: Role;
  readonly prefix: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

export const TOKEN_PREFIX = 'mr_';
const FIFTEEN_MINUTES = 15 * 60_000;

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function secret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function publicUser(user: StoredUser): PublicUser {
  return { id: user.id, email: user.email, role: user.role, disabled: user.disabledAt !== null, hasPassword: user.passwordHash !== null, createdAt: user.createdAt };
}

function publicToken(token: StoredToken): PublicToken {
  return { id: token.id, name: token.name, role: token.role, prefix: token.prefix, createdAt: token.createdAt, lastUsedAt: token.lastUsedAt, revokedAt: token.revokedAt };
}

export function checkRole(value: string, where: string): Role {
  if (!isRole(value)) throw new MailroomError('INVALID_INPUT', `${where} ${quote(value)}: expected owner, editor or viewer`);
  return value;
}

/** What the accounts service needs of the store of users, links, sessions and tokens (app.stores.accounts has it). */
export interface AccountRecords {
  findUserByEmail(email: string): Promise<StoredUser | null>;
  createUser(input: { email: string; role: Role; at: string }): Promise<StoredUser>;
  listUsers(): Promise<StoredUser[]>;
  getUser(id: number): Promise<StoredUser | null>;
  setDisabled(id: number, at: string | null, now: string): Promise<void>;
  setRole(id: number, role: Role, now: string): Promise<void>;
  createLink(input: { tokenHash: string; userId: number; purpose: LinkPurpose; at: string; expiresAt: string }): Promise<void>;
  findLink(tokenHash: string, now: string): Promise<{ userId: number; purpose: LinkPurpose } | null>;
  useLink(tokenHash: string, now: string): Promise<boolean>;
  setPassword(id: number, hash: string, now: string): Promise<void>;
  recordFailedLogin(id: number, lockAfter: number, lockUntil: string, now: string): Promise<{ failures: number; lockedUntil: string | null }>;
  clearFailedLogins(id: number): Promise<void>;
  pruneSessions(now: string): Promise<void>;
  createSession(input: { idHash: string; userId: number; csrfToken: string; at: string; expiresAt: string }): Promise<void>;
  findSession(idHash: string, now: string): Promise<StoredSession | null>;
  deleteSession(idHash: string): Promise<void>;
  createToken(input: { name: string; role: Role; tokenHash: string; prefix: string; at: string }): Promise<StoredToken>;
  listTokens(): Promise<StoredToken[]>;
  findTokens(ref: string): Promise<StoredToken[]>;
  revokeToken(id: number, at: string): Promise<boolean>;
  findActiveToken(tokenHash: string): Promise<StoredToken | null>;
  touchToken(id: number, at: string): Promise<void>;
}

export class AccountService {
  readonly store: AccountRecords;
  private readonly settings: Required<AccountSettings>;
  private readonly clock: () => Date;
  /** Failed logins per IP address (ms timestamps), kept in memory: a restart forgets them, the per-account lock stays. */
  private readonly ipFailures = new Map<string, number[]>();

  constructor(store: AccountRecords, settings: AccountSettings, clock: () => Date = () => new Date()) {
    this.store = store;
    this.settings = { sessionHours: 12, lockAfter: 5, lockMinutes: 15, failuresPerIp: 20, linkHours: 24, ...settings };
    this.clock = clock;
  }

  private now(): string {
    return this.clock().toISOString();
  }

  // --------------------------------------------------------------------- users

  async createUser(rawEmail: string, role: Role): Promise<{ user: PublicUser; link: string }> {
    const email = normalizeEmail(rawEmail);
    const problem = checkEmail(email);
    if (problem) throw new MailroomError('INVALID_INPUT', `email ${quote(rawEmail)} ${problem}`);
    if (await this.store.findUserByEmail(email)) throw new MailroomError('CONFLICT', `user ${quote(email)} already exists (reset its password with: mailroom users reset-password ${email})`);
    const user = await this.store.createUser({ email, role, at: this.now() });
    return { user: publicUser(user), link: await this.issueLink(user.id, 'reset') };
  }

  async listUsers(): Promise<PublicUser[]> {
    return (await this.store.listUsers()).map(publicUser);
  }

  async findUser(ref: string | number): Promise<StoredUser> {
    const user = typeof ref === 'number' ? await this.store.getUser(ref) : await this.store.findUserByEmail(normalizeEmail(ref));
    if (!user) throw new MailroomError('NOT_FOUND', `user ${quote(ref)}: no such user`);
    return user;
  }

  async setDisabled(ref: string | number, disabled: boolean): Promise<PublicUser> {
    const user = await this.findUser(ref);
    if (disabled && user.role === 'owner' && user.disabledAt === null) await this.keepAnOwner(user.id, 'disabling');
    await this.store.setDisabled(user.id, disabled ? this.now() : null, this.now());
    return publicUser(await this.findUser(user.id));
  }

  async setRole(ref: string | number, role: Role): Promise<PublicUser> {
    const user = await this.findUser(ref);
    if (user.role === 'owner' && role !== 'owner') await this.keepAnOwner(user.id, 'demoting');
    await this.store.setRole(user.id, role, this.now());
    return publicUser(await this.findUser(user.id));
  }

  private async keepAnOwner(userId: number, doing: string): Promise<void> {
    const others = (await this.store.listUsers()).filter((u) => u.id !== userId && u.role === 'owner' && u.disabledAt === null);
    if (others.length === 0) throw new MailroomError('CONFLICT', `${doing} the last active owner would leave nobody able to manage users`);
  }

  /** A one-time link that sets a new password (the old one keeps working until then). */
  async resetPassword(ref: string | number): Promise<{ user: PublicUser; link: string }> {
    const user = await this.findUser(ref);
    return { user: publicUser(user), link: await this.issueLink(user.id, 'reset') };
  }

  /** A one-time link that logs `user` in (local development: the link `npm start` prints). */
  async loginLink(ref: string | number): Promise<string> {
    const user = await this.findUser(ref);
    return this.issueLink(user.id, 'login');
  }

  /** Local development: the demo's owner, made once, and a fresh one-time login link for it. */
  async ensureLocalOwner(email = 'owner@localhost.test'): Promise<{ email: string; link: string; created: boolean }> {
    const existing = (await this.store.listUsers()).find((u) => u.role === 'owner' && u.disabledAt === null);
    const user = existing ?? (await this.store.createUser({ email, role: 'owner', at: this.now() }));
    return { email: user.email, link: await this.issueLink(user.id, 'login'), created: existing === undefined };
  }

  private async issueLink(userId: number, purpose: LinkPurpose): Promise<string> {
    const token = secret();
    const at = this.clock();
    await this.store.createLink({ tokenHash: sha256(token), userId, purpose, at: at.toISOString(), expiresAt: new Date(at.getTime() + this.settings.linkHours * 3600_000).toISOString() });
    return `${this.settings.publicUrl}/login/link/${token}`;
  }

  /** What a link is for, without using it (a GET of the link page: mail scanners that follow links use nothing). */
  async inspectLink(token: string): Promise<{ purpose: LinkPurpose; email: string } | null> {
    const link = await this.store.findLink(sha256(token), this.now());
    if (!link) return null;
    const user = await this.store.getUser(link.userId);
    return user && user.disabledAt === null ? { purpose: link.purpose, email: user.email } : null;
  }

  /** Uses a one-time link: sets the password for a reset link, then starts a session. */
  async useLink(token: string, password: string | undefined): Promise<NewSession> {
    const link = await this.store.findLink(sha256(token), this.now());
    const user = link ? await this.store.getUser(link.userId) : null;
    if (!link || !user || user.disabledAt !== null) throw new MailroomError('TOKEN', 'this link is unknown, expired or already used: ask an owner for a new one (mailroom users reset-password EMAIL)');
    let hash: string | null = null;
    if (link.purpose === 'reset') {
      if (password === undefined || password.length < MIN_PASSWORD_LENGTH) throw new MailroomError('INVALID_INPUT', `password: at least ${MIN_PASSWORD_LENGTH} characters`);
      if (password.length > 1000) throw new MailroomError('INVALID_INPUT', 'password: at most 1000 characters');
      hash = await hashPassword(password);
    }
    if (!(await this.store.useLink(sha256(token), this.now()))) throw new MailroomError('TOKEN', 'this link was already used');
    if (hash !== null) await this.store.setPassword(user.id, hash, this.now());
    return this.startSession(user);
  }

  // -------------------------------------------------------------------- logins

  async login(rawEmail: string, password: string, ip: string): Promise<NewSession> {
    const now = this.clock().getTime();
    const recent = (this.ipFailures.get(ip) ?? []).filter((t) => t > now - FIFTEEN_MINUTES);
    if (recent.length >= this.settings.failuresPerIp) throw new MailroomError('RATE_LIMITED', `too many failed logins from ${ip}: try again in 15 minutes`);
    const user = await this.store.findUserByEmail(normalizeEmail(rawEmail));
    if (user?.lockedUntil && user.lockedUntil > this.now()) {
      throw new MailroomError('LOCKED', `account ${quote(user.email)} is locked after ${this.settings.lockAfter} failed logins until ${user.lockedUntil}; an owner can send a reset link (mailroom users reset-password)`);
    }
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok || user.passwordHash === null || user.disabledAt !== null) {
      this.ipFailures.set(ip, [...recent, now]);
      // Forget addresses whose failures are all older than the window, so the map cannot grow without bound.
      if (this.ipFailures.size > 10_000) for (const [key, times] of this.ipFailures) if (times.every((t) => t <= now - FIFTEEN_MINUTES)) this.ipFailures.delete(key);
      if (user && user.disabledAt === null && user.passwordHash !== null) {
        const lockUntil = new Date(now + this.settings.lockMinutes * 60_000).toISOString();
        const { lockedUntil } = await this.store.recordFailedLogin(user.id, this.settings.lockAfter, lockUntil, this.now());
        if (lockedUntil) throw new MailroomError('LOCKED', `account ${quote(user.email)} is locked after ${this.settings.lockAfter} failed logins until ${lockedUntil}`);
      }
      throw new MailroomError('UNAUTHENTICATED', 'wrong email or password');
    }
    await this.store.clearFailedLogins(user.id);
    return this.startSession(user);
  }

  private async startSession(user: StoredUser): Promise<NewSession> {
    const sessionId = secret();
    const csrfToken = secret();
    const at = this.clock();
    const expiresAt = new Date(at.getTime() + this.settings.sessionHours * 3600_000).toISOString();
    await this.store.pruneSessions(at.toISOString());
    await this.store.createSession({ idHash: sha256(sessionId), userId: user.id, csrfToken, at: at.toISOString(), expiresAt });
    return { sessionId, csrfToken, expiresAt, user: publicUser(user) };
  }

  async sessionPrincipal(sessionId: string): Promise<Principal | null> {
    const session = await this.store.findSession(sha256(sessionId), this.now());
    if (!session) return null;
    const user = await this.store.getUser(session.userId);
    if (!user || user.disabledAt !== null) return null;
    return { kind: 'session', role: user.role, name: user.email, userId: user.id, csrfToken: session.csrfToken };
  }

  async logout(sessionId: string): Promise<void> {
    await this.store.deleteSession(sha256(sessionId));
  }

  // -------------------------------------------------------------------- tokens

  async createToken(name: string, role: Role): Promise<{ token: PublicToken; secret: string }> {
    if (!/^[\w .:@-]{1,64}$/.test(name)) throw new MailroomError('INVALID_INPUT', `token name ${quote(name)}: use 1-64 letters, digits, spaces or . _ : @ -`);
    const value = `${TOKEN_PREFIX}${secret()}`;
    const token = await this.store.createToken({ name, role, tokenHash: sha256(value), prefix: value.slice(0, 7), at: this.now() });
    return { token: publicToken(token), secret: value };
  }

  async listTokens(): Promise<PublicToken[]> {
    return (await this.store.listTokens()).map(publicToken);
  }

  async revokeToken(ref: string): Promise<PublicToken> {
    const matches = (await this.store.findTokens(ref)).filter((t) => t.revokedAt === null);
    if (matches.length === 0) throw new MailroomError('NOT_FOUND', `token ${quote(ref)}: no active token has this id or name`);
    if (matches.length > 1) throw new MailroomError('CONFLICT', `token ${quote(ref)}: ${matches.length} active tokens have this name; revoke by id (${matches.map((t) => t.id).join(', ')})`);
    const token = matches[0] as StoredToken;
    await this.store.revokeToken(token.id, this.now());
    return { ...publicToken(token), revokedAt: this.now() };
  }

  async tokenPrincipal(value: string): Promise<Principal | null> {
    if (!value.startsWith(TOKEN_PREFIX)) return null;
    const token = await this.store.findActiveToken(sha256(value));
    if (!token) return null;
    await this.store.touchToken(token.id, this.now());
    return { kind: 'token', role: token.role, name: `token:${token.name}`, userId: null, csrfToken: null };
  }
}
