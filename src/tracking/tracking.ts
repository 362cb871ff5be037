/**
 * Open and click tracking, only where the operator turned it on for a newsletter (off by default), and aggregate: the
 * links and the pixel are the same for every recipient of a campaign, so nothing ties a hit to a person.
 *
 * - Clicks: each http(s) link of the campaign's HTML points to `/t/c/<campaign>/<position>/<signature>`; the
 *   redirect target is read from the campaign's stored links, never from the request, so it cannot be used as an open
 *   redirect, and a made-up or edited address gets a 404.
 * - Opens: a 1×1 image `/t/o/<campaign>/<signature>.gif`.
 * - Machine hits are counted apart: Apple Mail Privacy Protection fetches every image from Apple's network
 *   (17.0.0.0/8) whether or not the message is read; link scanners (security gateways, Outlook Safe Links, bots)
 *   announce themselves in the user agent or send HEAD requests.
 * - Per subscriber, only when the newsletter's third switch is on (off by default): each message's addresses end in
 *   the recipient's signed token (`<subscriber>.<signature>`, the `{{trackingToken}}` the message builder fills), so a
 *   hit names who opened or clicked; a token that does not verify is a 404. While the switch is off the addresses are
 *   the same for everyone and nothing ties a hit to a person.
 * Only campaign messages are rewritten: the archive, the web version and test sends show the issue as stored.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import ipaddr from 'ipaddr.js';

function sign(secret: string, value: string): string {
  return createHmac('sha256', secret).update(`tracking:${value}`).digest('base64url').slice(0, 22);
}

export function clickPath(secret: string, campaignId: number, position: number): string {
  return `/t/c/${campaignId}/${position}/${sign(secret, `click:${campaignId}:${position}`)}`;
}

export function openPath(secret: string, campaignId: number): string {
  return `/t/o/${campaignId}/${sign(secret, `open:${campaignId}`)}.gif`;
}

/** The per-recipient part of a campaign's tracking addresses: `<subscriber>.<signature>`. */
export function personToken(secret: string, campaignId: number, subscriberId: number): string {
  return `${subscriberId}.${sign(secret, `person:${campaignId}:${subscriberId}`)}`;
}

/** The subscriber a token names, or null when it does not verify for this campaign. */
export function verifyPerson(secret: string, campaignId: number, token: string): number | null {
  const m = /^(\d{1,15})\.([A-Za-z0-9_-]+)$/.exec(token);
  if (!m) return null;
  const subscriberId = Number(m[1]);
  return Number.isSafeInteger(subscriberId) && same(m[2]!, sign(secret, `person:${campaignId}:${subscriberId}`)) ? subscriberId : null;
}

/** The placeholder the message builder fills with personToken (only templates compiled for tracking may hold it). */
export const TRACKING_TOKEN = '{{trackingToken}}';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function verifyClick(secret: string, campaignId: number, position: number, signature: string): boolean {
  return same(signature, sign(secret, `click:${campaignId}:${position}`));
}

export function verifyOpen(secret: string, campaignId: number, signature: string): boolean {
  return same(signature, sign(secret, `open:${campaignId}`));
}

/**
 * Rewrites the http(s) links of a campaign's HTML (a Handlebars source) to click redirects, and adds the open pixel.
 * Links made of placeholders (unsubscribe, preferences, web version) and mailto: links stay as they are.
 */
export function addTracking(html: string, options: { publicUrl: string; secret: string; campaignId: number; clicks: boolean; opens: boolean; people?: boolean }): { html: string; links: string[] } {
  const links: string[] = [];
  const who = options.people ? `/${TRACKING_TOKEN}` : '';
  let out = html;
  if (options.clicks) {
    out = out.replace(/(<a\b[^>]*?\bhref=)(["'])(https?:\/\/[^"'\s]+)\2/gi, (whole, start: string, quote: string, url: string) => {
      if (url.includes('{{') || url.startsWith(`${options.publicUrl}/u/`) || url.startsWith(`${options.publicUrl}/p/`)) return whole;
      const decoded = url.replace(/&amp;/g, '&');
      let position = links.indexOf(decoded);
      if (position < 0) position = links.push(decoded) - 1;
      return `${start}${quote}${options.publicUrl}${clickPath(options.secret, options.campaignId, position)}${who}${quote}`;
    });
  }
  if (options.opens) {
    const path = options.people ? openPath(options.secret, options.campaignId).replace(/\.gif$/, `${who}.gif`) : openPath(options.secret, options.campaignId);
    const pixel = `<img src="${options.publicUrl}${path}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`;
    out = /<\/body>/i.test(out) ? out.replace(/<\/body>/i, `${pixel}</body>`) : `${out}${pixel}`;
  }
  return { html: out, links };
}

const SCANNER_AGENTS = /(bot|crawler|spider|scanner|preview|proofpoint|mimecast|barracuda|safelinks|microsoft office|ms-office|msoffice|trendmicro|symantec|forcepoint|sophos|fortinet|cisco|ironport|zscaler|headlesschrome|python-requests|curl\/|wget|go-http-client|java\/|okhttp|axios|node-fetch|libwww)/i;

/** Whether a hit looks like a machine: Apple's privacy proxy for opens, a link scanner for clicks, HEAD requests. */
export function isMachineHit(kind: 'open' | 'click', request: { method: string; userAgent: string; ip: string }): boolean {
  if (request.method === 'HEAD') return true;
  if (request.userAgent === '' || SCANNER_AGENTS.test(request.userAgent)) return true;
  if (kind === 'open') {
    try {
      const ip = ipaddr.process(request.ip);
      if (ip.kind() === 'ipv4' && ip.match(ipaddr.parseCIDR('17.0.0.0/8'))) return true;
    } catch {
      return false;
    }
  }
  return false;
}

/** The 1×1 transparent GIF. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
