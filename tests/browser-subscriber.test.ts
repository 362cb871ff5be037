/**
 * The subscriber's side in Debian's Chromium (playwright-core): sign up on the hosted page, confirm from the email the
 * SMTP sink caught, open the preferences page from a sent issue, leave one list, and check the database. Then an
 * article carrying <script> runs nothing on its archive page, even when the stored HTML itself is tampered with.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { ArticleInput } from '../src/core/domain.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { describeBrowserSuite, hasChromium, launchBrowser } from './helpers/browser.ts';
import { linkIn, messagesTo, startSubscriberEnv, type SubscriberEnv } from './helpers/subscriber-server.ts';

let browser: Browser;
let env: SubscriberEnv;

/** Collects anything that would show a script ran or the page broke. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    // Blocked scripts are the point; images on PUBLIC_URL (news.example.com) do not resolve in tests.
    if (message.type() === 'error' && !/Content Security Policy|sandboxed|Blocked script execution|ERR_NAME_NOT_RESOLVED/i.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  return problems;
}

async function statusOf(email: string, list: string): Promise<string | null> {
  const subscriber = await env.ws.app.stores.audience.findSubscriberByEmail(email);
  const found = await env.ws.app.stores.audience.findListByName(list);
  return subscriber && found ? env.ws.app.stores.audience.membershipStatus(subscriber.id, found.id) : null;
}

describe.skipIf(!hasChromium())(describeBrowserSuite('the subscriber side in Chromium'), () => {
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    env = await startSubscriberEnv();
  });
  afterEach(async () => {
    await env.close();
  });

  test('sign up on the hosted page, confirm from the email, then leave one list from the preferences page of a sent issue', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    const problems = watch(page);

    await page.goto(`${env.origin}/subscribe/demo`);
    expect(await page.title()).toBe('Subscribe to Mailroom Weekly · Mailroom Weekly');
    // The honeypot is in the form but off-screen, out of the tab order and hidden from assistive technology.
    const trap = page.locator('input[name="leave_blank"]');
    expect(await trap.getAttribute('tabindex')).toBe('-1');
    expect((await trap.boundingBox())?.x ?? 0).toBeLessThan(0);
    await page.fill('#email', 'Bea.Browser@example.com');
    await page.fill('#name', 'Bea Browser');
    await page.click('button[type="submit"]');
    await page.waitForSelector('h1:text("Check your inbox")');
    await page.screenshot({ path: '/tmp/signup-check-inbox.png', fullPage: true });
    expect(await statusOf('bea.browser@example.com', 'demo')).toBe('pending');

    await env.signup.idle();
    const confirmation = messagesTo(env.sink, 'bea.browser@example.com');
    expect(confirmation).toHaveLength(1);
    await page.goto(env.local(linkIn(confirmation[0], 'confirm/')));
    await page.screenshot({ path: '/tmp/signup-confirm.png', fullPage: true });
    // Opening the link (as a scanner would) is not yet a confirmation.
    expect(await statusOf('bea.browser@example.com', 'demo')).toBe('pending');
    await page.click('button:text("Yes, subscribe me")');
    await page.waitForSelector('h1:text("You are subscribed")');
    expect(await statusOf('bea.browser@example.com', 'demo')).toBe('subscribed');

    // Bea is on a second list too; she gets an issue, and opens "Manage preferences" from it.
    const extra = await env.ws.app.stores.audience.createList('extra', 'Occasional announcements');
    await env.ws.app.stores.audience.addSubscriber(extra.id, { email: 'bea.browser@example.com', name: '', firstName: '', lastName: '', attributes: {} }, 'cli');
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    const issue = messagesTo(env.sink, 'bea.browser@example.com').find((m) => m.parsed.subject?.startsWith('Mailroom Weekly #1'));
    expect(issue?.parsed.html).toContain('Manage preferences');
    await page.goto(env.local(linkIn(issue, 'p/')));
    expect(await page.locator('h1').textContent()).toBe('Your subscriptions');
    expect(await page.locator('tbody tr').count()).toBe(2);
    await page.screenshot({ path: '/tmp/preferences.png', fullPage: true });

    await page.locator('tbody tr', { hasText: 'extra' }).locator('button:text("Unsubscribe")').click();
    await page.waitForSelector('.notice:text("You are unsubscribed from extra.")');
    expect(await page.locator('tbody tr', { hasText: 'extra' }).locator('.status').textContent()).toBe('Unsubscribed');
    expect(await statusOf('bea.browser@example.com', 'extra')).toBe('unsubscribed');
    expect(await statusOf('bea.browser@example.com', 'demo')).toBe('subscribed');

    // And the name, edited on the same page.
    await page.fill('#name', 'Bea B.');
    await page.click('button:text("Save name")');
    await page.waitForSelector('.notice:text("Your name is saved.")');
    expect((await env.ws.app.stores.audience.findSubscriberByEmail('bea.browser@example.com'))?.name).toBe('Bea B.');
    expect(problems).toEqual([]);
    await page.close();
  });

  test('an article containing <script> runs nothing on its archive page, even if the stored issue HTML is tampered with', async () => {
    const article: ArticleInput = {
      slug: 'script-article',
      title: 'An article that tries to run code',
      summary: 'It carries a script, an onerror handler and a javascript: link.',
      body: [
        'Visible paragraph of the article.',
        '',
        '<script>document.body.setAttribute("data-pwned", "1"); alert("pwned")</script>',
        '',
        '<img src="data:," onerror="document.body.setAttribute(\'data-onerror\', \'1\')">',
        '',
        '[a javascript link](javascript:document.body.setAttribute("data-clicked","1"))',
      ].join('\n'),
      canonicalUrl: '',
      author: 'Mallory',
      publishedAt: '2026-03-01T08:00:00.000Z',
      leadImage: null,
      tags: [],
    };
    await env.ws.app.stores.content.upsertArticle(article);
    const newsletter = await env.ws.app.stores.newsletters.findNewsletter('weekly');
    if (!newsletter) throw new Error('no newsletter');
    const { issue } = await buildIssue(env.ws.app.stores, newsletter, { articles: ['script-article'], publicUrl: env.ws.app.config.publicUrl });
    await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });

    const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    const problems = watch(page);
    await page.goto(`${env.origin}/issues/weekly/${issue.number}`);
    await page.waitForSelector('text=Visible paragraph of the article.');
    await page.waitForTimeout(300);
    await page.screenshot({ path: '/tmp/archive-issue.png', fullPage: true });
    expect(await page.locator('body').getAttribute('data-pwned')).toBeNull();
    expect(await page.locator('body').getAttribute('data-onerror')).toBeNull();
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);

    // Defense in depth: even a script that got into the stored HTML is blocked by the sandboxing CSP.
    await env.ws.app.stores.db
      .updateTable('issues')
      .set({ html: issue.html.replace('</body>', '<script>document.body.setAttribute("data-pwned","2"); alert("stored")</script><img src="data:," onerror="document.body.setAttribute(\'data-onerror\',\'2\')"><a id="js" href="javascript:document.body.setAttribute(\'data-clicked\',\'2\')">js</a></body>') })
      .where('id', '=', issue.id)
      .execute();
    // (A query string, so the browser does not reuse the cached page: archive pages may be cached for five minutes.)
    await page.goto(`${env.origin}/issues/weekly/${issue.number}?tampered`);
    await page.waitForSelector('#js');
    expect(await page.locator('script').count()).toBeGreaterThan(0);
    await page.click('#js');
    await page.waitForTimeout(300);
    expect(await page.locator('body').getAttribute('data-pwned')).toBeNull();
    expect(await page.locator('body').getAttribute('data-onerror')).toBeNull();
    expect(await page.locator('body').getAttribute('data-clicked')).toBeNull();
    // The page has an opaque origin: no cookies, no storage, nothing of this site to reach.
    expect(await page.evaluate(() => window.origin)).toBe('null');
    expect(problems).toEqual([]);

    await page.goto(`${env.origin}/issues/weekly`);
    expect(await page.locator('.issues li').count()).toBe(1);
    await page.screenshot({ path: '/tmp/archive-index.png', fullPage: true });
    await page.close();
  });
});
