/**
 * Issue 13: opt-in, aggregate open and click tracking. Off by default; when on, a campaign's links go through signed
 * redirects whose targets come only from the campaign's stored links (no open redirect), an open pixel is added,
 * machine hits (Apple Mail Privacy Protection, link scanners) are counted apart, and the archive never tracks.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deliverabilityRoutes } from '../src/deliverability/runtime.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { TrackingStore } from '../src/store/tracking-store.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';

describe('opt-in tracking', () => {
  let sink: SmtpSink;
  let ws: Workspace;
  let http: FastifyInstance;
  let tracking: TrackingStore;

  beforeAll(async () => {
    sink = await startSmtpSink();
    ws = await openWorkspace({ SMTP_URL: sink.url });
    await loadDemoWorkspace(ws.app);
    tracking = new TrackingStore(ws.app.stores.db);
    http = await buildHttpServer({ stores: ws.app.stores, publicUrl: 'https://news.example.com', secret: ws.app.config.secret, mediaDir: join(ws.dataDir, 'media'), inbox: null, plugins: deliverabilityRoutes(ws.app) });
  });

  afterAll(async () => {
    await http?.close();
    await sink?.close();
    await ws?.close();
  });

  test('off by default: campaign messages carry no tracking', async () => {
    const newsletter = (await ws.app.stores.newsletters.listNewsletters())[0];
    expect(await tracking.settings(newsletter?.id ?? 0)).toEqual({ opens: false, clicks: false, people: false });
    await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    for (const m of sink.messages) expect(m.raw).not.toMatch(/news\.example\.com\/t\//);
  });

  test('on: signed click redirects and an open pixel; machines counted apart; no open redirect; the archive never tracks', async () => {
    const newsletter = (await ws.app.stores.newsletters.listNewsletters())[0];
    await tracking.setSettings(newsletter?.id ?? 0, { opens: true, clicks: true });
    sink.messages.length = 0;
    const report = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly', issue: 1, resend: true });
    const campaignId = report.campaign?.id ?? 0;
    const message = sink.messages.find((m) => m.envelopeTo.includes('ada@example.com'));
    const html = String(message?.parsed.html ?? '');
    const clicks = [...html.matchAll(new RegExp(`https://news\\.example\\.com(/t/c/${campaignId}/\\d+/[A-Za-z0-9_-]+)`, 'g'))].map((m) => m[1] ?? '');
    expect(clicks.length).toBeGreaterThan(0);
    const pixel = new RegExp(`https://news\\.example\\.com(/t/o/${campaignId}/[A-Za-z0-9_-]+\\.gif)`).exec(html)?.[1] ?? '';
    expect(pixel).not.toBe('');
    // The personal links stay personal and direct.
    expect(html).toMatch(/href="https:\/\/news\.example\.com\/u\//);
    // Aggregate: every recipient's message has the very same tracking addresses.
    const grace = String(sink.messages.find((m) => m.envelopeTo.includes('grace@example.com'))?.parsed.html ?? '');
    expect(grace).toContain(clicks[0]);

    const links = await tracking.counts(campaignId);
    const first = await http.inject({ method: 'GET', url: `${clicks[0]}?url=https://evil.example/`, headers: { 'user-agent': BROWSER } });
    expect(first.statusCode).toBe(302);
    expect(first.headers.location).toBe(links.links[0]?.url);
    expect(first.headers.location).not.toContain('evil');
    expect((await http.inject({ method: 'HEAD', url: clicks[0] ?? '', headers: { 'user-agent': BROWSER } })).statusCode).toBe(302);
    expect((await http.inject({ method: 'GET', url: (clicks[0] ?? '').replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) })).statusCode).toBe(404);
    expect((await http.inject({ method: 'GET', url: (clicks[0] ?? '').replace(`/t/c/${campaignId}/`, `/t/c/${campaignId + 1}/`) })).statusCode).toBe(404);

    const human = await http.inject({ method: 'GET', url: pixel, headers: { 'user-agent': BROWSER }, remoteAddress: '203.0.113.9' });
    expect(human.statusCode).toBe(200);
    expect(human.headers['content-type']).toBe('image/gif');
    expect((await http.inject({ method: 'GET', url: pixel, headers: { 'user-agent': 'Mozilla/5.0' }, remoteAddress: '17.58.100.1' })).statusCode).toBe(200);
    const counts = await tracking.counts(campaignId);
    expect(counts.opens).toEqual({ human: 1, machine: 1, people: null });
    expect(counts.clicks).toEqual({ human: 1, machine: 1, people: null });

    const archive = await http.inject({ method: 'GET', url: '/issues/weekly/1' });
    expect(archive.statusCode).toBe(200);
    expect(archive.body).not.toMatch(/\/t\/[co]\//);
  });
});
