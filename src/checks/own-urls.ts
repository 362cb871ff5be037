/**
 * Links and images of an email that point at this Mailroom server, requested from the server itself (in process,
 * through an injected GET: never over the network; other hosts are listed, never fetched), with the email checks
 * (email-checks.ts) on its HTML. Used by the local inbox's "Check" tab and by the web app's warnings before sending.
 */

import { checkEmailHtml, type EmailCheckReport } from './email-checks.ts';

/** Answers a GET for a path on this server with its status code (Fastify's `inject`: no socket, no network). */
export type OwnServerGet = (path: string) => Promise<number>;

export interface OwnUrlResult {
  readonly url: string;
  readonly kind: 'link' | 'image';
  /** The status this server answered, or null when the URL is not on this server (not requested). */
  readonly status: number | null;
}

export interface MessageCheck {
  readonly report: EmailCheckReport;
  readonly urls: readonly OwnUrlResult[];
}

/** Most URLs of one message requested from this server: an email has a few dozen; a hostile one could have thousands. */
const MAX_OWN_REQUESTS = 100;

/** The path (with query) of `url` when it is on the server at `publicUrl`, else null. The inbox itself is never requested. */
export function ownPath(url: string, publicUrl: string | null): string | null {
  if (publicUrl === null) return null;
  let target: URL;
  let base: URL;
  try {
    base = new URL(publicUrl);
    target = new URL(url, base);
  } catch {
    return null;
  }
  if (target.origin !== base.origin) return null;
  // A PUBLIC_URL with a path (a proxy mounting Mailroom under /news) prefixes every link; the routes are at the root.
  const prefix = base.pathname.replace(/\/+$/, '');
  if (prefix !== '' && target.pathname !== prefix && !target.pathname.startsWith(`${prefix}/`)) return null;
  const pathname = target.pathname.slice(prefix.length) || '/';
  if (pathname === '/inbox' || pathname.startsWith('/inbox/') || pathname.startsWith('/inbox.')) return null;
  return `${pathname}${target.search}`;
}

/**
 * Runs every check on the message's HTML and requests its links and images on this server (at `publicUrl`; null:
 * none), each URL once.
 */
export async function checkMessage(messageHtml: string, publicUrl: string | null, get: OwnServerGet): Promise<MessageCheck> {
  const report = checkEmailHtml(messageHtml);
  const seen = new Set<string>();
  const urls: OwnUrlResult[] = [];
  const candidates = [
    ...report.links.map((link) => ({ url: link.href, kind: 'link' as const })),
    ...report.images.map((image) => ({ url: image.src, kind: 'image' as const })),
  ];
  let requests = 0;
  for (const { url, kind } of candidates) {
    if (url === '' || seen.has(url) || url.startsWith('mailto:')) continue;
    seen.add(url);
    const path = ownPath(url, publicUrl);
    if (path === null || requests >= MAX_OWN_REQUESTS) {
      urls.push({ url, kind, status: null });
      continue;
    }
    requests += 1;
    urls.push({ url, kind, status: await get(path) });
  }
  return { report, urls };
}
