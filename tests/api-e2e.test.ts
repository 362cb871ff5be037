/**
 * The API end to end over a real socket, on the real service (startService: HTTP server, campaign runner) with a real
 * SMTP sink: an owner chooses a password through a one-time link, logs in with the cookie, uses the CSRF token,
 * creates an API token; the token imports subscribers as a job, builds an issue and sends it; the progress streams as
 * Server-Sent Events until every message reached the sink.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { AccountService } from '../src/accounts/account-service.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { startService, type Service } from '../src/service.ts';
import { AccountStore } from '../src/store/account-store.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { makeDataDir } from './helpers/workspace.ts';

vi.setConfig({ testTimeout: 60_000 });

let sink: SmtpSink;
let service: Service;
let dir: string;
let base: string;
const lines: string[] = [];

beforeAll(async () => {
  sink = await startSmtpSink();
  dir = makeDataDir();
  const config = loadConfig(
    { DATA_DIR: join(dir, 'data'), PUBLIC_URL: 'https://news.example.com', SECRET: 'an-api-e2e-secret-that-is-long-enough-0123', SMTP_URL: sink.url, NODE_ENV: 'production', FEED_POLL_MINUTES: '0', SCHEDULER_TICK: '*/1 * * * * *' },
    dir,
  );
  service = await startService({ ...config, port: 0, host: '127.0.0.1' }, { loadDemo: false, log: (line) => lines.push(line) });
  await loadDemoWorkspace(service.app);
  base = service.httpUrl;
});

afterAll(async () => {
  await service.close();
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
});

function cookiesOf(response: Response): Map<string, string> {
  const out = new Map<string, string>();
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(';');
    const eq = (pair ?? '').indexOf('=');
    out.set((pair ?? '').slice(0, eq), (pair ?? '').slice(eq + 1));
  }
  return out;
}

describe('the API over a real socket', () => {
  test('owner logs in with a cookie, uses CSRF, makes a token; the token imports, builds and sends to a real SMTP server', async () => {
    // Outside local development there is no account until one is created.
    expect(lines.join('\n')).not.toContain('one-time link');
    const accounts = new AccountService(new AccountStore(service.app.stores.db), { publicUrl: 'https://news.example.com' });
    const { link } = await accounts.createUser('boss@example.com', 'owner');
    const path = new URL(link).pathname;

    // The link's page uses nothing; its form chooses the password and logs in.
    expect((await fetch(`${base}${path}`)).status).toBe(200);
    const chosen = await fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'password=correct-horse-battery' });
    expect(chosen.status).toBe(303);
    expect(chosen.headers.getSetCookie().join('\n')).toMatch(/mailroom_session=[^;]+; Path=\/; Max-Age=\d+; SameSite=Lax; HttpOnly; Secure/);
    expect((await fetch(`${base}${path}`)).status).toBe(410);

    // A password login with JSON.
    const wrong = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'boss@example.com', password: 'nope' }) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'Boss@Example.com', password: 'correct-horse-battery' }) });
    expect(login.status).toBe(200);
    const { csrfToken, user } = (await login.json()) as { csrfToken: string; user: { role: string } };
    expect(user.role).toBe('owner');
    const cookie = `mailroom_session=${cookiesOf(login).get('mailroom_session') ?? ''}`;

    // Cookie requests that change anything need the CSRF token, and our own origin.
    const tokenBody = JSON.stringify({ name: 'ci', role: 'editor' });
    const noCsrf = await fetch(`${base}/api/v1/tokens`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: tokenBody });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { code: string }).code).toBe('CSRF');
    const crossSite = await fetch(`${base}/api/v1/tokens`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': csrfToken, origin: 'https://evil.example' }, body: tokenBody });
    expect(crossSite.status).toBe(403);
    const made = await fetch(`${base}/api/v1/tokens`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': csrfToken, origin: 'https://news.example.com' }, body: tokenBody });
    expect(made.status).toBe(201);
    const { secret } = (await made.json()) as { secret: string };
    expect(secret).toMatch(/^mr_[\w-]{40,}$/);
    const auth = { authorization: `Bearer ${secret}` };

    // The owner sees the effective settings, secrets hidden.
    const settings = (await (await fetch(`${base}/api/v1/settings`, { headers: { cookie } })).json()) as { settings: Record<string, unknown> };
    expect(settings.settings).toMatchObject({ PUBLIC_URL: 'https://news.example.com', SMTP_URL: sink.url, SECRET: expect.stringMatching(/hidden/) });
    expect(JSON.stringify(settings)).not.toContain('an-api-e2e-secret');

    // An editor token cannot manage users.
    expect((await fetch(`${base}/api/v1/users`, { headers: auth })).status).toBe(403);

    // Import subscribers as a job, with a per-line report.
    const csv = ['email,first_name', ...Array.from({ length: 40 }, (_, i) => `api${i}@example.org,Reader${i}`), 'not-an-address,Bad'].join('\n');
    const started = await fetch(`${base}/api/v1/lists/demo/imports?filename=people.csv`, { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: csv });
    expect(started.status).toBe(202);
    let job = (await started.json()) as { id: string; state: string; report: { added: number; rejected: number } | null; lines: string[] };
    while (job.state === 'running') job = (await (await fetch(`${base}/api/v1/imports/${job.id}`, { headers: auth })).json()) as typeof job;
    expect(job.state).toBe('done');
    expect(job.report).toMatchObject({ addedToList: 40, rejected: 1 });
    expect(job.lines).toEqual(['people.csv line 42: "not-an-address" is not an email address']);

    // Search by email prefix, keyset pages.
    const page1 = (await (await fetch(`${base}/api/v1/subscribers?email=api1&limit=5`, { headers: auth })).json()) as { items: { email: string }[]; nextCursor: string | null };
    // In address order ('0' sorts before '@').
    expect(page1.items.map((s) => s.email)).toEqual(['api10@example.org', 'api11@example.org', 'api12@example.org', 'api13@example.org', 'api14@example.org']);
    const page2 = (await (await fetch(`${base}/api/v1/subscribers?email=api1&limit=5&cursor=${page1.nextCursor ?? ''}`, { headers: auth })).json()) as { items: { email: string }[]; nextCursor: string | null };
    expect(page2.items.map((s) => s.email)).toEqual(['api15@example.org', 'api16@example.org', 'api17@example.org', 'api18@example.org', 'api19@example.org']);
    const byName = (await (await fetch(`${base}/api/v1/subscribers?name=READER3&list=demo&limit=3`, { headers: auth })).json()) as { items: { email: string; name: string }[]; nextCursor: string | null };
    expect(byName.items.map((s) => s.name)).toEqual(['Reader3', 'Reader30', 'Reader31']);
    const byName2 = (await (await fetch(`${base}/api/v1/subscribers?name=READER3&list=demo&limit=3&cursor=${byName.nextCursor ?? ''}`, { headers: auth })).json()) as { items: { name: string }[] };
    expect(byName2.items.map((s) => s.name)).toEqual(['Reader32', 'Reader33', 'Reader34']);
    const badCursor = await fetch(`${base}/api/v1/subscribers?cursor=nonsense`, { headers: auth });
    expect(badCursor.status).toBe(422);

    // Build an issue with a subject, look at it as one subscriber.
    const built = await fetch(`${base}/api/v1/newsletters/weekly/issues`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ subject: 'Hello from the API', max: 2 }) });
    expect(built.status).toBe(201);
    const issue = (await built.json()) as { number: number; articleIds: number[] };
    expect(issue.articleIds).toHaveLength(2);
    const preview = (await (await fetch(`${base}/api/v1/newsletters/weekly/issues/${issue.number}/preview`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ as: 'api3@example.org' }) })).json()) as { subject: string; email: string };
    expect(preview).toMatchObject({ subject: 'Hello from the API', email: 'api3@example.org' });

    // A whole list needs its recipient count; a wrong count sends nothing and names the right one.
    const send = (confirmRecipients: number) =>
      fetch(`${base}/api/v1/campaigns`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ newsletter: 'weekly', issue: issue.number, confirmRecipients }) });
    const mismatch = await send(1);
    expect(mismatch.status).toBe(409);
    const problem = (await mismatch.json()) as { errors: { field: string; value: number; message: string }[] };
    expect(problem.errors[0]).toMatchObject({ field: 'body.confirmRecipients', value: 1 });
    const expected = Number(/expected (\d+)/.exec(problem.errors[0]?.message ?? '')?.[1]);
    expect(expected).toBe(45);
    // The count is the one the confirmation page asks for (GET …/recipients, the same service).
    const counted = (await (await fetch(`${base}/api/v1/newsletters/weekly/issues/${issue.number}/recipients`, { headers: auth })).json()) as { recipients: number };
    expect(counted.recipients).toBe(expected);
    const noIssue = await fetch(`${base}/api/v1/campaigns`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ newsletter: 'weekly', issue: 999, confirmRecipients: 1 }) });
    expect(noIssue.status).toBe(404);
    expect(((await noIssue.json()) as { detail: string }).detail).toContain('body.issue 999');
    expect(sink.messages).toHaveLength(0);
    const accepted = await send(expected);
    expect(accepted.status).toBe(202);
    const { campaign } = (await accepted.json()) as { campaign: { id: number } };

    // Live progress until the end.
    const events = await fetch(`${base}/api/v1/campaigns/${campaign.id}/events`, { headers: auth });
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await events.text();
    const progress = [...text.matchAll(/event: progress\nid: \d+\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1] ?? '{}') as { campaign: { status: string }; counts: { sent: number } });
    expect(text).toContain('event: end');
    expect(progress.at(-1)).toMatchObject({ campaign: { status: 'sent' }, counts: { sent: 45 } });
    expect(sink.messages).toHaveLength(45);
    expect(sink.messages.some((m) => m.parsed.subject === 'Hello from the API')).toBe(true);

    // Control after the end: nothing failed, a sent campaign cannot be cancelled; a test copy goes to one address.
    const failed = (await (await fetch(`${base}/api/v1/campaigns/${campaign.id}/sends?status=failed`, { headers: auth })).json()) as { items: unknown[] };
    expect(failed.items).toEqual([]);
    const cancel = await fetch(`${base}/api/v1/campaigns/${campaign.id}/cancel`, { method: 'POST', headers: auth });
    expect(cancel.status).toBe(409);
    expect(((await cancel.json()) as { detail: string }).detail).toBe(`campaign ${campaign.id} is already sent`);
    const test = await fetch(`${base}/api/v1/newsletters/weekly/issues/${issue.number}/test`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ email: 'proof@example.net' }) });
    expect(test.status).toBe(200);
    expect(sink.messages.filter((m) => m.envelopeTo.includes('proof@example.net')).map((m) => m.parsed.subject)).toEqual(['[TEST] Hello from the API']);

    // Logout ends the session.
    const out = await fetch(`${base}/api/v1/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken } });
    expect(out.status).toBe(204);
    expect((await fetch(`${base}/api/v1/auth/session`, { headers: { cookie } })).status).toBe(401);
  });
});
