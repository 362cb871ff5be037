/** Log in and out with a password, the current session, and the caller's identity. */
import { z } from 'zod';
import { clearSessionCookies, checkOrigin, readCookies, SESSION_COOKIE, setSessionCookies } from '../auth.ts';
import type { ApiDeps } from '../api-deps.ts';
import { defineRoute, type ApiRoute } from '../define-route.ts';
import { ApiProblem } from '../problem.ts';
import { ROLES } from '../../../accounts/roles.ts';

export const userSchema = z.object({ id: z.number().int(), email: z.string(), role: z.enum(ROLES), disabled: z.boolean(), hasPassword: z.boolean(), createdAt: z.string() }).meta({ id: 'User' });
const sessionSchema = z.object({ user: userSchema, csrfToken: z.string().describe('send it as X-CSRF-Token with every POST, PATCH, PUT and DELETE made with the session cookie'), expiresAt: z.string() });
const whoSchema = z.object({ kind: z.enum(['session', 'token']), name: z.string(), role: z.enum(ROLES), csrfToken: z.string().nullable() });

export function authRoutes(deps: ApiDeps): ApiRoute[] {
  const secure = deps.publicUrl.startsWith('https:');
  return [
    defineRoute({
      method: 'POST',
      path: '/auth/login',
      operationId: 'login',
      summary: 'Log in with email and password; sets the session cookie',
      description: 'Throttled per account (locked after 5 failures in a row, 423) and per IP address (429).',
      tag: 'auth',
      role: 'public',
      limits: { perMinute: 10, bodyBytes: 4096 },
      body: z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(1000) }),
      response: { status: 200, schema: sessionSchema },
      handler: async ({ body, request, reply }) => {
        checkOrigin(request, deps.publicUrl);
        const session = await deps.accounts.login(body.email, body.password, request.ip);
        setSessionCookies(reply, session, secure, deps.clock());
        return { user: session.user, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/auth/logout',
      operationId: 'logout',
      summary: 'End the session and clear its cookie',
      tag: 'auth',
      role: 'viewer',
      response: { status: 204, schema: z.null() },
      handler: async ({ request, reply, principal }) => {
        if (principal?.kind !== 'session') throw new ApiProblem(422, 'INVALID_INPUT', 'logout ends a browser session; an API token is revoked with DELETE /api/v1/tokens/{id} or mailroom tokens revoke');
        const id = readCookies(request.headers.cookie).get(SESSION_COOKIE);
        if (id) await deps.accounts.logout(id);
        clearSessionCookies(reply, secure);
        return undefined;
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/auth/session',
      operationId: 'whoAmI',
      summary: 'Who is calling: the session or token, its role, and the session\'s CSRF token',
      tag: 'auth',
      role: 'viewer',
      response: { status: 200, schema: whoSchema },
      handler: async ({ principal }) => {
        if (!principal) throw new ApiProblem(401, 'UNAUTHENTICATED', 'no credentials');
        return { kind: principal.kind, name: principal.name, role: principal.role, csrfToken: principal.csrfToken };
      },
    }),
  ];
}
