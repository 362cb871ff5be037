/**
 * The overview's API on the real service over a real socket: list growth per day, and the problems that need
 * attention from what the app records (a relay that refuses the login pauses the campaign with its error; a feed
 * keeps its last poll error); and the warnings before sending, with links on this server requested in process.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Service } from '../src/service.ts';
import { fixture, startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { apiClient, startApiTestService, type ApiTestService } from './helpers/api-client.ts';

let sink: SmtpSink;
let feeds: FixtureServer;
let service: Service;
let running: ApiTestService;
let base: string;
let auth: Record<string, string>;

const call = apiClient(() => ({ base, auth }));

beforeAll(async () => {
  // The relay wants mailroom/right; SMTP_URL gives it the wrong password.
  [sink, feeds] = await Promise.all([startSmtpSink({ auth: { user: 'mailroom', pass: 'right' } }), startFixtureServer()]);
  feeds.set('/feed.xml', { headers: { 'content-type': 'application/rss+xml' }, body: fixture('feeds/harbor-times.rss.xml', feeds.url) });
  const previousAllow = process.env.FETCH_ALLOW_PRIVATE;
  running = await startApiTestService(`smtp://mailroom:wrong@127.0.0.1:${sink.port}?insecure_auth=local`, {
    tokenName: 'overview',
    before: () => {
      process.env.FETCH_ALLOW_PRIVATE = '127.0.0.1';
    },
    after: () => {
      if (previousAllow === undefined) delete process.env.FETCH_ALLOW_PRIVATE;
      else process.env.FETCH_ALLOW_PRIVATE = previousAllow;
    },
  });
  ({ service, base, auth } = running);
});

afterAll(async () => {
  await running?.close();
  await Promise.all([sink?.close(), feeds?.close()]);
});

describe('the overview API', () => {
  test('list growth: each list, one number a day for 30 days ending today, joins and unsubscribes', async () => {
    const before = await call<{ days: string[]; lists: { list: string; joined: number[]; left: number[]; totalJoined: number; totalLeft: number }[] }>('GET', '/growth');
    expect(before.status).toBe(200);
    expect(before.data.days).toHaveLength(30);
    expect(before.data.days.at(-1)).toBe(new Date().toISOString().slice(0, 10));
    const demo = before.data.lists.find((l) => l.list === 'demo');
    expect(demo?.joined).toHaveLength(30);
    expect(demo?.joined.at(-1)).toBe(demo?.totalJoined);
    expect(demo?.totalJoined).toBeGreaterThan(0);
    expect(demo?.totalLeft).toBe(0);

    const people = await call<{ items: { id: number }[] }>('GET', '/subscribers?list=demo&limit=1');
    const id = people.data.items[0]?.id;
    expect((await call('POST', `/subscribers/${id}/unsubscribe`, {})).status).toBe(200);
    const after = await call<typeof before.data>('GET', '/growth?days=7');
    expect(after.data.days).toHaveLength(7);
    expect(after.data.lists.find((l) => l.list === 'demo')).toMatchObject({ totalLeft: 1, left: [0, 0, 0, 0, 0, 0, 1] });
    expect((await call('GET', '/growth?days=0')).status).toBe(422);
  });

  test('problems: a relay that refuses the login (with its reply) and the campaign it paused; a feed that fails', async () => {
    const empty = await call<{ relay: { state: string }; items: unknown[] }>('GET', '/problems');
    expect(empty.data).toEqual({ relay: { state: 'ok', lastError: null, campaignId: null, retryAt: null }, items: [] });

    const issue = await call<{ number: number }>('POST', '/newsletters/weekly/issues', {});
    expect(issue.status).toBe(201);
    const count = await call<{ recipients: number }>('GET', `/newsletters/weekly/issues/${issue.data.number}/recipients`);
    const sent = await call<{ campaign: { id: number } }>('POST', '/campaigns', { newsletter: 'weekly', issue: issue.data.number, confirmRecipients: count.data.recipients });
    expect(sent.status).toBe(202);
    type Problems = { relay: { state: string; lastError: string | null; campaignId: number | null }; items: { kind: string; message: string; campaignId?: number }[] };
    await expect.poll(async () => (await call<Problems>('GET', '/problems')).data.relay.state, { timeout: 15_000 }).toBe('refusing-logins');
    const problems = (await call<Problems>('GET', '/problems')).data;
    expect(problems.relay.campaignId).toBe(sent.data.campaign.id);
    expect(problems.relay.lastError).toMatch(/authentication failed.*535/i);
    expect(problems.relay.lastError).not.toContain('wrong');
    expect(problems.items.map((p) => p.kind)).toEqual(['relay', 'campaign-paused']);
    expect(problems.items[0]?.message).toMatch(/^The SMTP relay refuses the login/);
    expect(sink.messages).toHaveLength(0);

    // A feed that worked, then fails.
    const feed = await call<{ id: number }>('POST', '/feeds', { newsletter: 'weekly', url: `${feeds.url}/feed.xml` });
    expect(feed.status).toBe(201);
    feeds.set('/feed.xml', { status: 500, body: 'down' });
    await call('POST', `/feeds/${feed.data.id}/poll`);
    const withFeed = (await call<Problems>('GET', '/problems')).data;
    expect(withFeed.items.find((p) => p.kind === 'feed-failing')?.message).toMatch(/500/);
  });

  test('warnings before sending: links on this server that fail, images without alt text, the HTML size', async () => {
    const markdown = '---\ntitle: Links to check\nslug: links-to-check\npublished: 2026-11-20\n---\n\nSee [the archive](https://news.example.com/issues), [a page that is gone](https://news.example.com/articles/no-such-article) and [elsewhere](https://elsewhere.example/x).\n\n<img src="https://news.example.com/media/missing.png">\n';
    const saved = await call<{ saved: { article: { id: number } }[] }>('POST', '/articles?newsletter=weekly', { markdown });
    expect(saved.status, JSON.stringify(saved.data)).toBe(200);
    const articleId = saved.data.saved[0]?.article.id;
    const issue = await call<{ number: number }>('POST', '/newsletters/weekly/issues', { articles: [articleId] });
    const warnings = await call<{ email: string; html: { verdict: string; bytes: number }; imagesWithoutAlt: string[]; failingUrls: { url: string; status: number }[]; checkedUrls: number; otherHosts: string[]; liveOnceSent: string[] }>('GET', `/newsletters/weekly/issues/${issue.data.number}/warnings`);
    expect(warnings.status).toBe(200);
    expect(warnings.data.html.verdict).toBe('ok');
    expect(warnings.data.failingUrls).toEqual(expect.arrayContaining([{ url: 'https://news.example.com/articles/no-such-article', kind: 'link', status: 404 }]));
    expect(warnings.data.failingUrls.map((u) => u.url)).not.toContain('https://news.example.com/issues');
    // The sample reader's own unsubscribe and preferences links are not the email's fault.
    expect(warnings.data.failingUrls.filter((u) => /\/(u|p)\//.test(u.url))).toEqual([]);
    expect(warnings.data.failingUrls).toEqual(expect.arrayContaining([{ url: 'https://news.example.com/media/missing.png', kind: 'image', status: 404 }]));
    expect(warnings.data.failingUrls).toHaveLength(2);
    expect(warnings.data.otherHosts).toContain('https://elsewhere.example/x');
    // Its web version and its article's page are not public until it is sent: not failures.
    expect(warnings.data.liveOnceSent).toEqual(expect.arrayContaining([`https://news.example.com/issues/weekly/${issue.data.number}`, 'https://news.example.com/articles/links-to-check']));
    const unknown = await call<{ detail: string }>('GET', `/newsletters/weekly/issues/${issue.data.number}/warnings?as=nobody%40example.org`);
    expect(unknown.status).toBe(404);
    expect(unknown.data.detail).toContain('query.as "nobody@example.org"');
  });
});
