/**
 * The built-in inbox in a real Chromium, served by the real HTTP server: mail sent over SMTP appears without a reload
 * (Server-Sent Events under a nonce CSP), one message is deleted from its page, the cap drops the oldest, and at
 * 375 px nothing scrolls sideways. Screenshots land in /tmp/inbox-*.png.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createTransport } from 'nodemailer';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpServer } from '../src/http/server.ts';
import { startLocalInbox, type LocalInbox } from '../src/smtp/local-inbox.ts';
import { describeBrowserSuite, hasChromium, launchBrowser } from './helpers/browser.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

const CAP = 6;

describe.skipIf(!hasChromium())(describeBrowserSuite('the inbox in Chromium: live list, delete, cap, small screens'), () => {
  let ws: Workspace;
  let dir: string;
  let inbox: LocalInbox;
  let http: FastifyInstance;
  let base: string;
  let browser: Browser;
  /** What went wrong in any page: script errors and console errors (a CSP violation is one). */
  const problems: string[] = [];

  async function send(subjects: readonly string[], html = false): Promise<void> {
    const transport = createTransport({ host: inbox.host, port: inbox.port, secure: false, ignoreTLS: true });
    for (const subject of subjects) {
      await transport.sendMail({
        from: '"Mailroom Weekly" <news@mailroom.example>',
        to: 'A Reader With A Rather Long Name <a.reader.with.a.long.address@subscribers.example.com>',
        subject,
        text: `Hello,\n\n${subject}\n\nA line long enough to wrap on a phone screen, with a link https://news.example.com/issues/weekly/42?utm_source=inbox&utm_medium=email\n`,
        ...(html ? { html: `<table width="600" style="width:600px"><tr><td><h1>${subject}</h1><p>Wide email body.</p></td></tr></table>` } : {}),
      });
    }
    transport.close();
  }

  async function openPage(width: number): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 800 } });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    return page;
  }

  async function horizontalOverflow(page: Page): Promise<number> {
    return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  }

  beforeAll(async () => {
    ws = await openWorkspace();
    dir = await mkdtemp(join(tmpdir(), 'mailroom-inbox-live-'));
    inbox = await startLocalInbox({ dir, port: 0, maxMessages: CAP });
    http = await buildHttpServer({ stores: ws.app.stores, publicUrl: 'http://localhost', secret: ws.app.config.secret, mediaDir: join(ws.dataDir, 'media'), inbox, localDevelopment: true });
    base = await http.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await inbox?.close();
    await ws?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows a message sent over SMTP without a reload, keeps what is typed in the search field, and says so to screen readers', async () => {
    const page = await openPage(1280);
    await page.goto(`${base}/inbox`);
    expect(await page.locator('.empty-title').textContent()).toBe('No messages yet');
    await page.waitForSelector('#inbox-status[data-state="live"]');
    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'the same page';
    });

    await send(['First live message']);
    await page.waitForSelector('tr[data-message-id] >> text=First live message', { timeout: 10_000 });
    expect(await page.locator('#inbox-count').textContent()).toBe('1 message');
    expect(await page.title()).toBe('Inbox (1) · Mailroom');
    expect(await page.locator('#inbox-actions button').textContent()).toBe('Delete all');
    expect(await page.locator('#inbox-announce').textContent()).toBe('1 new message');

    await page.locator('#inbox-q').fill('weekly');
    await send(['Second live message', 'Third live message']);
    await page.waitForFunction(() => document.querySelectorAll('tr[data-message-id]').length === 3, undefined, { timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('the same page');
    expect(await page.locator('#inbox-q').inputValue()).toBe('weekly');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('inbox-q');
    expect(await page.locator('tbody tr').first().locator('.col-subject').textContent()).toBe('Third live message');
    // Date and time on every row.
    for (const text of await page.locator('tbody .col-time').allTextContents()) expect(text).toMatch(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}:\d{2}$/);
    await page.screenshot({ path: '/tmp/inbox-live-1280.png', fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('deletes one message from its page', async () => {
    const page = await openPage(1280);
    await page.goto(`${base}/inbox`);
    await page.locator('tbody tr', { hasText: 'Second live message' }).locator('a').click();
    await page.waitForURL(/\/inbox\/[0-9a-z]+-[0-9a-f]+$/);
    const id = page.url().split('/').pop() ?? '';
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${base}/inbox`);
    expect(await page.locator('#inbox-count').textContent()).toBe('2 messages');
    expect(await page.locator('tbody .col-subject').allTextContents()).toEqual(['Third live message', 'First live message']);
    expect(await inbox.get(id)).toBeNull();
    expect(problems).toEqual([]);
    await page.close();
  });

  it('drops the oldest beyond the cap, files included, and the open list follows', async () => {
    const page = await openPage(1280);
    await page.goto(`${base}/inbox`);
    await page.waitForSelector('#inbox-status[data-state="live"]');
    await send(Array.from({ length: CAP + 2 }, (_, i) => `Capped ${i + 1}`));
    await page.waitForFunction(() => document.querySelector('tbody .col-subject')?.textContent === `Capped 8`, undefined, { timeout: 10_000 });
    await page.waitForFunction((cap) => document.querySelectorAll('tr[data-message-id]').length === cap, CAP, { timeout: 10_000 });
    expect(await page.locator('tbody .col-subject').allTextContents()).toEqual(['Capped 8', 'Capped 7', 'Capped 6', 'Capped 5', 'Capped 4', 'Capped 3']);
    expect((await readdir(dir)).filter((name) => name.endsWith('.eml'))).toHaveLength(CAP);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('at 375 px nothing scrolls sideways: the list, a search with its Clear button, a message and its tabs', async () => {
    await send(['A subject line long enough to need more than one line on a phone, and then some more words'], true);
    const page = await openPage(375);
    await page.goto(`${base}/inbox`);
    await page.waitForSelector('#inbox-status[data-state="live"]');
    await page.screenshot({ path: '/tmp/inbox-live-375.png', fullPage: true });
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);

    await page.goto(`${base}/inbox?q=capped`);
    expect(await page.getByRole('link', { name: 'Clear' }).isVisible()).toBe(true);
    await page.screenshot({ path: '/tmp/inbox-live-375-search.png', fullPage: true });
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    const clear = await page.getByRole('link', { name: 'Clear' }).boundingBox();
    expect((clear?.x ?? 999) + (clear?.width ?? 0)).toBeLessThanOrEqual(375);

    await page.goto(`${base}/inbox`);
    await page.locator('tbody tr').first().locator('a').click();
    await page.waitForURL(/\/inbox\/[0-9a-z]+-[0-9a-f]+$/);
    for (const view of ['html', 'text', 'headers']) {
      await page.goto(`${page.url().split('?')[0]}?view=${view}`);
      await page.screenshot({ path: `/tmp/inbox-live-375-message-${view}.png`, fullPage: true });
      expect(await horizontalOverflow(page), view).toBeLessThanOrEqual(0);
    }

    // "Delete all" from the page empties the inbox (a real browser's form post, Origin: null under no-referrer).
    await page.goto(`${base}/inbox`);
    await page.getByRole('button', { name: 'Delete all' }).click();
    await page.waitForSelector('.empty-title');
    expect(await inbox.list()).toEqual([]);
    await page.screenshot({ path: '/tmp/inbox-live-375-empty.png', fullPage: true });
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
    await page.close();
  });
});
