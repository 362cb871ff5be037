/**
 * The preferences page and the unsubscribe link from real campaign emails, over the real server: GET changes nothing,
 * POSTs (no cookies) change one list, every list, the name, or resubscribe; changes apply to a campaign already running.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { preferencesUrl } from '../src/core/links.ts';
import { signToken } from '../src/core/tokens.ts';
import { resumeCampaign, sendNewsletter } from '../src/sending/send-newsletter.ts';
import { formBody, linkIn, mainOf, messagesTo, startSubscriberEnv, type SubscriberEnv } from './helpers/subscriber-server.ts';

let env: SubscriberEnv;

async function ids(email: string) {
  const subscriber = await env.ws.app.stores.audience.findSubscriberByEmail(email);
  const demo = await env.ws.app.stores.audience.findListByName('demo');
  return { subscriberId: subscriber?.id ?? 0, demo: demo?.id ?? 0 };
}

async function statuses(email: string): Promise<Record<string, string>> {
  const { subscriberId } = await ids(email);
  return Object.fromEntries((await env.ws.app.stores.audience.membershipsOf(subscriberId)).map((m) => [m.name, m.status]));
}

/** Ada is on two lists: "demo" (the newsletter's) and "extra". */
async function sendWeekly(): Promise<string> {
  const extra = await env.ws.app.stores.audience.createList('extra', 'Occasional <announcements> & news');
  await env.ws.app.stores.audience.addSubscriber(extra.id, { email: 'ada@example.com', name: '', firstName: '', lastName: '', attributes: {} }, 'cli');
  await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
  return env.local(linkIn(messagesTo(env.sink, 'ada@example.com')[0], 'p/'));
}

describe('preferences and unsubscribe', () => {
  beforeEach(async () => {
    env = await startSubscriberEnv();
  });
  afterEach(async () => {
    await env.close();
  });

  test('the page from a sent email lists every list with its status and changes nothing on GET', async () => {
    const link = await sendWeekly();
    const before = await statuses('ada@example.com');
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-robots-tag')).toContain('noindex');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self'");
    const body = mainOf(await page.text());
    expect(body).toContain('ada@example.com');
    expect(body).toContain('Ada Lovelace');
    expect(body).toMatch(/<strong>Mailroom Weekly<\/strong>[\s\S]*?Subscribed/);
    expect(body).toMatch(/<strong>extra<\/strong><div class="muted">Occasional &lt;announcements&gt; &amp; news<\/div>/);
    // Several GETs, with any query string, change nothing.
    await fetch(`${link}?done=unsubscribed-all`);
    await fetch(`${link}?action=unsubscribe-all`);
    expect(await statuses('ada@example.com')).toEqual(before);
    expect(before).toEqual({ demo: 'subscribed', extra: 'subscribed' });
  });

  test('unsubscribe from one list, resubscribe, unsubscribe from all: each a cookie-less POST that redirects back', async () => {
    const link = await sendWeekly();
    const { demo } = await ids('ada@example.com');
    const extra = (await env.ws.app.stores.audience.findListByName('extra'))?.id ?? 0;

    const one = await fetch(link, { ...formBody({ action: 'unsubscribe', list: String(extra) }), redirect: 'manual' });
    expect(one.status).toBe(303);
    expect(one.headers.get('location')).toBe(`${new URL(link).pathname}?done=unsubscribed&list=${extra}`);
    expect(await statuses('ada@example.com')).toEqual({ demo: 'subscribed', extra: 'unsubscribed' });
    const shown = mainOf(await (await fetch(new URL(one.headers.get('location') ?? '', link))).text());
    expect(shown).toContain('You are unsubscribed from extra.');
    expect(shown).toContain('Subscribe again');

    const back = await fetch(link, { ...formBody({ action: 'resubscribe', list: String(extra) }), redirect: 'manual' });
    expect(back.status).toBe(303);
    expect(await statuses('ada@example.com')).toEqual({ demo: 'subscribed', extra: 'subscribed' });

    const all = await fetch(link, { ...formBody({ action: 'unsubscribe-all' }), redirect: 'manual' });
    expect(all.status).toBe(303);
    expect(await statuses('ada@example.com')).toEqual({ demo: 'unsubscribed', extra: 'unsubscribed' });
    expect((await env.ws.app.stores.audience.findSubscriberByEmail('ada@example.com'))?.status).toBe('unsubscribed');
    const row = await env.ws.app.stores.db.selectFrom('list_memberships').select('unsubscribed_at').where('list_id', '=', demo).where('subscriber_id', '=', (await ids('ada@example.com')).subscriberId).executeTakeFirst();
    expect(row?.unsubscribed_at).toBe(env.clock.now.toISOString());

    sinkReset();
    const next = await sendNewsletter(env.ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(next.recipients).toBe(4);
    expect(messagesTo(env.sink, 'ada@example.com')).toHaveLength(0);

    // Resubscribing to one list makes the person active again, on that list only.
    await fetch(link, { ...formBody({ action: 'resubscribe', list: String(demo) }), redirect: 'manual' });
    expect(await statuses('ada@example.com')).toEqual({ demo: 'subscribed', extra: 'unsubscribed' });
    expect((await env.ws.app.stores.audience.findSubscriberByEmail('ada@example.com'))?.status).toBe('active');
    const membership = await env.ws.app.stores.db.selectFrom('list_memberships').selectAll().where('list_id', '=', demo).where('subscriber_id', '=', (await ids('ada@example.com')).subscriberId).executeTakeFirst();
    expect(membership).toMatchObject({ consent_source: 'preferences', confirmed_at: env.clock.now.toISOString() });
  });

  test('the name is editable and escaped everywhere it shows; bad names and foreign lists are refused', async () => {
    const link = await sendWeekly();
    const saved = await fetch(link, { ...formBody({ action: 'name', name: '  <img src=x onerror=alert(1)>  Smith ' }), redirect: 'manual' });
    expect(saved.status).toBe(303);
    expect(await env.ws.app.stores.audience.findSubscriberByEmail('ada@example.com')).toMatchObject({ name: '<img src=x onerror=alert(1)> Smith', firstName: '<img', lastName: 'src=x onerror=alert(1)> Smith' });
    const page = await (await fetch(link)).text();
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('value="&lt;img src=x onerror=alert(1)&gt; Smith"');

    expect((await fetch(link, formBody({ action: 'name', name: 'x'.repeat(201) }))).status).toBe(400);
    expect((await fetch(link, formBody({ action: 'name', name: 'bell\u0007' }))).status).toBe(400);
    // Line breaks are folded into spaces, not kept: a name goes into headers and greetings.
    expect((await fetch(link, { ...formBody({ action: 'name', name: 'Ada\r\nLovelace' }), redirect: 'manual' })).status).toBe(303);
    expect((await env.ws.app.stores.audience.findSubscriberByEmail('ada@example.com'))?.name).toBe('Ada Lovelace');
    const other = await env.ws.app.stores.audience.createList('private');
    const foreign = await fetch(link, formBody({ action: 'unsubscribe', list: String(other.id) }));
    expect(foreign.status).toBe(400);
    expect((await fetch(link, formBody({ action: 'resubscribe', list: String(other.id) }))).status).toBe(400);
    expect((await fetch(link, formBody({ action: 'drop-tables' }))).status).toBe(400);
    expect((await fetch(link, formBody({ action: 'unsubscribe', list: 'x1' }))).status).toBe(400);
    expect((await env.ws.app.stores.audience.membershipsOf((await ids('ada@example.com')).subscriberId)).map((m) => m.name)).toEqual(['demo', 'extra']);
  });

  test('a form that names no list (the older page) acts on the list of the link', async () => {
    const link = await sendWeekly();
    expect((await fetch(link, { ...formBody({ action: 'unsubscribe' }), redirect: 'manual' })).status).toBe(303);
    expect(await statuses('ada@example.com')).toEqual({ demo: 'unsubscribed', extra: 'subscribed' });
    expect((await fetch(link, { ...formBody({ action: 'resubscribe' }), redirect: 'manual' })).status).toBe(303);
    expect(await statuses('ada@example.com')).toEqual({ demo: 'subscribed', extra: 'subscribed' });
  });

  test('bounced subscribers can leave but not resubscribe from the page', async () => {
    const link = await sendWeekly();
    const extra = (await env.ws.app.stores.audience.findListByName('extra'))?.id ?? 0;
    await fetch(link, formBody({ action: 'unsubscribe', list: String(extra) }));
    await env.ws.app.stores.audience.suppressAddress('ada@example.com', 'hard-bounce', '550 5.1.1');
    const page = mainOf(await (await fetch(link)).text());
    expect(page).toContain('bounced or was reported as spam');
    expect(page).not.toContain('Subscribe again');
    const refused = await fetch(link, formBody({ action: 'resubscribe', list: String(extra) }));
    expect(refused.status).toBe(409);
    expect((await statuses('ada@example.com')).extra).toBe('unsubscribed');
  });

  test('the unsubscribe page names the newsletter, not the internal list; a list that feeds two names both', async () => {
    await sendWeekly();
    const message = messagesTo(env.sink, 'ada@example.com')[0];
    const link = env.local(linkIn(message, 'u/'));
    const page = mainOf(await (await fetch(link)).text());
    expect(page).toContain('<h1>Unsubscribe from Mailroom Weekly?</h1>');
    expect(page).toContain('Stop sending <strong>Mailroom Weekly</strong> to <strong>ada@example.com</strong>.');
    expect(page).not.toMatch(/\bdemo\b/);
    const done = mainOf(await (await fetch(link, { method: 'POST' })).text());
    expect(done).toContain('<strong>ada@example.com</strong> gets no more <strong>Mailroom Weekly</strong>, starting now.');
    expect(done).not.toMatch(/\bdemo\b/);
    const again = mainOf(await (await fetch(link)).text());
    expect(again).toContain('<strong>ada@example.com</strong> gets no more <strong>Mailroom Weekly</strong>.');

    // A second newsletter on the same list: both are named, since leaving the list stops both.
    const weekly = await env.ws.app.stores.newsletters.findNewsletter('weekly');
    if (!weekly) throw new Error('no weekly');
    await env.ws.app.stores.newsletters.createNewsletter({ ...weekly, slug: 'digest', name: 'The Friday Digest' });
    const both = mainOf(await (await fetch(env.local(linkIn(messagesTo(env.sink, 'grace@example.com')[0], 'u/')))).text());
    expect(both).toContain('Stop sending <strong>Mailroom Weekly and The Friday Digest</strong> to <strong>grace@example.com</strong>.');
  });

  test('the preferences page names each list by the newsletters it feeds, and a list that feeds none by its name', async () => {
    const link = await sendWeekly();
    const body = mainOf(await (await fetch(link)).text());
    expect(body).toMatch(/<strong>Mailroom Weekly<\/strong>[\s\S]*?Subscribed/);
    expect(body).not.toContain('<strong>demo</strong>');
    expect(body).toContain('<strong>extra</strong>');
    const form = await fetch(link, { ...formBody({ action: 'unsubscribe', list: String((await ids('ada@example.com')).demo) }), redirect: 'manual' });
    const after = mainOf(await (await fetch(`${env.origin}${String(form.headers.get('location'))}`)).text());
    expect(after).toContain('You are unsubscribed from Mailroom Weekly.');
  });

  test('the one-click unsubscribe (RFC 8058) still works without cookies and links to the preferences page', async () => {
    await sendWeekly();
    const message = messagesTo(env.sink, 'grace@example.com')[0];
    const header = String(message?.parsed.headerLines.find((h) => h.key === 'list-unsubscribe')?.line);
    const link = env.local(/<([^>]+)>/.exec(header)?.[1] ?? '');
    const page = await fetch(link);
    expect(page.status).toBe(200);
    const { subscriberId, demo } = await ids('grace@example.com');
    expect(await page.text()).toContain(`href="${preferencesUrl({ publicUrl: '', secret: env.ws.app.config.secret }, subscriberId, demo)}"`);
    expect((await statuses('grace@example.com')).demo).toBe('subscribed');
    const oneClick = await fetch(link, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--x--\r\n' });
    expect(oneClick.status).toBe(200);
    expect((await statuses('grace@example.com')).demo).toBe('unsubscribed');
  });

  test('one-click unsubscribe records every case and names the address and list: subscribed, clicked again, pending, a list they were never on, unknown ids', async () => {
    await sendWeekly();
    const { subscriberId, demo } = await ids('ada@example.com');
    const extra = (await env.ws.app.stores.audience.findListByName('extra'))?.id ?? 0;
    const other = await env.ws.app.stores.audience.createList('other', '');
    const secret = env.ws.app.config.secret;
    const oneClick = (s: number, l: number) =>
      fetch(env.local(`https://news.example.com/u/${signToken(secret, 'unsubscribe', { subscriberId: s, listId: l })}`), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    const page = async (s: number, l: number) => {
      const response = await oneClick(s, l);
      return { status: response.status, text: mainOf(await response.text()) };
    };
    const first = await page(subscriberId, demo);
    expect(first.status).toBe(200);
    expect(first.text).toContain('<strong>ada@example.com</strong> gets no more <strong>Mailroom Weekly</strong>');
    expect(first.text).toContain(`href="${preferencesUrl({ publicUrl: '', secret }, subscriberId, demo)}"`);
    const unsubscribedAt = (await env.ws.app.stores.db.selectFrom('list_memberships').select('unsubscribed_at').where('subscriber_id', '=', subscriberId).where('list_id', '=', demo).executeTakeFirst())?.unsubscribed_at;
    expect(unsubscribedAt).toBeTruthy();
    // A mail provider retrying: the same answer, and the first time is kept.
    const again = await page(subscriberId, demo);
    expect(again.status).toBe(200);
    expect(again.text).toContain('<strong>ada@example.com</strong> gets no more <strong>Mailroom Weekly</strong>');
    expect((await env.ws.app.stores.db.selectFrom('list_memberships').select('unsubscribed_at').where('subscriber_id', '=', subscriberId).where('list_id', '=', demo).executeTakeFirst())?.unsubscribed_at).toBe(unsubscribedAt);
    // A pending membership, and a list with no newsletter (named by its own name).
    await env.ws.app.stores.db.updateTable('list_memberships').set({ status: 'pending' }).where('subscriber_id', '=', subscriberId).where('list_id', '=', extra).execute();
    const pending = await page(subscriberId, extra);
    expect(pending.status).toBe(200);
    expect(pending.text).toContain('gets no more <strong>extra</strong>');
    // Never on the list: recorded as unsubscribed all the same, so a later import does not mail them.
    expect((await page(subscriberId, other.id)).status).toBe(200);
    expect(await statuses('ada@example.com')).toEqual({ demo: 'unsubscribed', extra: 'unsubscribed', other: 'unsubscribed' });
    // Ids that do not exist (a signed token for a deleted subscriber or list): the one invalid-link answer, nothing written.
    expect((await oneClick(999_999, demo)).status).toBe(404);
    expect((await oneClick(subscriberId, 999_999)).status).toBe(404);
  });

  test('an unsubscribe from the preferences page takes effect for a campaign already running', async () => {
    await sendWeekly();
    sinkReset();
    const { subscriberId, demo } = await ids('margaret@example.net');
    const newsletter = await env.ws.app.stores.newsletters.findNewsletter('weekly');
    const issue = (await env.ws.app.stores.newsletters.listIssues(newsletter?.id ?? 0))[0];
    // A campaign whose recipients are already fixed, Margaret among them (the same issue again, on purpose: resend).
    const { campaign, recipients } = await env.ws.app.stores.campaigns.createCampaign({ issueId: issue?.id ?? 0, newsletterId: newsletter?.id ?? 0, listId: demo, resend: true });
    expect(recipients).toBe(5);
    const link = env.local(`https://news.example.com/p/${signToken(env.ws.app.config.secret, 'preferences', { subscriberId, listId: demo })}`);
    expect((await fetch(link, { ...formBody({ action: 'unsubscribe-all' }), redirect: 'manual' })).status).toBe(303);
    const result = await resumeCampaign(env.ws.app.sendDeps(), campaign.id);
    expect(result.counts.sent).toBe(4);
    expect(result.counts.skipped).toBe(1);
    expect(messagesTo(env.sink, 'margaret@example.net')).toHaveLength(0);
    const skipped = (await env.ws.app.stores.campaigns.listSends(campaign.id, { status: 'skipped' }))[0];
    expect(skipped?.email).toBe('margaret@example.net');
  });

  test('tampered, foreign and wrong-purpose preference tokens get the one 404, for GET and POST alike', async () => {
    const link = await sendWeekly();
    const token = link.slice(link.lastIndexOf('/') + 1);
    const { subscriberId, demo } = await ids('ada@example.com');
    const bad = [
      token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'),
      signToken('a-different-secret-for-another-install-xx', 'preferences', { subscriberId, listId: demo }),
      signToken(env.ws.app.config.secret, 'unsubscribe', { subscriberId, listId: demo }),
      signToken(env.ws.app.config.secret, 'preferences', { subscriberId: 999_999, listId: demo }),
      'nope',
    ];
    const bodies = new Set<string>();
    for (const t of bad) {
      for (const init of [{}, formBody({ action: 'unsubscribe-all' })]) {
        const response = await fetch(`${env.origin}/p/${t}`, init);
        expect(response.status).toBe(404);
        bodies.add(await response.text());
      }
    }
    expect(bodies.size).toBe(1);
    expect(await statuses('ada@example.com')).toEqual({ demo: 'subscribed', extra: 'subscribed' });
  });
});

function sinkReset(): void {
  env.sink.messages.length = 0;
}
