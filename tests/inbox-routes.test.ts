/** The /inbox web UI over a real local inbox: escaping, security headers, raw/JSON routes, and the sandboxed HTML frame in Chromium. */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { createTransport } from 'nodemailer';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml, html, raw, renderPage } from '../src/http/html.ts';
import { registerInboxRoutes } from '../src/http/inbox-routes.ts';
import { closeSilentConnectionsOnClose } from '../src/http/connections.ts';
import { registerSecurityHeaders } from '../src/http/security-headers.ts';
import { startLocalInbox } from '../src/smtp/local-inbox.ts';
import type { InboxMessageSummary, InboxReader, LocalInbox } from '../src/smtp/local-inbox.ts';
import { describeBrowserSuite, hasChromium, launchBrowser } from './helpers/browser.ts';

const XSS_SUBJECT = '<script>alert(1)</script>';
const NEWSLETTER_SUBJECT = 'Mailroom Weekly #42: the local inbox is here';
/** If this ran, the frame would get a new title, a marker element and a data attribute. */
const EMAIL_HTML = `<!doctype html><html><head><title>Weekly #42</title></head>
<body style="margin:0;background:#f4f4f5;font-family:Helvetica,Arial,sans-serif">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="100%" style="max-width:560px;background:#ffffff;border-radius:8px" cellpadding="0" cellspacing="0"><tr><td style="padding:32px">
<h1 id="email-heading" style="margin:0 0 12px;font-size:24px;color:#111827">Hello from the email</h1>
<p style="margin:0 0 16px;color:#374151;line-height:1.6">This week: a built-in SMTP server that captures every message, so you can see exactly what your readers will get.</p>
<p style="margin:0"><a href="https://example.com/read" style="display:inline-block;background:#2b5fd9;color:#ffffff;padding:10px 16px;border-radius:6px;text-decoration:none">Read the issue</a></p>
</td></tr></table></td></tr></table>
<script>document.title = 'pwned'; var p = document.createElement('p'); p.id = 'pwned'; document.body.appendChild(p); document.body.setAttribute('data-pwned', '1');</script>
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" alt="" onerror="document.body.setAttribute('data-onerror', '1')" onload="document.body.setAttribute('data-onload', '1')">
</body></html>`;

/** Three messages, oldest first: a subject that is an XSS attempt, a plain one, and a newsletter whose HTML has a script. */
async function sendSamples(inbox: LocalInbox): Promise<void> {
  const transport = createTransport({ host: inbox.host, port: inbox.port, secure: false, ignoreTLS: true });
  await transport.sendMail({ from: 'Attacker <evil@example.com>', to: 'reader@example.com', subject: XSS_SUBJECT, text: 'plain <b>text</b> & more' });
  await transport.sendMail({
    from: 'Ana Ops <ops@example.com>',
    to: ['team@example.com', 'alerts@example.com'],
    subject: 'Nightly import finished: 1,204 subscribers added',
    text: 'All good.',
  });
  await transport.sendMail({
    from: '"Mailroom Weekly" <news@example.com>',
    to: 'Reader <reader@example.com>',
    subject: NEWSLETTER_SUBJECT,
    text: 'Hello from the email (text part)',
    html: EMAIL_HTML,
  });
  transport.close();
}

async function findId(inbox: InboxReader, subject: string): Promise<string> {
  const found = (await inbox.list()).find((message) => message.subject === subject);
  if (found === undefined) throw new Error(`no message with subject ${subject}`);
  return found.id;
}

describe('html helpers', () => {
  it('escapes interpolations unless they are SafeHtml, and joins lists', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const items = ['<b>', 'ok'].map((item) => html`<li>${item}</li>`);
    const markup = html`<ul title="${'"quoted"'}">${items}${raw('<li>trusted</li>')}${null}${undefined}${false}${0}</ul>`;
    expect(String(markup)).toBe('<ul title="&quot;quoted&quot;"><li>&lt;b&gt;</li><li>ok</li><li>trusted</li>0</ul>');
  });

  it('renders the page shell with an escaped title, the top bar and the current link', () => {
    const page = renderPage({ title: 'A <b> title', body: html`<p>Body</p>`, currentPath: '/inbox/abc' });
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page).toContain('<title>A &lt;b&gt; title · Mailroom</title>');
    expect(page).toContain('<a class="brand" href="/">Mailroom</a>');
    expect(page).toContain('<a href="/inbox" aria-current="page">Inbox</a>');
    expect(page).toContain('<a href="/">Home</a>');
    expect(page).toContain('prefers-color-scheme: dark');
    expect(page).toContain('<p>Body</p>');
    expect(page).not.toMatch(/<script/i);
  });
});

describe('inbox routes', () => {
  let dir: string;
  let inbox: LocalInbox;
  let app: FastifyInstance;
  let base: string;
  const seen: Response[] = [];

  async function get(path: string, init?: RequestInit): Promise<Response> {
    const response = await fetch(`${base}${path}`, { redirect: 'manual', ...init });
    seen.push(response);
    return response;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-inbox-routes-'));
    inbox = await startLocalInbox({ dir, port: 0 });
    app = Fastify();
    registerSecurityHeaders(app);
    closeSilentConnectionsOnClose(app);
    registerInboxRoutes(app, inbox);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    await sendSamples(inbox);
  });

  afterAll(async () => {
    await app.close();
    await inbox.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists messages newest first with every subject escaped', async () => {
    const response = await get('/inbox');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const body = await response.text();
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).not.toContain(XSS_SUBJECT);
    // One script, the inbox's own file, allowed by this response's nonce; nothing inline.
    const scripts = [...body.matchAll(/<script[^>]*>/gi)].map((m) => m[0]);
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(response.headers.get('content-security-policy') ?? '')?.[1];
    expect(nonce).toBeDefined();
    expect(scripts).toEqual([`<script src="/inbox/live.js" nonce="${nonce}" defer>`]);
    expect(body).not.toMatch(/<script[^>]*>[^<]/i);
    expect(body).not.toMatch(/\son[a-z]+=/i);
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(response.headers.get('content-security-policy')).not.toContain('unsafe-inline\'; script');
    const again = await get('/inbox');
    expect(again.headers.get('content-security-policy')).not.toContain(nonce);
    // Date and time, to the second.
    expect(body).toMatch(/<time datetime="[^"]+" title="[^"]+">\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}:\d{2}<\/time>/);
    expect(body.indexOf(NEWSLETTER_SUBJECT)).toBeLessThan(body.indexOf('&lt;script&gt;'));
    expect(body).toContain(`href="/inbox/${await findId(inbox, NEWSLETTER_SUBJECT)}"`);
    expect(body).toContain('action="/inbox/clear"');
    expect(body).toContain('3 messages');
  });

  it('filters by subject or recipient with ?q=', async () => {
    const bySubject = await (await get('/inbox?q=nightly')).text();
    expect(bySubject).toContain('Nightly import finished');
    expect(bySubject).not.toContain(NEWSLETTER_SUBJECT);
    const byRecipient = await (await get('/inbox?q=ALERTS@example')).text();
    expect(byRecipient).toContain('Nightly import finished');
    const none = await (await get(`/inbox?q=${encodeURIComponent('<nothing>')}`)).text();
    expect(none).toContain('No messages match “&lt;nothing&gt;”');
    const json = (await (await get('/inbox.json?q=weekly')).json()) as { total: number; messages: InboxMessageSummary[] };
    expect(json.total).toBe(1);
    expect(json.messages[0]?.subject).toBe(NEWSLETTER_SUBJECT);
  });

  it('shows a message with its headers, parts and a sandboxed frame', async () => {
    const id = await findId(inbox, NEWSLETTER_SUBJECT);
    const response = await get(`/inbox/${id}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("frame-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const body = await response.text();
    expect(body).toContain(NEWSLETTER_SUBJECT);
    expect(body).toContain('Mailroom Weekly &lt;news@example.com&gt;');
    expect(body).toMatch(new RegExp(`<iframe[^>]* sandbox src="/inbox/${id}/html"`));
    expect(body).not.toMatch(/allow-scripts/);
    expect(body).toContain(`href="/inbox/${id}/raw"`);
    expect(body).toContain(`action="/inbox/${id}/delete"`);
    expect(body).not.toMatch(/<script/i);
    expect(response.headers.get('content-security-policy')).not.toContain('script-src');

    const text = await (await get(`/inbox/${id}?view=text`)).text();
    expect(text).toContain('Hello from the email (text part)');
    const headers = await (await get(`/inbox/${id}?view=headers`)).text();
    expect(headers).toContain('Message-ID: &lt;');
    expect(headers).toContain('MIME-Version: 1.0');

    const xss = await (await get(`/inbox/${await findId(inbox, XSS_SUBJECT)}`)).text();
    expect(xss).not.toContain(XSS_SUBJECT);
    expect(xss).toContain('<h1 class="subject">&lt;script&gt;alert(1)&lt;/script&gt;</h1>');
    // No HTML part: the text view is the default, escaped.
    expect(xss).toContain('plain &lt;b&gt;text&lt;/b&gt; &amp; more');
    expect(xss).not.toContain('<iframe');
  });

  it('serves the email HTML as-is under a sandbox CSP that lets only this origin frame it', async () => {
    const id = await findId(inbox, NEWSLETTER_SUBJECT);
    const response = await get(`/inbox/${id}/html`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp.startsWith('sandbox;')).toBe(true);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    const body = await response.text();
    expect(body).toContain('<h1 id="email-heading"');
    expect(body).toContain("<script>document.title = 'pwned'");

    expect((await get(`/inbox/${await findId(inbox, XSS_SUBJECT)}/html`)).status).toBe(404);
  });

  it('serves the raw source as UTF-8 text and JSON for tools', async () => {
    const id = await findId(inbox, NEWSLETTER_SUBJECT);
    const response = await get(`/inbox/${id}/raw`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const source = await response.text();
    expect(source).toContain(`Subject: ${NEWSLETTER_SUBJECT}`);
    expect(source).toContain('Content-Type: multipart/alternative');
    const download = await get(`/inbox/${id}/raw?download=1`);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="${id}.eml"`);

    const list = (await (await get('/inbox.json')).json()) as { total: number; messages: InboxMessageSummary[] };
    expect(list.total).toBe(3);
    expect(list.messages.map((message) => message.subject)).toEqual([NEWSLETTER_SUBJECT, 'Nightly import finished: 1,204 subscribers added', XSS_SUBJECT]);
    const one = (await (await get(`/inbox/${id}.json`)).json()) as { id: string; html: string; text: string; headers: unknown[]; envelope: { to: string[] } };
    expect(one.id).toBe(id);
    expect(one.html).toContain('Hello from the email');
    expect(one.text).toContain('text part');
    expect(one.envelope.to).toEqual(['reader@example.com']);
    expect(one.headers.length).toBeGreaterThan(5);
  });

  it('answers 404 for unknown, malformed and traversal ids', async () => {
    for (const path of [
      '/inbox/mf0abc-0123456789ab',
      '/inbox/not-an-id',
      '/inbox/..%2F..%2Fetc%2Fpasswd',
      '/inbox/..%2Findex.jsonl/raw',
      '/inbox/mf0abc-0123456789ab/html',
      '/inbox/mf0abc-0123456789ab/raw',
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      expect(await response.text(), path).toContain('Message not found');
    }
    const json = await get('/inbox/mf0abc-0123456789ab.json');
    expect(json.status).toBe(404);
    expect(await json.json()).toMatchObject({ error: 'NOT_FOUND' });
  });

  it('sets nosniff and the other defaults on every response, 404s included', async () => {
    seen.push(await get('/no-such-page'));
    expect(seen.length).toBeGreaterThan(15);
    for (const response of seen) {
      expect(response.headers.get('x-content-type-options'), response.url).toBe('nosniff');
      expect(response.headers.get('referrer-policy'), response.url).toBe('no-referrer');
      expect(response.headers.get('cross-origin-opener-policy'), response.url).toBe('same-origin');
      expect(response.headers.get('content-security-policy'), response.url).not.toBeNull();
    }
  });
});

describe('inbox "Delete all"', () => {
  it('refuses a cross-site post, then clears and redirects with 303 to the empty state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailroom-inbox-clear-'));
    const inbox = await startLocalInbox({ dir, port: 0 });
    const app = Fastify();
    registerSecurityHeaders(app);
    closeSilentConnectionsOnClose(app);
    registerInboxRoutes(app, inbox);
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const transport = createTransport({ host: inbox.host, port: inbox.port, secure: false, ignoreTLS: true });
      await transport.sendMail({ from: 'news@example.com', to: 'reader@example.com', subject: 'To be deleted', text: 'x' });
      transport.close();

      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const crossSite = await fetch(`${base}/inbox/clear`, { method: 'POST', redirect: 'manual', headers: { ...form, origin: 'http://evil.example' }, body: '' });
      expect(crossSite.status).toBe(403);
      const fetchMetadata = await fetch(`${base}/inbox/clear`, { method: 'POST', redirect: 'manual', headers: { ...form, 'sec-fetch-site': 'cross-site' }, body: '' });
      expect(fetchMetadata.status).toBe(403);
      expect(await inbox.list()).toHaveLength(1);

      const response = await fetch(`${base}/inbox/clear`, { method: 'POST', redirect: 'manual', headers: { ...form, origin: base, 'sec-fetch-site': 'same-origin' }, body: '' });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/inbox');
      expect(await inbox.list()).toEqual([]);

      const empty = await (await fetch(`${base}/inbox`)).text();
      expect(empty).toContain('No messages yet');
      expect(empty).toContain('npx mailroom send weekly');
      expect(empty).not.toContain('Delete all');
    } finally {
      await app.close();
      await inbox.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('inbox pagination', () => {
  it('shows 100 per page, newest first, with newer/older links that keep the search', async () => {
    const messages: InboxMessageSummary[] = Array.from({ length: 250 }, (_, i) => ({
      id: `mf0abc-${String(1000 + i).padStart(12, '0')}`,
      receivedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
      from: 'news@example.com',
      to: [`reader${i}@example.com`],
      subject: `Message ${i}`,
      size: 1000 + i,
      envelope: { from: 'news@example.com', to: [`reader${i}@example.com`] },
    })).reverse();
    const reader: InboxReader = { list: async () => messages, get: async () => null, delete: async () => false, clear: async () => undefined, subscribe: () => () => undefined };
    const app = Fastify();
    registerSecurityHeaders(app);
    closeSilentConnectionsOnClose(app);
    registerInboxRoutes(app, reader);
    await app.ready();
    try {
      const first = (await app.inject('/inbox')).body;
      expect(first).toContain('Message 249');
      expect(first).toContain('Message 150');
      expect(first).not.toContain('Message 149<');
      expect(first).toContain('1–100 of 250');
      expect(first).toContain('href="/inbox?page=2"');
      const last = (await app.inject('/inbox?page=3')).body;
      expect(last).toContain('201–250 of 250');
      expect(last).toContain('Message 0<');
      expect(last).toContain('href="/inbox?page=2"');
      expect(last).not.toContain('Older');
      const searched = (await app.inject('/inbox?q=message&page=2')).body;
      expect(searched).toContain('href="/inbox?q=message"');
      expect(searched).toContain('href="/inbox?q=message&amp;page=3"');
      expect((await app.inject('/inbox?page=99')).body).toContain('201–250 of 250');
    } finally {
      await app.close();
    }
  });
});

describe.skipIf(!hasChromium())(describeBrowserSuite('inbox in Chromium'), () => {
  let dir: string;
  let inbox: LocalInbox;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-inbox-browser-'));
    inbox = await startLocalInbox({ dir, port: 0 });
    app = Fastify();
    registerSecurityHeaders(app);
    closeSilentConnectionsOnClose(app);
    registerInboxRoutes(app, inbox);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    await sendSamples(inbox);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await inbox?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('opens the newest message and shows its HTML in a frame where the email script cannot run', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('dialog', (dialog) => {
      errors.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });

    await page.goto(`${base}/inbox`);
    expect(await page.title()).toBe('Inbox (3) · Mailroom');
    expect(await page.locator('table.messages tbody tr').count()).toBe(3);
    expect(await page.locator('table.messages tbody tr').nth(2).locator('.col-subject').textContent()).toBe(XSS_SUBJECT);
    await page.screenshot({ path: '/tmp/inbox-list.png', fullPage: true });

    await page.locator('table.messages tbody tr').first().locator('a').click();
    await page.waitForURL(/\/inbox\/[0-9a-z]+-[0-9a-f]+$/);
    expect(await page.locator('h1.subject').textContent()).toBe(NEWSLETTER_SUBJECT);

    const frameElement = page.locator('iframe.email-frame');
    expect(await frameElement.getAttribute('sandbox')).toBe('');
    const frame = page.frameLocator('iframe.email-frame');
    await frame.locator('#email-heading').waitFor();
    expect(await frame.locator('#email-heading').textContent()).toBe('Hello from the email');
    // Give a script every chance to have run.
    await page.waitForTimeout(300);
    expect(await frame.locator('#pwned').count()).toBe(0);
    const body = frame.locator('body');
    expect(await body.getAttribute('data-pwned')).toBeNull();
    expect(await body.getAttribute('data-onload')).toBeNull();
    expect(await body.getAttribute('data-onerror')).toBeNull();
    expect(await page.title()).toBe(`${NEWSLETTER_SUBJECT} · Mailroom`);
    const childFrame = page.frames().find((candidate) => candidate.url().endsWith('/html'));
    expect(childFrame).toBeDefined();
    expect(errors).toEqual([]);
    await page.screenshot({ path: '/tmp/inbox-message.png', fullPage: true });

    await page.close();
  });

  it('cannot be framed by another site: neither the inbox nor the email HTML', async () => {
    const id = await findId(inbox, NEWSLETTER_SUBJECT);
    const page = await browser.newPage();
    // A data: URL page is another origin. A frame the browser refused shows Chromium's error page.
    await page.goto(`data:text/html,<iframe src="${base}/inbox"></iframe><iframe src="${base}/inbox/${id}/html"></iframe>`);
    await page.waitForTimeout(800);
    const children = page.frames().filter((frame) => frame !== page.mainFrame());
    expect(children).toHaveLength(2);
    for (const frame of children) expect(frame.url()).toBe('chrome-error://chromewebdata/');
    await page.close();
  });
});

describe('inbox: deleting one message, live events, the script', () => {
  let dir: string;
  let inbox: LocalInbox;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-inbox-live-'));
    inbox = await startLocalInbox({ dir, port: 0 });
    app = Fastify();
    registerSecurityHeaders(app);
    closeSilentConnectionsOnClose(app);
    registerInboxRoutes(app, inbox);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await app.close();
    await inbox.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function sendOne(subject: string): Promise<string> {
    const transport = createTransport({ host: inbox.host, port: inbox.port, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: 'news@example.com', to: 'reader@example.com', subject, text: 'x' });
    transport.close();
    return findId(inbox, subject);
  }

  it('deletes one message from its page (same origin only) and through the API', async () => {
    const id = await sendOne('Delete me');
    const keep = await sendOne('Keep me');
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const crossSite = await fetch(`${base}/inbox/${id}/delete`, { method: 'POST', redirect: 'manual', headers: { ...form, origin: 'http://evil.example' }, body: '' });
    expect(crossSite.status).toBe(403);
    expect((await fetch(`${base}/inbox/${id}/delete`, { method: 'POST', redirect: 'manual', headers: { ...form, 'sec-fetch-site': 'same-site' }, body: '' })).status).toBe(403);
    expect(await inbox.get(id)).not.toBeNull();

    const deleted = await fetch(`${base}/inbox/${id}/delete`, { method: 'POST', redirect: 'manual', headers: { ...form, origin: base, 'sec-fetch-site': 'same-origin' }, body: '' });
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get('location')).toBe('/inbox');
    expect(await inbox.get(id)).toBeNull();
    expect((await fetch(`${base}/inbox/${id}`)).status).toBe(404);
    const again = await fetch(`${base}/inbox/${id}/delete`, { method: 'POST', redirect: 'manual', headers: { ...form, origin: base }, body: '' });
    expect(again.status).toBe(404);

    expect((await fetch(`${base}/inbox/${keep}`, { method: 'DELETE', headers: { origin: 'http://evil.example' } })).status).toBe(403);
    const api = await fetch(`${base}/inbox/${keep}`, { method: 'DELETE' });
    expect(api.status).toBe(204);
    expect(await inbox.list()).toEqual([]);
    const missing = await fetch(`${base}/inbox/${keep}`, { method: 'DELETE' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'NOT_FOUND' });
  });

  it('streams an event for every message received, deleted and cleared', async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/inbox/events`, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const reader = response.body?.getReader();
    if (!reader) throw new Error('no body');
    let received = '';
    const readUntil = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!pattern.test(received)) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${received}`);
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`stream ended: ${received}`);
        received += Buffer.from(chunk.value).toString('utf8');
      }
    };
    await readUntil(/^retry: \d+\n\n/);
    const id = await sendOne('Live <b>event</b>');
    await readUntil(/event: received\ndata: (.+)\n\n/);
    const data = JSON.parse(/event: received\ndata: (.+)\n\n/.exec(received)?.[1] ?? '{}') as InboxMessageSummary;
    expect(data).toMatchObject({ id, subject: 'Live <b>event</b>' });
    await inbox.delete(id);
    await readUntil(/event: deleted\ndata: (.+)\n\n/);
    expect(received).toContain(`event: deleted\ndata: {"ids":["${id}"]}\n\n`);
    await inbox.clear();
    await readUntil(/event: cleared\n/);
    await reader.cancel();
  });

  it('serves its one script as JavaScript, and closes open event streams when the server closes', async () => {
    const script = await fetch(`${base}/inbox/live.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await script.text()).toContain("new EventSource('/inbox/events')");

    const other = Fastify();
    registerInboxRoutes(other, inbox);
    const otherBase = await other.listen({ port: 0, host: '127.0.0.1' });
    const open = await fetch(`${otherBase}/inbox/events`);
    const reader = open.body?.getReader();
    if (!reader) throw new Error('no body');
    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return 'ended';
    })();
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await ended).toBe('ended');
  });
});
