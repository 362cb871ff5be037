/**
 * Mounts the API on the Fastify server: every declared route under /api/v1 with its role check, CSRF check, body
 * limit and rate limit; errors as problem details; /api/openapi.json and the reference page /api/docs.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../accounts/account-service.ts';
import { roleAllows } from '../../accounts/roles.ts';
import { authenticate } from './auth.ts';
import type { ApiDeps } from './api-deps.ts';
import type { ApiRoute } from './define-route.ts';
import { API_DOCS_HTML, API_DOCS_SCRIPT } from './docs-page.ts';
import { API_PREFIX, buildOpenApi } from './openapi.ts';
import { ApiProblem, sendProblem, toProblem } from './problem.ts';
import { allRoutes } from './routes/index.ts';

const DEFAULT_BODY_BYTES = 256 * 1024;

async function checkRate(deps: ApiDeps, route: ApiRoute, principal: Principal | null, request: FastifyRequest): Promise<void> {
  const perMinute = route.limits?.perMinute;
  if (!perMinute) return;
  const key = principal ? principal.name : `ip:${request.ip}`;
  const result = await deps.subscribers.hitRateLimit(`api:${route.operationId}`, key, deps.clock(), 60_000, perMinute);
  if (!result.allowed) {
    const seconds = Math.ceil(result.retryAfterMs / 1000);
    throw new ApiProblem(429, 'RATE_LIMITED', `${route.method} ${API_PREFIX}${route.path}: at most ${perMinute} requests a minute; try again in ${seconds} s`, [], { 'retry-after': String(seconds) });
  }
}

export function registerApi(app: FastifyInstance, deps: ApiDeps, routes: readonly ApiRoute[] = allRoutes(deps)): void {
  void app.register(async (api) => {
    api.setErrorHandler(async (error, request, reply) => {
      const { problem, headers } = toProblem(error);
      if (problem.status >= 500) deps.log(`api: ${request.method} ${request.url}: ${(error as Error).stack ?? String(error)}`);
      return sendProblem(reply, problem, headers);
    });
    api.setNotFoundHandler(async (request, reply) => sendProblem(reply, toProblem(new ApiProblem(404, 'NOT_FOUND', `no API route ${request.method} ${request.url.split('?')[0] ?? ''}`)).problem));
    // CSV imports and uploads arrive as text.
    api.addContentTypeParser(['text/csv', 'text/plain', 'text/markdown', 'text/html'], { parseAs: 'string' }, (_request, body, done) => done(null, String(body)));

    for (const route of routes) {
      api.route({
        method: route.method,
        url: `/v1${route.path}`,
        bodyLimit: route.limits?.bodyBytes ?? DEFAULT_BODY_BYTES,
        handler: async (request: FastifyRequest, reply: FastifyReply) => {
          // An HTML answer is a page for one of our own frames (the issue preview): its errors are framable by us too,
          // so a refused or failed request shows its problem in the frame instead of a frame the browser blocks.
          if (route.response.contentType?.startsWith('text/html')) {
            reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'self'; base-uri 'none'").header('x-frame-options', 'SAMEORIGIN');
          }
          let principal: Principal | null = null;
          if (route.role !== 'public') {
            principal = await authenticate(request, deps.accounts, deps.publicUrl);
            if (!principal) throw new ApiProblem(401, 'UNAUTHENTICATED', `${route.method} ${API_PREFIX}${route.path} needs a ${route.role} token (Authorization: Bearer mr_…) or a session cookie`, [], { 'www-authenticate': 'Bearer' });
            if (!roleAllows(principal.role, route.role)) throw new ApiProblem(403, 'FORBIDDEN', `${route.method} ${API_PREFIX}${route.path} needs the ${route.role} role; ${principal.name} is ${principal.role}`);
          }
          await checkRate(deps, route, principal, request);
          const result = await route.run(principal, request, reply);
          if (reply.sent) return reply;
          if (route.response.status === 204) return reply.code(204).send();
          reply.code(route.response.status);
          if (route.response.contentType && route.response.contentType !== 'application/json') return reply.type(route.response.contentType).send(result);
          return reply.type('application/json; charset=utf-8').send(JSON.stringify(result));
        },
      });
    }

    const document = buildOpenApi(routes, { version: '1.0.0', serverUrl: deps.publicUrl });
    api.get('/openapi.json', async (_request, reply) => reply.type('application/json; charset=utf-8').header('cache-control', 'no-cache').send(JSON.stringify(document)));
    api.get('/docs', async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
        .send(API_DOCS_HTML),
    );
    api.get('/docs.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(API_DOCS_SCRIPT));
  }, { prefix: '/api' });
}
