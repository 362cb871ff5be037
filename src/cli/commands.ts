/** What each `mailroom` command does: load the config, build the app through the composition root, call the services, print. */
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { createApp, type App } from '../app.ts';
import { loadConfig, redact } from '../config.ts';
import type { SubscriberStatus } from '../core/domain.ts';
import { normalizeEmail } from '../core/email-address.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { describeImportRow, formatImportCounts } from '../core/import-report.ts';
import { issueWebUrl } from '../core/links.ts';
import { showTemplate } from '../personalization/personalize.ts';
import type { CampaignProgress } from '../sending/engine.ts';
import { TransportError } from '../sending/ports.ts';
import { checkedEmail } from '../services/newsletter-service.ts';
import { resolveList, resolveNewsletter } from '../store/lookups.ts';
import type { StoredIssue } from '../store/store-types.ts';
import { formatRejection, readSubscriberCsv } from '../subscribers/csv-rows.ts';
import { countLines } from './file-lines.ts';
import { describeListingPage } from './listing.ts';
import { commandProgress, formatResultJson, type ProgressReporter } from './progress.ts';
import { cli } from './context.ts';
import { formatTable, print, printError } from './output.ts';

async function withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp(loadConfig(cli().env, cli().cwd));
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

function positiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new MailroomError('INVALID_INPUT', `${option} ${quote(value)}: not a whole number`);
  return n;
}

function explainTransportError(error: unknown, app: App): never {
  if (error instanceof TransportError && error.kind === 'unavailable') {
    const hint = app.usesLocalInbox
      ? `nothing answers at ${app.smtpUrl}, the built-in local inbox: start it with \`npm start\` in another terminal, or set SMTP_URL`
      : `check SMTP_URL (${redact(app.smtpUrl)})`;
    throw new MailroomError('SMTP_UNAVAILABLE', `${error.message}\n  ${hint}; nothing was sent and no recipient was marked failed`);
  }
  throw error;
}

// ------------------------------------------------------------------ serve / demo

export async function serveCommand(options: { port?: string; demo: boolean; migrate: boolean; send?: boolean }): Promise<number> {
  const { startService } = await import('../service.ts');
  const config = loadConfig(cli().env, cli().cwd);
  const port = options.port === undefined ? config.port : positiveInt(options.port, '--port');
  const service = await startService({ ...config, port }, { loadDemo: options.demo, log: print, migrate: options.migrate, send: options.send !== false });
  return untilSignal(() => service.close());
}

/** `mailroom worker`: the sending side only (campaigns, and the scheduler while this process is its leader); no HTTP. */
export async function workerCommand(options: { migrate: boolean }): Promise<number> {
  const { startWorker } = await import('../worker.ts');
  const config = loadConfig(cli().env, cli().cwd);
  const worker = await startWorker(config, { log: print, migrate: options.migrate });
  return untilSignal(() => worker.close());
}

/** Runs until SIGINT or SIGTERM, then drains with `close`. */
async function untilSignal(close: () => Promise<void>): Promise<number> {
  const service = { close };
  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      print(`\n${signal}: stopping…`);
      void service.close().then(resolveStop);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

/** `mailroom migrate`: applies the migrations the database lacks (under an advisory lock on Postgres), and says which. */
export async function migrateCommand(): Promise<number> {
  const { openDatabase } = await import('../store/database.ts');
  const config = loadConfig(cli().env, cli().cwd);
  const handle = await openDatabase(config.databaseUrl);
  try {
    const applied = await handle.migrate();
    print(applied.length === 0 ? `${handle.displayUrl} (${handle.dialect}): the schema is up to date` : `${handle.displayUrl} (${handle.dialect}): applied ${applied.length} migration(s): ${applied.join(', ')}`);
    return 0;
  } finally {
    await handle.close();
  }
}

export async function demoCommand(): Promise<number> {
  const { loadDemoWorkspace } = await import('../demo.ts');
  return withApp(async (app) => {
    const summary = await loadDemoWorkspace(app);
    print(`demo workspace: newsletter "weekly" ${summary.created ? 'created' : 'already there'}, ${summary.articles} article(s), ${summary.subscribers} subscriber(s) on list "demo"`);
    for (const p of summary.problems) printError(`warning: ${p}`);
    print('next: npx mailroom send weekly');
    return 0;
  });
}

// ------------------------------------------------------------------- subscribers

/** The file's bytes, opened when the import starts reading them (an import refused before that opens nothing). */
async function* fileOnDemand(file: string): AsyncGenerator<Buffer | string> {
  yield* createReadStream(file);
}

export async function subscribersImportCommand(file: string, options: { list: string; createList?: boolean; strict?: boolean; json?: boolean }): Promise<number> {
  const { importIntoList } = await import('../services/subscriber-service.ts');
  const json = options.json ?? false;
  const say = json ? printError : print;
  return withApp(async (app) => {
    if (!existsSync(file)) throw new MailroomError('NOT_FOUND', `${file}: no such file`);
    const source = basename(file);
    // The total is the file's lines less the header: a guess when quoted cells hold line breaks, never below the rows read.
    const expected = Math.max(0, (await countLines(file)) - 1);
    const progress = commandProgress(`import ${source}`, 'rows', { json, intervalSeconds: app.config.progressIntervalSeconds });
    const { list, report } = await importIntoList(app.stores, options.list, readSubscriberCsv(fileOnDemand(file), source), {
      source: file,
      strict: options.strict ?? false,
      createList: options.createList ?? false,
      onRow: (rows) => progress.update(rows, Math.max(expected, rows)),
    }).finally(() => progress.finish());
    const shown = report.rejected.slice(0, 200);
    for (const r of shown) printError(formatRejection(source, r));
    if (report.rejected.length > shown.length) printError(`… and ${report.rejected.length - shown.length} more rejected rows`);
    if (json) print(formatResultJson({ file: source, list: list.name, ...report }));
    if (!report.applied) {
      say(`${source}: nothing imported (--strict): ${report.rejected.length} row(s) rejected`);
      return 1;
    }
    say(`${source}: ${formatImportCounts(list.name, report)}, ${report.rejected.length} rejected`);
    return report.rejected.length > 0 ? 1 : 0;
  });
}

export async function subscribersAddCommand(rawEmail: string, options: { list: string; name?: string; firstName?: string; lastName?: string; attr: string[] }): Promise<number> {
  const { addSubscriberToList, checkSubscriber } = await import('../services/subscriber-service.ts');
  return withApp(async (app) => {
    const attributes: Record<string, string> = {};
    for (const pair of options.attr) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new MailroomError('INVALID_INPUT', `--attr ${quote(pair)}: expected key=value`);
      attributes[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const subscriber = checkSubscriber(
      { email: rawEmail, name: options.name, firstName: options.firstName, lastName: options.lastName, attributes },
      { email: 'email', name: '--name', firstName: '--first-name', lastName: '--last-name', attributes: '--attr' },
    );
    const { list, outcome } = await addSubscriberToList(app.stores, options.list, subscriber, 'cli');
    const email = subscriber.email;
    print(describeImportRow(email, list.name, outcome));
    return 0;
  });
}

export async function subscribersRemoveCommand(rawEmail: string, options: { list?: string }): Promise<number> {
  return withApp(async (app) => {
    const email = normalizeEmail(rawEmail);
    const list = options.list ? await resolveList(app.stores.audience, options.list) : undefined;
    const removed = await app.stores.audience.removeSubscriber(email, list?.id);
    if (!removed) throw new MailroomError('NOT_FOUND', `subscriber ${quote(email)}${list ? ` is not on list ${quote(list.name)}` : ' does not exist'}`);
    print(list ? `${email}: removed from list ${list.name}` : `${email}: deleted`);
    return 0;
  });
}

/** Rows per query when `subscribers list --all` pages through everything (by id, never by offset). */
const LIST_ALL_PAGE = 1000;

export async function subscribersListCommand(options: { list?: string; status?: SubscriberStatus; limit: string; offset: string; all?: boolean; search?: string; prefix?: boolean; json?: boolean }): Promise<number> {
  const limit = positiveInt(options.limit, '--limit');
  const offset = positiveInt(options.offset, '--offset');
  if (options.prefix && !options.search) throw new MailroomError('INVALID_INPUT', '--prefix: give the start of the address with --search TEXT');
  return withApp(async (app) => {
    const list = options.list ? await resolveList(app.stores.audience, options.list) : undefined;
    const filter = {
      ...(list ? { listId: list.id } : {}),
      ...(options.status ? { status: options.status } : {}),
      ...(options.search ? { search: options.search, prefix: options.prefix ?? false } : {}),
    };
    const total = await app.stores.audience.countSubscribers(filter);
    let rows: Awaited<ReturnType<typeof app.stores.audience.listSubscribers>> = [];
    if (options.all) {
      for (let afterId = 0; ; ) {
        const page = await app.stores.audience.listSubscribers({ ...filter, afterId, limit: LIST_ALL_PAGE });
        rows = rows.concat(page);
        if (page.length < LIST_ALL_PAGE) break;
        afterId = page[page.length - 1]?.id ?? afterId;
      }
    } else {
      rows = await app.stores.audience.listSubscribers({ ...filter, limit, offset });
    }
    const summary = describeListingPage({ shown: rows.length, offset: options.all ? 0 : offset, total: Math.max(total, rows.length), noun: 'subscribers', filtered: Object.keys(filter).length > 0 });
    if (options.json) {
      print(JSON.stringify(rows, null, 2));
      printError(summary);
      return 0;
    }
    if (rows.length > 0) print(formatTable(['ID', 'EMAIL', 'NAME', 'STATUS', 'LISTS'], rows.map((s) => [s.id, s.email, s.name, s.status, s.lists.map((l) => (l.status === 'subscribed' ? l.name : `${l.name} (${l.status})`)).join(', ')])));
    print(summary);
    return 0;
  });
}

// ------------------------------------------------------------------------- lists

export async function listsCreateCommand(name: string, options: { description: string }): Promise<number> {
  return withApp(async (app) => {
    const { checkListName } = await import('../services/list-service.ts');
    const list = await app.stores.audience.createList(checkListName(name, 'list name'), options.description);
    print(`list ${list.name} created (id ${list.id})`);
    return 0;
  });
}

export async function listsListCommand(): Promise<number> {
  return withApp(async (app) => {
    const lists = await app.stores.audience.listLists();
    if (lists.length === 0) print('no lists yet: npx mailroom lists create NAME');
    else print(formatTable(['ID', 'NAME', 'SUBSCRIBED', 'PENDING', 'UNSUBSCRIBED', 'DESCRIPTION'], lists.map((l) => [l.id, l.name, l.subscribed, l.pending, l.unsubscribed, l.description])));
    return 0;
  });
}

// ------------------------------------------------------------------- newsletters

export async function newsletterCreateCommand(
  slug: string,
  options: { name: string; from: string; list: string; postalAddress: string; replyTo?: string; template: string; logo: string; subject: string; maxArticles: string; language: string; tag?: string[] },
): Promise<number> {
  const { createNewsletterChecked } = await import('../services/newsletter-service.ts');
  return withApp(async (app) => {
    const { newsletter, list, tags } = await createNewsletterChecked(
      app.stores,
      { slug, name: options.name, from: options.from, list: options.list, postalAddress: options.postalAddress, replyTo: options.replyTo, template: options.template, logo: options.logo, subject: options.subject, maxArticles: positiveInt(options.maxArticles, '--max-articles'), language: options.language, tags: options.tag ?? [] },
      { slug: 'newsletter', from: '--from', replyTo: '--reply-to', template: '--template', postalAddress: '--postal-address', maxArticles: '--max-articles', subject: '--subject', tag: '--tag' },
    );
    print(`newsletter ${newsletter.slug} created: "${newsletter.name}" from ${newsletter.fromEmail} to list ${list.name}`);
    print(
      tags.length > 0
        ? `it takes the articles tagged ${tags.join(', ')}, and those imported for it (npx mailroom articles import PATH --newsletter ${newsletter.slug})`
        : `it takes only its own articles: npx mailroom articles import PATH --newsletter ${newsletter.slug} (or articles assign, feeds add, --tag)`,
    );
    return 0;
  });
}

export async function newsletterSetCommand(slug: string, options: { tag?: string[]; clearTags?: boolean }): Promise<number> {
  return withApp(async (app) => {
    const newsletter = await resolveNewsletter(app.stores.newsletters, slug);
    const { checkedTags } = await import('../services/newsletter-service.ts');
    const tags = checkedTags(options.tag ?? [], '--tag');
    if (tags.length > 0 && options.clearTags) throw new MailroomError('INVALID_INPUT', '--tag and --clear-tags: choose one');
    if (tags.length === 0 && !options.clearTags) throw new MailroomError('INVALID_INPUT', `newsletter ${newsletter.slug}: nothing to change (give --tag TAG or --clear-tags)`);
    const saved = await app.stores.content.setNewsletterTags(newsletter.id, tags);
    const { total, unsent } = await app.stores.content.countNewsletterArticles(newsletter.id);
    print(`newsletter ${newsletter.slug}: ${saved.length > 0 ? `selects the tag(s) ${saved.join(', ')}` : 'selects no tag'}; ${total} article(s) belong to it, ${unsent} not sent in it yet`);
    return 0;
  });
}

export async function newsletterListCommand(): Promise<number> {
  return withApp(async (app) => {
    const newsletters = await app.stores.newsletters.listNewsletters();
    const lists = await app.stores.audience.listLists();
    if (newsletters.length === 0) print('no newsletters yet: npx mailroom demo, or npx mailroom newsletter create');
    else {
      const rows = await Promise.all(
        newsletters.map(async (n) => {
          const { total, unsent } = await app.stores.content.countNewsletterArticles(n.id);
          return [n.slug, n.name, n.fromEmail, lists.find((l) => l.id === n.listId)?.name ?? '?', n.template, `${total} (${unsent} unsent)`, (await app.stores.content.newsletterTags(n.id)).join(',') || '-'];
        }),
      );
      print(formatTable(['SLUG', 'NAME', 'FROM', 'LIST', 'TEMPLATE', 'ARTICLES', 'TAGS'], rows));
    }
    return 0;
  });
}

// ------------------------------------------------------------------------ issues

export async function issueBuildCommand(slug: string, options: { articles?: string; max?: string; subject?: string; preheader?: string }): Promise<number> {
  // Rendering pulls in React and the templates: loaded only by the commands that render.
  const { buildIssue, resolveArticleRefs } = await import('../issues/build-issue.ts');
  const { describeArticles } = await import('../sending/send-newsletter.ts');
  return withApp(async (app) => {
    const newsletter = await resolveNewsletter(app.stores.newsletters, slug);
    // Checked before anything is stored: a subject or template that could not be sent stores no issue.
    const refs = options.articles ? options.articles.split(',').map((s) => s.trim()).filter(Boolean) : [];
    // Articles named with --articles that are not the newsletter's yet become its own with the issue: say so.
    const named = await resolveArticleRefs(app.stores, refs);
    const own = await app.stores.content.articlesInNewsletter(newsletter.id, named.map((a) => a.id));
    const adopted = new Set(named.filter((a) => !own.has(a.id)).map((a) => a.id));
    const { issue, articles } = await buildIssue(app.stores, newsletter, {
      publicUrl: app.config.publicUrl,
      ...(refs.length > 0 ? { articles: refs } : {}),
      ...(options.max ? { max: positiveInt(options.max, '--max') } : {}),
      ...(options.subject ? { subject: options.subject } : {}),
      ...(options.preheader ? { preheader: options.preheader } : {}),
    });
    print(`issue #${issue.number} of ${newsletter.slug}: "${showTemplate(issue.subject)}" with ${articles.length} article(s):`);
    for (const line of describeArticles(articles, adopted)) print(line);
    print(`HTML ${(Buffer.byteLength(issue.html) / 1024).toFixed(1)} KB, text ${(Buffer.byteLength(issue.text) / 1024).toFixed(1)} KB`);
    print(`preview: npx mailroom preview ${newsletter.slug}/${issue.number} --out issue.html`);
    return 0;
  });
}

export async function issueListCommand(slug: string): Promise<number> {
  return withApp(async (app) => {
    const newsletter = await resolveNewsletter(app.stores.newsletters, slug);
    const issues = await app.stores.newsletters.listIssues(newsletter.id);
    if (issues.length === 0) print(`no issues yet: npx mailroom issue build ${slug}`);
    else print(formatTable(['#', 'CREATED', 'ARTICLES', 'CAMPAIGNS', 'SUBJECT'], issues.map((i) => [i.number, i.createdAt.slice(0, 16).replace('T', ' '), i.articleIds.length, i.campaigns, showTemplate(i.subject)])));
    return 0;
  });
}

export async function previewCommand(target: string, options: { out: string; text?: boolean; as?: string }): Promise<number> {
  // Rendering pulls in React and the templates: loaded only by the commands that render.
  const { composeIssue, unsavedIssue } = await import('../issues/build-issue.ts');
  const { previewIssueAs } = await import('../services/issue-preview.ts');
  return withApp(async (app) => {
    const match = /^([a-z0-9-]+)(?:[/#](\d+))?$/.exec(target);
    if (!match) throw new MailroomError('INVALID_INPUT', `preview target ${quote(target)}: expected NEWSLETTER or NEWSLETTER/NUMBER (e.g. weekly/3)`);
    const newsletter = await resolveNewsletter(app.stores.newsletters, match[1] as string);
    let issue: StoredIssue | null;
    let stored = true;
    if (match[2]) {
      issue = await app.stores.newsletters.findIssue(newsletter.id, Number(match[2]));
      if (!issue) throw new MailroomError('NOT_FOUND', `newsletter ${quote(newsletter.slug)} has no issue #${match[2]}`);
    } else {
      // The next issue: the newest unsent one, else the one a send would build now (rendered here, stored nowhere).
      issue = await app.stores.newsletters.findUnsentIssue(newsletter.id);
      if (!issue) {
        issue = unsavedIssue(await composeIssue(app.stores, newsletter, { publicUrl: app.config.publicUrl }));
        stored = false;
      }
    }
    const parts = await previewIssueAs(app.stores, { publicUrl: app.config.publicUrl, secret: app.config.secret }, newsletter, issue, options.as, '--as');
    const out = resolve(options.out);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, options.text ? parts.text : parts.html);
    print(`${newsletter.slug}/${issue.number} "${parts.subject}" as ${parts.recipient} → ${options.out} (${options.text ? 'text' : 'HTML'}, ${(Buffer.byteLength(options.text ? parts.text : parts.html) / 1024).toFixed(1)} KB)`);
    if (!stored) print(`issue #${issue.number} is not built yet: this is what \`mailroom send ${newsletter.slug}\` (or \`issue build\`) would build now; nothing was stored`);
    return 0;
  });
}

// -------------------------------------------------------------------------- send

function printCounts(counts: Readonly<Record<string, number>>): string {
  return `${counts.sent ?? 0} sent, ${counts.failed ?? 0} failed, ${counts.skipped ?? 0} skipped, ${counts.deferred ?? 0} deferred, ${(counts.pending ?? 0) + (counts.sending ?? 0)} pending`;
}

/** A campaign's progress for the person at the command line, and the engine's lines printed around the bar. */
function campaignProgress(app: App, json: boolean) {
  let reporter: ProgressReporter | null = null;
  const say = json ? printError : print;
  return {
    log: (line: string) => (reporter ? reporter.log(line) : say(line)),
    onProgress: (p: CampaignProgress) => {
      reporter ??= commandProgress(`campaign ${p.campaignId}`, 'messages', { json, intervalSeconds: app.config.progressIntervalSeconds });
      reporter.update(p.done, p.total, { sent: p.sent, failed: p.failed, skipped: p.skipped });
    },
    finish: () => reporter?.finish(),
  };
}

export async function sendCommand(
  slug: string,
  options: { list?: string; issue?: string; dryRun?: boolean; test?: string; resend?: boolean; allowLarge?: boolean; force?: boolean; at?: string; tz?: string; json?: boolean },
): Promise<number> {
  const { sendNewsletter } = await import('../sending/send-newsletter.ts');
  if (options.tz && !options.at) throw new MailroomError('INVALID_INPUT', '--tz goes with --at');
  const { parseSendAt } = await import('../schedule/send-at.ts');
  const at = options.at ? parseSendAt(options.at, options.tz, new Date(), '--at') : undefined;
  const json = options.json ?? false;
  const say = json ? printError : print;
  return withApp(async (app) => {
    const progress = campaignProgress(app, json);
    const controller = new AbortController();
    const onSignal = () => {
      printError('stopping: finishing the messages in flight, then pausing the campaign (resume with: npx mailroom campaigns resume ID)');
      controller.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const report = await sendNewsletter(app.sendDeps({ log: progress.log, onProgress: progress.onProgress, signal: controller.signal }), {
        newsletter: slug,
        ...(options.list ? { list: options.list } : {}),
        ...(options.issue ? { issue: positiveInt(options.issue, '--issue') } : {}),
        ...(options.dryRun ? { dryRun: true } : {}),
        ...(options.test ? { test: checkedEmail(options.test, '--test') } : {}),
        ...(options.resend ? { resend: true } : {}),
        ...(options.allowLarge ? { allowLarge: true } : {}),
        ...(options.force ? { force: true } : {}),
        ...(at ? { at } : {}),
      })
        .catch((error: unknown) => explainTransportError(error, app))
        .finally(() => progress.finish());
      for (const w of report.warnings) printError(`warning: ${w}`);
      const webUrl = issueWebUrl(app.config, report.newsletter.slug, report.issue.number);
      if (report.mode === 'dry-run') {
        const which = report.issueStored ? `issue #${report.issue.number}` : `issue #${report.issue.number} (not built yet: send builds it)`;
        const left = report.alreadyReceived > 0 ? `; ${report.alreadyReceived} would be skipped: they already received issue #${report.issue.number} in an earlier campaign (--resend mails them again)` : '';
        if (json) print(formatResultJson({ mode: 'dry-run', issue: report.issue.number, list: report.list.name, recipients: report.recipients, alreadyReceived: report.alreadyReceived, htmlBytes: report.htmlBytes }));
        say(`dry run: ${which} would go to ${report.recipients} recipient(s) of list ${report.list.name}${left}; HTML ${(report.htmlBytes / 1024).toFixed(1)} KB; nothing sent, nothing stored`);
        return 0;
      }
      if (report.mode === 'nobody-left') {
        if (json) print(formatResultJson({ mode: 'nobody-left', issue: report.issue.number, list: report.list.name, alreadyReceived: report.alreadyReceived }));
        say(`issue #${report.issue.number} of ${report.newsletter.slug}: all ${report.alreadyReceived} recipient(s) of list ${report.list.name} have already received it; nothing sent (--resend mails them again)`);
        return 0;
      }
      if (report.mode === 'scheduled') {
        if (json) print(formatResultJson({ mode: 'scheduled', campaign: report.campaign?.id ?? null, issue: report.issue.number, at: at?.toISOString() ?? null }));
        say(`campaign ${report.campaign?.id ?? '?'}: issue #${report.issue.number} scheduled for ${at?.toISOString() ?? '?'}; mailroom serve (npm start) sends it then`);
        return 0;
      }
      if (report.mode === 'test') {
        if (json) print(formatResultJson({ mode: 'test', issue: report.issue.number, to: options.test ?? null }));
        say(`test copy of issue #${report.issue.number} sent to ${options.test} via ${redact(app.smtpUrl)}`);
        return 0;
      }
      const result = report.result;
      const campaign = report.campaign;
      if (!result || !campaign) return 1;
      if (json) print(formatResultJson({ campaign: campaign.id, status: result.status, counts: result.counts, possiblyDuplicated: result.possiblyDuplicated, error: result.error }));
      say(`campaign ${campaign.id}: ${result.status}: ${printCounts(result.counts)}`);
      if (result.possiblyDuplicated.length > 0) say(`possibly sent twice (in flight at an earlier stop): ${result.possiblyDuplicated.join(', ')}`);
      if (result.error) printError(`campaign ${campaign.id} paused: ${result.error}\n  resume with: npx mailroom campaigns resume ${campaign.id}`);
      say(`web version: ${webUrl}`);
      if (app.usesLocalInbox) say(`inbox: ${app.config.publicUrl}/inbox`);
      return result.status === 'sent' ? (result.counts.failed > 0 ? 1 : 0) : 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}

// --------------------------------------------------------------------- campaigns

/**
 * Recent campaigns, and among them the scheduled slots whose issue could not be built: they made no campaign (ID
 * "-"), so they are listed with the reason and the command that retries them.
 */
export async function campaignsListCommand(options: { limit: string }): Promise<number> {
  return withApp(async (app) => {
    const limit = positiveInt(options.limit, '--limit');
    const campaigns = await app.stores.campaigns.listCampaigns({ limit });
    const failedSlots = await app.stores.schedules.listFailedSlots({ limit });
    if (campaigns.length === 0 && failedSlots.length === 0) {
      print('no campaigns yet: npx mailroom send weekly');
      return 0;
    }
    const slugOf = new Map((await app.stores.newsletters.listNewsletters()).map((n) => [n.id, n.slug]));
    const campaignRows = await Promise.all(
      campaigns.map(async (c) => {
        const counts = await app.stores.campaigns.countSends(c.id);
        const issue = await app.stores.newsletters.getIssue(c.issueId);
        return { at: c.createdAt, slot: null, row: [c.id, c.createdAt.slice(0, 16).replace('T', ' '), `${slugOf.get(c.newsletterId) ?? '?'}/${issue?.number ?? '?'}`, c.status, counts.sent, counts.failed, counts.skipped, counts.pending + counts.deferred + counts.sending] };
      }),
    );
    const slotRows = failedSlots.map((slot) => ({
      at: slot.createdAt,
      slot,
      row: ['-', slot.createdAt.slice(0, 16).replace('T', ' '), `${slugOf.get(slot.newsletterId) ?? '?'} slot ${slot.slotAt.slice(0, 16).replace('T', ' ')}`, 'no campaign: build failed', '-', '-', '-', '-'],
    }));
    const rows = [...campaignRows, ...slotRows].sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
    print(formatTable(['ID', 'CREATED', 'ISSUE', 'STATUS', 'SENT', 'FAILED', 'SKIPPED', 'LEFT'], rows.map((r) => r.row)));
    const listed = rows.flatMap((r) => (r.slot ? [r.slot] : []));
    if (listed.length > 0) {
      print('\nscheduled slots that made no campaign (their issue could not be built):');
      for (const slot of listed) {
        const slug = slugOf.get(slot.newsletterId) ?? '?';
        print(`  ${slug} ${slot.slotAt}: ${slot.detail}\n    retry: npx mailroom schedule retry ${slug} ${slot.slotAt}`);
      }
    }
    return 0;
  });
}

export async function campaignsShowCommand(id: string, options: { status?: string }): Promise<number> {
  return withApp(async (app) => {
    const campaignId = positiveInt(id, 'campaign id');
    const campaign = await app.stores.campaigns.getCampaign(campaignId);
    if (!campaign) throw new MailroomError('NOT_FOUND', `campaign ${quote(id)} does not exist (see: npx mailroom campaigns list)`);
    const counts = await app.stores.campaigns.countSends(campaignId);
    const issue = await app.stores.newsletters.getIssue(campaign.issueId);
    const list = await app.stores.audience.getList(campaign.listId);
    const { campaignRate, formatCampaignRate, rateWindowStart } = await import('../sending/campaign-rate.ts');
    const now = new Date();
    const remaining = counts.pending + counts.deferred + counts.sending;
    const sentInWindow = await app.stores.campaigns.countSentSince(campaignId, rateWindowStart(campaign.startedAt, now).toISOString());
    const rate = campaignRate({ status: campaign.status, startedAt: campaign.startedAt, finishedAt: campaign.finishedAt, sent: counts.sent, remaining, sentInWindow, now });
    print(`campaign ${campaign.id}: ${campaign.status}${campaign.pauseReason ? ` (${campaign.pauseReason === 'smtp' ? `SMTP server unavailable; retried at ${campaign.resumeAfter ?? '?'}` : 'paused by an operator'})` : ''}`);
    print(`issue:      #${issue?.number ?? '?'} "${issue ? showTemplate(issue.subject) : '?'}"`);
    print(`list:       ${list?.name ?? '?'}`);
    print(`created:    ${campaign.createdAt}${campaign.scheduledAt ? `, scheduled for ${campaign.scheduledAt}` : ''}${campaign.startedAt ? `, started ${campaign.startedAt}` : ''}${campaign.finishedAt ? `, finished ${campaign.finishedAt}` : ''}`);
    print(`progress:   ${counts.sent} sent, ${counts.deferred} deferred, ${counts.failed} failed, ${counts.skipped} skipped, ${remaining} remaining`);
    print(`rate:       ${formatCampaignRate(rate, campaign.status, now)}`);
    if (campaign.lastError) print(`last error: ${campaign.lastError}`);
    const holder = await app.stores.campaigns.leaseHolder(campaignId, now.toISOString());
    if (holder) {
      const { describeLeaseHolder, isDeadLocalHolder } = await import('../sending/lease-owner.ts');
      const gone = isDeadLocalHolder(holder.owner);
      print(`sender:     ${describeLeaseHolder(holder.owner, holder.expiresAt)}${gone ? `; that process no longer exists: npx mailroom campaigns resume ${campaignId} takes over at once` : ''}`);
    }
    const { workerTallies } = await import('../store/send-claims-store.ts');
    const workers = await workerTallies(app.stores.db, campaignId);
    if (workers.length > 0) {
      print(`\nworkers: ${workers.length}`);
      print(formatTable(['WORKER', 'SENT', 'IN FLIGHT'], workers.map((w) => [w.worker, w.sent, w.sending])));
    }
    const duplicates = await app.stores.campaigns.listSends(campaignId, { possibleDuplicate: true, limit: 1000 });
    if (duplicates.length > 0) {
      print(`\npossibly sent twice (in flight when a sender stopped abruptly): ${duplicates.length}`);
      print(formatTable(['EMAIL', 'STATUS', 'NOTE'], duplicates.map((s) => [s.email, s.status, s.error ?? ''])));
    }
    const statuses = options.status ? [options.status] : ['failed', 'skipped', 'deferred'];
    for (const status of statuses) {
      const sends = await app.stores.campaigns.listSends(campaignId, { status: status as never, limit: 50 });
      if (sends.length === 0) continue;
      print(`\n${status}${sends.length === 50 ? ' (first 50)' : ''}:`);
      print(formatTable(['EMAIL', 'ATTEMPTS', 'SMTP REPLY', 'REASON'], sends.map((s) => [s.email, s.attempts, s.smtpResponse ?? '', s.error ?? ''])));
    }
    await (await import('./commands-deliverability.ts')).printCampaignDeliveryEvents(app, campaignId);
    return 0;
  });
}

async function findControllableCampaign(app: App, id: string) {
  const { findCampaign } = await import('../services/campaign-control.ts');
  return findCampaign(app.stores, positiveInt(id, 'campaign id'));
}

export async function campaignsPauseCommand(id: string): Promise<number> {
  const { pauseCampaign } = await import('../services/campaign-control.ts');
  return withApp(async (app) => {
    const campaign = await pauseCampaign(app.stores, positiveInt(id, 'campaign id'));
    print(`campaign ${campaign.id}: paused; the messages in flight finish, nothing more goes out until: npx mailroom campaigns resume ${campaign.id}`);
    return 0;
  });
}

export async function campaignsCancelCommand(id: string): Promise<number> {
  const { cancelCampaign } = await import('../services/campaign-control.ts');
  return withApp(async (app) => {
    const { campaign, skipped } = await cancelCampaign(app.stores, positiveInt(id, 'campaign id'), new Date());
    print(`campaign ${campaign.id}: cancelled; ${skipped} recipient(s) will not be mailed`);
    return 0;
  });
}

export async function campaignsRetryFailedCommand(id: string, options: { now?: boolean; json?: boolean }): Promise<number> {
  const { retryFailedSends } = await import('../services/campaign-control.ts');
  const say = options.json ? printError : print;
  return withApp(async (app) => {
    const { campaign, requeued, receivedElsewhere } = await retryFailedSends(app.stores, positiveInt(id, 'campaign id'), new Date());
    const issue = await app.stores.newsletters.getIssue(campaign.issueId);
    const leftAlone = receivedElsewhere > 0 ? `; ${receivedElsewhere} not retried: they received issue #${issue?.number ?? '?'} in another campaign` : '';
    if (requeued === 0) {
      say(`campaign ${campaign.id}: no failed sends to retry (suppressed addresses are never retried)${leftAlone}`);
      return 0;
    }
    say(`campaign ${campaign.id}: ${requeued} failed send(s) queued again${leftAlone}`);
    if (!options.now) {
      say('mailroom serve sends them on its next tick, or run them here: npx mailroom campaigns resume ' + campaign.id);
      return 0;
    }
    return runResume(app, campaign.id, { json: options.json ?? false });
  });
}

/** Sends a campaign here in the foreground. `busyIsDone`: a campaign another process (serve) already took is not a failure. */
async function runResume(app: App, campaignId: number, options: { busyIsDone?: boolean; json?: boolean } = {}): Promise<number> {
  const { resumeCampaign } = await import('../sending/send-newsletter.ts');
  const json = options.json ?? false;
  const say = json ? printError : print;
  const progress = campaignProgress(app, json);
  const controller = new AbortController();
  const onSignal = () => {
    printError('stopping: finishing the messages in flight; the rest stays queued');
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await resumeCampaign(app.sendDeps({ log: progress.log, onProgress: progress.onProgress, signal: controller.signal }), campaignId)
      .catch((error: unknown) => explainTransportError(error, app))
      .finally(() => progress.finish());
    if (result.status === 'busy') {
      if (options.busyIsDone) {
        say(`campaign ${campaignId} is ${result.error ?? 'being sent by another process'}; follow it with: npx mailroom campaigns show ${campaignId}`);
        return 0;
      }
      printError(
        `campaign ${campaignId} is ${result.error ?? 'being sent by another process'}; nothing was sent from here.\n  If that process has stopped, run this again once its lease has run out (mailroom serve also takes the campaign over then).`,
      );
      return 1;
    }
    if (json) print(formatResultJson({ campaign: campaignId, status: result.status, counts: result.counts, possiblyDuplicated: result.possiblyDuplicated, error: result.error }));
    say(`campaign ${campaignId}: ${result.status}: ${printCounts(result.counts)}`);
    if (result.possiblyDuplicated.length > 0) say(`possibly sent twice (in flight at the stop): ${result.possiblyDuplicated.join(', ')}`);
    if (result.error) printError(`campaign ${campaignId} paused: ${result.error}`);
    return result.status === 'sent' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function campaignsResumeCommand(id: string, options: { json?: boolean } = {}): Promise<number> {
  return withApp(async (app) => {
    const campaign = await findControllableCampaign(app, id);
    return runResume(app, campaign.id, { json: options.json ?? false });
  });
}

// --------------------------------------------------------------------- schedules

export async function newsletterScheduleCommand(slug: string, cronExpression: string, options: { tz: string; whenEmpty: string }): Promise<number> {
  const { checkSchedule } = await import('../schedule/scheduler.ts');
  const { nextRuns } = await import('../schedule/next-runs.ts');
  const { parseCron } = await import('../schedule/cron.ts');
  const { formatInTimeZone } = await import('../schedule/time-zone.ts');
  return withApp(async (app) => {
    const newsletter = await resolveNewsletter(app.stores.newsletters, slug);
    if (options.whenEmpty !== 'skip' && options.whenEmpty !== 'send') throw new MailroomError('INVALID_INPUT', `--when-empty ${quote(options.whenEmpty)}: expected skip or send`);
    const checked = checkSchedule(cronExpression, options.tz, app.config.scheduleMinIntervalMinutes, new Date());
    const schedule = await app.stores.schedules.saveSchedule(newsletter.id, { cron: checked.cron, timezone: checked.timezone, emptyPolicy: options.whenEmpty });
    print(`newsletter ${newsletter.slug}: "${schedule.cron}" in ${schedule.timezone}; when nothing is new: ${schedule.emptyPolicy}`);
    print('next runs:');
    for (const run of nextRuns(parseCron(schedule.cron), schedule.timezone, new Date(), 5)) print(`  ${formatInTimeZone(schedule.timezone, run)}   (${run.toISOString()})`);
    print('mailroom serve sends each run (npm start).');
    return 0;
  });
}

export async function newsletterUnscheduleCommand(slug: string): Promise<number> {
  return withApp(async (app) => {
    const newsletter = await resolveNewsletter(app.stores.newsletters, slug);
    if (!(await app.stores.schedules.removeSchedule(newsletter.id))) throw new MailroomError('NOT_FOUND', `newsletter ${quote(slug)} has no schedule`);
    print(`newsletter ${newsletter.slug}: schedule removed`);
    return 0;
  });
}

export async function scheduleListCommand(options: { runs: string }): Promise<number> {
  const { nextRuns } = await import('../schedule/next-runs.ts');
  const { parseCron } = await import('../schedule/cron.ts');
  const { formatInTimeZone } = await import('../schedule/time-zone.ts');
  return withApp(async (app) => {
    const schedules = await app.stores.schedules.listSchedules();
    const count = positiveInt(options.runs, '--runs');
    if (schedules.length === 0) print('no schedules: npx mailroom newsletter schedule weekly "0 9 * * MON" --tz Europe/Berlin');
    for (const schedule of schedules) {
      const newsletter = await app.stores.newsletters.getNewsletter(schedule.newsletterId);
      print(`${newsletter?.slug ?? '?'}: "${schedule.cron}" in ${schedule.timezone} (when nothing is new: ${schedule.emptyPolicy})`);
      for (const run of nextRuns(parseCron(schedule.cron), schedule.timezone, new Date(), count)) print(`  next  ${formatInTimeZone(schedule.timezone, run)}`);
      // The five latest slots, and any older one that failed and still waits for a retry.
      const recent = await app.stores.schedules.listSlots(schedule.newsletterId, 5);
      const waiting = (await app.stores.schedules.listFailedSlots({ newsletterId: schedule.newsletterId })).filter((f) => !recent.some((r) => r.slotAt === f.slotAt));
      for (const slot of [...recent, ...waiting].sort((a, b) => a.slotAt.localeCompare(b.slotAt))) {
        print(`  past  ${formatInTimeZone(schedule.timezone, new Date(slot.slotAt))}  ${slot.outcome}${slot.campaignId ? ` (campaign ${slot.campaignId})` : ''}${slot.detail ? `: ${slot.detail}` : ''}`);
        if (slot.outcome === 'failed') print(`        retry: npx mailroom schedule retry ${newsletter?.slug ?? '?'} ${slot.slotAt}`);
      }
    }
    return 0;
  });
}

/** A slot named on the command line: the instant `schedule list` prints, or "YYYY-MM-DD HH:MM" in the schedule's time zone. */
async function parseSlot(raw: string, timezone: string): Promise<string> {
  const { wallTimeToInstant } = await import('../schedule/time-zone.ts');
  const wall = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})$/.exec(raw.trim());
  const instant = wall
    ? wallTimeToInstant(timezone, { year: Number(wall[1]), month: Number(wall[2]), day: Number(wall[3]), hour: Number(wall[4]), minute: Number(wall[5]) })
    : /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/.test(raw.trim())
      ? new Date(raw.trim())
      : new Date(NaN);
  if (Number.isNaN(instant.getTime())) throw new MailroomError('INVALID_INPUT', `slot ${quote(raw)}: expected the time \`schedule list\` shows (e.g. 2026-12-07T08:00:00.000Z) or "YYYY-MM-DD HH:MM" in ${timezone}`);
  return instant.toISOString();
}

export async function scheduleRetryCommand(slug: string, slot: string | undefined): Promise<number> {
  const { retryFailedSlot } = await import('../schedule/scheduler.ts');
  return withApp(async (app) => {
    const newsletter = await resolveNewsletter(app.stores.newsletters, slug);
    const schedule = (await app.stores.schedules.listSchedules()).find((s) => s.newsletterId === newsletter.id);
    const slotAt = slot === undefined ? undefined : await parseSlot(slot, schedule?.timezone ?? 'UTC');
    const retried = await retryFailedSlot({ stores: app.stores, publicUrl: app.config.publicUrl, catchUpMs: app.config.scheduleCatchUpHours * 3600_000 }, newsletter, slotAt);
    print(`schedule ${newsletter.slug}: slot ${retried.slotAt}: campaign ${retried.campaignId}, issue #${retried.issueNumber}, ${retried.recipients} recipient(s)`);
    return runResume(app, retried.campaignId, { busyIsDone: true });
  });
}

// --------------------------------------------------------------------- templates

export async function templatesRenderCommand(options: { out: string; json?: boolean }): Promise<number> {
  const { renderPreviews } = await import('../../scripts/render-previews.ts');
  const json = options.json ?? false;
  const progress = commandProgress('templates render', 'templates', { json, intervalSeconds: loadConfig(cli().env, cli().cwd).progressIntervalSeconds });
  const written = await renderPreviews(options.out, { onRendered: (done, total) => progress.update(done, total) }).finally(() => progress.finish());
  const shown = written.map((file) => relative(process.cwd(), file) || join(options.out, basename(file)));
  if (json) print(formatResultJson({ written: shown }));
  else for (const file of shown) print(file);
  return 0;
}
