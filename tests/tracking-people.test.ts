/**
 * Issue 13, tracking: per-subscriber open and click data only when the operator turns on a second switch (off by
 * default; aggregate counts otherwise), unique people beside totals, machine opens (Apple Mail Privacy Protection,
 * scanners) apart, shown by `campaigns stats` and GET /campaigns/{id}/stats, included in `subscribers export` and
 * erased by `subscribers erase`. The CLI runs in-process on the same database as the server.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AccountService } from '../src/accounts/account-service.ts';
import { deliverabilityRoutes } from '../src/deliverability/runtime.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { AccountStore } from '../src/store/account-store.ts';
import { cleanEnv, expectOk, runInProcess, type Run } from './helpers/mailroom.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';
const PUBLIC = 'https://news.example.com';

let sink: SmtpSink;
let ws: Workspace;
let http: FastifyInstance;
let viewer: { authorization: string };

function cli(args: readonly string[]): Promise<Run> {
  return runInProcess(ws.dir, args, cleanEnv({ DATA_DIR: ws.dataDir, PUBLIC_URL: PUBLIC, SECRET: ws.app.config.secret, SMTP_URL: sink.url, DATABASE_URL: ws.app.config.databaseUrl }));
}

/** The tracking addresses (paths) of one recipient's message in the last send. */
function trackingOf(email: string, campaignId: number): { clicks: string[]; pixel: string } {
  const message = sink.messages.find((m) => m.envelopeTo.includes(email) && String(m.parsed.html ?? '').includes(`/t/o/${campaignId}/`));
  const html = String(message?.parsed.html ?? '');
  const clicks = [...html.matchAll(new RegExp(`${PUBLIC.replace(/\./g, '\\.')}(/t/c/${campaignId}/[^"'\\s]+)`, 'g'))].map((m) => m[1] ?? '');
  const pixel = new RegExp(`${PUBLIC.replace(/\./g, '\\.')}(/t/o/${campaignId}/[^"'\\s]+\\.gif)`).exec(html)?.[1] ?? '';
  return { clicks, pixel };
}

async function hit(url: string, from: { ua?: string; ip?: string } = {}): Promise<number> {
  return (await http.inject({ method: 'GET', url, headers: { 'user-agent': from.ua ?? BROWSER }, remoteAddress: from.ip ?? '203.0.113.9' })).statusCode;
}

interface Stats {
  readonly tracking: {
    readonly settings: { opens: boolean; clicks: boolean; people: boolean };
    readonly opens: { human: number; machine: number; people: number | null };
    readonly clicks: { human: number; machine: number; people: number | null };
  };
}

async function statsOf(campaignId: number): Promise<Stats> {
  const fromCli = JSON.parse(expectOk(await cli(['campaigns', 'stats', String(campaignId), '--json'])).stdout) as Stats;
  const api = await http.inject({ url: `/api/v1/campaigns/${campaignId}/stats`, headers: viewer });
  expect(api.statusCode, api.body).toBe(200);
  expect(api.json()).toEqual(fromCli);
  return fromCli;
}

beforeAll(async () => {
  sink = await startSmtpSink();
  ws = await openWorkspace({ SMTP_URL: sink.url });
  await loadDemoWorkspace(ws.app);
  const accounts = new AccountService(new AccountStore(ws.app.stores.db), { publicUrl: ws.app.config.publicUrl });
  viewer = { authorization: `Bearer ${(await accounts.createToken('view', 'viewer')).secret}` };
  http = await buildHttpServer({ stores: ws.app.stores, publicUrl: PUBLIC, secret: ws.app.config.secret, mediaDir: ws.dataDir, inbox: null, accounts, plugins: deliverabilityRoutes(ws.app) });
});

afterAll(async () => {
  await http?.close();
  await sink?.close();
  await ws?.close();
});

describe('per-subscriber tracking is a second switch', () => {
  let aggregateCampaign = 0;
  let personalCampaign = 0;

  test('opens and clicks on, people off (the default): the same addresses for everyone, totals and machines, no people', async () => {
    const shown = expectOk(await cli(['newsletter', 'tracking', 'weekly', '--opens', 'on', '--clicks', 'on'])).stdout;
    expect(shown).toContain('per subscriber: no');
    aggregateCampaign = (await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' })).campaign?.id ?? 0;
    const ada = trackingOf('ada@example.com', aggregateCampaign);
    const grace = trackingOf('grace@example.com', aggregateCampaign);
    expect(ada.pixel).not.toBe('');
    expect(grace.pixel).toBe(ada.pixel);
    expect(grace.clicks).toEqual(ada.clicks);
    expect(await hit(ada.pixel)).toBe(200);
    expect(await hit(ada.pixel)).toBe(200);
    expect(await hit(ada.pixel, { ua: 'Mozilla/5.0', ip: '17.58.100.1' })).toBe(200);
    expect(await hit(ada.clicks[0] ?? '')).toBe(302);
    const stats = await statsOf(aggregateCampaign);
    expect(stats.tracking.settings).toEqual({ opens: true, clicks: true, people: false });
    expect(stats.tracking.opens).toEqual({ human: 2, machine: 1, people: null });
    expect(stats.tracking.clicks).toEqual({ human: 1, machine: 0, people: null });
    const text = expectOk(await cli(['campaigns', 'stats', String(aggregateCampaign)])).stdout;
    expect(text).toMatch(/opens:\s+2 .*1 by machines/);
    expect(text).toMatch(/unique people: not counted/);
  });

  test('people on: each message carries its own signed addresses; unique people beside totals; a forged one is refused', async () => {
    expect(expectOk(await cli(['newsletter', 'tracking', 'weekly', '--people', 'on'])).stdout).toContain('per subscriber: yes');
    expect((await cli(['newsletter', 'tracking', 'weekly', '--people', 'maybe'])).stderr).toContain('--people "maybe": expected on or off');
    sink.messages.length = 0;
    personalCampaign = (await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly', issue: 1, resend: true })).campaign?.id ?? 0;
    const ada = trackingOf('ada@example.com', personalCampaign);
    const grace = trackingOf('grace@example.com', personalCampaign);
    expect(ada.pixel).not.toBe('');
    expect(grace.pixel).not.toBe(ada.pixel);
    expect(grace.clicks[0]).not.toBe(ada.clicks[0]);
    // The unsubscribe link is still the person's own and direct.
    expect(await hit(ada.pixel)).toBe(200);
    expect(await hit(ada.pixel)).toBe(200);
    expect(await hit(ada.pixel, { ua: 'Mozilla/5.0', ip: '17.58.100.1' })).toBe(200);
    expect(await hit(grace.pixel)).toBe(200);
    expect(await hit(ada.clicks[0] ?? '')).toBe(302);
    expect(await hit(ada.clicks[0] ?? '')).toBe(302);
    // Grace's address with Ada's signature, or a made-up person: not found, nothing counted.
    const adaToken = /\/([^/]+)\.gif$/.exec(ada.pixel)?.[1] ?? '';
    const graceId = (/^(\d+)\./.exec(/\/([^/]+)\.gif$/.exec(grace.pixel)?.[1] ?? '') ?? [])[1] ?? '';
    expect(await hit(ada.pixel.replace(adaToken, adaToken.replace(/^\d+/, graceId)))).toBe(404);
    const stats = await statsOf(personalCampaign);
    expect(stats.tracking.settings).toEqual({ opens: true, clicks: true, people: true });
    expect(stats.tracking.opens).toEqual({ human: 3, machine: 1, people: 2 });
    expect(stats.tracking.clicks).toEqual({ human: 2, machine: 0, people: 1 });
    expect(expectOk(await cli(['campaigns', 'stats', String(personalCampaign)])).stdout).toMatch(/opens:\s+3 by 2 people/);
  });

  test('subscribers export includes the person’s opens and clicks; erase removes them and keeps the anonymous totals', async () => {
    const exported = JSON.parse(expectOk(await cli(['subscribers', 'export', 'ada@example.com'])).stdout) as { tracking: { campaignId: number; kind: string; machine: boolean }[] };
    expect(exported.tracking.filter((t) => t.campaignId === personalCampaign && t.kind === 'open')).toHaveLength(3);
    expect(exported.tracking.filter((t) => t.kind === 'click')).toHaveLength(2);
    expect(exported.tracking.filter((t) => t.campaignId === aggregateCampaign)).toEqual([]);
    expectOk(await cli(['subscribers', 'erase', 'ada@example.com']));
    const stats = await statsOf(personalCampaign);
    expect(stats.tracking.opens).toEqual({ human: 3, machine: 1, people: 1 });
    expect(stats.tracking.clicks).toEqual({ human: 2, machine: 0, people: 0 });
    const after = JSON.parse(expectOk(await cli(['subscribers', 'export', 'ada@example.com'])).stdout) as { tracking: unknown[] };
    expect(after.tracking).toEqual([]);
  });

  test('people off again: a personal address from an earlier message is counted, but for nobody', async () => {
    expectOk(await cli(['newsletter', 'tracking', 'weekly', '--people', 'off']));
    const grace = trackingOf('grace@example.com', personalCampaign);
    expect(await hit(grace.pixel)).toBe(200);
    const stats = await statsOf(personalCampaign);
    expect(stats.tracking.opens).toMatchObject({ human: 4, people: null });
    const exported = JSON.parse(expectOk(await cli(['subscribers', 'export', 'grace@example.com'])).stdout) as { tracking: unknown[] };
    expect(exported.tracking).toHaveLength(1);
  });
});
