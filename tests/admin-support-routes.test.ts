/**
 * The API routes the web app added (src/http/api/routes/admin-support.ts), in-process: the recipient count a send
 * confirms (and POST /campaigns agreeing with it), the personalized preview page with its own CSP, an article as
 * Markdown, the embed code, and the suppression list's keyset pages.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AccountService } from '../src/accounts/account-service.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { EMAIL_PREVIEW_CSP } from '../src/http/api/routes/admin-support.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { AccountStore } from '../src/store/account-store.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

let ws: Workspace;
let server: FastifyInstance;
let auth: { authorization: string };

beforeAll(async () => {
  ws = await openWorkspace();
  await loadDemoWorkspace(ws.app);
  const accounts = new AccountService(new AccountStore(ws.app.stores.db), { publicUrl: ws.app.config.publicUrl });
  auth = { authorization: `Bearer ${(await accounts.createToken('web', 'editor')).secret}` };
  server = await buildHttpServer({ stores: ws.app.stores, publicUrl: ws.app.config.publicUrl, secret: ws.app.config.secret, mediaDir: ws.dataDir, inbox: null, accounts });
  const built = await server.inject({ method: 'POST', url: '/api/v1/newsletters/weekly/issues', headers: auth, payload: { subject: 'Hi {{firstName}}' } });
  expect(built.statusCode).toBe(201);
});

afterAll(async () => {
  await server.close();
  await ws.close();
});

describe('routes for the web app', () => {
  test('the recipient count names the list; an unknown issue is a 404 naming it', async () => {
    const count = await server.inject({ url: '/api/v1/newsletters/weekly/issues/1/recipients', headers: auth });
    expect(count.json()).toEqual({ newsletter: 'weekly', issue: 1, list: 'demo', recipients: 5, alreadyReceived: 0 });
    const missing = await server.inject({ url: '/api/v1/newsletters/weekly/issues/9/recipients', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().detail).toContain('no issue #9');
  });

  test('preview.html: the email for one subscriber, under the email CSP, framable by our pages only', async () => {
    const page = await server.inject({ url: '/api/v1/newsletters/weekly/issues/1/preview.html?as=ada@example.com', headers: auth });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe(EMAIL_PREVIEW_CSP);
    expect(EMAIL_PREVIEW_CSP).toContain("frame-ancestors 'self'");
    expect(EMAIL_PREVIEW_CSP).not.toContain('script-src');
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.body).toContain('Ada');
    const nobody = await server.inject({ url: '/api/v1/newsletters/weekly/issues/1/preview.html?as=nobody@example.com', headers: auth });
    expect(nobody.statusCode).toBe(404);
    expect(nobody.json().detail).toContain('query.as "nobody@example.com"');
    // Refused answers of a frame's page are framable by our pages too (an expired session shows its problem in the frame).
    for (const refused of [nobody, await server.inject({ url: '/api/v1/newsletters/weekly/issues/1/preview.html' })]) {
      expect(refused.statusCode).toBeGreaterThanOrEqual(400);
      expect(refused.headers['content-security-policy']).toContain("frame-ancestors 'self'");
      expect(refused.headers['x-frame-options']).toBe('SAMEORIGIN');
    }
  });

  test('an article as Markdown saves back as the same article (unchanged)', async () => {
    const articles = (await server.inject({ url: '/api/v1/articles?limit=1', headers: auth })).json() as { items: { id: number }[] };
    const id = articles.items[0]?.id ?? 0;
    const file = (await server.inject({ url: `/api/v1/articles/${id}/markdown`, headers: auth })).json() as { markdown: string };
    expect(file.markdown).toMatch(/^---\ntitle: /);
    const saved = await server.inject({ method: 'POST', url: '/api/v1/articles', headers: auth, payload: { markdown: file.markdown } });
    expect(saved.json().saved[0].outcome).toBe('unchanged');
  });

  test('the embed code posts to the hosted sign-up page', async () => {
    const form = (await server.inject({ url: '/api/v1/lists/demo/form', headers: auth })).json() as { html: string; action: string };
    expect(form.action).toBe(`${ws.app.config.publicUrl}/subscribe/demo`);
    expect(form.html).toContain(`action="${form.action}"`);
    expect(form.html).not.toContain('<script');
  });

  test('suppressions: newest first, in keyset pages, with a prefix search', async () => {
    for (const email of ['a1@example.com', 'a2@example.com', 'b1@example.com']) {
      expect((await server.inject({ method: 'POST', url: '/api/v1/suppressions', headers: auth, payload: { email } })).statusCode).toBe(200);
    }
    const first = (await server.inject({ url: '/api/v1/suppressions?limit=2', headers: auth })).json() as { items: { email: string }[]; nextBefore: string };
    expect(first.items).toHaveLength(2);
    const second = (await server.inject({ url: `/api/v1/suppressions?limit=2&before=${encodeURIComponent(first.nextBefore)}`, headers: auth })).json() as { items: { email: string }[]; nextBefore: string | null };
    expect([...first.items, ...second.items].map((s) => s.email).sort()).toEqual(['a1@example.com', 'a2@example.com', 'b1@example.com']);
    expect(second.nextBefore).toBeNull();
    const found = (await server.inject({ url: '/api/v1/suppressions?q=a', headers: auth })).json() as { items: { email: string }[] };
    expect(found.items.map((s) => s.email).sort()).toEqual(['a1@example.com', 'a2@example.com']);
  });
});
