/**
 * The "Check" tab of a message in the local inbox: the email checks (src/checks/email-checks.ts) on its HTML, plus
 * the links and images that point at this Mailroom server, requested from the server itself (in process, never over
 * the network; other hosts are listed, never fetched).
 */

import { findAcceptedFinding } from '../checks/accepted-findings.ts';
import { describeClient, describeFamily, type EmailCheckReport } from '../checks/email-checks.ts';
import type { MessageCheck, OwnUrlResult } from '../checks/own-urls.ts';
import { html, type SafeHtml } from './html.ts';

export { checkMessage, ownPath, type MessageCheck, type OwnServerGet, type OwnUrlResult } from '../checks/own-urls.ts';

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function formatKb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function renderSize(report: EmailCheckReport): SafeHtml {
  const { bytes, limitBytes, verdict } = report.html;
  const percent = Math.min(100, Math.round((bytes / limitBytes) * 100));
  const label =
    verdict === 'clipped'
      ? `${formatKb(bytes)}: over the ${formatKb(limitBytes)} at which Gmail clips the message ("[Message clipped]"); the footer and its unsubscribe link are hidden.`
      : verdict === 'near'
        ? `${formatKb(bytes)}: close to the ${formatKb(limitBytes)} at which Gmail clips the message.`
        : `${formatKb(bytes)} of the ${formatKb(limitBytes)} at which Gmail clips the message.`;
  return html`<section class="check check-${verdict === 'ok' ? 'ok' : verdict === 'near' ? 'warn' : 'bad'}" id="check-size">
<h2>HTML size</h2>
<p>${label}</p>
<div class="meter" role="img" aria-label="${percent}% of Gmail's limit"><span style="width:${percent}%"></span></div>
</section>`;
}

function renderOwnUrls(urls: readonly OwnUrlResult[], publicUrl: string): SafeHtml {
  const checked = urls.filter((url) => url.status !== null);
  const failing = checked.filter((url) => (url.status ?? 0) >= 400);
  const other = urls.filter((url) => url.status === null);
  const rows = checked.map(
    (url) =>
      html`<tr class="${(url.status ?? 0) >= 400 ? 'bad' : 'ok'}"><td>${url.kind}</td><td class="url">${url.url}</td><td>${String(url.status)}</td></tr>`,
  );
  return html`<section class="check check-${failing.length > 0 ? 'bad' : 'ok'}" id="check-links">
<h2>Links and images on this server</h2>
<p>${checked.length === 0 ? `No link or image points at ${publicUrl === '' ? 'this server' : publicUrl}.` : failing.length === 0 ? `All ${checked.length} answer.` : `${failing.length} of ${checked.length} fail.`}</p>
${checked.length > 0 ? html`<table class="urls"><thead><tr><th>Kind</th><th>URL</th><th>Status</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
${other.length > 0 ? html`<details><summary>${other.length} on other hosts, not requested</summary><ul class="plain">${other.map((url) => html`<li><span class="muted">${url.kind}</span> ${url.url}</li>`)}</ul></details>` : ''}
</section>`;
}

function renderAccessibility(report: EmailCheckReport): SafeHtml {
  const problems = report.imagesWithoutAlt.length + report.unnamedLinks.length + report.ambiguousLinkNames.length;
  const decorative = report.images.filter((image) => image.alt === '').length;
  return html`<section class="check check-${problems > 0 ? 'bad' : 'ok'}" id="check-alt">
<h2>Images and link names</h2>
<p>${plural(report.images.length, 'image')}: ${report.imagesWithoutAlt.length} without alt text, ${decorative} decorative (alt=""). ${plural(report.links.length, 'link')}.</p>
${report.imagesWithoutAlt.length > 0 ? html`<h3>Images without alt text</h3><ul class="plain">${report.imagesWithoutAlt.map((image) => html`<li class="url">${image.src}</li>`)}</ul>` : ''}
${report.unnamedLinks.length > 0 ? html`<h3>Links with no name for a screen reader</h3><ul class="plain">${report.unnamedLinks.map((link) => html`<li class="url">${link.href}</li>`)}</ul>` : ''}
${report.ambiguousLinkNames.length > 0 ? html`<h3>One name, different places</h3><ul class="plain">${report.ambiguousLinkNames.map((entry) => html`<li>“${entry.name}” leads to ${entry.hrefs.length} places</li>`)}</ul>` : ''}
${report.links.length > 0 ? html`<details><summary>Every link, as a screen reader names it</summary><table class="links"><thead><tr><th>Name</th><th>Address</th></tr></thead><tbody>${report.links.map((link) => html`<tr><td>${link.name === '' ? html`<span class="muted">(no name)</span>` : link.name}</td><td class="url">${link.href}</td></tr>`)}</tbody></table></details>` : ''}
</section>`;
}

function renderClientSupport(report: EmailCheckReport): SafeHtml {
  if (report.unsupportedError !== null) {
    return html`<section class="check check-warn" id="check-clients"><h2>Email client support</h2><p>The caniemail check could not read this HTML: ${report.unsupportedError}</p></section>`;
  }
  const rows = report.unsupported.map((finding) => {
    const accepted = findAcceptedFinding(finding);
    return html`<tr><td><strong>${finding.feature}</strong></td><td>${finding.families.map(describeFamily).join(', ')}<div class="muted">${finding.clients.map(describeClient).join(', ')}</div></td><td>${accepted ? html`<span class="status status-accepted">Known</span> ${accepted.fallback}` : html`<span class="status status-new">Not documented</span>`}</td></tr>`;
  });
  const unknown = report.unsupported.filter((finding) => findAcceptedFinding(finding) === undefined).length;
  return html`<section class="check check-${unknown > 0 ? 'warn' : 'ok'}" id="check-clients">
<h2>Email client support</h2>
<p>${report.unsupported.length === 0 ? 'caniemail lists no unsupported feature for Gmail, Outlook, Apple Mail or Yahoo Mail.' : `${plural(report.unsupported.length, 'feature')} that some of Gmail, Outlook, Apple Mail and Yahoo Mail do not support (caniemail)${unknown > 0 ? `, ${unknown} not among the documented ones of Mailroom's templates` : ', each a documented enhancement of Mailroom\'s templates with its fallback'}.`}</p>
${rows.length > 0 ? html`<table class="clients"><thead><tr><th>Feature</th><th>Not supported by</th><th>Fallback</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
</section>`;
}

/** The tab's content. */
export function renderMessageCheck(check: MessageCheck, publicUrl: string): SafeHtml {
  return html`<div class="checks">${renderSize(check.report)}${renderOwnUrls(check.urls, publicUrl)}${renderAccessibility(check.report)}${renderClientSupport(check.report)}</div>`;
}

export const INBOX_CHECK_CSS = `
.checks { display: grid; gap: 16px; }
.check { border: 1px solid var(--border); border-left-width: 4px; border-radius: 10px; padding: 14px 18px; background: var(--surface); }
.check h2 { margin: 0 0 6px; font-size: 17px; }
.check h3 { margin: 12px 0 4px; font-size: 14px; }
.check p { margin: 0 0 8px; }
.check-ok { border-left-color: #1f9d55; }
.check-warn { border-left-color: #d69e2e; }
.check-bad { border-left-color: var(--danger); }
.meter { height: 8px; border-radius: 4px; background: var(--code-bg); overflow: hidden; }
.meter span { display: block; height: 100%; background: var(--accent); }
.check-bad .meter span { background: var(--danger); }
.check .url { word-break: break-all; font-size: 13px; }
.check table { width: 100%; }
.check tr.bad td { color: var(--danger); font-weight: 600; }
.check td { vertical-align: top; }
.plain { margin: 0; padding-left: 18px; }
.status-accepted { font-weight: 600; }
.status-new { font-weight: 600; color: var(--danger); }
`;
