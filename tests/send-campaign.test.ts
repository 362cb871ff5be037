import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { TransportError } from '../src/sending/ports.ts';
import { resumeCampaign, sendNewsletter } from '../src/sending/send-newsletter.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { openWorkspace, type Workspace } from './helpers/workspace.ts';

const DEMO = [
  { email: 'ada@example.com', greeting: 'Hi Ada,', name: 'Ada Lovelace' },
  { email: 'grace@example.com', greeting: 'Hi Grace,', name: 'Grace Hopper' },
  { email: 'linus@example.org', greeting: 'Hi Linus,', name: 'Linus' },
  { email: 'margaret@example.net', greeting: 'Hi Margaret,', name: 'Margaret Hamilton' },
  { email: 'reader@example.com', greeting: 'Hi there,', name: '' },
];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe('a campaign over real SMTP', () => {
  let sink: SmtpSink;
  let ws: Workspace;
  let http: FastifyInstance | null = null;

  beforeEach(async () => {
    sink = await startSmtpSink();
    ws = await openWorkspace({ SMTP_URL: sink.url });
    await loadDemoWorkspace(ws.app);
  });

  afterEach(async () => {
    await http?.close();
    http = null;
    await sink.close();
    await ws.close();
  });

  test('sends one personalized, well-formed message per subscriber, and a one-click unsubscribe drops them from the next campaign', async () => {
    const report = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(report.mode).toBe('campaign');
    expect(report.counts).toMatchObject({ sent: 5, failed: 0, skipped: 0, pending: 0, sending: 0, deferred: 0 });
    expect(sink.messages).toHaveLength(5);

    for (const person of DEMO) {
      expect(sink.countFor(person.email)).toBe(1);
      const message = sink.messages.find((m) => m.envelopeTo.includes(person.email));
      if (!message) throw new Error(`no message for ${person.email}`);
      const { parsed, raw } = message;
      expect(raw).not.toContain('{{');
      expect(parsed.from?.value[0]).toEqual({ name: 'Mailroom Weekly', address: 'news@mailroom.example' });
      expect(parsed.replyTo?.value[0]?.address).toBe('editor@mailroom.example');
      const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
      expect(to?.value[0]).toEqual({ name: person.name, address: person.email });
      expect(parsed.subject).toBe(report.issue.subject);
      expect(parsed.date).toBeInstanceOf(Date);
      expect(parsed.messageId).toMatch(/^<[^@]+@mailroom\.example>$/);
      expect(parsed.headerLines.find((h) => h.key === 'list-id')?.line).toBe('List-ID: "Mailroom Weekly" <weekly.demo.mailroom.example>');
      const listUnsubscribe = String(parsed.headerLines.find((h) => h.key === 'list-unsubscribe')?.line);
      expect(listUnsubscribe).toMatch(/^List-Unsubscribe: <https:\/\/news\.example\.com\/u\/[^>]+>$/);
      expect(parsed.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
      expect(parsed.headers.get('feedback-id')).toMatch(/^\d+:weekly:demo:mailroom$/);
      expect(parsed.text).toContain(person.greeting);
      expect(parsed.html).toContain(person.greeting);
      const unsubscribeUrl = /<([^>]+)>/.exec(listUnsubscribe)?.[1] ?? '';
      expect(parsed.html).toContain(`href="${unsubscribeUrl}"`);
      expect(parsed.text).toContain(unsubscribeUrl);
      expect(parsed.html).toContain('https://news.example.com/issues/weekly/1');
      expect(parsed.text).not.toMatch(/[A-Z]{12,}/);
    }
    const rows = await ws.app.stores.campaigns.listSends(report.campaign?.id ?? 0);
    expect(rows.every((r) => r.status === 'sent' && r.smtpResponse?.startsWith('250') && r.messageId)).toBe(true);

    // The unsubscribe link: GET changes nothing, POST (RFC 8058 one-click, no cookies) unsubscribes at once.
    http = await buildHttpServer({ stores: ws.app.stores, publicUrl: ws.app.config.publicUrl, secret: ws.app.config.secret, mediaDir: ws.dataDir, inbox: null });
    const origin = await http.listen({ port: 0, host: '127.0.0.1' });
    const grace = sink.messages.find((m) => m.envelopeTo.includes('grace@example.com'));
    const link = /<([^>]+)>/.exec(String(grace?.parsed.headerLines.find((h) => h.key === 'list-unsubscribe')?.line))?.[1] ?? '';
    const local = link.replace('https://news.example.com', origin);
    const page = await fetch(local);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('grace@example.com');
    const graceId = (await ws.app.stores.audience.findSubscriberByEmail('grace@example.com'))?.id ?? 0;
    expect(await ws.app.stores.audience.membershipStatus(graceId, report.list.id)).toBe('subscribed');
    const oneClick = await fetch(local, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(200);
    expect(await ws.app.stores.audience.membershipStatus(graceId, report.list.id)).toBe('unsubscribed');
    const tampered = await fetch(local.slice(0, -2) + (local.endsWith('AA') ? 'BB' : 'AA'), { method: 'POST' });
    expect(tampered.status).toBe(404);

    sink.messages.length = 0;
    const next = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(next.issue.number).toBe(2);
    expect(next.counts?.sent).toBe(4);
    expect(sink.messages).toHaveLength(4);
    expect(sink.countFor('grace@example.com')).toBe(0);
  });

  test('4xx replies are retried with backoff until accepted; a 5.1.1 is tried once, recorded and suppressed', async () => {
    sink.setRule((address, attempt) => {
      if (address === 'ada@example.com' && attempt <= 2) return '451 4.3.0 Temporary local problem, try later';
      if (address === 'linus@example.org') return '550 5.1.1 <linus@example.org>: Recipient address rejected: User unknown';
      if (address === 'margaret@example.net') return '554 5.7.1 Rejected by policy';
      return undefined;
    });
    const report = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    expect(report.counts).toMatchObject({ sent: 3, failed: 2, deferred: 0, pending: 0 });
    expect(sink.countFor('ada@example.com')).toBe(1);
    const sends = await ws.app.stores.campaigns.listSends(report.campaign?.id ?? 0);
    const ada = sends.find((s) => s.email === 'ada@example.com');
    expect(ada).toMatchObject({ status: 'sent', attempts: 3 });
    const linus = sends.find((s) => s.email === 'linus@example.org');
    expect(linus).toMatchObject({ status: 'failed', attempts: 1 });
    expect(linus?.smtpResponse).toContain('5.1.1');
    expect((await ws.app.stores.audience.findSubscriberByEmail('linus@example.org'))?.status).toBe('bounced');
    expect(await ws.app.stores.audience.isSuppressed('linus@example.org')).toBe(true);
    // A policy block fails the row but is no reason to suppress the address.
    expect(sends.find((s) => s.email === 'margaret@example.net')).toMatchObject({ status: 'failed' });
    expect(await ws.app.stores.audience.isSuppressed('margaret@example.net')).toBe(false);

    sink.setRule(null);
    sink.messages.length = 0;
    const again = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly', issue: 1 });
    // Issue 1 again: only margaret, whose message failed; the three who got it are left out, linus is suppressed.
    expect(again).toMatchObject({ recipients: 1, alreadyReceived: 3 });
    expect(sink.messages.map((m) => m.envelopeTo.join())).toEqual(['margaret@example.net']);
    expect(sink.countFor('linus@example.org')).toBe(0);
  });

  test('a 4xx that never clears becomes a failure after the maximum attempts', async () => {
    sink.setRule((address) => (address === 'ada@example.com' ? '452 4.2.2 Mailbox full' : undefined));
    const report = await sendNewsletter({ ...ws.app.sendDeps(), engineOptions: { maxAttempts: 3, retryBaseMs: 20 } }, { newsletter: 'weekly' });
    expect(report.counts).toMatchObject({ sent: 4, failed: 1 });
    const ada = (await ws.app.stores.campaigns.listSends(report.campaign?.id ?? 0)).find((s) => s.email === 'ada@example.com');
    expect(ada).toMatchObject({ status: 'failed', attempts: 3 });
    expect(ada?.error).toContain('gave up after 3 attempts');
  });

  test('a server that is down pauses the campaign without failing anyone, and resume finishes it', async () => {
    const port = await freePort();
    const down = await openWorkspace({ SMTP_URL: `smtp://127.0.0.1:${port}` });
    try {
      await loadDemoWorkspace(down.app);
      // Before a campaign exists: a clear error and nothing written.
      await expect(sendNewsletter(down.app.sendDeps(), { newsletter: 'weekly' })).rejects.toBeInstanceOf(TransportError);
      expect(await down.app.stores.campaigns.listCampaigns()).toHaveLength(0);

      // A campaign whose server goes away: paused, nobody failed.
      const newsletter = await down.app.stores.newsletters.findNewsletter('weekly');
      if (!newsletter) throw new Error('no newsletter');
      const { issue } = await buildIssue(down.app.stores, newsletter, { publicUrl: down.app.config.publicUrl });
      const { campaign } = await down.app.stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: newsletter.listId });
      const paused = await resumeCampaign(down.app.sendDeps(), campaign.id);
      expect(paused.status).toBe('paused');
      expect(paused.counts).toMatchObject({ pending: 5, failed: 0, sent: 0 });
      expect(paused.error).toContain('cannot be reached');
      expect((await down.app.stores.campaigns.getCampaign(campaign.id))?.status).toBe('paused');

      const back = await startSmtpSink({ port });
      try {
        const done = await resumeCampaign(down.app.sendDeps(), campaign.id);
        expect(done.status).toBe('sent');
        expect(done.counts).toMatchObject({ sent: 5, failed: 0 });
        expect(back.messages).toHaveLength(5);
      } finally {
        await back.close();
      }
    } finally {
      await down.close();
    }
  });

  test('rows left in flight by a crash are sent again on resume and reported', async () => {
    const newsletter = await ws.app.stores.newsletters.findNewsletter('weekly');
    if (!newsletter) throw new Error('no newsletter');
    const { issue } = await buildIssue(ws.app.stores, newsletter, { publicUrl: ws.app.config.publicUrl });
    const { campaign } = await ws.app.stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: newsletter.listId });
    // As if a process had claimed two rows and died before the server answered.
    const due = await ws.app.stores.campaigns.listDueRecipients(campaign.id, 2, new Date().toISOString());
    await ws.app.stores.campaigns.claimForSending(campaign.id, due.map((d) => d.subscriberId), new Date().toISOString());
    const result = await resumeCampaign(ws.app.sendDeps(), campaign.id);
    expect(result.status).toBe('sent');
    expect(result.possiblyDuplicated).toEqual(['ada@example.com', 'grace@example.com']);
    expect(sink.messages).toHaveLength(5);
  });

  test('an unsubscribe while a campaign runs stops mail to that person from then on', async () => {
    const newsletter = await ws.app.stores.newsletters.findNewsletter('weekly');
    if (!newsletter) throw new Error('no newsletter');
    const { issue } = await buildIssue(ws.app.stores, newsletter, { publicUrl: ws.app.config.publicUrl });
    const { campaign, recipients } = await ws.app.stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: newsletter.listId });
    expect(recipients).toBe(5);
    const margaret = await ws.app.stores.audience.findSubscriberByEmail('margaret@example.net');
    await ws.app.stores.audience.unsubscribeFromList(margaret?.id ?? 0, newsletter.listId);
    const result = await resumeCampaign(ws.app.sendDeps(), campaign.id);
    expect(result.counts).toMatchObject({ sent: 4, skipped: 1 });
    expect(sink.countFor('margaret@example.net')).toBe(0);
    const skipped = (await ws.app.stores.campaigns.listSends(campaign.id, { status: 'skipped' }))[0];
    expect(skipped?.error).toBe('unsubscribed from the list');
  });

  test('a name with CR/LF cannot add a header', async () => {
    const list = await ws.app.stores.audience.findListByName('demo');
    await ws.app.stores.audience.addSubscriber(list?.id ?? 0, { email: 'eve@example.com', name: 'Eve\r\nBcc: victim@example.com', firstName: 'Eve\r\nX-Evil: 1', lastName: '', attributes: {} }, 'test');
    await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
    const eve = sink.messages.find((m) => m.envelopeTo.includes('eve@example.com'));
    expect(eve).toBeDefined();
    expect(eve?.parsed.bcc).toBeUndefined();
    expect(eve?.parsed.headers.has('x-evil')).toBe(false);
    expect(eve?.envelopeTo).toEqual(['eve@example.com']);
    expect(sink.countFor('victim@example.com')).toBe(0);
  });

  test('a placeholder outside the allow-list stops the build (nothing stored) and the send before anything goes out, naming the variable', async () => {
    const newsletter = await ws.app.stores.newsletters.findNewsletter('weekly');
    if (!newsletter) throw new Error('no newsletter');
    await expect(buildIssue(ws.app.stores, newsletter, { publicUrl: ws.app.config.publicUrl, subject: 'Hello {{password}}' })).rejects.toThrow(/\{\{password\}\}/);
    expect(await ws.app.stores.newsletters.listIssues(newsletter.id)).toHaveLength(0);
    // An issue stored by an older version, unchecked.
    const good = await buildIssue(ws.app.stores, newsletter, { publicUrl: ws.app.config.publicUrl });
    await ws.app.stores.db.updateTable('issues').set({ subject: 'Hello {{password}}' }).where('id', '=', good.issue.id).execute();
    await expect(sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' })).rejects.toThrow(/\{\{password\}\}/);
    expect(sink.messages).toHaveLength(0);
    expect(await ws.app.stores.campaigns.listCampaigns()).toHaveLength(0);
  });

  test('an issue over Gmail\'s clipping size is refused unless forced; dry runs and test sends', async () => {
    const long = Array.from({ length: 1200 }, (_, i) => `Paragraph ${i} of a very long article that nobody should send in one email without thinking twice.`).join('\n\n');
    const { article } = await ws.app.stores.content.upsertArticle({
      slug: 'very-long',
      title: 'A very long article',
      summary: 'Too long for one email.',
      body: long,
      canonicalUrl: '',
      author: 'Test',
      publishedAt: '2026-11-25T00:00:00.000Z',
      leadImage: null,
      tags: [],
    });
    const weekly = await ws.app.stores.newsletters.findNewsletter('weekly');
    if (!weekly) throw new Error('no newsletter');
    // The article template carries the whole body, so this issue is far over the limit.
    const longform = await ws.app.stores.newsletters.createNewsletter({ ...weekly, slug: 'longform', template: 'article' });
    await buildIssue(ws.app.stores, longform, { publicUrl: ws.app.config.publicUrl, articles: [article.slug] });
    await expect(sendNewsletter(ws.app.sendDeps(), { newsletter: 'longform', dryRun: true })).rejects.toThrow(/Gmail clips/);

    const dry = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'longform', dryRun: true, force: true });
    expect(dry).toMatchObject({ mode: 'dry-run', recipients: 5 });
    expect(dry.htmlBytes).toBeGreaterThan(102 * 1024);
    expect(sink.messages).toHaveLength(0);

    const test1 = await sendNewsletter(ws.app.sendDeps(), { newsletter: 'longform', test: 'editor@example.com', force: true });
    expect(test1.mode).toBe('test');
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]?.parsed.subject).toMatch(/^\[TEST\] /);
    expect(await ws.app.stores.campaigns.listCampaigns()).toHaveLength(0);

    // An issue that send builds itself and then refuses as too big is not kept (no orphan issue, no gap in the numbers).
    const fresh = await ws.app.stores.newsletters.createNewsletter({ ...weekly, slug: 'longform-fresh', template: 'article', maxArticles: 1 });
    await ws.app.stores.content.assignArticles(fresh.id, [article.id], 'assign');
    await expect(sendNewsletter(ws.app.sendDeps(), { newsletter: 'longform-fresh' })).rejects.toThrow(/Gmail clips/);
    expect(await ws.app.stores.newsletters.listIssues(fresh.id)).toHaveLength(0);
  });
});

describe('DKIM', () => {
  test('with DKIM_* settings every message is signed, List-Unsubscribe and List-Unsubscribe-Post included', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { dkimVerify } = await import('mailauth/lib/dkim/verify.js');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicDer = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    // The DNS record a receiver would look up, served to the verifier (mailauth) directly.
    const resolver = async (name: string, type: string) => {
      if (type === 'TXT' && name === 'mr1._domainkey.mailroom.example') return [[`v=DKIM1; k=rsa; p=${publicDer}`]];
      throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
    };
    const sink = await startSmtpSink();
    const ws = await openWorkspace({ SMTP_URL: sink.url, DKIM_DOMAIN: 'mailroom.example', DKIM_SELECTOR: 'mr1', DKIM_PRIVATE_KEY: pem.replace(/\n/g, '\\n') });
    try {
      await loadDemoWorkspace(ws.app);
      await sendNewsletter(ws.app.sendDeps(), { newsletter: 'weekly' });
      expect(sink.messages).toHaveLength(5);
      for (const m of sink.messages) {
        const signature = m.parsed.headerLines.find((h) => h.key === 'dkim-signature')?.line.replace(/\s+/g, '') ?? '';
        expect(signature).toContain('d=mailroom.example');
        expect(signature).toContain('s=mr1');
        const signed = /;h=([^;]+)/.exec(signature)?.[1]?.toLowerCase().split(':') ?? [];
        expect(signed).toEqual(expect.arrayContaining(['from', 'subject', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id']));
        // The signature verifies over the bytes as they arrived: nothing changed them after signing.
        const verdict = await dkimVerify(Buffer.from(m.raw, 'utf8'), { resolver });
        expect(verdict.results.map((r: { status: { result: string } }) => r.status.result)).toEqual(['pass']);
      }
      // …and a byte changed in transit would fail it.
      const tampered = (sink.messages[0]?.raw ?? '').replace(/unsubscribe/, 'unsubscribf');
      const broken = await dkimVerify(Buffer.from(tampered, 'utf8'), { resolver });
      expect(broken.results.map((r: { status: { result: string } }) => r.status.result)).toEqual(['fail']);
    } finally {
      await sink.close();
      await ws.close();
    }
  });
});
