/**
 * The marketer's web app at /admin: the single-page app built by `npm run build:admin` (run by `npm install` and
 * `npm ci` through the prepare script) into dist/admin, its assets from that folder, every other /admin path answered
 * with its index.html (the app routes in the browser). A strict CSP: scripts and styles from this origin only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { html } from './html.ts';
import { sendPage } from './pages.ts';

/** Where `npm run build:admin` writes the app. */
export const ADMIN_BUILD_DIR = fileURLToPath(new URL('../../dist/admin', import.meta.url));

/** No inline script or style; the API and the live progress from this origin; the preview iframe from this origin; images from anywhere (articles' and emails' own images in the Markdown preview). */
export const ADMIN_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src * data:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface AdminRouteOptions {
  /** The built app (default dist/admin of this package). */
  readonly dir?: string;
  /** The built-in inbox runs: the app links to /inbox. */
  readonly inbox: boolean;
}

export interface AdminConfig {
  readonly inbox: boolean;
}

export function registerAdminRoutes(app: FastifyInstance, options: AdminRouteOptions): void {
  const dir = options.dir ?? ADMIN_BUILD_DIR;
  const indexPath = join(dir, 'index.html');
  const assets = join(dir, 'assets');
  const config: AdminConfig = { inbox: options.inbox };

  if (existsSync(assets)) {
    void app.register(fastifyStatic, { root: assets, prefix: '/admin/assets/', decorateReply: false, index: false, immutable: true, maxAge: '365d', cacheControl: true });
  }

  const sendApp = (reply: FastifyReply): FastifyReply => {
    if (!existsSync(indexPath)) {
      reply.header('cache-control', 'no-store');
      return sendPage(
        reply,
        503,
        'Web app not built',
        html`<h1>The web app is not built yet</h1>
<p>Mailroom's web app is built from <code>web/</code> into <code>dist/admin</code> when you run <code>npm install</code> or <code>npm ci</code> in the project. To build it now, run <code>npm run build:admin</code> and restart <code>npx mailroom serve</code>.</p>
<p>Until then, the command line and the API (<a href="/api/docs">/api/docs</a>) do everything the app does.</p>`,
        {},
      );
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', ADMIN_CONTENT_SECURITY_POLICY)
      .header('cache-control', 'no-cache')
      .header('x-robots-tag', 'noindex')
      .send(readFileSync(indexPath, 'utf8'));
  };

  app.get('/admin/config.json', async (_request, reply) => reply.type('application/json; charset=utf-8').header('cache-control', 'no-store').send(JSON.stringify(config)));
  app.get('/admin', async (_request, reply) => reply.code(308).header('location', '/admin/').send());
  app.get('/admin/', async (_request, reply) => sendApp(reply));
  app.get('/admin/*', async (request, reply) => {
    // A missing asset is a 404, not the app: a stale page asking for an old bundle must not get HTML back.
    if (request.url.startsWith('/admin/assets/')) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return sendApp(reply);
  });
}
