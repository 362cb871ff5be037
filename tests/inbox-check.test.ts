/**
 * The inbox's per-message Check tab through the real HTTP server and a real local inbox: Gmail's clipping size,
 * links and images on this server requested in process (others listed, never fetched), images without alt text,
 * ambiguous link names and the caniemail findings. Then, in Chromium, a screenshot of the tab and the demo digest
 * in dark mode at 375 and 600 px, where the logo's corners must show the dark header, not white.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createTransport } from 'nodemailer';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { darkColors } from '../emails/theme.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { ownPath } from '../src/http/inbox-check.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { startLocalInbox, type LocalInbox } from '../src/smtp/local-inbox.ts';
import { describeBrowserSuite, hasChromium, launchBrowser } from './helpers/browser.ts';
import { decodePng } from './helpers/png.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

const PUBLIC_URL = 'https://news.example.com';
const BROKEN_SUBJECT = 'A message with broken parts';

let dir: string;
let inbox: LocalInbox;
let ws: Workspace;
let http: FastifyInstance;
let origin: string;
let digestId: string;
let brokenId: string;

async function idOf(subject: RegExp | string): Promise<string> {
  const found = (await inbox.list()).find((message) => (typeof subject === 'string' ? message.subject === subject : subject.test(message.subject)));
  if (!found) throw new Error(`no message ${String(subject)}`);
  return found.id;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailroom-inbox-check-'));
  inbox = await startLocalInbox({ dir, port: 0 });
  ws = await openWorkspace({ SMTP_URL: `smtp://127.0.0.1:${inbox.port}`, PUBLIC_URL });
  await loadDemoWorkspace(ws.app);
  await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
  const transport = createTransport({ host: '127.0.0.1', port: inbox.port, secure: false, ignoreTLS: true });
  await transport.sendMail({
    from: 'Mailroom Weekly <news@mailroom.example>',
    to: 'reader@example.com',
    subject: BROKEN_SUBJECT,
    text: 'See the HTML part.',
    html: `<!DOCTYPE html><html lang="en"><head><title>Broken</title></head><body>
<img src="${PUBLIC_URL}/media/no-such-image.png">
<p><a href="${PUBLIC_URL}/issues/weekly/1">Read more</a> <a href="${PUBLIC_URL}/issues/weekly/99">Read more</a></p>
<p><a href="${PUBLIC_URL}/articles/no-such-article" target="_blank">The missing article</a></p>
<p><a href="https://elsewhere.example/page">Elsewhere</a> <a href="mailto:editor@example.com">Write to us</a></p>
</body></html>`,
  });
  transport.close();
  http = await buildHttpServer({ stores: ws.app.stores, publicUrl: PUBLIC_URL, secret: ws.app.config.secret, mediaDir: join(ws.dataDir, 'media'), inbox, localDevelopment: true });
  origin = await http.listen({ port: 0, host: '127.0.0.1' });
  digestId = await idOf(/^Mailroom Weekly #1:/);
  brokenId = await idOf(BROKEN_SUBJECT);
}, 60_000);

afterAll(async () => {
  await http?.close();
  await ws?.close();
  await inbox?.close();
  await rm(dir, { recursive: true, force: true });
});

async function checkPage(id: string): Promise<string> {
  const response = await fetch(`${origin}/inbox/${id}?view=check`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The text of one section of the tab, tags dropped. */
function section(page: string, id: string): string {
  const match = new RegExp(`<section [^>]*id="${id}">([\\s\\S]*?)</section>`).exec(page);
  if (!match) throw new Error(`no section ${id}`);
  return (match[1] ?? '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

describe('ownPath: which URLs are on this server', () => {
  it('takes PUBLIC_URL\'s origin (and path, when it has one), never the inbox itself', () => {
    expect(ownPath(`${PUBLIC_URL}/u/abc?x=1`, PUBLIC_URL)).toBe('/u/abc?x=1');
    expect(ownPath(`${PUBLIC_URL}`, PUBLIC_URL)).toBe('/');
    expect(ownPath('https://news.example.com:8443/u/abc', PUBLIC_URL)).toBeNull();
    expect(ownPath('http://news.example.com/u/abc', PUBLIC_URL)).toBeNull();
    expect(ownPath('https://elsewhere.example/u/abc', PUBLIC_URL)).toBeNull();
    expect(ownPath(`${PUBLIC_URL}/inbox/123`, PUBLIC_URL)).toBeNull();
    expect(ownPath('https://example.com/news/media/logo.png', 'https://example.com/news')).toBe('/media/logo.png');
    expect(ownPath('https://example.com/other/page', 'https://example.com/news')).toBeNull();
    expect(ownPath('javascript:alert(1)', PUBLIC_URL)).toBeNull();
    expect(ownPath(`${PUBLIC_URL}/u/abc`, null)).toBeNull();
  });
});

describe('the inbox Check tab', () => {
  it('is a tab of every message, marked current when open', async () => {
    const page = await checkPage(digestId);
    expect(page).toContain(`<a class="tab" href="/inbox/${digestId}?view=check" aria-current="page">Check</a>`);
    const html = await (await fetch(`${origin}/inbox/${digestId}`)).text();
    expect(html).toContain(`<a class="tab" href="/inbox/${digestId}?view=check">Check</a>`);
  });

  it('on the demo digest: size under the clip, every link on this server answers, no image without alt, only documented client findings', async () => {
    const page = await checkPage(digestId);
    const message = await inbox.get(digestId);
    const bytes = Buffer.byteLength(message?.html ?? '', 'utf8');
    expect(section(page, 'check-size')).toContain(`${(bytes / 1024).toFixed(1)} KB of the 102.0 KB at which Gmail clips`);
    const links = section(page, 'check-links');
    // Unsubscribe, preferences, web version, the logo, the articles' web pages… all requested and found.
    expect(links).toMatch(/All \d+ answer\./);
    expect(links).toContain(`${PUBLIC_URL}/media/logo.png 200`);
    expect(links).toMatch(new RegExp(`${PUBLIC_URL}/u/[\\w.-]+ 200`));
    expect(links).toMatch(new RegExp(`${PUBLIC_URL}/p/[\\w.-]+ 200`));
    expect(links).toContain(`${PUBLIC_URL}/issues/weekly/1 200`);
    // The demo articles' canonical URLs are on other hosts: listed, not requested.
    expect(links).toMatch(/\d+ on other hosts, not requested/);
    expect(links).toContain('https://dispatch.example/');
    expect(section(page, 'check-alt')).toContain('0 without alt text');
    const clients = section(page, 'check-clients');
    expect(clients).toContain('each a documented enhancement');
    expect(clients).toContain('border-radius');
    expect(clients).toContain('Outlook on Windows');
    expect(clients).not.toContain('Not documented');
  });

  it('on a broken message: names the failing links and images, the image without alt, the shared name and the new finding', async () => {
    const page = await checkPage(brokenId);
    const links = section(page, 'check-links');
    expect(links).toContain('3 of 4 fail.');
    expect(links).toContain(`image ${PUBLIC_URL}/media/no-such-image.png 404`);
    expect(links).toContain(`link ${PUBLIC_URL}/issues/weekly/99 404`);
    expect(links).toContain(`link ${PUBLIC_URL}/articles/no-such-article 404`);
    expect(links).toContain(`link ${PUBLIC_URL}/issues/weekly/1 200`);
    expect(links).toContain('1 on other hosts, not requested');
    expect(links).toContain('https://elsewhere.example/page');
    expect(links).not.toContain('mailto:');
    const alt = section(page, 'check-alt');
    expect(alt).toContain('1 without alt text');
    expect(alt).toContain(`${PUBLIC_URL}/media/no-such-image.png`);
    expect(alt).toContain('“Read more” leads to 2 places');
    expect(alt).toContain('1 image: 1 without alt text');
    expect(alt).toContain(`Every link, as a screen reader names it Name Address Read more ${PUBLIC_URL}/issues/weekly/1 Read more ${PUBLIC_URL}/issues/weekly/99 The missing article`);
    const clients = section(page, 'check-clients');
    expect(clients).toContain('target attribute');
    expect(clients).toContain('Not documented');
    expect(page).toMatch(/<section class="check check-bad" id="check-links">/);
  });

  it('escapes what the message says', async () => {
    const transport = createTransport({ host: '127.0.0.1', port: inbox.port, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: 'x@example.com', to: 'y@example.com', subject: 'hostile', html: `<a href="https://e.example/&quot;&gt;&lt;script&gt;x()&lt;/script&gt;"><img src="x&quot;onerror=&quot;y()"></a>` });
    transport.close();
    const page = await checkPage(await idOf('hostile'));
    expect(page).not.toMatch(/<script>x\(\)/);
    expect(page).not.toContain('"onerror="');
  });
});

describe.skipIf(!hasChromium())(describeBrowserSuite('the Check tab and the digest in Chromium'), () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the Check tab (screenshot /tmp/inbox-check.png)', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`${origin}/inbox/${brokenId}?view=check`);
    expect(await page.locator('nav.tabs a[aria-current="page"]').textContent()).toBe('Check');
    expect(await page.locator('#check-links tr.bad').count()).toBe(3);
    await page.screenshot({ path: '/tmp/inbox-check.png', fullPage: true });
    await page.goto(`${origin}/inbox/${digestId}?view=check`);
    await page.screenshot({ path: '/tmp/inbox-check-digest.png', fullPage: true });
    await page.close();
  });

  it.each([375, 600])('in dark mode at %i px the logo sits on the dark header: transparent corners, no white', async (width) => {
    const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: 'dark' });
    const page = await context.newPage();
    // The email's links and images are on PUBLIC_URL: answer them from the local server, let nothing else out.
    await page.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.origin === origin) return route.continue();
      if (url.origin === PUBLIC_URL) {
        const local = await fetch(`${origin}${url.pathname}${url.search}`);
        return route.fulfill({ status: local.status, contentType: local.headers.get('content-type') ?? undefined, body: Buffer.from(await local.arrayBuffer()) });
      }
      return route.abort();
    });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${origin}/inbox/${digestId}/html`);
    const logo = page.locator('img[alt="Mailroom Weekly"]');
    await logo.waitFor();
    await page.waitForFunction(() => {
      const image = document.querySelector('img[alt="Mailroom Weekly"]');
      return image instanceof HTMLImageElement && image.complete && image.naturalWidth > 0;
    });
    const box = await logo.boundingBox();
    if (!box) throw new Error('the logo is not shown');
    const shot = decodePng(await page.screenshot({ path: `/tmp/digest-dark-${width}.png`, fullPage: true }));
    const hex = (value: string) => [1, 3, 5].map((i) => Number.parseInt(value.slice(i, i + 2), 16));
    const surface = hex(darkColors.surface);
    const near = (pixel: number[], color: number[], tolerance: number) => color.every((channel, i) => Math.abs((pixel[i] ?? 0) - channel) <= tolerance);
    // Outside the rounded tile, in every corner: the dark header shows through.
    for (const [x, y] of [
      [box.x + 1, box.y + 1],
      [box.x + box.width - 2, box.y + 1],
      [box.x + 1, box.y + box.height - 2],
      [box.x + box.width - 2, box.y + box.height - 2],
    ] as const) {
      const pixel = shot.pixel(x, y);
      expect(near(pixel, surface, 6), `corner (${x}, ${y}) is rgb(${pixel.slice(0, 3).join(', ')}), not the dark header ${darkColors.surface}`).toBe(true);
    }
    // Beside the logo too (the header really is dark), and the tile itself is drawn (the image loaded).
    expect(near(shot.pixel(box.x + box.width + 8, box.y + box.height / 2), surface, 6)).toBe(true);
    expect(near(shot.pixel(box.x + box.width / 2, box.y + 6), surface, 30)).toBe(false);
    await context.close();
  });
});
