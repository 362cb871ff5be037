/** Helpers the route modules share: sending a page, the one "invalid link" answer, public-page styling and content negotiation. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, raw, renderPage, type SafeHtml } from './html.ts';

export interface PageSite {
  readonly name: string;
  readonly href: string;
  readonly links: readonly { readonly href: string; readonly label: string }[];
}

/** Public pages (sign-up, confirmation, preferences, archive) are about the publication, not about Mailroom. */
export function publicSite(name: string, links: readonly { readonly href: string; readonly label: string }[] = []): PageSite {
  return { name, href: '/', links };
}

/** Forms, notices and status labels on public pages. */
const PUBLIC_CSS = `
.form-row { display: flex; flex-direction: column; gap: 6px; margin: 0 0 14px; max-width: 440px; }
.form-row label { font-weight: 600; font-size: 14px; }
.form-row .hint { font-weight: 400; color: var(--muted); }
.form-row input { width: 100%; }
.notice { border: 1px solid var(--border); border-left: 4px solid var(--accent); background: var(--surface); padding: 10px 14px; border-radius: 8px; margin: 0 0 16px; }
.notice.error { border-left-color: var(--danger); }
.hp { position: absolute; left: -10000px; top: auto; width: 1px; height: 1px; overflow: hidden; }
.inline { display: inline; margin: 0; }
.status { font-size: 13px; padding: 2px 8px; border-radius: 999px; background: var(--code-bg); white-space: nowrap; }
.status-subscribed { color: #1a7f37; }
.status-pending { color: #9a6700; }
.status-unsubscribed { color: var(--muted); }
.issues { list-style: none; padding: 0; margin: 0; }
.issues li { padding: 12px 0; border-bottom: 1px solid var(--border); }
.issues .meta { color: var(--muted); font-size: 13px; }
`;

export const PUBLIC_HEAD: SafeHtml = html`<meta name="robots" content="noindex"><style>${raw(PUBLIC_CSS)}</style>`;
export const PUBLIC_INDEXABLE_HEAD: SafeHtml = html`<style>${raw(PUBLIC_CSS)}</style>`;

export function sendPage(
  reply: FastifyReply,
  status: number,
  title: string,
  body: SafeHtml,
  options: { currentPath?: string; site?: PageSite; head?: SafeHtml } = {},
): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(
      renderPage({
        title,
        body,
        ...(options.currentPath ? { currentPath: options.currentPath } : {}),
        ...(options.site ? { site: options.site } : {}),
        ...(options.head ? { head: options.head } : {}),
      }),
    );
}

/** Pages reached through a personal link: never cached, never indexed. */
export function markPrivate(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex, nofollow');
}

/** The same answer for a tampered, foreign or unknown token: nothing tells them apart. */
export function invalidLink(reply: FastifyReply): FastifyReply {
  markPrivate(reply);
  return sendPage(
    reply,
    404,
    'Link not valid',
    html`<h1>This link is not valid</h1><p>It may have been copied incompletely. Use the link in the most recent email you received from us.</p>`,
    { site: publicSite('Subscription'), head: PUBLIC_HEAD },
  );
}

/** JSON when the request sent JSON or asks for it before HTML; HTML otherwise. */
export function wantsJson(request: FastifyRequest): boolean {
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/json')) return true;
  const accept = String(request.headers.accept ?? '').toLowerCase();
  const jsonAt = accept.indexOf('application/json');
  const htmlAt = accept.indexOf('text/html');
  return jsonAt >= 0 && (htmlAt < 0 || jsonAt < htmlAt);
}

/** A string field of a parsed form or JSON body ('' when missing); any other type is returned as is for the caller to refuse. */
export function field(body: unknown, name: string): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  return (body as Record<string, unknown>)[name];
}

/** Formats an ISO timestamp as a date for pages ("November 27, 2025"); an unparsable value is returned as is. */
/** One formatter per language (building an Intl.DateTimeFormat costs far more than formatting with it). */
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(language: string): Intl.DateTimeFormat {
  let format = dateFormats.get(language);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat(language, { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });
    } catch {
      format = new Intl.DateTimeFormat('en', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });
    }
    if (dateFormats.size < 100) dateFormats.set(language, format);
  }
  return format;
}

export function formatDate(iso: string, language = 'en'): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return dateFormat(language).format(date);
}
