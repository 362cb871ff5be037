/**
 * The web app shows the relay's state from the API's structured fields: a real relay that answers its greeting with
 * 421 and network-sounding words ("Connection closed", "timed out") is reachable and refusing service, and the
 * overview and the campaign's page say it answers with an error (the overview used to guess "cannot be reached" from
 * the wording; the campaign page said nothing but the raw error). Real service, real Chromium.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startAdminServer, PASSWORD, type AdminServer } from './helpers/admin-server.ts';
import { describeBrowserSuite, hasChromium, launchBrowser } from './helpers/browser.ts';

let relay: Server;
let server: AdminServer;
let browser: Browser;
let page: Page;

describe.skipIf(!hasChromium())(describeBrowserSuite('the relay state in the web app'), () => {
  beforeAll(async () => {
    relay = createServer((socket) => socket.end('421 4.3.2 Connection closed: too busy, timed out waiting for a slot\r\n'));
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as { port: number }).port;
    [server, browser] = await Promise.all([startAdminServer({ smtpUrl: `smtp://127.0.0.1:${port}` }), launchBrowser()]);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await new Promise((resolve) => relay?.close(resolve));
  });

  test('a campaign the relay stopped: the overview and the campaign page name the fault the API reports', async () => {
    const token = (await server.accounts.createToken('relay-fault', 'editor')).secret;
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${server.base}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? null : JSON.stringify(body) });
      return (await response.json()) as T;
    };
    const issue = await call<{ number: number }>('POST', '/newsletters/weekly/issues', {});
    const count = await call<{ recipients: number }>('GET', `/newsletters/weekly/issues/${issue.number}/recipients`);
    const sent = await call<{ campaign: { id: number } }>('POST', '/campaigns', { newsletter: 'weekly', issue: issue.number, confirmRecipients: count.recipients });
    const deadline = Date.now() + 15_000;
    while ((await call<{ relay: { campaignId: number | null } }>('GET', '/problems')).relay.campaignId !== sent.campaign.id) {
      if (Date.now() > deadline) throw new Error('the relay never paused the campaign');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    await page.goto(`${server.base}/admin/`);
    await page.getByLabel('Email').fill(server.owner);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.locator('.problem-relay strong', { hasText: 'The SMTP relay answers with an error' }).waitFor({ timeout: 5000 });

    await page.goto(`${server.base}/admin/campaigns/${sent.campaign.id}`);
    await page.getByRole('heading', { level: 1, name: `Campaign #${sent.campaign.id}` }).waitFor();
    await page.getByRole('region', { name: 'Progress' }).getByText('Paused: The SMTP relay answers with an error.').waitFor({ timeout: 5000 });
  });
});
