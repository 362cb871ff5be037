/**
 * A campaign waiting for a relay's daily cap (hours, maybe) stops when it is told to, not when the cap frees: a
 * stop signal (Ctrl-C, `serve` shutting down) and an operator's pause both end the waits at once. The messages
 * that waited are released (pending, sent later), not failed, and the campaign is not paused for SMTP trouble.
 * Real SMTP sink, real SQLite; the relay's cap is stored (relay_quota_slots).
 */
import { afterEach, expect, test } from 'vitest';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { resumeCampaign } from '../src/sending/send-newsletter.ts';
import { startCountingSink } from './helpers/counting-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The demo workspace (5 subscribers) sending through a relay with a daily cap of 2, and a campaign to them. */
async function cappedCampaign(): Promise<{ ws: Workspace; campaignId: number; sent: () => number }> {
  const sink = await startCountingSink();
  cleanups.push(() => sink.close());
  const ws = await openWorkspace({ SMTP_URL: `${sink.url}?daily=2&name=capped`, SMTP_POOL_SIZE: '2' });
  cleanups.push(() => ws.close());
  await loadDemoWorkspace(ws.app);
  const newsletter = await ws.app.stores.newsletters.findNewsletter('weekly');
  if (!newsletter) throw new Error('no newsletter');
  const { issue } = await buildIssue(ws.app.stores, newsletter, { publicUrl: ws.app.config.publicUrl });
  const { campaign } = await ws.app.stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: newsletter.listId });
  return { ws, campaignId: campaign.id, sent: () => sink.total() };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a stop signal ends the wait for a daily cap at once; the waiting messages stay pending', async () => {
  const { ws, campaignId, sent } = await cappedCampaign();
  const controller = new AbortController();
  const lines: string[] = [];
  const sending = resumeCampaign({ ...ws.app.sendDeps({ signal: controller.signal }), log: (line) => lines.push(line) }, campaignId);
  await until('the cap to be reached', () => sent() === 2);
  // The other messages now wait for the cap (a day).
  await new Promise((resolve) => setTimeout(resolve, 300));
  const stoppedAt = Date.now();
  controller.abort();
  const result = await Promise.race([sending, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 10_000))]);
  expect(result).not.toBe('still waiting');
  expect(Date.now() - stoppedAt).toBeLessThan(5_000);
  expect(sent()).toBe(2);
  const counts = await ws.app.stores.campaigns.countSends(campaignId);
  expect(counts).toMatchObject({ sent: 2, failed: 0, pending: 3 });
  const campaign = await ws.app.stores.campaigns.getCampaign(campaignId);
  // Stopped, to be resumed: not paused for SMTP trouble.
  expect(campaign).toMatchObject({ status: 'sending' });
});

test("an operator's pause ends the wait for a daily cap within seconds", async () => {
  const { ws, campaignId, sent } = await cappedCampaign();
  const sending = resumeCampaign({ ...ws.app.sendDeps(), log: () => undefined }, campaignId);
  await until('the cap to be reached', () => sent() === 2);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const pausedAt = Date.now();
  await ws.app.stores.campaigns.setCampaignStatus(campaignId, 'paused', { pauseReason: 'operator' });
  const result = await Promise.race([sending, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 10_000))]);
  expect(result).not.toBe('still waiting');
  expect(Date.now() - pausedAt).toBeLessThan(5_000);
  expect(await ws.app.stores.campaigns.countSends(campaignId)).toMatchObject({ sent: 2, failed: 0, pending: 3 });
  expect(await ws.app.stores.campaigns.getCampaign(campaignId)).toMatchObject({ status: 'paused' });
});
