/**
 * Sign-up with double opt-in against the real server on a random port and a real SMTP sink: pending until confirmed,
 * consent recorded, the same answer for new / existing / suppressed addresses, one email per address per hour, the
 * per-IP rate limit (429, across restarts), the honeypot, proxies, scoped tokens, and escaping.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { confirmUrl, preferencesUrl } from '../src/core/links.ts';
import { signToken } from '../src/core/tokens.ts';
import { sendNewsletter } from '../src/sending/send-newsletter.ts';
import { hashEmail } from '../src/store/suppression.ts';
import { formBody, linkIn, mainOf, messagesTo, PUBLIC_URL, startSubscriberEnv, type SubscriberEnv } from './helpers/subscriber-server.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let env: SubscriberEnv;

async function listId(name = 'demo'): Promise<number> {
  return (await env.ws.app.stores.audience.findListByName(name))?.id ?? 0;
}

async function membership(email: string, list = 'demo') {
  const subscriber = await env.ws.app.stores.audience.findSubscriberByEmail(email);
  if (!subscriber) return null;
  return (await env.ws.app.stores.db.selectFrom('list_memberships').selectAll().where('subscriber_id', '=', subscriber.id).where('list_id', '=', await listId(list)).executeTakeFirst()) ?? null;
}

async function signUp(fields: Record<string, string>, headers: Record<string, string> = {}, list = 'demo'): Promise<Response> {
  const init = formBody(fields);
  return fetch(`${env.origin}/subscribe/${list}`, { ...init, headers: { ...init.headers, ...headers } });
}

describe('sign-up with double opt-in', () => {
  beforeEach(async () => {
    env = await startSubscriberEnv();
  });
  afterEach(async () => {
    await env.close();
  });

  test('the hosted page signs up a pending subscriber who gets no campaign until the confirmation link is clicked', async () => {
    const page = await fetch(`${env.origin}/subscribe/demo`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const form = await page.text();
    expect(form).toContain('<form class="card" method="post" action="/subscribe/demo"');
    expect(form).toContain('name="leave_blank"');

    const response = await signUp({ email: '  Zoe.Reader@Example.COM ', name: 'Zoe  Reader', leave_blank: '' });
    expect(response.status).toBe(200);
    expect(mainOf(await response.text())).toContain('zoe.reader@example.com');

    const pending = await membership('zoe.reader@example.com');
    expect(pending).toMatchObject({ status: 'pending', consent_source: 'signup:form', consent_at: env.clock.now.toISOString(), consent_ip: null, confirmed_at: null });
    const subscriber = await env.ws.app.stores.audience.findSubscriberByEmail('zoe.reader@example.com');
    expect(subscriber).toMatchObject({ name: 'Zoe Reader', firstName: 'Zoe', lastName: 'Reader', status: 'active', consentSource: 'signup:form' });

    // The email goes out after the response.
    await env.signup.idle();
    const [confirmation, ...more] = messagesTo(env.sink, 'zoe.reader@example.com');
    expect(more).toHaveLength(0);
    expect(confirmation?.parsed.subject).toBe('Confirm your subscription to Mailroom Weekly');
    expect(confirmation?.parsed.from?.value[0]).toEqual({ name: 'Mailroom Weekly', address: 'news@mailroom.example' });
    expect(confirmation?.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(confirmation?.parsed.headers.get('list-unsubscribe')).toBeUndefined();
    expect(confirmation?.parsed.text).toContain(`${PUBLIC_URL}/confirm/`);
    expect(String(confirmation?.parsed.html)).not.toContain('Zoe');
    expect((await membership('zoe.reader@example.com'))?.confirmation_sent_at).toBe(env.clock.now.toISOString());

    // A campaign now does not include the pending subscriber.
    const before = await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(before.recipients).toBe(5);
    expect(messagesTo(env.sink, 'zoe.reader@example.com')).toHaveLength(1);

    // GET on the link (what link scanners do) changes nothing.
    const link = env.local(linkIn(confirmation, 'confirm/'));
    const shown = await fetch(link);
    expect(shown.status).toBe(200);
    expect(shown.headers.get('cache-control')).toBe('no-store');
    expect(await shown.text()).toContain('Yes, subscribe me');
    expect((await membership('zoe.reader@example.com'))?.status).toBe('pending');

    env.clock.advance(5 * MINUTE);
    const confirmed = await fetch(link, { method: 'POST' });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('You are subscribed');
    expect(await membership('zoe.reader@example.com')).toMatchObject({ status: 'subscribed', confirmed_at: env.clock.now.toISOString() });
    // Clicking again is harmless.
    expect((await fetch(link, { method: 'POST' })).status).toBe(200);

    const after = await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(after.recipients).toBe(6);
    expect(messagesTo(env.sink, 'zoe.reader@example.com')).toHaveLength(2);
  });

  test('JSON sign-up: 202 with a message, 400 naming the field, CORS for other sites; the IP is recorded only when enabled', async () => {
    await env.restart({ recordIp: true });
    const preflight = await fetch(`${env.origin}/subscribe/demo`, { method: 'OPTIONS', headers: { origin: 'https://blog.example.org', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

    const accepted = await fetch(`${env.origin}/subscribe/demo`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://blog.example.org' }, body: JSON.stringify({ email: 'api@example.com', name: 'Api' }) });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await accepted.json()) as { status: string; email: string; message: string };
    expect(body).toMatchObject({ status: 'accepted', email: 'api@example.com' });
    expect(await membership('api@example.com')).toMatchObject({ status: 'pending', consent_source: 'signup:api', consent_ip: '127.0.0.1' });

    const invalid = await fetch(`${env.origin}/subscribe/demo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bob@' }) });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: 'invalid', field: 'email' });
    const unknown = await fetch(`${env.origin}/subscribe/nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'a@example.com' }) });
    expect(unknown.status).toBe(404);

    await env.signup.idle();
    const link = env.local(linkIn(messagesTo(env.sink, 'api@example.com')[0], 'confirm/'));
    await fetch(link, { method: 'POST' });
    expect(await membership('api@example.com')).toMatchObject({ status: 'subscribed', confirmed_ip: '127.0.0.1' });
  });

  test('new, existing and suppressed addresses get byte-identical answers; only what is mailed afterwards differs', async () => {
    // A slow mail server: were the email sent before answering, new and existing addresses would answer 500 ms later.
    await env.restart({ ratePerMinute: 1000, smtpDelayMs: 500, minResponseMs: 100 });
    await env.ws.app.stores.audience.suppressAddress('bounced@example.com', 'hard-bounce', '550 5.1.1 no such user');
    const cases = ['fresh@example.com', 'ada@example.com', 'bounced@example.com'];
    const answers: { status: number; type: string | null; main: string }[] = [];
    for (const email of cases) {
      const response = await signUp({ email });
      const text = await response.text();
      answers.push({ status: response.status, type: response.headers.get('content-type'), main: mainOf(text).replace(email, 'EMAIL') });
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);

    // Timing: the email is sent after the response, so the answers take about as long.
    const timings: Record<string, number[]> = {};
    // An hour apart, so every round sends again (to the new and the existing address) and the hourly limit hides nothing.
    for (let round = 0; round < 15; round += 1) {
      env.clock.advance(HOUR);
      for (const email of cases) {
        const started = performance.now();
        await (await signUp({ email })).text();
        (timings[email] ??= []).push(performance.now() - started);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const medians = cases.map((c) => median(timings[c] ?? []));
    console.log(`sign-up answer, median of 15 (ms): new ${medians[0]?.toFixed(2)}, existing ${medians[1]?.toFixed(2)}, suppressed ${medians[2]?.toFixed(2)}`);
    // Every answer waits for the 100 ms floor and none for the (500 ms) mail server; they end up a few ms apart
    // (bounds loose enough for a busy test machine).
    expect(Math.min(...medians)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...medians)).toBeLessThan(300);
    expect(Math.max(...medians) - Math.min(...medians)).toBeLessThan(40);

    await env.signup.idle();
    expect(messagesTo(env.sink, 'fresh@example.com').map((m) => m.parsed.subject)).toEqual(Array(16).fill('Confirm your subscription to Mailroom Weekly'));
    const notice = messagesTo(env.sink, 'ada@example.com');
    expect(notice.map((m) => m.parsed.subject)).toEqual(Array(16).fill('You are already subscribed to Mailroom Weekly'));
    expect(linkIn(notice[0], 'p/')).toMatch(/\/p\//);
    expect(messagesTo(env.sink, 'bounced@example.com')).toHaveLength(0);
    // Nothing about the existing subscriber changed, and no row was made for the suppressed address.
    expect(await membership('ada@example.com')).toMatchObject({ status: 'subscribed', confirmed_at: null });
    expect(await env.ws.app.stores.audience.findSubscriberByEmail('bounced@example.com')).toBeNull();
  });

  test('100 sign-ups for one address within an hour send one email; the hour after, one more', async () => {
    // One request every 36 s from one IP: under the per-IP limit, and all 100 within 59.4 minutes.
    for (let i = 0; i < 100; i += 1) {
      const response = await signUp({ email: 'victim@example.com' });
      expect(response.status).toBe(200);
      env.clock.advance(36_000);
    }
    await env.signup.idle();
    expect(messagesTo(env.sink, 'victim@example.com')).toHaveLength(1);
    expect(env.clock.now.getTime() - new Date('2026-03-02T09:00:00.000Z').getTime()).toBe(HOUR);
    // The first request is now exactly an hour old: the next may send again.
    await signUp({ email: 'victim@example.com' });
    await env.signup.idle();
    expect(messagesTo(env.sink, 'victim@example.com')).toHaveLength(2);
  });

  test('simultaneous sign-ups for one address from 30 IPs send one email', async () => {
    await env.restart({ trustProxy: 1 });
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => signUp({ email: 'burst@example.com' }, { 'x-forwarded-for': `198.51.100.${i + 1}` })));
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(200));
    await env.signup.idle();
    expect(messagesTo(env.sink, 'burst@example.com')).toHaveLength(1);
  });

  test('the 6th request in a minute from one IP gets 429, also after a restart; another IP and the next minute are fine', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await signUp({ email: `r${i}@example.com` })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await signUp({ email: 'r6@example.com' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    const json = await fetch(`${env.origin}/subscribe/demo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"r7@example.com"}' });
    expect(json.status).toBe(429);
    expect(await json.json()).toMatchObject({ error: 'rate-limited' });
    expect(await env.ws.app.stores.audience.findSubscriberByEmail('r6@example.com')).toBeNull();

    // The counter lives in the database: a restarted server still refuses.
    await env.restart();
    expect((await signUp({ email: 'r8@example.com' })).status).toBe(429);
    // Without TRUST_PROXY, X-Forwarded-For is ignored: a client cannot pick its own IP.
    expect((await signUp({ email: 'r9@example.com' }, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(429);

    // Behind one trusted proxy, the forwarded address is the client.
    await env.restart({ trustProxy: 1 });
    expect((await signUp({ email: 'r10@example.com' }, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(200);
    // A client prepending its own X-Forwarded-For entry is still counted by the address the proxy saw.
    for (let i = 0; i < 4; i += 1) expect((await signUp({ email: `s${i}@example.com` }, { 'x-forwarded-for': `10.9.9.${i}, 203.0.113.9` })).status).toBe(200);
    expect((await signUp({ email: 's5@example.com' }, { 'x-forwarded-for': '10.9.9.200, 203.0.113.9' })).status).toBe(429);

    env.clock.advance(MINUTE);
    await env.restart();
    expect((await signUp({ email: 'r11@example.com' })).status).toBe(200);
  });

  test('a filled honeypot gets the same answer and records and sends nothing', async () => {
    const real = await signUp({ email: 'human@example.com', leave_blank: '' });
    const bot = await signUp({ email: 'bot@example.com', name: 'Bot', leave_blank: 'https://spam.example' });
    expect(bot.status).toBe(real.status);
    expect(mainOf(await bot.text()).replace('bot@example.com', 'X')).toBe(mainOf(await real.text()).replace('human@example.com', 'X'));
    const botJson = await fetch(`${env.origin}/subscribe/demo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bot2@example.com', leave_blank: 'x' }) });
    expect(botJson.status).toBe(202);
    await env.signup.idle();
    expect(messagesTo(env.sink, 'bot@example.com')).toHaveLength(0);
    expect(messagesTo(env.sink, 'bot2@example.com')).toHaveLength(0);
    expect(messagesTo(env.sink, 'human@example.com')).toHaveLength(1);
    expect(await env.ws.app.stores.audience.findSubscriberByEmail('bot@example.com')).toBeNull();
    expect(await env.ws.app.stores.audience.findSubscriberByEmail('bot2@example.com')).toBeNull();
  });

  test('tampered, foreign, unknown and wrong-purpose tokens get the same 404; an expired one 410', async () => {
    await signUp({ email: 'tok@example.com' });
    await env.signup.idle();
    const link = env.local(linkIn(messagesTo(env.sink, 'tok@example.com')[0], 'confirm/'));
    const token = link.slice(link.lastIndexOf('/') + 1);
    const subscriber = await env.ws.app.stores.audience.findSubscriberByEmail('tok@example.com');
    const id = subscriber?.id ?? 0;
    const list = await listId();
    const expires = new Date(env.clock.now.getTime() + HOUR);
    const variants = {
      tampered: token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'),
      otherSubscriber: confirmUrl({ publicUrl: '', secret: env.ws.app.config.secret }, id + 1, list, expires).slice('/confirm/'.length).replace(/^[0-9a-z]+/, id.toString(36)),
      foreignSecret: confirmUrl({ publicUrl: '', secret: 'another-install-secret-0123456789abcdef' }, id, list, expires).slice('/confirm/'.length),
      unknownSubscriber: confirmUrl({ publicUrl: '', secret: env.ws.app.config.secret }, 999_999, list, expires).slice('/confirm/'.length),
      wrongPurpose: signToken(env.ws.app.config.secret, 'preferences', { subscriberId: id, listId: list }),
      garbage: 'x'.repeat(300),
    };
    const reference = await fetch(`${env.origin}/confirm/${variants.garbage}`, { method: 'POST' });
    const referenceBody = await reference.text();
    expect(reference.status).toBe(404);
    for (const [name, bad] of Object.entries(variants)) {
      for (const method of ['GET', 'POST']) {
        const response = await fetch(`${env.origin}/confirm/${bad}`, { method });
        expect({ name, method, status: response.status }).toEqual({ name, method, status: 404 });
        expect(await response.text()).toBe(referenceBody);
      }
    }
    expect((await membership('tok@example.com'))?.status).toBe('pending');

    env.clock.advance(8 * 24 * HOUR);
    const expired = await fetch(link, { method: 'POST' });
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain('href="/subscribe/demo"');
    expect((await membership('tok@example.com'))?.status).toBe('pending');
  });

  test('resubscribing after an unsubscribe needs a new confirmation; an old link no longer works', async () => {
    await signUp({ email: 'back@example.com' });
    await env.signup.idle();
    const firstLink = env.local(linkIn(messagesTo(env.sink, 'back@example.com')[0], 'confirm/'));
    await fetch(firstLink, { method: 'POST' });
    const id = (await env.ws.app.stores.audience.findSubscriberByEmail('back@example.com'))?.id ?? 0;
    await env.subscribers.unsubscribe(id, await listId(), env.clock.now);
    expect((await fetch(firstLink, { method: 'POST' })).status).toBe(410);
    expect((await membership('back@example.com'))?.status).toBe('unsubscribed');

    env.clock.advance(2 * HOUR);
    await signUp({ email: 'back@example.com' });
    expect((await membership('back@example.com'))?.status).toBe('pending');
    await env.signup.idle();
    const mails = messagesTo(env.sink, 'back@example.com');
    expect(mails.map((m) => m.parsed.subject)).toEqual(['Confirm your subscription to Mailroom Weekly', 'Confirm your subscription to Mailroom Weekly']);
    await fetch(env.local(linkIn(mails[1], 'confirm/')), { method: 'POST' });
    expect((await membership('back@example.com'))?.status).toBe('subscribed');
  });

  test('closed lists and lists without a newsletter answer 404 like unknown ones; invalid input is re-shown escaped', async () => {
    await env.ws.app.stores.audience.createList('staff');
    const demo = await listId();
    await env.subscribers.setSignupOpen(demo, false);
    const unknown = await fetch(`${env.origin}/subscribe/nope`);
    const closed = await fetch(`${env.origin}/subscribe/demo`);
    const withoutNewsletter = await fetch(`${env.origin}/subscribe/staff`);
    const unknownBody = await unknown.text();
    expect([unknown.status, closed.status, withoutNewsletter.status]).toEqual([404, 404, 404]);
    expect(await closed.text()).toBe(unknownBody);
    expect(await withoutNewsletter.text()).toBe(unknownBody);
    expect((await signUp({ email: 'x@example.com' })).status).toBe(404);
    await env.subscribers.setSignupOpen(demo, true);

    const bad = await signUp({ email: 'not-an-address"><script>alert(1)</script>', name: '<img src=x onerror=alert(2)>' });
    expect(bad.status).toBe(400);
    const page = await bad.text();
    expect(page).not.toContain('<script>alert(1)');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(page).toContain('role="alert"');
    const long = await signUp({ email: 'ok@example.com', name: 'n'.repeat(201) });
    expect(long.status).toBe(400);
    const control = await signUp({ email: 'ok@example.com', name: 'a\u0007b' });
    expect(control.status).toBe(400);
    expect(await env.ws.app.stores.audience.findSubscriberByEmail('ok@example.com')).toBeNull();
  });

  test('an address that was erased may sign up again: mailed only after the new confirmation, which lifts the suppression', async () => {
    await env.subscribers.erasePerson('grace@example.com', env.clock.now);
    expect(await env.ws.app.stores.audience.isSuppressed('grace@example.com')).toBe(true);
    await signUp({ email: 'grace@example.com' });
    await env.signup.idle();
    const confirmation = messagesTo(env.sink, 'grace@example.com');
    expect(confirmation).toHaveLength(1);
    const report = await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(report.recipients).toBe(4);
    expect(messagesTo(env.sink, 'grace@example.com')).toHaveLength(1);
    await fetch(env.local(linkIn(confirmation[0], 'confirm/')), { method: 'POST' });
    expect(await env.ws.app.stores.audience.isSuppressed('grace@example.com')).toBe(false);
    const next = await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(next.recipients).toBe(5);
    expect(messagesTo(env.sink, 'grace@example.com')).toHaveLength(2);
  });

  test('sign-ups nobody confirmed are deleted after 30 days; rate-limit rows older than an hour are pruned', async () => {
    await signUp({ email: 'never@example.com' });
    await env.signup.idle();
    expect(await membership('never@example.com')).toMatchObject({ status: 'pending' });
    env.clock.advance(31 * 24 * HOUR);
    await signUp({ email: 'later@example.com' });
    await env.signup.idle();
    expect(await env.ws.app.stores.audience.findSubscriberByEmail('never@example.com')).toBeNull();
    expect(await membership('later@example.com')).toMatchObject({ status: 'pending' });
    const hits = await env.ws.app.stores.db.selectFrom('rate_limit_hits').select(['bucket', 'key']).execute();
    expect(hits.some((h) => h.key === hashEmail('never@example.com'))).toBe(false);
    expect(hits.some((h) => h.key === hashEmail('later@example.com'))).toBe(true);
    expect(env.logs.some((l) => l.includes('deleted 1 unconfirmed sign-up'))).toBe(true);
  });

  test('the confirmation page links to the preferences page; sign-up without an SMTP transport answers 503', async () => {
    await signUp({ email: 'pref@example.com' });
    await env.signup.idle();
    const link = env.local(linkIn(messagesTo(env.sink, 'pref@example.com')[0], 'confirm/'));
    const done = await (await fetch(link, { method: 'POST' })).text();
    const id = (await env.ws.app.stores.audience.findSubscriberByEmail('pref@example.com'))?.id ?? 0;
    const prefs = preferencesUrl({ publicUrl: '', secret: env.ws.app.config.secret }, id, await listId());
    expect(done).toContain(`href="${prefs}"`);

    const { buildHttpServer } = await import('../src/http/server.ts');
    const bare = await buildHttpServer({ stores: env.ws.app.stores, publicUrl: PUBLIC_URL, secret: env.ws.app.config.secret, mediaDir: env.ws.dataDir, inbox: null });
    try {
      const origin = await bare.listen({ port: 0, host: '127.0.0.1' });
      const response = await fetch(`${origin}/subscribe/demo`, formBody({ email: 'nobody@example.com' }));
      expect(response.status).toBe(503);
    } finally {
      await bare.close();
    }
  });
});
