/** /admin on a bare Fastify: the built app with its strict CSP, the SPA fallback, assets, a missing asset, and the page that says how to build it. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ADMIN_CONTENT_SECURITY_POLICY, registerAdminRoutes } from '../src/http/admin-routes.ts';

let dir: string;
let built: FastifyInstance;
let missing: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-admin-'));
  mkdirSync(join(dir, 'built', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'built', 'index.html'), '<!doctype html><title>Mailroom</title><div id="root"></div><script type="module" src="/admin/assets/app.js"></script>');
  writeFileSync(join(dir, 'built', 'assets', 'app.js'), 'console.log(1)');
  built = Fastify();
  registerAdminRoutes(built, { dir: join(dir, 'built'), inbox: true });
  missing = Fastify();
  registerAdminRoutes(missing, { dir: join(dir, 'nothing-here'), inbox: false });
  await Promise.all([built.ready(), missing.ready()]);
});

afterAll(async () => {
  await Promise.all([built.close(), missing.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('/admin', () => {
  test('every app path answers the app with a CSP that allows no inline script or style', async () => {
    for (const url of ['/admin/', '/admin/audience', '/admin/campaigns/12', '/admin/issues?newsletter=weekly']) {
      const response = await built.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.body).toContain('<div id="root">');
      expect(response.headers['content-security-policy']).toBe(ADMIN_CONTENT_SECURITY_POLICY);
    }
    expect(ADMIN_CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect((await built.inject({ url: '/admin' })).headers.location).toBe('/admin/');
  });

  test('assets come from the build, cached for good; a missing asset is a 404, never the app', async () => {
    const asset = await built.inject({ url: '/admin/assets/app.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    const gone = await built.inject({ url: '/admin/assets/old-bundle.js' });
    expect(gone.statusCode).toBe(404);
    expect(gone.body).not.toContain('root');
  });

  test('the app learns whether the local inbox runs', async () => {
    expect(JSON.parse((await built.inject({ url: '/admin/config.json' })).body)).toEqual({ inbox: true });
    expect(JSON.parse((await missing.inject({ url: '/admin/config.json' })).body)).toEqual({ inbox: false });
  });

  test('without a build, /admin says how to build it', async () => {
    const response = await missing.inject({ url: '/admin/audience' });
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('npm run build:admin');
    expect(response.headers['cache-control']).toBe('no-store');
  });
});
