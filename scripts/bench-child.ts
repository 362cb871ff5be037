/**
 * One measured part of `npm run bench`, run in its own process so its CPU time and peak RSS are its own.
 * `npx tsx scripts/bench-child.ts MODE`; the settings come from the environment (DATA_DIR, DATABASE_URL, SMTP_URL…)
 * and BENCH_* variables; the last line printed is `BENCH_RESULT {json}`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createElement } from 'react';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { issueWebUrl, preferencesUrl, unsubscribeUrl } from '../src/core/links.ts';
import { loadDemoWorkspace } from '../src/demo.ts';
import { buildIssue } from '../src/issues/build-issue.ts';
import { makeMessageId } from '../src/mime/compose.ts';
import { buildRecipientContext } from '../src/personalization/personalize.ts';
import { templateSource } from '../src/personalization/template-source.ts';
import { RECIPIENT_VARIABLES } from '../src/personalization/variables.ts';
import { prepareMessageBuilder } from '../src/sending/message-builder.ts';
import type { DueRecipient } from '../src/sending/ports.ts';
import { compileStoredIssue, makeFrame, sendNewsletter } from '../src/sending/send-newsletter.ts';
import type { ImportRowResult } from '../src/store/store-types.ts';
import type { Stores } from '../src/store/open-store.ts';

const mode = process.argv[2] ?? '';
const env = process.env as Record<string, string>;
const BENCH_SLUG = 'bench';
const BENCH_LIST = 'bench';

function intEnv(name: string, fallback: number): number {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

function result(value: Record<string, unknown>): void {
  console.log(`BENCH_RESULT ${JSON.stringify(value)}`);
}

/** CPU (user + system, all threads) and wall time of `fn`, and this process's peak RSS so far. */
async function measure<T>(fn: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number; peakRssMb: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

async function openApp(): Promise<App> {
  return createApp(loadConfig(env, env['BENCH_DIR'] ?? process.cwd()));
}

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'José', 'Zoë', 'Søren', 'Wei', 'Priya', 'Björn'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'García', 'Müller', 'Tanaka', 'Patel', "O'Brien", 'van der Berg'];

async function* generatedRows(n: number, prefix: string): AsyncGenerator<ImportRowResult> {
  for (let i = 1; i <= n; i += 1) {
    const firstName = FIRST[i % FIRST.length] ?? '';
    const lastName = LAST[(i * 7) % LAST.length] ?? '';
    yield { line: i + 1, ok: true, row: { email: `${prefix}${i}@bench.example`, name: `${firstName} ${lastName}`, firstName, lastName, attributes: { company: 'Acme' } } };
  }
}

/** The demo workspace, a list of N generated subscribers, a digest newsletter on it and its first issue; writes one real message for smtp-source. */
async function setup(): Promise<void> {
  const recipients = intEnv('BENCH_RECIPIENTS', 5000);
  const app = await openApp();
  try {
    await loadDemoWorkspace(app);
    const demo = await app.stores.newsletters.findNewsletter('weekly');
    if (!demo) throw new Error('demo newsletter missing');
    const list = await app.stores.audience.createList(BENCH_LIST);
    const report = await app.stores.audience.importSubscribers(list.id, generatedRows(recipients, 'reader'), { source: 'bench' });
    if (report.newPeople !== recipients) throw new Error(`setup: ${report.newPeople} of ${recipients} subscribers added`);
    // The demo digest, on the bench list: same sender, template, logo and articles (assigned to it) as the demo newsletter.
    const newsletter = await app.stores.newsletters.createNewsletter({ ...demo, slug: BENCH_SLUG, listId: list.id });
    await app.stores.content.assignArticles(newsletter.id, (await app.stores.content.listArticles({ newsletterId: demo.id })).map((a) => a.id), 'assign');
    const { issue } = await buildIssue(app.stores, newsletter, { publicUrl: app.config.publicUrl });
    const message = await sampleMessage(app, issue.id);
    writeFileSync(env['BENCH_MESSAGE_FILE'] ?? join(app.config.dataDir, 'message.eml'), message);
    result({ recipients, issue: issue.number, messageBytes: message.length, htmlBytes: Buffer.byteLength(issue.html), textBytes: Buffer.byteLength(issue.text) });
  } finally {
    await app.close();
  }
}

async function benchRun(store: Stores, app: App) {
  const newsletter = await store.newsletters.findNewsletter(BENCH_SLUG);
  if (!newsletter) throw new Error('bench newsletter missing (run setup first)');
  const list = await store.audience.getList(newsletter.listId);
  const issue = await store.newsletters.findIssue(newsletter.id, 1);
  if (!list || !issue) throw new Error('bench list or issue missing');
  const settings = { publicUrl: app.config.publicUrl, secret: app.config.secret };
  return {
    newsletter,
    list,
    issue,
    run: {
      campaignId: 0,
      compiled: compileStoredIssue(issue),
      frame: makeFrame(newsletter, list, 0, app.config.feedbackIdSender),
      links: {
        unsubscribeUrl: (id: number) => unsubscribeUrl(settings, id, list.id),
        preferencesUrl: (id: number) => preferencesUrl(settings, id, list.id),
        webVersionUrl: issueWebUrl(settings, newsletter.slug, issue.number),
      },
    },
  };
}

async function dueRecipients(store: Stores, listId: number, limit: number): Promise<DueRecipient[]> {
  const out: DueRecipient[] = [];
  let after = 0;
  while (out.length < limit) {
    const page = await store.audience.listRecipients(listId, after, Math.min(1000, limit - out.length));
    if (page.length === 0) break;
    for (const s of page) out.push({ subscriberId: s.id, email: s.email, name: s.name, firstName: s.firstName, lastName: s.lastName, attributes: s.attributes, attempts: 0, firstAttemptAt: null, skipReason: null });
    after = page[page.length - 1]?.id ?? after;
  }
  return out;
}

/** One complete message exactly as the engine builds it, as bytes (what smtp-source sends in the "limit" run). */
async function sampleMessage(app: App, issueId: number): Promise<Buffer> {
  void issueId;
  const { run, list } = await benchRun(app.stores, app);
  const [recipient] = await dueRecipients(app.stores, list.id, 1);
  if (!recipient) throw new Error('no recipient');
  const builder = await prepareMessageBuilder(run);
  return await builder.toBuffer(builder.build(recipient, new Date()));
}

/** personalization + MIME only, on one thread: messages built per second per core. */
async function build(): Promise<void> {
  const n = intEnv('BENCH_RECIPIENTS', 5000);
  const app = await openApp();
  try {
    const { run, list } = await benchRun(app.stores, app);
    const recipients = await dueRecipients(app.stores, list.id, n);
    const builder = await prepareMessageBuilder(run);
    // Warm up the JIT on a few messages first, as a long campaign would be.
    for (const r of recipients.slice(0, 200)) await builder.toBuffer(builder.build(r, new Date()));
    let bytes = 0;
    const m = await measure(async () => {
      for (const r of recipients) bytes += (await builder.toBuffer(builder.build(r, new Date()))).length;
    });
    result({ messages: recipients.length, wallMs: m.wallMs, cpuMs: m.cpuMs, peakRssMb: m.peakRssMb, avgBytes: Math.round(bytes / recipients.length) });
  } finally {
    await app.close();
  }
}

/** A real campaign of the bench list from the database to the sink, through sendNewsletter (what `mailroom send` runs). */
async function mailroom(): Promise<void> {
  const app = await openApp();
  try {
    const lines: string[] = [];
    const m = await measure(() => sendNewsletter(app.sendDeps({ log: (line) => lines.push(line) }), { newsletter: BENCH_SLUG, issue: 1, resend: true }));
    const counts = m.value.counts;
    if (!counts || counts.sent !== m.value.recipients) throw new Error(`mailroom: ${JSON.stringify(counts)} for ${m.value.recipients} recipients\n${lines.join('\n')}`);
    result({ messages: counts.sent, wallMs: m.wallMs, cpuMs: m.cpuMs, peakRssMb: m.peakRssMb, campaignId: m.value.campaign?.id ?? null });
  } finally {
    await app.close();
  }
}

/** What a user writes from the React Email docs: render the template per recipient, then sendMail on a plain (non-pooled) transport. */
async function naive(): Promise<void> {
  const n = intEnv('BENCH_RECIPIENTS', 300);
  const app = await openApp();
  try {
    const [{ render }, nodemailer, { default: DigestEmail }, { assembleTemplateInput }] = await Promise.all([
      import('@react-email/render'),
      import('nodemailer'),
      import('../emails/digest.tsx'),
      import('../src/issues/assemble.ts'),
    ]);
    const { newsletter, list, issue, run } = await benchRun(app.stores, app);
    const articles = await app.stores.content.getArticlesByIds(issue.articleIds);
    const input = assembleTemplateInput(newsletter, { subject: templateSource([{ source: issue.subject }]), preheader: templateSource([{ source: issue.preheader }]), number: issue.number, date: issue.createdAt }, articles, app.config.publicUrl);
    if (input.template !== 'digest') throw new Error('bench newsletter is not a digest');
    const recipients = await dueRecipients(app.stores, list.id, n);
    const url = new URL(app.smtpUrl);
    const transporter = nodemailer.createTransport({ host: url.hostname, port: Number(url.port), secure: false, ignoreTLS: true });
    const m = await measure(async () => {
      for (const r of recipients) {
        const context = buildRecipientContext(r, { unsubscribeUrl: run.links.unsubscribeUrl(r.subscriberId), preferencesUrl: run.links.preferencesUrl(r.subscriberId), webVersionUrl: run.links.webVersionUrl });
        const recipient = Object.fromEntries(RECIPIENT_VARIABLES.map((v) => [v, context[v]])) as Record<(typeof RECIPIENT_VARIABLES)[number], string>;
        const element = createElement(DigestEmail, { ...input.props, recipient });
        const html = await render(element);
        const text = await render(element, { plainText: true });
        await transporter.sendMail({
          from: { name: newsletter.fromName, address: newsletter.fromEmail },
          to: { name: r.name, address: r.email },
          subject: issue.subject,
          html,
          text,
          messageId: makeMessageId(newsletter.fromEmail, 0, r.subscriberId),
          list: { unsubscribe: context.unsubscribeUrl },
          headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        });
      }
    });
    transporter.close();
    result({ messages: recipients.length, wallMs: m.wallMs, cpuMs: m.cpuMs, peakRssMb: m.peakRssMb });
  } finally {
    await app.close();
  }
}

/** The scale run's campaign: the whole imported list, with the time to fix recipients and the rate of the first and last 10%. */
async function scaleSend(): Promise<void> {
  const slug = env['BENCH_SCALE_SLUG'] ?? 'big';
  const app = await openApp();
  try {
    const store = app.stores;
    const timings = { fixMs: 0, firstSentAt: 0, t10: 0, t90: 0, lastAt: 0, sent: 0, recipients: 0 };
    const createCampaign = store.campaigns.createCampaign.bind(store);
    store.campaigns.createCampaign = async (input) => {
      const t0 = performance.now();
      const out = await createCampaign(input);
      timings.fixMs = performance.now() - t0;
      timings.recipients = out.recipients;
      timings.firstSentAt = performance.now();
      return out;
    };
    const recordOutcomes = store.campaigns.recordOutcomes.bind(store);
    store.campaigns.recordOutcomes = async (campaignId, outcomes, now) => {
      await recordOutcomes(campaignId, outcomes, now);
      const before = timings.sent;
      for (const o of outcomes) if (o.status === 'sent') timings.sent += 1;
      const t = performance.now();
      const n = timings.recipients;
      if (before < n * 0.1 && timings.sent >= n * 0.1) timings.t10 = t;
      if (before < n * 0.9 && timings.sent >= n * 0.9) timings.t90 = t;
      timings.lastAt = t;
    };
    const lines: string[] = [];
    const m = await measure(() => sendNewsletter(app.sendDeps({ log: (line) => lines.push(line) }), { newsletter: slug }));
    const counts = m.value.counts;
    const n = timings.recipients;
    result({
      recipients: n,
      sent: counts?.sent ?? 0,
      fixMs: timings.fixMs,
      wallMs: m.wallMs,
      cpuMs: m.cpuMs,
      peakRssMb: m.peakRssMb,
      first10Rate: (n * 0.1) / ((timings.t10 - timings.firstSentAt) / 1000),
      last10Rate: (n - Math.ceil(n * 0.9)) / ((timings.lastAt - timings.t90) / 1000),
      overallRate: (counts?.sent ?? 0) / ((timings.lastAt - timings.firstSentAt) / 1000),
      log: lines.slice(0, 2),
    });
  } finally {
    await app.close();
  }
}

/** A newsletter on the scale list and its first issue, built now so the sending process renders nothing. */
async function scaleSetup(): Promise<void> {
  const slug = env['BENCH_SCALE_SLUG'] ?? 'big';
  const app = await openApp();
  try {
    await loadDemoWorkspace(app);
    const demo = await app.stores.newsletters.findNewsletter('weekly');
    const list = await app.stores.audience.findListByName(env['BENCH_SCALE_LIST'] ?? 'big');
    if (!demo || !list) throw new Error('scale setup: demo newsletter or imported list missing');
    const newsletter = await app.stores.newsletters.createNewsletter({ ...demo, slug, listId: list.id });
    await app.stores.content.assignArticles(newsletter.id, (await app.stores.content.listArticles({ newsletterId: demo.id })).map((a) => a.id), 'assign');
    const { issue } = await buildIssue(app.stores, newsletter, { publicUrl: app.config.publicUrl });
    result({ issue: issue.number });
  } finally {
    await app.close();
  }
}

const modes: Record<string, () => Promise<void>> = { setup, build, mailroom, naive, 'scale-send': scaleSend, 'scale-setup': scaleSetup };
const run = modes[mode];
if (!run) {
  console.error(`bench-child: unknown mode ${JSON.stringify(mode)} (one of ${Object.keys(modes).join(', ')})`);
  process.exit(2);
}
await run();
