/**
 * Issue 13 in the API, in-process through Fastify inject, beside the CLI run in-process on the same database: the
 * suppression list (keyset pages of addresses and domains, add, remove, import where one bad line adds nothing;
 * viewers read, editors write), a campaign's stats with the very numbers of `campaigns stats`, and one subscriber's
 * bounces and complaints.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AccountService } from '../src/accounts/account-service.ts';
import { processInboundMessage } from '../src/deliverability/bounce-service.ts';
import { bounceServiceDeps } from '../src/deliverability/runtime.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { AccountStore } from '../src/store/account-store.ts';
import { cleanEnv, expectOk, runInProcess, type Run } from './helpers/mailroom.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';
import { hardBounceDsn } from './helpers/dsn.ts';

let sink: SmtpSink;
let ws: Workspace;
let server: FastifyInstance;
let editor: { authorization: string };
let viewer: { authorization: string };

/** `mailroom …args` in-process on the workspace's database. */
function cli(args: readonly string[]): Promise<Run> {
  return runInProcess(ws.dir, args, cleanEnv({ DATA_DIR: ws.dataDir, PUBLIC_URL: 'https://news.example.com', SECRET: ws.app.config.secret, SMTP_URL: sink.url, DATABASE_URL: ws.app.config.databaseUrl, BOUNCE_DOMAIN: 'bounces.example.com' }));
}

beforeAll(async () => {
  sink = await startSmtpSink();
  ws = await openWorkspace({ SMTP_URL: sink.url, BOUNCE_DOMAIN: 'bounces.example.com' });
  await loadDemoWorkspace(ws.app);
  const accounts = new AccountService(new AccountStore(ws.app.stores.db), { publicUrl: ws.app.config.publicUrl });
  editor = { authorization: `Bearer ${(await accounts.createToken('ed', 'editor')).secret}` };
  viewer = { authorization: `Bearer ${(await accounts.createToken('view', 'viewer')).secret}` };
  server = await buildHttpServer({ stores: ws.app.stores, publicUrl: ws.app.config.publicUrl, secret: ws.app.config.secret, mediaDir: ws.dataDir, inbox: null, accounts });
});

afterAll(async () => {
  await server?.close();
  await sink?.close();
  await ws?.close();
});

interface Entry {
  readonly target: string | null;
  readonly kind: string;
  readonly reason: string;
}

async function listAll(query = ''): Promise<Entry[]> {
  const out: Entry[] = [];
  let before: string | null = null;
  do {
    const page = await server.inject({ url: `/api/v1/suppressions?limit=2${query}${before ? `&before=${encodeURIComponent(before)}` : ''}`, headers: viewer });
    expect(page.statusCode, page.body).toBe(200);
    const body = page.json() as { items: Entry[]; nextBefore: string | null };
    out.push(...body.items);
    before = body.nextBefore;
  } while (before);
  return out;
}

describe('the suppression list in the API', () => {
  test('add an address and a whole domain with a reason; viewers read (keyset pages), only editors write', async () => {
    const domain = await server.inject({ method: 'POST', url: '/api/v1/suppressions', headers: editor, payload: { target: '@Example.org', reason: 'partner asked' } });
    expect(domain.statusCode, domain.body).toBe(200);
    expect(domain.json()).toMatchObject({ target: '@example.org', kind: 'domain', reason: 'partner asked', added: true });
    const address = await server.inject({ method: 'POST', url: '/api/v1/suppressions', headers: editor, payload: { target: 'Margaret@Example.net', reason: 'left the company' } });
    expect(address.json()).toMatchObject({ target: 'margaret@example.net', kind: 'address', added: true });
    // The web app's older body ({email, detail}) still works.
    expect((await server.inject({ method: 'POST', url: '/api/v1/suppressions', headers: editor, payload: { email: 'old@example.com', detail: 'added in the web app' } })).json()).toMatchObject({ target: 'old@example.com', reason: 'manual' });
    const again = await server.inject({ method: 'POST', url: '/api/v1/suppressions', headers: editor, payload: { target: 'margaret@example.net', reason: 'again' } });
    expect(again.json()).toMatchObject({ added: false });

    const bad = await server.inject({ method: 'POST', url: '/api/v1/suppressions', headers: editor, payload: { target: 'not a domain', reason: 'x' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail).toContain('body.target "not a domain"');
    expect((await server.inject({ method: 'POST', url: '/api/v1/suppressions', headers: editor, payload: { target: 'a@example.com', reason: ' ' } })).statusCode).toBe(422);
    expect((await server.inject({ method: 'POST', url: '/api/v1/suppressions', headers: viewer, payload: { target: 'a@example.com' } })).statusCode).toBe(403);

    const all = await listAll();
    expect(all.map((e) => e.target)).toEqual(expect.arrayContaining(['@example.org', 'margaret@example.net', 'old@example.com']));
    expect(new Set(all.map((e) => e.target)).size).toBe(all.length);
    expect(all.find((e) => e.target === '@example.org')).toMatchObject({ kind: 'domain', reason: 'partner asked' });
    expect((await listAll('&kind=domain')).map((e) => e.target)).toEqual(['@example.org']);
    expect((await listAll('&q=%40ex')).map((e) => e.target)).toEqual(['@example.org']);

    // The CLI sees the same list, and what it adds the API shows.
    expect(expectOk(await cli(['suppress', 'list'])).stdout).toMatch(/@example\.org\s+partner asked/);
    expectOk(await cli(['suppress', 'add', '@example.io', '--reason', 'from the CLI']));
    expect((await listAll('&kind=domain')).map((e) => e.target)).toEqual(expect.arrayContaining(['@example.io']));
  });

  test('remove: an address or @domain; a second remove is a 404 naming it', async () => {
    expect((await server.inject({ method: 'DELETE', url: '/api/v1/suppressions/margaret%40example.net', headers: viewer })).statusCode).toBe(403);
    const removed = await server.inject({ method: 'DELETE', url: '/api/v1/suppressions/margaret%40example.net', headers: editor });
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json()).toEqual({ target: 'margaret@example.net', kind: 'address', removed: true });
    expect((await server.inject({ method: 'DELETE', url: '/api/v1/suppressions/%40example.io', headers: editor })).json()).toMatchObject({ target: '@example.io', kind: 'domain' });
    const twice = await server.inject({ method: 'DELETE', url: '/api/v1/suppressions/margaret%40example.net', headers: editor });
    expect(twice.statusCode).toBe(404);
    expect(twice.json().detail).toContain('"margaret@example.net" is not suppressed');
    expect((await listAll()).map((e) => e.target)).not.toContain('margaret@example.net');
  });

  test('import: lines of address-or-@domain[,reason]; one bad line adds nothing and names its line', async () => {
    const before = (await listAll()).length;
    const bad = await server.inject({ method: 'POST', url: '/api/v1/suppressions/import?filename=old-tool.txt', headers: { ...editor, 'content-type': 'text/plain' }, payload: '# old tool\nfirst@example.net,moved\nnot an address\n' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail).toContain('old-tool.txt line 3: "not an address"');
    expect((await listAll()).length).toBe(before);
    const good = await server.inject({ method: 'POST', url: '/api/v1/suppressions/import?reason=old%20tool', headers: { ...editor, 'content-type': 'text/plain' }, payload: 'first@example.net,moved\n@example.dev\nold@example.com\n' });
    expect(good.statusCode, good.body).toBe(200);
    expect(good.json()).toEqual({ added: 2, already: 1 });
    const all = await listAll();
    expect(all.find((e) => e.target === 'first@example.net')?.reason).toBe('moved');
    expect(all.find((e) => e.target === '@example.dev')?.reason).toBe('old tool');
    expect((await server.inject({ method: 'POST', url: '/api/v1/suppressions/import', headers: { ...viewer, 'content-type': 'text/plain' }, payload: 'x@example.net\n' })).statusCode).toBe(403);
  });
});

describe('stats and a subscriber history in the API', () => {
  let campaignId = 0;
  beforeAll(async () => {
    const report = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    campaignId = report.campaign?.id ?? 0;
    const ada = sink.messages.find((m) => m.envelopeTo.includes('ada@example.com'));
    if (!ada) throw new Error('ada got nothing');
    const dsn = hardBounceDsn({ returnPath: ada.envelopeFrom, recipient: 'ada@example.com', status: '5.2.1', messageId: 'dsn-api-1@mx.example.net', diagnostic: '550 5.2.1 mailbox disabled' });
    expect(await processInboundMessage(bounceServiceDeps(ws.app), Buffer.from(dsn), 'smtp', [ada.envelopeFrom])).toMatchObject({ outcome: 'applied' });
  });

  test('GET /campaigns/{id}/stats gives the numbers `campaigns stats` prints (a viewer may read them)', async () => {
    const api = await server.inject({ url: `/api/v1/campaigns/${campaignId}/stats`, headers: viewer });
    expect(api.statusCode, api.body).toBe(200);
    const fromCli = JSON.parse(expectOk(await cli(['campaigns', 'stats', String(campaignId), '--json'])).stdout) as Record<string, unknown>;
    expect(api.json()).toEqual(fromCli);
    expect(api.json()).toMatchObject({ campaign: campaignId, hardBounces: 1, softBounces: 0, complaints: 0 });
    expect((await server.inject({ url: '/api/v1/campaigns/999/stats', headers: viewer })).statusCode).toBe(404);
  });

  test("GET /subscribers/{id} shows the person's bounces and complaints and whether they are suppressed", async () => {
    const ada = await ws.app.stores.audience.findSubscriberByEmail('ada@example.com');
    const got = await server.inject({ url: `/api/v1/subscribers/${ada?.id ?? 0}`, headers: viewer });
    expect(got.statusCode, got.body).toBe(200);
    const body = got.json() as { status: string; suppression: { reason: string } | null; deliveryEvents: { campaignId: number; kind: string; status: string; source: string; action: string }[] };
    expect(body.status).toBe('bounced');
    expect(body.suppression).toMatchObject({ reason: 'hard-bounce' });
    expect(body.deliveryEvents).toEqual([expect.objectContaining({ campaignId, kind: 'hard-bounce', status: '5.2.1', source: 'smtp', action: 'suppressed' })]);
    const grace = await ws.app.stores.audience.findSubscriberByEmail('grace@example.com');
    expect((await server.inject({ url: `/api/v1/subscribers/${grace?.id ?? 0}`, headers: viewer })).json()).toMatchObject({ suppression: null, deliveryEvents: [] });
  });
});

describe('the in-process CLI reads its own run’s settings', () => {
  test('suppress, users and migrate use the DATABASE_URL they were given, not the test process’s', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const other = join(mkdtempSync(join(tmpdir(), 'mailroom-other-')), 'other.db');
    const env = cleanEnv({ DATABASE_URL: other, PUBLIC_URL: 'https://news.example.com', SECRET: ws.app.config.secret, SMTP_URL: sink.url });
    expect(expectOk(await runInProcess(ws.dir, ['migrate'], env)).stdout).toContain(other);
    expectOk(await runInProcess(ws.dir, ['suppress', 'add', '@elsewhere.example', '--reason', 'other db'], env));
    expect(expectOk(await runInProcess(ws.dir, ['suppress', 'list'], env)).stdout).toContain('@elsewhere.example');
    expect((await listAll()).map((e) => e.target)).not.toContain('@elsewhere.example');
    expectOk(await runInProcess(ws.dir, ['users', 'create', 'other@example.com', '--role', 'viewer'], env));
    expect(expectOk(await runInProcess(ws.dir, ['users', 'list'], env)).stdout).toContain('other@example.com');
  });
});
