/**
 * Who is calling: an API token (`Authorization: Bearer mr_…`) or a browser session cookie. Requests made with the
 * cookie that change anything must carry the session's CSRF token (header `X-CSRF-Token`, or `_csrf` in a form) and,
 * when the browser names one, come from our own origin.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountService, NewSession, Principal } from '../../accounts/account-service.ts';
import { ApiProblem } from './problem.ts';

export const SESSION_COOKIE = 'mailroom_session';
export const CSRF_COOKIE = 'mailroom_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function readCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) {
      try {
        out.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
      } catch {
        // A cookie that is not valid percent-encoding is nobody's session.
      }
    }
  }
  return out;
}

function cookie(name: string, value: string, options: { httpOnly: boolean; secure: boolean; maxAgeSeconds: number }): string {
  return [`${name}=${encodeURIComponent(value)}`, 'Path=/', `Max-Age=${options.maxAgeSeconds}`, 'SameSite=Lax', ...(options.httpOnly ? ['HttpOnly'] : []), ...(options.secure ? ['Secure'] : [])].join('; ');
}

/** Set-Cookie for a new session: the session id (httpOnly) and its CSRF token (readable by the page's scripts). */
export function setSessionCookies(reply: FastifyReply, session: NewSession, secure: boolean, now: Date): void {
  const maxAgeSeconds = Math.max(0, Math.floor((Date.parse(session.expiresAt) - now.getTime()) / 1000));
  reply.header('set-cookie', [
    cookie(SESSION_COOKIE, session.sessionId, { httpOnly: true, secure, maxAgeSeconds }),
    cookie(CSRF_COOKIE, session.csrfToken, { httpOnly: false, secure, maxAgeSeconds }),
  ]);
}

export function clearSessionCookies(reply: FastifyReply, secure: boolean): void {
  reply.header('set-cookie', [cookie(SESSION_COOKIE, '', { httpOnly: true, secure, maxAgeSeconds: 0 }), cookie(CSRF_COOKIE, '', { httpOnly: false, secure, maxAgeSeconds: 0 })]);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A state-changing request from a browser must come from our own pages: the Origin header, when present, must be
 * PUBLIC_URL's origin or the origin the request was made to; Sec-Fetch-Site, when present, must not be cross-site.
 */
export function checkOrigin(request: FastifyRequest, publicUrl: string): void {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    const own = new Set([new URL(publicUrl).origin, `${request.protocol}://${request.host}`]);
    if (!own.has(origin)) throw new ApiProblem(403, 'CSRF', `Origin ${JSON.stringify(origin)} is not this server's (${new URL(publicUrl).origin}): cross-site requests cannot use the session cookie`);
  }
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site') throw new ApiProblem(403, 'CSRF', 'a cross-site request cannot use the session cookie (Sec-Fetch-Site: cross-site)');
}

/** The caller, or null when the request carries no credentials; a bad token or an expired session is a 401. */
export async function authenticate(request: FastifyRequest, accounts: AccountService, publicUrl: string): Promise<Principal | null> {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw new ApiProblem(401, 'UNAUTHENTICATED', 'the Authorization header must be "Bearer mr_…"', [{ field: 'header.authorization', message: 'expected Bearer and a token' }], { 'www-authenticate': 'Bearer' });
    const principal = await accounts.tokenPrincipal(match[1] as string);
    if (!principal) throw new ApiProblem(401, 'UNAUTHENTICATED', 'this API token is unknown or revoked', [], { 'www-authenticate': 'Bearer error="invalid_token"' });
    return principal;
  }
  const sessionId = readCookies(request.headers.cookie).get(SESSION_COOKIE);
  if (sessionId === undefined || sessionId === '') return null;
  const principal = await accounts.sessionPrincipal(sessionId);
  if (!principal) throw new ApiProblem(401, 'UNAUTHENTICATED', 'the session expired or was ended: log in again');
  if (!SAFE_METHODS.has(request.method)) {
    checkOrigin(request, publicUrl);
    const body = request.body;
    const sent = request.headers[CSRF_HEADER] ?? (body !== null && typeof body === 'object' ? (body as Record<string, unknown>)['_csrf'] : undefined);
    if (typeof sent !== 'string' || principal.csrfToken === null || !sameSecret(sent, principal.csrfToken)) {
      throw new ApiProblem(403, 'CSRF', `a ${request.method} with the session cookie must carry the session's CSRF token in the X-CSRF-Token header (GET /api/v1/auth/session returns it)`, [{ field: 'header.x-csrf-token', message: typeof sent === 'string' ? 'does not match the session' : 'missing' }]);
    }
  }
  return principal;
}
