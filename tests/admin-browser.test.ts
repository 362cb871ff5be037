/**
 * The web app at /admin in a real Chromium, against the real service and a real SMTP sink: a new marketer logs in,
 * imports subscribers from a CSV file, imports an article from a page, builds an issue, previews it, sends a test that
 * arrives, sends a campaign (confirming the recipient count), pauses and resumes it, sees it reach 100%, retries the
 * failed recipient; a viewer cannot send; an expired session goes back to the login page. axe-core finds no serious
 * or critical violation on any page, no page scrolls sideways at 375 px, and the strict CSP is never violated.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startAdminServer, PASSWORD, type AdminServer } from './helpers/admin-server.ts';
import { fixture } from './helpers/fixture-server.ts';
import { seriousViolations } from './helpers/axe.ts';
import { unnamedRowButtons } from './helpers/row-buttons.ts';
import { describeBrowserSuite, hasChromium, launchBrowser } from './helpers/browser.ts';

let server: AdminServer;
let browser: Browser;
let owner: BrowserContext;
let page: Page;
const cspErrors: string[] = [];

async function openContext(width = 1280): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const p = await context.newPage();
  p.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
  });
  return { context, page: p };
}

async function logIn(p: Page, email: string): Promise<void> {
  await p.goto(`${server.base}/admin/`);
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(PASSWORD);
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
}

async function goTo(p: Page, label: string, heading: string | RegExp): Promise<void> {
  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
  await p.getByRole('heading', { level: 1, name: heading }).waitFor();
}

async function expectAccessible(p: Page, where: string): Promise<void> {
  expect(await seriousViolations(p), `axe on ${where}`).toEqual([]);
  // Every row's buttons name the row's item (feeds, tokens, articles, issue order…), on every page checked here.
  expect(await unnamedRowButtons(p), `row buttons on ${where}`).toEqual([]);
}

async function expectNoSidewaysScroll(p: Page, where: string): Promise<void> {
  const widths = await p.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(widths.scroll, `horizontal scroll on ${where} at ${widths.client} px`).toBeLessThanOrEqual(widths.client);
}

describe.skipIf(!hasChromium())(describeBrowserSuite('the web app at /admin'), () => {
  beforeAll(async () => {
    [server, browser] = await Promise.all([startAdminServer({ ratePerSecond: 8 }), launchBrowser()]);
    ({ context: owner, page } = await openContext());
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('the login page: accessible, a wrong password says so, the right one opens the overview', async () => {
    await page.goto(`${server.base}/admin`);
    await page.getByRole('heading', { name: 'Mailroom' }).waitFor();
    const response = await page.request.get(`${server.base}/admin/`);
    expect(response.headers()['content-security-policy']).toContain("script-src 'self'");
    await expectAccessible(page, 'login');
    await page.getByLabel('Email').fill(server.owner);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: /password/i }).waitFor();
    await logIn(page, server.owner);
    // List growth: each list's joins and unsubscribes per day, a chart with its numbers as a table.
    await page.getByRole('img', { name: /^demo: \d+ joined and 0 left in the last 30 days$/ }).waitFor();
    await page.getByText('Numbers per day for demo').click();
    await page.getByRole('table', { name: /^demo: / }).getByRole('columnheader', { name: 'Joined' }).waitFor();
    await expectAccessible(page, 'overview');
  });

  test('audience: a CSV import with progress and its per-line report; search; one subscriber\'s history', async () => {
    await goTo(page, 'Audience', 'Audience');
    const csv = ['email,first_name', ...Array.from({ length: 24 }, (_, i) => `reader${i}@example.org,Reader${i}`), 'not-an-address,Bad'].join('\n');
    await page.getByLabel('CSV file', { exact: true }).setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByLabel('Into list').selectOption('demo');
    await page.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.getByTestId('import-result').textContent()).toMatch(/people\.csv into demo: 24 added to the list.*1 line rejected/);
    await page.getByText('people.csv line 26: "not-an-address" is not an email address').waitFor();
    await expectAccessible(page, 'audience');

    await page.getByLabel('Search').fill('reader1');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'reader10@example.org' }).click();
    await page.getByRole('heading', { level: 1, name: 'reader10@example.org' }).waitFor();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    await page.getByRole('list', { name: 'History, newest first' }).getByText('Joined demo').waitFor();
    await expectAccessible(page, 'subscriber');

    // Erase one subscriber; suppress an address by hand; the sign-up form's embed code.
    await page.getByRole('link', { name: '← Audience' }).click();
    await page.getByLabel('Search').fill('reader23');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'reader23@example.org' }).click();
    await page.getByRole('button', { name: 'Erase' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audience' }).waitFor();
    await page.getByText('(erased, hash').waitFor();
    await page.getByLabel('Never mail').fill('blocked@example.org');
    await page.getByRole('button', { name: 'Suppress' }).click();
    await page.getByText('blocked@example.org').waitFor();
    expect(await page.getByLabel('Embed code').inputValue()).toContain('action="https://news.example.com/subscribe/demo"');
  });

  test('write: an article imported from a page; the Markdown editor previews as you type', async () => {
    await goTo(page, 'Write', 'Write');
    await page.getByLabel('Articles go to newsletter').selectOption('weekly');
    await page.getByLabel('Page address').fill(`${server.pages.url}${server.articlePath}`);
    await page.getByRole('button', { name: 'Import page' }).click();
    await expect.poll(() => page.getByTestId('saved-report').textContent()).toMatch(/^Added: /);
    const imported = (await page.getByTestId('saved-report').locator('strong').textContent()) ?? '';

    // Edit it: the editor gets the article as Markdown with its front matter; saving under the same slug updates it.
    await page.getByRole('button', { name: `Edit ${imported}` }).click();
    const editor = page.getByLabel('Markdown with front matter');
    await expect.poll(() => editor.inputValue()).toContain('slug: ');
    const file = await editor.inputValue();
    expect(file).toMatch(/^lead_image:/m);
    await editor.fill(file.replace(/^title: .*$/m, `title: '${imported.replace(/'/g, "''")} (edited)'`));
    await page.getByRole('button', { name: 'Save article' }).click();
    await expect.poll(() => page.getByTestId('saved-report').textContent()).toBe(`Updated: ${imported} (edited)`);
    await expectAccessible(page, 'write');
    await editor.fill('---\ntitle: Draft\n---\n\n# Hello *there*');
    await page.getByRole('region', { name: 'Preview' }).locator('h1', { hasText: 'Hello there' }).waitFor();
  });

  test('issues: build one from the imported article, preview it at 375 px and dark, send a test that arrives', async () => {
    const title = (await page.getByTestId('saved-report').locator('strong').textContent()) ?? '';
    expect(title).not.toBe('');
    await goTo(page, 'Issues & preview', 'Issues & preview');
    await page.getByLabel(title).check();
    await page.getByLabel(/^Subject/).fill('Hello {{firstName}}: {title}');
    await page.getByRole('button', { name: 'Build issue' }).click();
    await page.getByRole('heading', { name: /Preview of issue #\d+/ }).waitFor();
    await expect.poll(() => page.getByTestId('preview-subject').textContent()).toBe(`Hello Sample: ${title}`);
    const frame = page.frameLocator('iframe[title^="Email preview"]');
    await frame.getByText(title).first().waitFor();
    await page.getByRole('button', { name: 'Phone 375 px' }).click();
    await page.getByRole('button', { name: 'Dark mode' }).click();
    expect(await page.locator('iframe[title="Email preview, 375 px, dark mode"]').evaluate((el) => el.getBoundingClientRect().width)).toBeLessThanOrEqual(375);
    // Warnings before sending, checked by the server on this email.
    await page.getByTestId('warnings').getByText(/^No warning: \d+ KB of HTML/).waitFor();
    // An error (no such subscriber) shows above, with no blank frame.
    await page.getByLabel('As subscriber').fill('nobody@example.org');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('alert').filter({ hasText: '"nobody@example.org": no such subscriber' }).first().waitFor();
    expect(await page.locator('iframe').count()).toBe(0);
    await page.getByLabel('As subscriber').fill('reader3@example.org');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.getByTestId('preview-subject').textContent()).toBe(`Hello Reader3: ${title}`);
    await expectAccessible(page, 'issue preview');

    await page.getByLabel('To address').fill('tester@example.com');
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByText(/Test of issue #\d+ sent to tester@example\.com/).waitFor();
    const test = server.sink.messages.find((m) => m.envelopeTo.includes('tester@example.com'));
    expect(test?.parsed.subject).toContain(title);
  });

  test('send: the confirmation names issue, count and list; watch it live, pause, resume, reach 100%, retry the failed', async () => {
    server.sink.setRule((address) => (address === 'reader7@example.org' ? '554 5.7.1 reader7: refused by policy' : undefined));
    await page.getByRole('link', { name: /Send or schedule issue #\d+/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Send' }).waitFor();
    await expectAccessible(page, 'send');
    await page.getByRole('button', { name: 'Review and send…' }).click();
    const dialog = page.getByRole('alertdialog');
    const question = (await dialog.getByRole('heading').textContent()) ?? '';
    expect(question).toMatch(/^Send issue #\d+ to \d+ subscribers of demo\?$/);
    const recipients = Number(/to (\d+) subscribers/.exec(question)?.[1]);
    const issueNumber = Number(/#(\d+)/.exec(question)?.[1]);
    expect(recipients).toBe(5 + 23);
    await dialog.getByRole('button', { name: `Send to ${recipients}` }).click();
    await page.getByRole('heading', { level: 1, name: /Campaign #\d+/ }).waitFor();

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('.badge-paused').first().waitFor();
    const pausedAt = server.sink.messages.length;
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByTestId('percent').filter({ hasText: '100%' }).waitFor({ timeout: 30_000 });
    expect(server.sink.messages.length).toBeGreaterThan(pausedAt);
    await page.getByRole('cell', { name: /554 5\.7\.1 reader7: refused by policy/ }).waitFor();
    await expectAccessible(page, 'watch');

    server.sink.setRule(null);
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await expect.poll(() => server.sink.countFor('reader7@example.org'), { timeout: 20_000 }).toBe(1);
    await page.getByText('None.').waitFor({ timeout: 20_000 });

    // reader7's history: the send, now sent, in the timeline.
    await goTo(page, 'Audience', 'Audience');
    await page.getByLabel('Search').fill('reader7@');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'reader7@example.org' }).click();
    const timeline = page.getByRole('list', { name: 'History, newest first' });
    await timeline.getByText(`Issue #${issueNumber} of weekly`).waitFor();
    await timeline.locator('.tl-sent .badge-sent').first().waitFor();
    await expect.poll(() => timeline.locator('.tl-sent').first().textContent()).toMatch(/Server reply: 250/);
    await expectAccessible(page, 'subscriber timeline');
    await page.setViewportSize({ width: 375, height: 800 });
    await expectNoSidewaysScroll(page, 'subscriber timeline');
    await page.setViewportSize({ width: 1280, height: 900 });

    // Schedule the issue again (a resend) for a date and time in a time zone, then cancel that campaign.
    await goTo(page, 'Send', 'Send');
    await page.getByLabel('At a date and time').check();
    await page.getByLabel('Date and time', { exact: true }).fill('2030-01-07T09:30');
    await page.getByLabel('Time zone', { exact: true }).first().fill('Europe/Paris');
    await page.getByRole('checkbox', { name: /Resend to those/ }).check();
    await page.getByRole('button', { name: 'Review and send…' }).click();
    await page.getByRole('alertdialog').getByRole('heading', { name: `Schedule issue #${issueNumber} to ${recipients} subscribers of demo?` }).waitFor();
    await page.getByRole('alertdialog').getByText('It goes out at 2030-01-07 09:30 (Europe/Paris).').waitFor();
    await page.getByRole('button', { name: `Schedule to ${recipients}` }).click();
    await page.locator('.badge-scheduled').first().waitFor();
    await page.getByText(/sends from Jan 7, 2030/).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.badge-cancelled').first().waitFor();
  });

  test('a new list and a new newsletter for it; feeds, settings and the campaign list are accessible; no page scrolls sideways at 375 px', async () => {
    await goTo(page, 'Audience', 'Audience');
    await page.getByText('New list').click();
    await page.getByLabel('List name').fill('readers');
    await page.getByRole('button', { name: 'Create list' }).click();
    await page.getByRole('cell', { name: 'readers', exact: true }).waitFor();
    await goTo(page, 'Overview', 'Overview');
    await page.getByText('New newsletter').click();
    await page.getByLabel('Name', { exact: true }).fill('Readers Digest');
    await page.getByLabel(/^Short name/).fill('readers');
    await page.getByLabel('From', { exact: true }).fill('Readers <readers@example.com>');
    await page.getByRole('combobox', { name: /^List/ }).selectOption('readers');
    await page.getByLabel(/^Postal address/).fill('1 Harbour Street, Portsmouth');
    await page.getByRole('button', { name: 'Create newsletter' }).click();
    await page.getByText('Created Readers Digest.').waitFor();
    await page.getByText('(readers)').waitFor();
    await expectAccessible(page, 'overview with the new newsletter form');

    for (const [label, heading] of [
      ['Feeds', 'Feeds'],
      ['Settings', 'Settings'],
      ['Watch', 'Watch'],
    ] as const) {
      await goTo(page, label, heading);
      if (label === 'Settings') {
        await page.getByRole('heading', { name: 'Users' }).waitFor();
        // A token's row button names the token it revokes.
        await page.getByLabel('Token name').fill('nightly export');
        await page.getByRole('button', { name: 'Create token' }).click();
        await page.getByRole('status').filter({ hasText: /shown once/ }).waitFor();
        await page.getByRole('button', { name: 'Revoke nightly export' }).waitFor();
      }
      await expectAccessible(page, label);
    }
    await page.setViewportSize({ width: 375, height: 800 });
    for (const [label, heading] of [
      ['Overview', 'Overview'],
      ['Audience', 'Audience'],
      ['Write', 'Write'],
      ['Issues & preview', 'Issues & preview'],
      ['Send', 'Send'],
      ['Watch', 'Watch'],
      ['Feeds', 'Feeds'],
      ['Settings', 'Settings'],
    ] as const) {
      await goTo(page, label, heading);
      await page.waitForLoadState('networkidle');
      await expectNoSidewaysScroll(page, label);
    }
    await expectAccessible(page, 'settings at 375 px');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('feeds: add a feed, poll it, see its articles; one that fails shows on the overview; remove them', async () => {
    server.pages.set('/harbor.xml', { headers: { 'content-type': 'application/rss+xml' }, body: fixture('feeds/harbor-times.rss.xml', server.pages.url) });
    await goTo(page, 'Feeds', 'Feeds');
    await page.getByRole('combobox', { name: 'Newsletter' }).selectOption('weekly');
    await page.getByLabel('Feed or site address').fill(`${server.pages.url}/harbor.xml`);
    await page.getByRole('button', { name: 'Add feed' }).click();
    await page.getByText('Feed added.').waitFor();
    // Each row's buttons name their feed (a screen reader lists "Poll now" once per feed otherwise).
    await page.getByRole('button', { name: /^Poll now: The Harbor Times/ }).click();
    await page.getByRole('status').filter({ hasText: /^Polled .*: (\d+ new|not modified)/ }).waitFor();
    await page.getByText(/[1-9]\d* articles? from this feed/).waitFor();
    await expectAccessible(page, 'feeds with a feed');
    await page.getByRole('link', { name: /See the articles of/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Issues & preview' }).waitFor();
    await page.getByRole('checkbox', { name: /^Port authority publishes its first climate plan/ }).waitFor();

    // The feed fails: the feeds page and the overview say so.
    server.pages.set('/harbor.xml', { status: 500, body: 'down' });
    await goTo(page, 'Feeds', 'Feeds');
    await page.getByRole('button', { name: /^Poll now: The Harbor Times/ }).click();
    await page.getByText(/fails: .*500/).waitFor();
    await goTo(page, 'Overview', 'Overview');
    await page.getByRole('region', { name: 'Needs attention' }).getByText(/The feed .* of weekly fails/).waitFor();
    await expectAccessible(page, 'overview with a problem');

    await goTo(page, 'Feeds', 'Feeds');
    await page.getByRole('button', { name: /^Remove The Harbor Times/ }).click();
    await page.getByText('Feed removed.').waitFor();
    await page.getByText('No feed yet.').waitFor();
  });

  test('a viewer sees but cannot send: no send form, and the API refuses', async () => {
    const { context, page: viewer } = await openContext();
    try {
      // By keyboard alone: Tab to the fields, Enter to log in, the skip link, Tab through the navigation to Send.
      await viewer.goto(`${server.base}/admin/`);
      await viewer.getByLabel('Email').waitFor();
      await viewer.keyboard.press('Tab');
      await viewer.keyboard.type(server.viewer);
      await viewer.keyboard.press('Tab');
      await viewer.keyboard.type(PASSWORD);
      await viewer.keyboard.press('Enter');
      await viewer.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      await viewer.keyboard.press('Tab');
      expect(await viewer.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
      for (let i = 0; i < 12 && (await viewer.evaluate(() => document.activeElement?.textContent)) !== 'Send'; i++) await viewer.keyboard.press('Tab');
      await viewer.keyboard.press('Enter');
      await viewer.getByRole('heading', { level: 1, name: 'Send' }).waitFor();
      await viewer.getByText(/viewers watch campaigns but cannot send/).waitFor();
      expect(await viewer.getByRole('button', { name: 'Review and send…' }).count()).toBe(0);
      const csrf = await viewer.evaluate(() => document.cookie.match(/mailroom_csrf=([^;]+)/)?.[1] ?? '');
      const refused = await viewer.request.post(`${server.base}/api/v1/campaigns`, { headers: { 'x-csrf-token': decodeURIComponent(csrf), origin: server.base }, data: { newsletter: 'weekly', issue: 1, confirmRecipients: 1 } });
      expect(refused.status()).toBe(403);
      await expectAccessible(viewer, 'send as viewer');
    } finally {
      await context.close();
    }
  });

  test('an expired session goes back to the login page with a message, and logging in again works', async () => {
    const cookies = await owner.cookies();
    const session = cookies.find((c) => c.name === 'mailroom_session');
    expect(session).toBeDefined();
    await server.accounts.logout(decodeURIComponent(session?.value ?? ''));
    await goTo(page, 'Audience', 'Mailroom').catch(() => undefined);
    await page.getByText('Your session expired. Log in again to carry on where you were.').waitFor();
    await page.getByLabel('Email').fill(server.owner);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audience' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You are logged out.').waitFor();
    expect(cspErrors).toEqual([]);
  });
});
