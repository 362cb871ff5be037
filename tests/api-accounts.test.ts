/**
 * Accounts through the real HTTP server (Fastify inject) and the CLI in-process: password hashing, login throttling
 * per account and per IP, session expiry and logout, disabled users, tokens shown once and revoked, problem details
 * naming the field and value, body and rate limits, the reference page, and the local-development login link.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { AccountService } from '../src/accounts/account-service.ts';
import { hashPassword, verifyPassword } from '../src/accounts/passwords.ts';
import { main } from '../src/cli/main.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { registerLoginRoutes } from '../src/http/login-routes.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { startService } from '../src/service.ts';
import { AccountStore } from '../src/store/account-store.ts';
import { startSmtpSink } from './helpers/smtp-sink.ts';
import { makeDataDir, openWorkspace, type Workspace } from './helpers/workspace.ts';

let ws: Workspace;
let server: FastifyInstance;
let accounts: AccountService;
let now = new Date('2026-12-04T08:00:00Z');
const clock = () => now;

async function setPassword(email: string, role: 'owner' | 'editor' | 'viewer', password: string): Promise<void> {
  const { link } = await accounts.createUser(email, role);
  await accounts.useLink(link.split('/').at(-1) ?? '', password);
}

function login(email: string, password: string, ip = '10.0.0.1') {
  return server.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress: ip });
}

beforeAll(async () => {
  ws = await openWorkspace();
  await loadDemoWorkspace(ws.app);
  accounts = new AccountService(new AccountStore(ws.app.stores.db), { publicUrl: ws.app.config.publicUrl }, clock);
  server = await buildHttpServer({ stores: ws.app.stores, publicUrl: ws.app.config.publicUrl, secret: ws.app.config.secret, mediaDir: ws.dataDir, inbox: null, accounts, clock });
});

afterAll(async () => {
  await server.close();
  await ws.close();
});

describe('passwords', () => {
  test('stored as a salted scrypt hash that verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
  });

  test('a reset link needs a password of at least 10 characters and works once', async () => {
    const { link } = await accounts.createUser('short@example.com', 'viewer');
    const token = link.split('/').at(-1) ?? '';
    const page = await server.inject({ url: `/login/link/${token}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Choose a password');
    const short = await server.inject({ method: 'POST', url: `/login/link/${token}`, payload: 'password=short', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(short.statusCode).toBe(422);
    expect(short.body).toContain('at least 10 characters');
    const ok = await server.inject({ method: 'POST', url: `/login/link/${token}`, payload: 'password=long-enough-secret', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers['set-cookie']).toEqual(expect.arrayContaining([expect.stringMatching(/^mailroom_session=.+HttpOnly; Secure$/), expect.stringMatching(/^mailroom_csrf=/)]));
    const again = await server.inject({ method: 'POST', url: `/login/link/${token}`, payload: 'password=long-enough-secret', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(again.statusCode).toBe(410);
    const row = new BetterSqlite3(join(ws.dataDir, 'mailroom.db'), { readonly: true }).prepare('SELECT password_hash FROM users WHERE email = ?').get('short@example.com') as { password_hash: string };
    expect(row.password_hash).not.toContain('long-enough-secret');
  });

  test('the login pages (forms, links, their errors) are never cached and never indexed', async () => {
    const { link } = await accounts.createUser('cache@example.com', 'viewer');
    const token = link.split('/').at(-1) ?? '';
    const pages = [
      await server.inject({ url: '/login' }),
      await server.inject({ url: `/login/link/${token}` }),
      await server.inject({ url: '/login/link/not-a-token' }),
      await server.inject({ method: 'POST', url: '/login', payload: 'email=nobody%40example.com&password=wrong-password', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    ];
    // On a bare Fastify too: the headers must not depend on another module's onSend hook delaying the send.
    const bare = Fastify();
    registerLoginRoutes(bare, { accounts, publicUrl: ws.app.config.publicUrl, clock });
    pages.push(await bare.inject({ url: '/login' }), await bare.inject({ url: `/login/link/${token}` }), await bare.inject({ url: '/login/link/not-a-token' }));
    await bare.close();
    for (const page of pages) {
      expect(page.headers['content-type'], page.body.slice(0, 80)).toMatch(/^text\/html/);
      expect(page.headers['cache-control'], `cache-control of a ${page.statusCode} login page`).toBe('no-store');
      expect(page.body).toContain('<meta name="robots" content="noindex">');
    }
  });
});

describe('logins', () => {
  test('five wrong passwords lock the account, and the lock says so even to the right password', async () => {
    await setPassword('locked@example.com', 'editor', 'the-right-password');
    for (let i = 0; i < 4; i += 1) expect((await login('locked@example.com', 'wrong', `10.1.0.${i}`)).statusCode).toBe(401);
    const fifth = await login('locked@example.com', 'wrong', '10.1.0.9');
    expect(fifth.statusCode).toBe(423);
    const right = await login('locked@example.com', 'the-right-password', '10.1.0.10');
    expect(right.statusCode).toBe(423);
    expect(right.json()).toMatchObject({ code: 'LOCKED', detail: expect.stringMatching(/account "locked@example.com" is locked after 5 failed logins until 2026-12-04T08:15/) });
    now = new Date(now.getTime() + 16 * 60_000);
    expect((await login('locked@example.com', 'the-right-password', '10.1.0.11')).statusCode).toBe(200);
  });

  test('one IP address failing on many accounts gets 429s', async () => {
    // The same rule as the server's (20 failures per 15 minutes), with a limit of 3 to keep the test short.
    const strict = new AccountService(new AccountStore(ws.app.stores.db), { publicUrl: ws.app.config.publicUrl, failuresPerIp: 3 }, clock);
    for (let i = 0; i < 3; i += 1) await expect(strict.login(`nobody${i}@example.com`, 'guess', '10.9.9.9')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(strict.login('nobody9@example.com', 'guess', '10.9.9.9')).rejects.toMatchObject({ code: 'RATE_LIMITED', message: expect.stringContaining('too many failed logins from 10.9.9.9') });
    await expect(strict.login('nobody9@example.com', 'guess', '10.9.9.8')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  test('a session expires, ends at logout, and ends when the user is disabled', async () => {
    await setPassword('session@example.com', 'viewer', 'session-password');
    const first = await login('session@example.com', 'session-password', '10.2.0.1');
    const cookie = `mailroom_session=${/mailroom_session=([^;]+)/.exec(String(first.headers['set-cookie']))?.[1] ?? ''}`;
    expect((await server.inject({ url: '/api/v1/newsletters', headers: { cookie } })).statusCode).toBe(200);
    now = new Date(now.getTime() + 13 * 3600_000);
    expect((await server.inject({ url: '/api/v1/newsletters', headers: { cookie } })).statusCode).toBe(401);

    const second = await login('session@example.com', 'session-password', '10.2.0.1');
    const cookie2 = `mailroom_session=${/mailroom_session=([^;]+)/.exec(String(second.headers['set-cookie']))?.[1] ?? ''}`;
    await accounts.setDisabled('session@example.com', true);
    expect((await server.inject({ url: '/api/v1/newsletters', headers: { cookie: cookie2 } })).statusCode).toBe(401);
    await accounts.setDisabled('session@example.com', false);
    expect((await login('session@example.com', 'session-password', '10.2.0.1')).statusCode).toBe(200);
  });

  test('the login route is rate limited per IP with Retry-After', async () => {
    await setPassword('busy@example.com', 'viewer', 'busy-password');
    now = new Date(now.getTime() + 3600_000);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) statuses.push((await login('busy@example.com', 'busy-password', '10.3.0.1')).statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    const limited = await login('busy@example.com', 'busy-password', '10.3.0.1');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('tokens and problems', () => {
  test('a token works until revoked; the last owner cannot be disabled', async () => {
    const { token, secret } = await accounts.createToken('script', 'editor');
    const headers = { authorization: `Bearer ${secret}` };
    expect((await server.inject({ url: '/api/v1/lists', headers })).statusCode).toBe(200);
    const db = new BetterSqlite3(join(ws.dataDir, 'mailroom.db'), { readonly: true });
    const stored = db.prepare('SELECT token_hash, prefix FROM api_tokens WHERE id = ?').get(token.id) as { token_hash: string; prefix: string };
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(db.prepare('SELECT * FROM api_tokens').all())).not.toContain(secret);
    await accounts.revokeToken('script');
    expect((await server.inject({ url: '/api/v1/lists', headers })).statusCode).toBe(401);
    const { user } = await accounts.createUser('only-owner@example.com', 'owner');
    await expect(accounts.setDisabled(user.id, true)).rejects.toThrow(/last active owner/);
  });

  test('bad input is a problem naming the field and the value; bodies over the limit are 413', async () => {
    const { secret } = await accounts.createToken('problems', 'editor');
    const headers = { authorization: `Bearer ${secret}` };
    const bad = await server.inject({ method: 'POST', url: '/api/v1/subscribers', headers, payload: { email: 'no-at-sign', list: 'demo' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.json()).toMatchObject({ status: 422, code: 'INVALID_INPUT', detail: expect.stringContaining('body.email "no-at-sign"') });
    const typed = await server.inject({ method: 'GET', url: '/api/v1/subscribers?limit=9999&status=gone', headers });
    expect(typed.statusCode).toBe(422);
    expect(typed.json()).toMatchObject({ errors: expect.arrayContaining([expect.objectContaining({ field: 'query.limit', value: '9999' }), expect.objectContaining({ field: 'query.status', value: 'gone' })]) });
    const huge = await server.inject({ method: 'POST', url: '/api/v1/lists', headers, payload: { name: 'x', description: 'y'.repeat(300_000) } });
    expect(huge.statusCode).toBe(413);
    expect(huge.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  test('a newsletter made through the API follows the CLI rules, naming the API fields', async () => {
    const { secret } = await accounts.createToken('newsletters', 'editor');
    const headers = { authorization: `Bearer ${secret}` };
    const body = { slug: 'monthly', name: 'Monthly', from: 'Monthly <monthly@example.com>', list: 'demo', postalAddress: '1 Main St', tags: ['News', 'news'] };
    const bad = await server.inject({ method: 'POST', url: '/api/v1/newsletters', headers, payload: { ...body, from: 'Monthly <not-an-address>' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ detail: 'body.from "not-an-address" is not an email address' });
    const made = await server.inject({ method: 'POST', url: '/api/v1/newsletters', headers, payload: body });
    expect(made.statusCode).toBe(201);
    expect(made.json()).toMatchObject({ slug: 'monthly', fromEmail: 'monthly@example.com', fromName: 'Monthly', tags: ['news'], template: 'digest', maxArticles: 5 });
    expect((await server.inject({ method: 'POST', url: '/api/v1/newsletters', headers, payload: body })).statusCode).toBe(409);
  });

  test('the reference page renders the document from this server, no CDN', async () => {
    const page = await server.inject({ url: '/api/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<script src="/api/docs.js"></script>');
    expect(page.body).not.toMatch(/https?:\/\//);
    const doc = (await server.inject({ url: '/api/openapi.json' })).json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/api/v1/campaigns/{id}/events');
  });
});

describe('the command line', () => {
  test('users create prints a one-time link; tokens create shows the token once; list and revoke', async () => {
    const dir = makeDataDir();
    vi.stubEnv('DATA_DIR', join(dir, 'data'));
    vi.stubEnv('PUBLIC_URL', 'https://news.example.com');
    vi.stubEnv('SECRET', 'a-cli-secret-that-is-long-enough-0123456789');
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      expect(await main(['node', 'mailroom', 'users', 'create', 'Chief@Example.com', '--role', 'owner'])).toBe(0);
      expect(out.join('')).toMatch(/user chief@example.com created \(owner\).*\nhttps:\/\/news\.example\.com\/login\/link\/[\w-]{40,}\n/s);
      expect(await main(['node', 'mailroom', 'users', 'create', 'x@example.com', '--role', 'boss'])).toBe(1);
      expect(await main(['node', 'mailroom', 'tokens', 'create', 'deploy', '--role', 'viewer'])).toBe(0);
      const secret = /^(mr_[\w-]+)$/m.exec(out.join(''))?.[1] ?? '';
      expect(secret).not.toBe('');
      out.length = 0;
      expect(await main(['node', 'mailroom', 'tokens', 'list'])).toBe(0);
      expect(out.join('')).toMatch(/deploy\s+viewer\s+mr_[\w-]{4}…/);
      expect(out.join('')).not.toContain(secret);
      expect(await main(['node', 'mailroom', 'tokens', 'revoke', 'deploy'])).toBe(0);
      expect(await main(['node', 'mailroom', 'users', 'list'])).toBe(0);
      expect(out.join('')).toMatch(/chief@example\.com\s+owner\s+no password yet/);
    } finally {
      spy.mockRestore();
      vi.unstubAllEnvs();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('local development: npm start prints a one-time login link for the demo owner', async () => {
    const sink = await startSmtpSink();
    const dir = makeDataDir();
    const lines: string[] = [];
    const config = loadConfig({ DATA_DIR: join(dir, 'data'), SMTP_URL: sink.url, FEED_POLL_MINUTES: '0', PUBLIC_URL: 'http://127.0.0.1:3999' }, dir);
    const service = await startService({ ...config, port: 0, host: '127.0.0.1' }, { loadDemo: true, log: (line) => lines.push(line) });
    try {
      const line = lines.find((l) => l.includes('one-time link')) ?? '';
      expect(line).toMatch(/^Log in as owner@localhost\.test \(owner, made for the demo workspace\) with this one-time link: http:\/\/127\.0\.0\.1:3999\/login\/link\/[\w-]+$/);
      const path = new URL(line.split(' ').at(-1) ?? '').pathname;
      const page = await fetch(`${service.httpUrl}${path}`);
      expect(await page.text()).toContain('As owner@localhost.test');
      const used = await fetch(`${service.httpUrl}${path}`, { method: 'POST', redirect: 'manual' });
      expect(used.status).toBe(303);
    } finally {
      await service.close();
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
