/**
 * The local inbox web UI: /inbox (list, search, live updates, delete all), /inbox/:id (one message in tabs: HTML, text, headers, check; delete),
 * its sandboxed HTML, raw source and JSON, and /inbox/events (Server-Sent Events) with the one script that uses them.
 * Registered only while the built-in inbox runs; otherwise none of these paths exists.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InboxEvent, InboxMessage, InboxMessageSummary, InboxReader } from '../smtp/local-inbox.ts';
import { html, raw, renderPage } from './html.ts';
import { INBOX_CHECK_CSS, checkMessage, renderMessageCheck } from './inbox-check.ts';
import type { SafeHtml } from './html.ts';
import { DEFAULT_CONTENT_SECURITY_POLICY, DEFAULT_SECURITY_HEADERS } from './security-headers.ts';

export interface InboxRoutesOptions {
  /** Messages per page of /inbox. Default 100. */
  readonly pageSize?: number;
  /** PUBLIC_URL: the Check tab requests a message's links and images on this server (in process); others are listed only. */
  readonly publicUrl?: string;
}

/** The message page frames /inbox/:id/html, so it allows a same-origin frame on top of the defaults. */
const MESSAGE_PAGE_CSP = `${DEFAULT_CONTENT_SECURITY_POLICY}; frame-src 'self'`;

/** The list page runs one script, /inbox/live.js, allowed by a nonce of this response only, and talks to this origin only. */
function listPageCsp(nonce: string): string {
  return `${DEFAULT_CONTENT_SECURITY_POLICY}; script-src 'nonce-${nonce}'; connect-src 'self'`;
}

/** The email's own HTML: a unique origin, no scripts, no forms, no plugins; only images, inline styles and fonts load. */
const EMAIL_HTML_CSP =
  "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src * data:; frame-ancestors 'self'";

const HTML_TYPE = 'text/html; charset=utf-8';
const FRAME_WIDTHS = ['full', '600', '360'] as const;
type FrameWidth = (typeof FRAME_WIDTHS)[number];

/** Browsers reconnect this long after an event stream broke. */
const EVENTS_RETRY_MS = 2_000;
/** A comment line this often keeps proxies and browsers from timing the stream out. */
const EVENTS_PING_MS = 25_000;
/** More open event streams than this get 503: the inbox is a tool for a few people, not a broadcast. */
const MAX_EVENT_STREAMS = 100;

const LIVE_SCRIPT = readFileSync(new URL('./inbox-live.js', import.meta.url), 'utf8');

/**
 * Register the inbox pages on `app`. Routes live in their own plugin scope (with a parser for the forms, which have
 * no fields), so they exist once `app.ready()` or `app.listen()` has run.
 */
export function registerInboxRoutes(app: FastifyInstance, inbox: InboxReader, options: InboxRoutesOptions = {}): void {
  const pageSize = options.pageSize ?? 100;
  const streams = new Set<() => void>();
  // Open event streams never end by themselves: end them when the server closes, or close() would wait forever.
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });

  void app.register(async (scope) => {
    if (!scope.hasContentTypeParser('application/x-www-form-urlencoded')) {
      // The forms have no fields: accept the body, ignore it.
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_request, _body, done) => {
        done(null, {});
      });
    }

    scope.get('/inbox', async (request, reply) => {
      const query = readQuery(request);
      const all = await inbox.list();
      const matching = filterMessages(all, query.q);
      const pageCount = Math.max(1, Math.ceil(matching.length / pageSize));
      const page = Math.min(query.page, pageCount);
      const shown = matching.slice((page - 1) * pageSize, page * pageSize);
      const body = renderListPage({ all: all.length, matching: matching.length, shown, q: query.q, page, pageCount, pageSize });
      const nonce = randomBytes(16).toString('base64');
      void reply.header('content-security-policy', listPageCsp(nonce));
      const title = all.length === 0 ? 'Inbox' : `Inbox (${all.length})`;
      return sendPage(reply, 200, title, body, '/inbox', html`<script src="/inbox/live.js" nonce="${nonce}" defer></script>`);
    });

    scope.get('/inbox/live.js', async (_request, reply) =>
      reply.code(200).header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(LIVE_SCRIPT),
    );

    scope.get('/inbox/events', (request, reply) => {
      if (streams.size >= MAX_EVENT_STREAMS) {
        void reply.code(503).header('retry-after', '30').type('text/plain; charset=utf-8').send('too many open inbox event streams');
        return;
      }
      // The stream is written by hand: the default headers are set here, as no onSend hook runs for it.
      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        ...DEFAULT_SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      response.write(`retry: ${EVENTS_RETRY_MS}\n\n`);
      const unsubscribe = inbox.subscribe((event) => response.write(formatEvent(event)));
      const ping = setInterval(() => response.write(': ping\n\n'), EVENTS_PING_MS);
      const end = (): void => {
        if (!streams.delete(end)) return;
        clearInterval(ping);
        unsubscribe();
        response.end();
      };
      streams.add(end);
      request.raw.once('close', end);
      response.once('close', end);
    });

    scope.get('/inbox.json', async (request, reply) => {
      const query = readQuery(request);
      const messages = filterMessages(await inbox.list(), query.q);
      void reply.header('cache-control', 'no-store');
      return { total: messages.length, messages };
    });

    scope.post('/inbox/clear', async (request, reply) => {
      if (!isSameOriginRequest(request)) return sendCrossSiteRefusal(reply);
      await inbox.clear();
      return reply.code(303).header('location', '/inbox').send();
    });

    scope.post<{ Params: { id: string } }>('/inbox/:id/delete', async (request, reply) => {
      if (!isSameOriginRequest(request)) return sendCrossSiteRefusal(reply);
      if (!(await inbox.delete(request.params.id))) return sendNotFound(reply);
      return reply.code(303).header('location', '/inbox').send();
    });

    scope.delete<{ Params: { id: string } }>('/inbox/:id', async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      if (!isSameOriginRequest(request)) return reply.code(403).send({ error: 'FORBIDDEN', message: 'The request did not come from this site.' });
      if (!(await inbox.delete(request.params.id))) return reply.code(404).send({ error: 'NOT_FOUND', message: 'No such message in the inbox.' });
      return reply.code(204).send();
    });

    scope.get<{ Params: { id: string } }>('/inbox/:id', async (request, reply) => {
      const param = request.params.id;
      if (param.endsWith('.json')) {
        const message = await inbox.get(param.slice(0, -'.json'.length));
        void reply.header('cache-control', 'no-store');
        if (message === null) return reply.code(404).send({ error: 'NOT_FOUND', message: 'No such message in the inbox.' });
        return message;
      }
      const message = await inbox.get(param);
      if (message === null) return sendNotFound(reply);
      const query = readQuery(request);
      const tab = MESSAGE_TABS.find((candidate) => candidate.view === query.view) ?? defaultTab(message);
      const content = await tab.render({
        message,
        base: `/inbox/${message.id}`,
        param: (name) => query.param(name),
        publicUrl: options.publicUrl ?? '',
        requestStatus: async (path) => (await app.inject({ method: 'GET', url: path })).statusCode,
      });
      void reply.header('content-security-policy', MESSAGE_PAGE_CSP);
      return sendPage(reply, 200, message.subject === '' ? '(no subject)' : message.subject, renderMessagePage(message, tab, content), '/inbox');
    });

    scope.get<{ Params: { id: string } }>('/inbox/:id/html', async (request, reply) => {
      const message = await inbox.get(request.params.id);
      if (message === null || message.html === null) return sendNotFound(reply);
      return reply
        .code(200)
        .header('content-type', HTML_TYPE)
        .header('content-security-policy', EMAIL_HTML_CSP)
        .header('x-frame-options', 'SAMEORIGIN')
        .header('cache-control', 'no-store')
        .send(message.html);
    });

    scope.get<{ Params: { id: string } }>('/inbox/:id/raw', async (request, reply) => {
      const message = await inbox.get(request.params.id);
      if (message === null) return sendNotFound(reply);
      const download = readQuery(request).download !== '';
      if (download) void reply.header('content-disposition', `attachment; filename="${message.id}.eml"`);
      return reply.code(200).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(message.raw);
    });
  });
}

/** One Server-Sent Event: its type, and the message's summary (received) or the ids (deleted). JSON holds no line break. */
function formatEvent(event: InboxEvent): string {
  const data = event.type === 'received' ? event.message : event.type === 'deleted' ? { ids: event.ids } : {};
  return `event: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

interface InboxQuery {
  readonly q: string;
  readonly page: number;
  readonly view: string;
  readonly download: string;
  /** Any other parameter, as a string ('' when missing), for the tabs of the message page. */
  param(name: string): string;
}

function readQuery(request: FastifyRequest): InboxQuery {
  const query = (typeof request.query === 'object' && request.query !== null ? request.query : {}) as Record<string, unknown>;
  const page = Number.parseInt(readFirstString(query.page), 10);
  return {
    q: readFirstString(query.q).trim().slice(0, 200),
    page: Number.isFinite(page) && page > 0 ? page : 1,
    view: readFirstString(query.view),
    download: readFirstString(query.download),
    param: (name) => (Object.hasOwn(query, name) ? readFirstString(query[name]) : ''),
  };
}

function readFirstString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return '';
}

function pickOne<T extends string>(allowed: readonly T[], value: string): T | undefined {
  return allowed.find((candidate) => candidate === value);
}

/** Case-insensitive match on subject, To, envelope recipients and From. */
function filterMessages(messages: InboxMessageSummary[], q: string): InboxMessageSummary[] {
  if (q === '') return messages;
  const needle = q.toLowerCase();
  return messages.filter((message) =>
    [message.subject, message.from, ...message.to, ...message.envelope.to].some((field) => field.toLowerCase().includes(needle)),
  );
}

/**
 * A form post from another site must not delete anything: browsers say where a request came from. Sec-Fetch-Site is
 * the browser's own word; without it, Origin (our pages send `Referrer-Policy: no-referrer`, so a browser's own form
 * post may carry `Origin: null`, which is then refused); a request with neither (curl, scripts) is not a browser's.
 */
function isSameOriginRequest(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (typeof origin !== 'string' || origin === 'null') return false;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

function sendPage(reply: FastifyReply, status: number, title: string, body: SafeHtml, currentPath: string, head?: SafeHtml): FastifyReply {
  return reply
    .code(status)
    .header('content-type', HTML_TYPE)
    .header('cache-control', 'no-store')
    .send(renderPage({ title, body, head: html`<style>${raw(INBOX_CSS)}${raw(INBOX_CHECK_CSS)}</style>${head}`, currentPath }));
}

function sendCrossSiteRefusal(reply: FastifyReply): FastifyReply {
  const body = html`<h1>Not deleted</h1><p>The request did not come from this page. <a href="/inbox">Back to the inbox</a></p>`;
  return sendPage(reply, 403, 'Forbidden', body, '/inbox');
}

function sendNotFound(reply: FastifyReply): FastifyReply {
  const body = html`<h1>Message not found</h1>
<div class="card empty"><p>There is no such message in the inbox. It may have been deleted.</p><p><a class="button" href="/inbox">Back to the inbox</a></p></div>`;
  return sendPage(reply, 404, 'Not found', body, '/inbox');
}

interface ListPageModel {
  readonly all: number;
  readonly matching: number;
  readonly shown: readonly InboxMessageSummary[];
  readonly q: string;
  readonly page: number;
  readonly pageCount: number;
  readonly pageSize: number;
}

function renderListPage(model: ListPageModel): SafeHtml {
  // The parts with an id are what the live script swaps in when mail arrives or goes (see inbox-live.js).
  const heading = html`<div class="heading"><h1>Inbox</h1><span class="count" id="inbox-count">${formatCountLabel(model)}</span><span class="live-status" id="inbox-status" hidden></span></div>`;
  const toolbar = html`<div class="toolbar">
<form class="search" method="get" action="/inbox" role="search">
<label class="visually-hidden" for="inbox-q">Search subject or recipient</label>
<input id="inbox-q" type="search" name="q" value="${model.q}" placeholder="Search subject or recipient">
<button type="submit">Search</button>
${model.q === '' ? '' : html`<a class="button" href="/inbox">Clear</a>`}
</form>
<div class="actions" id="inbox-actions">${
    model.all === 0 ? '' : html`<form method="post" action="/inbox/clear"><button class="danger" type="submit">Delete all</button></form>`
  }</div>
</div>`;
  return html`${heading}${toolbar}
<div id="inbox-live">${renderListContent(model)}</div>
<p class="visually-hidden" id="inbox-announce" aria-live="polite"></p>`;
}

function renderListContent(model: ListPageModel): SafeHtml {
  if (model.all === 0) {
    return html`<div class="card empty">
<p class="empty-title">No messages yet</p>
<p>While no <code>SMTP_URL</code> is configured, <code>mailroom serve</code> captures every email Mailroom sends here instead of delivering it. New messages appear on this page as they arrive.</p>
<p>Send an issue to see it arrive:</p>
<pre>npx mailroom send weekly</pre>
</div>`;
  }
  if (model.matching === 0) {
    return html`<div class="card empty"><p>No messages match “${model.q}”.</p><p><a href="/inbox">Show all messages</a></p></div>`;
  }
  const rows = model.shown.map(
    (message) => html`<tr data-message-id="${message.id}">
<td class="col-time"><time datetime="${message.receivedAt}" title="${message.receivedAt}">${formatReceived(message.receivedAt)}</time></td>
<td class="col-from" title="${message.from}">${message.from}</td>
<td class="col-to" title="${message.to.join(', ')}">${formatRecipients(message.to)}</td>
<td class="col-subject" title="${message.subject}"><a href="/inbox/${message.id}">${message.subject === '' ? html`<span class="muted">(no subject)</span>` : message.subject}</a></td>
<td class="col-size">${formatSize(message.size)}</td>
</tr>`,
  );
  return html`<div class="card table-card">
<table class="messages">
<thead><tr><th class="col-time">Received</th><th class="col-from">From</th><th class="col-to">To</th><th class="col-subject">Subject</th><th class="col-size">Size</th></tr></thead>
<tbody>${rows}</tbody>
</table>
</div>
${renderPagination(model)}`;
}

function formatCountLabel(model: ListPageModel): string {
  const formatCount = (n: number): string => `${n} message${n === 1 ? '' : 's'}`;
  return model.q === '' ? formatCount(model.all) : `${formatCount(model.matching)} of ${model.all}`;
}

function renderPagination(model: ListPageModel): SafeHtml | '' {
  if (model.pageCount <= 1) return '';
  const buildPageHref = (page: number): string => {
    const params = new URLSearchParams();
    if (model.q !== '') params.set('q', model.q);
    if (page > 1) params.set('page', String(page));
    const search = params.toString();
    return search === '' ? '/inbox' : `/inbox?${search}`;
  };
  const first = (model.page - 1) * model.pageSize + 1;
  const last = Math.min(model.page * model.pageSize, model.matching);
  return html`<nav class="pagination" aria-label="Pages">
${model.page > 1 ? html`<a class="button" href="${buildPageHref(model.page - 1)}" rel="prev">← Newer</a>` : html`<span></span>`}
<span class="muted">${first}–${last} of ${model.matching}</span>
${model.page < model.pageCount ? html`<a class="button" href="${buildPageHref(model.page + 1)}" rel="next">Older →</a>` : html`<span></span>`}
</nav>`;
}

/** What a tab of the message page is given: the message, its page's path, and the query parameters of the request. */
export interface MessageTabContext {
  readonly message: InboxMessage;
  /** `/inbox/<id>`: the message page; the tab's own links add `?view=<view>&…`. */
  readonly base: string;
  /** A query parameter of the request ('' when missing), for a tab's own options (e.g. `width`). */
  param(name: string): string;
  /** PUBLIC_URL ('' when unknown): the Check tab requests links on this server only. */
  readonly publicUrl: string;
  /** The status this server answers for a path (requested in process), for the Check tab. */
  requestStatus(path: string): Promise<number>;
}

/** A tab of the message page, shown at `?view=<view>`. A new tab is one more entry in MESSAGE_TABS. */
export interface MessageTab {
  readonly view: string;
  readonly label: string;
  render(context: MessageTabContext): SafeHtml | Promise<SafeHtml>;
}

const HTML_TAB: MessageTab = {
  view: 'html',
  label: 'HTML',
  render({ message, base, param }) {
    if (message.html === null) {
      return html`<div class="card empty"><p>This message has no HTML part. <a href="${base}?view=text">Show the text part</a></p></div>`;
    }
    const width: FrameWidth = pickOne(FRAME_WIDTHS, param('width')) ?? 'full';
    const renderWidthLink = (value: FrameWidth, label: string): SafeHtml =>
      html`<a href="${base}?view=html&amp;width=${value}"${value === width ? raw(' aria-current="true"') : ''}>${label}</a>`;
    return html`<div class="frame-toolbar"><span class="muted">Width</span>${renderWidthLink('full', 'Full')}${renderWidthLink('600', '600 px')}${renderWidthLink('360', '360 px')}
<a class="open-frame" href="${base}/html" target="_blank" rel="noopener">Open in new tab ↗</a></div>
<div class="frame-stage"><iframe class="email-frame width-${width}" sandbox src="${base}/html" title="HTML part of the email"></iframe></div>`;
  },
};

const TEXT_TAB: MessageTab = {
  view: 'text',
  label: 'Text',
  render: ({ message }) =>
    message.text === null ? html`<div class="card empty"><p>This message has no plain text part.</p></div>` : html`<pre class="text-part">${message.text}</pre>`,
};

const HEADERS_TAB: MessageTab = {
  view: 'headers',
  label: 'Headers',
  render: ({ message }) => html`<pre class="headers-part">${message.headers.map((header) => `${header.line}\n`)}</pre>`,
};

/** The tabs of the message page, in order. */
const CHECK_TAB: MessageTab = {
  view: 'check',
  label: 'Check',
  // GETs on this server change nothing (link scanners follow them), so the Check tab may request the message's links.
  render: async ({ message, publicUrl, requestStatus }) =>
    message.html === null
      ? html`<div class="card empty"><p>This message has no HTML part to check.</p></div>`
      : renderMessageCheck(await checkMessage(message.html, publicUrl === '' ? null : publicUrl, requestStatus), publicUrl),
};

const MESSAGE_TABS: readonly MessageTab[] = [HTML_TAB, TEXT_TAB, HEADERS_TAB, CHECK_TAB];

/** The HTML part when there is one, else the text. */
function defaultTab(message: InboxMessage): MessageTab {
  return message.html !== null ? HTML_TAB : TEXT_TAB;
}

function renderMessagePage(message: InboxMessage, current: MessageTab, content: SafeHtml): SafeHtml {
  const base = `/inbox/${message.id}`;
  const date = readHeader(message, 'date');
  const envelopeDiffers =
    message.envelope.to.length > 0 && message.envelope.to.join(',').toLowerCase() !== message.to.join(',').toLowerCase();
  const tabs = MESSAGE_TABS.map(
    (tab) => html`<a class="tab" href="${base}?view=${tab.view}"${tab === current ? raw(' aria-current="page"') : ''}>${tab.label}</a>`,
  );

  return html`<div class="message-bar"><a href="/inbox">← Inbox</a>
<form method="post" action="${base}/delete"><button class="danger" type="submit">Delete</button></form></div>
<h1 class="subject">${message.subject === '' ? html`<span class="muted">(no subject)</span>` : message.subject}</h1>
<dl class="meta card">
<dt>From</dt><dd>${message.from === '' ? html`<span class="muted">(none)</span>` : message.from}</dd>
<dt>To</dt><dd>${formatRecipients(message.to)}</dd>
${envelopeDiffers ? html`<dt>Envelope</dt><dd>${message.envelope.to.join(', ')}</dd>` : ''}
<dt>Subject</dt><dd>${message.subject}</dd>
<dt>Date</dt><dd>${date === null ? html`<span class="muted">(none)</span>` : date}</dd>
<dt>Received</dt><dd><time datetime="${message.receivedAt}" title="${message.receivedAt}">${formatReceivedFull(message.receivedAt)}</time> <span class="muted">· ${formatSize(message.size)}</span></dd>
</dl>
<nav class="tabs" aria-label="Message parts">
${tabs}
<span class="tab-links"><a class="tab" href="${base}/raw">Raw</a><a class="tab" href="${base}/raw?download=1">Download .eml</a></span>
</nav>
<section class="view view-${current.view}">${content}</section>`;
}

/** The unfolded value of the first header `name`, or null. Raw: encoded words are not decoded (fine for Date). */
function readHeader(message: InboxMessage, name: string): string | null {
  const header = message.headers.find((candidate) => candidate.key === name);
  if (header === undefined) return null;
  const colon = header.line.indexOf(':');
  return header.line
    .slice(colon + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}

function formatRecipients(recipients: readonly string[]): SafeHtml | string {
  if (recipients.length === 0) return html`<span class="muted">(none)</span>`;
  if (recipients.length <= 3) return recipients.join(', ');
  return `${recipients.slice(0, 3).join(', ')} +${recipients.length - 3} more`;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const LIST_FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const FULL_FORMAT = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });

function formatReceivedFull(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : FULL_FORMAT.format(date);
}

/** Date and time, to the second (server's local time zone): "4 Dec 2026, 09:15:02". */
function formatReceived(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : LIST_FORMAT.format(date);
}

const INBOX_CSS = `
.heading { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
.heading h1 { margin-bottom: 12px; }
.count { color: var(--muted); }
.live-status { font-size: 13px; color: var(--muted); display: inline-flex; align-items: center; gap: 6px; }
.live-status::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--muted); }
.live-status[data-state="live"]::before { background: #1a7f37; }
.live-status[data-state="offline"]::before { background: #9a6700; }
.toolbar { display: flex; justify-content: space-between; align-items: center; gap: 12px; flex-wrap: wrap; margin-bottom: 16px; }
.search { display: flex; gap: 8px; flex: 1 1 320px; max-width: 520px; min-width: 0; }
.search input { flex: 1; min-width: 0; }
.search button, .search .button { flex: none; }
.search .button { display: inline-flex; align-items: center; }
.actions:empty { display: none; }
.toolbar form { margin: 0; }
.empty { padding: 28px 24px; }
.empty-title { font-size: 17px; font-weight: 600; }
.empty pre { display: inline-block; padding: 10px 16px; }
.table-card { padding: 0; overflow: hidden; }
.messages { table-layout: fixed; }
.messages th { padding-top: 12px; padding-bottom: 10px; }
.messages th:first-child, .messages td:first-child { padding-left: 16px; }
.messages th:last-child, .messages td:last-child { padding-right: 16px; }
.messages tbody tr:last-child td { border-bottom: 0; }
.messages tbody tr:hover { background: var(--row-hover); }
.messages tbody tr.is-new { animation: arrived 2.5s ease-out; }
@keyframes arrived { from { background: color-mix(in srgb, var(--accent) 22%, transparent); } to { background: transparent; } }
@media (prefers-reduced-motion: reduce) { .messages tbody tr.is-new { animation: none; background: var(--row-hover); } }
.messages td { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.col-time { width: 196px; color: var(--muted); font-variant-numeric: tabular-nums; }
.col-from { width: 24%; }
.col-to { width: 22%; color: var(--muted); }
.col-subject a { font-weight: 600; }
.col-size { width: 88px; text-align: right; color: var(--muted); font-variant-numeric: tabular-nums; }
th.col-size { text-align: right; }
.pagination { display: flex; justify-content: space-between; align-items: center; margin-top: 16px; }
.message-bar { display: flex; justify-content: space-between; align-items: center; gap: 12px; margin-bottom: 12px; }
.message-bar form { margin: 0; }
.subject { word-break: break-word; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0 0 20px; }
.meta dt { color: var(--muted); font-weight: 600; font-size: 13px; padding-top: 1px; }
.meta dd { margin: 0; word-break: break-word; }
.tabs { display: flex; gap: 4px; border-bottom: 1px solid var(--border); margin-bottom: 16px; flex-wrap: wrap; }
.tab { padding: 8px 14px; color: var(--muted); border-bottom: 2px solid transparent; margin-bottom: -1px; }
.tab:hover { color: var(--text); text-decoration: none; }
.tab[aria-current="page"] { color: var(--text); border-bottom-color: var(--accent); font-weight: 600; }
.tab-links { display: flex; gap: 4px; margin-left: auto; }
.frame-toolbar { display: flex; align-items: center; gap: 12px; margin-bottom: 10px; font-size: 14px; flex-wrap: wrap; }
.frame-toolbar a[aria-current="true"] { color: var(--text); font-weight: 600; }
.frame-toolbar .open-frame { margin-left: auto; }
.frame-stage { background: var(--code-bg); border: 1px solid var(--border); border-radius: 10px; padding: 12px; overflow: auto; resize: vertical; height: 78vh; min-height: 420px; }
.email-frame { display: block; width: 100%; height: 100%; margin: 0 auto; border: 0; border-radius: 4px; background: #ffffff; }
.email-frame.width-600 { width: 600px; max-width: 100%; }
.email-frame.width-360 { width: 360px; max-width: 100%; }
.text-part, .headers-part { font-size: 13px; line-height: 1.55; }
@media (max-width: 700px) {
  .messages thead { display: none; }
  .messages, .messages tbody { display: block; }
  .messages tr { display: grid; grid-template-columns: minmax(0, 1fr) auto; grid-template-areas: "from time" "subject subject"; gap: 2px 12px; padding: 10px 14px; border-bottom: 1px solid var(--border); }
  .messages tbody tr:last-child { border-bottom: 0; }
  .messages td, .messages td:first-child, .messages td:last-child { display: block; width: auto; padding: 0; border: 0; }
  .messages .col-from { grid-area: from; }
  .messages .col-time { grid-area: time; text-align: right; font-size: 13px; }
  .messages .col-subject { grid-area: subject; }
  .messages tr td.col-to, .messages tr td.col-size { display: none; }
  .frame-stage { padding: 0; height: 70vh; }
}
`;
