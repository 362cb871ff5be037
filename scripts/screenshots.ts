/**
 * `npm run screenshots`: PNGs of every page of the web app (/admin) at 375 px and 1280 px wide, in screenshots/
 * (git-ignored), taken in Debian's Chromium against a real Mailroom with the demo workspace, a real SMTP sink, an
 * imported subscriber file, an issue and a finished campaign, so each page shows real content.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startAdminServer, PASSWORD } from '../tests/helpers/admin-server.ts';
import { fixture } from '../tests/helpers/fixture-server.ts';
import { CHROMIUM_MISSING_MESSAGE, hasChromium, launchBrowser } from '../tests/helpers/browser.ts';

const OUT = join(process.cwd(), 'screenshots');
const WIDTHS = [375, 1280] as const;

async function main(): Promise<number> {
  if (!hasChromium()) {
    console.error(CHROMIUM_MISSING_MESSAGE);
    return 1;
  }
  mkdirSync(OUT, { recursive: true });
  const server = await startAdminServer();
  const browser = await launchBrowser();
  try {
    // Content for the pages, through the API as the owner: subscribers, an article, an issue, a campaign.
    const login = await fetch(`${server.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: server.owner, password: PASSWORD }) });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const headers = { cookie, 'x-csrf-token': csrfToken, origin: server.base };
    const call = async (method: string, path: string, body?: unknown, type = 'application/json') => {
      const response = await fetch(`${server.base}/api/v1${path}`, { method, headers: { ...headers, 'content-type': type }, body: body === undefined ? undefined : type === 'application/json' ? JSON.stringify(body) : String(body) });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return response.status === 204 ? null : ((await response.json()) as Record<string, unknown>);
    };
    const csv = ['email,first_name,last_name', ...Array.from({ length: 40 }, (_, i) => `reader${i}@example.org,Reader,Number ${i}`)].join('\n');
    const job = await call('POST', '/lists/demo/imports?filename=readers.csv', csv, 'text/csv');
    while ((await call('GET', `/imports/${String(job?.['id'])}`))?.['state'] === 'running') await new Promise((r) => setTimeout(r, 50));
    await call('POST', '/articles/import', { url: `${server.pages.url}${server.articlePath}`, newsletter: 'weekly' });
    const issue = await call('POST', '/newsletters/weekly/issues', { subject: 'Hello {{firstName}}: {title}' });
    const number = Number(issue?.['number']);
    const count = await call('GET', `/newsletters/weekly/issues/${number}/recipients`);
    const sent = await call('POST', '/campaigns', { newsletter: 'weekly', issue: number, confirmRecipients: Number(count?.['recipients']) });
    const campaignId = Number((sent?.['campaign'] as Record<string, unknown>)['id']);
    await call('PUT', '/newsletters/weekly/schedule', { cron: '0 8 * * 1', timezone: 'Europe/Paris' });
    for (let i = 0; i < 200 && (await call('GET', `/campaigns/${campaignId}`))?.['campaign'] && ((await call('GET', `/campaigns/${campaignId}`))?.['campaign'] as Record<string, unknown>)['status'] === 'sending'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    // A feed that worked once and now fails: the overview's "Needs attention" shows it; one reader left the list: growth shows it.
    server.pages.set('/harbor.xml', { headers: { 'content-type': 'application/rss+xml' }, body: fixture('feeds/harbor-times.rss.xml', server.pages.url) });
    const feed = await call('POST', '/feeds', { newsletter: 'weekly', url: `${server.pages.url}/harbor.xml` });
    server.pages.set('/harbor.xml', { status: 503, body: 'down for maintenance' });
    await call('POST', `/feeds/${Number(feed?.['id'])}/poll`, {});
    const leaving = await call('GET', '/subscribers?email=reader39&limit=1');
    await call('POST', `/subscribers/${Number(((leaving?.['items'] as Record<string, unknown>[])[0] ?? {})['id'])}/unsubscribe`, {});
    const subscribers = await call('GET', '/subscribers?email=reader1&limit=1');
    const subscriberId = Number(((subscribers?.['items'] as Record<string, unknown>[])[0] ?? {})['id']);

    const pages: readonly [string, string][] = [
      ['login', '/admin/'],
      ['overview', '/admin/'],
      ['audience', '/admin/audience'],
      ['subscriber', `/admin/audience/subscribers/${subscriberId}`],
      ['write', '/admin/write'],
      ['issue-builder', '/admin/issues?newsletter=weekly'],
      ['preview', `/admin/issues?newsletter=weekly&issue=${number}`],
      ['send', `/admin/send?newsletter=weekly&issue=${number}`],
      ['watch', `/admin/campaigns/${campaignId}`],
      ['feeds', '/admin/feeds'],
      ['settings', '/admin/settings'],
    ];
    const written: string[] = [];
    for (const width of WIDTHS) {
      const context = await browser.newContext({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      for (const [name, path] of pages) {
        if (name === 'overview') {
          await page.getByLabel('Email').fill(server.owner);
          await page.getByLabel('Password').fill(PASSWORD);
          await page.getByRole('button', { name: 'Log in' }).click();
          await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
        } else {
          await page.goto(`${server.base}${path}`);
        }
        await page.locator('h1').first().waitFor();
        await page.waitForLoadState('networkidle');
        if (name === 'preview') await page.frameLocator('iframe[title^="Email preview"]').getByText('View in browser').first().waitFor();
        const file = join(OUT, `${name}-${width}.png`);
        await page.screenshot({ path: file, fullPage: true });
        written.push(file);
      }
      await context.close();
    }
    console.log(`${written.length} screenshots in ${OUT}:\n${written.map((f) => `  ${f}`).join('\n')}`);
    return 0;
  } finally {
    await browser.close();
    await server.close();
  }
}

process.exitCode = await main();
