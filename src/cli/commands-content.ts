/** The content commands: `articles import` (Markdown, web pages, saved pages, page text) and `feeds add|list|poll|remove|set`. */
import { relative } from 'node:path';
import { Lexer } from 'marked';
import { createApp, type App } from '../app.ts';
import { loadConfig } from '../config.ts';
import { readImportSource } from '../content/import-source.ts';
import type { Article } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { discoverFeed } from '../feeds/discover.ts';
import { formatPollLine } from '../feeds/feed-poller.ts';
import { pollFeeds, type FeedPollPort } from '../feeds/poll-feed.ts';
import { fetchPolicyFrom, loadFetchSettings, type FetchSettings } from '../net/fetch-settings.ts';
import { parseHttpUrl } from '../net/safe-fetch.ts';
import { resolveNewsletter } from '../store/lookups.ts';
import { FULL_CONTENT_MODES, type Feed, type FeedSummary, type FullContentMode } from '../store/feed-store.ts';
import { cli } from './context.ts';
import { saveImportedArticles } from '../services/article-service.ts';
import { formatTable, print, printError } from './output.ts';
import { commandProgress, formatResultJson } from './progress.ts';

/** What the content commands need of the feeds: managing them, polling them, importing articles (app.stores.feeds has it). */
interface ContentCommandFeeds extends FeedPollPort {
  addFeed(input: { newsletterId: number; url: string; title: string; siteUrl: string; fullContent: FullContentMode }): Promise<Feed>;
  findFeeds(ref: string, newsletterId?: number): Promise<Feed[]>;
  listFeeds(options?: { newsletterId?: number }): Promise<FeedSummary[]>;
  removeFeed(id: number): Promise<boolean>;
  setFullContent(id: number, mode: FullContentMode): Promise<void>;
}

interface ContentApp {
  readonly app: App;
  readonly feeds: ContentCommandFeeds;
  readonly fetch: FetchSettings;
}

async function withContentApp<T>(fn: (context: ContentApp) => Promise<T>): Promise<T> {
  const { env, cwd } = cli();
  const config = loadConfig(env, cwd);
  const fetch = loadFetchSettings(config, env, cwd);
  const app = await createApp(config);
  try {
    return await fn({ app, feeds: app.stores.feeds, fetch });
  } finally {
    await app.close();
  }
}

/** "3 headings, 9 paragraphs, 2 lists, 1 image": what an imported body holds, so a bad extraction shows at once. */
function describeBody(markdown: string): string {
  const counts = { heading: 0, paragraph: 0, list: 0, image: 0 };
  for (const token of new Lexer().lex(markdown)) {
    if (token.type === 'heading' || token.type === 'paragraph' || token.type === 'list') counts[token.type] += 1;
  }
  counts.image = (markdown.match(/!\[[^\]]*\]\(/g) ?? []).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [plural(counts.heading, 'heading'), plural(counts.paragraph, 'paragraph'), plural(counts.list, 'list'), plural(counts.image, 'image')].join(', ');
}

function shown(source: string): string {
  return /^https?:\/\//i.test(source) ? source : relative(process.cwd(), source) || source;
}

// ---------------------------------------------------------------------- articles

export async function articlesImportCommand(source: string, options: { url?: string; newsletter?: string } = {}): Promise<number> {
  return withContentApp(async ({ app, feeds, fetch }) => {
    // Named first: an unknown newsletter stops the import before anything is read or written.
    const newsletter = options.newsletter ? await resolveNewsletter(app.stores.newsletters, options.newsletter) : undefined;
    const { articles, errors } = await readImportSource(source, { url: options.url, policy: fetchPolicyFrom(fetch) });
    const counts = { added: 0, updated: 0, unchanged: 0 };
    const stored: number[] = [];
    const storedSlugs: string[] = [];
    const result = await saveImportedArticles(app.stores, feeds, articles, newsletter, shown);
    for (const { imported, article, outcome } of result.saved) {
      const { source: from, kind, extracted, cleaned } = imported;
      counts[outcome] += 1;
      stored.push(article.id);
      storedSlugs.push(article.slug);
      print(`${outcome.padEnd(9)} ${article.slug}  (${shown(from)})${newsletter ? ` → ${newsletter.slug}` : ''}`);
      if (kind !== 'markdown') {
        print(`          "${article.title}": ${describeBody(article.body)}${extracted.dropped.length > 0 ? `, ${extracted.dropped.length} line(s) of page chrome left out` : ''}${extracted.publishedKnown ? '' : ', no date found (import time used)'}`);
      }
      for (const warning of extracted.warnings ?? []) printError(`warning   ${shown(from)}: ${warning}`);
      for (const change of cleaned) printError(`cleaned   ${shown(from)}: removed ${change}`);
    }
    errors.push(...result.errors);
    for (const error of errors) {
      printError(`rejected  ${error.message}`);
      for (const detail of error.details.slice(1)) printError(`          ${detail}`);
    }
    print(`${counts.added} added, ${counts.updated} updated, ${counts.unchanged} unchanged, ${errors.length} rejected`);
    if (newsletter && stored.length > 0) print(`${stored.length} article(s) belong to newsletter ${newsletter.slug}`);
    else if (!newsletter && stored.length > 0) {
      const owners = await app.stores.content.newslettersOfArticles(stored);
      const slugs = stored.flatMap((id, i) => ((owners.get(id) ?? []).length > 0 ? [] : [storedSlugs[i] ?? String(id)]));
      if (slugs.length > 0) {
        print(`${slugs.length} of them belong to no newsletter, so no issue takes them; import them with --newsletter NEWSLETTER, or: npx mailroom articles assign NEWSLETTER ${slugs.slice(0, 10).join(' ')}${slugs.length > 10 ? ' …' : ''}`);
      }
    }
    return errors.length > 0 ? 1 : 0;
  });
}

/** Resolves every article reference first, so one unknown reference changes nothing. */
async function resolveArticles(app: App, refs: readonly string[]): Promise<Article[]> {
  const found: Article[] = [];
  const missing: string[] = [];
  for (const ref of refs) {
    const article = await app.stores.content.findArticle(/^\d+$/.test(ref) ? Number(ref) : ref);
    if (!article) missing.push(ref);
    else if (!found.some((a) => a.id === article.id)) found.push(article);
  }
  if (missing.length > 0) throw new MailroomError('NOT_FOUND', `no article ${missing.map((m) => quote(m)).join(', ')} (by slug, id or canonical URL; see: mailroom articles list); nothing changed`);
  return found;
}

export async function articlesAssignCommand(newsletterSlug: string, refs: string[]): Promise<number> {
  return withContentApp(async ({ app }) => {
    const newsletter = await resolveNewsletter(app.stores.newsletters, newsletterSlug);
    const articles = await resolveArticles(app, refs);
    const added = new Set(await app.stores.content.assignArticles(newsletter.id, articles.map((a) => a.id), 'assign'));
    const slugs = (list: readonly Article[]) => list.map((a) => a.slug).join(', ');
    const fresh = articles.filter((a) => added.has(a.id));
    const already = articles.filter((a) => !added.has(a.id));
    if (fresh.length > 0) print(`newsletter ${newsletter.slug}: ${fresh.length} article(s) assigned: ${slugs(fresh)}`);
    if (already.length > 0) print(`newsletter ${newsletter.slug}: ${already.length} article(s) already belonged to it: ${slugs(already)}`);
    return 0;
  });
}

export async function articlesUnassignCommand(newsletterSlug: string, refs: string[]): Promise<number> {
  return withContentApp(async ({ app }) => {
    const newsletter = await resolveNewsletter(app.stores.newsletters, newsletterSlug);
    const articles = await resolveArticles(app, refs);
    const removed = new Set(await app.stores.content.unassignArticles(newsletter.id, articles.map((a) => a.id)));
    const slugs = (list: readonly Article[]) => list.map((a) => a.slug).join(', ');
    const out = articles.filter((a) => removed.has(a.id));
    const notThere = articles.filter((a) => !removed.has(a.id));
    if (out.length > 0) print(`newsletter ${newsletter.slug}: ${out.length} article(s) taken out (its feeds and tags no longer bring them either): ${slugs(out)}`);
    if (notThere.length > 0) print(`newsletter ${newsletter.slug}: ${notThere.length} article(s) did not belong to it: ${slugs(notThere)}`);
    return 0;
  });
}

export async function articlesListCommand(options: { limit: string; newsletter?: string; unassigned?: boolean }): Promise<number> {
  return withContentApp(async ({ app }) => {
    const limit = Number(options.limit);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new MailroomError('INVALID_INPUT', `--limit ${quote(options.limit)}: not a whole number of at least 1`);
    if (options.newsletter && options.unassigned) throw new MailroomError('INVALID_INPUT', '--newsletter and --unassigned: choose one');
    const newsletter = options.newsletter ? await resolveNewsletter(app.stores.newsletters, options.newsletter) : undefined;
    const articles = await app.stores.content.listArticles({ limit, ...(newsletter ? { newsletterId: newsletter.id } : {}), ...(options.unassigned ? { unassigned: true } : {}) });
    if (articles.length === 0) {
      if (newsletter) print(`newsletter ${newsletter.slug} has no articles: npx mailroom articles import PATH --newsletter ${newsletter.slug}, or npx mailroom articles assign ${newsletter.slug} SLUG…`);
      else if (options.unassigned) print('every article belongs to a newsletter');
      else print('no articles yet: npx mailroom articles import PATH --newsletter NEWSLETTER');
      return 0;
    }
    const owners = await app.stores.content.newslettersOfArticles(articles.map((a) => a.id));
    print(formatTable(['ID', 'PUBLISHED', 'SLUG', 'NEWSLETTERS', 'TITLE'], articles.map((a) => [a.id, a.publishedAt.slice(0, 10), a.slug, (owners.get(a.id) ?? []).join(',') || '-', a.title])));
    return 0;
  });
}

// ------------------------------------------------------------------------- feeds

function checkMode(mode: string): FullContentMode {
  if (!(FULL_CONTENT_MODES as readonly string[]).includes(mode)) {
    throw new MailroomError('INVALID_INPUT', `--full-content ${quote(mode)}: expected ${FULL_CONTENT_MODES.join(', ')}`);
  }
  return mode as FullContentMode;
}

/** The one feed a reference (id or URL) names, optionally within one newsletter. */
async function resolveFeed(context: ContentApp, ref: string, newsletterSlug?: string): Promise<Feed> {
  const newsletter = newsletterSlug ? await resolveNewsletter(context.app.stores.newsletters, newsletterSlug) : undefined;
  const found = await context.feeds.findFeeds(ref, newsletter?.id);
  if (found.length === 1 && found[0]) return found[0];
  if (found.length > 1) {
    throw new MailroomError('CONFLICT', `feed ${quote(ref)} feeds ${found.length} newsletters (feeds ${found.map((f) => f.id).join(', ')}); name it by id, or add --newsletter`);
  }
  throw new MailroomError('NOT_FOUND', `feed ${quote(ref)} does not exist${newsletter ? ` in newsletter ${quote(newsletter.slug)}` : ''} (see: mailroom feeds list)`);
}

export async function feedsAddCommand(newsletterSlug: string, url: string, options: { fullContent: string; poll: boolean }): Promise<number> {
  return withContentApp(async (context) => {
    const { app, feeds, fetch } = context;
    const newsletter = await resolveNewsletter(app.stores.newsletters, newsletterSlug);
    const mode = checkMode(options.fullContent);
    parseHttpUrl(url, 'feed URL');
    const policy = fetchPolicyFrom(fetch);
    const discovered = await discoverFeed(url, policy);
    if (discovered.foundOn) print(`${discovered.foundOn} is a web page; it links to the feed ${discovered.url}`);
    if (discovered.feed.items.length === 0 && discovered.feed.problems.length === 0) printError(`warning: feed ${discovered.url} has no items yet`);
    const feed = await feeds.addFeed({ newsletterId: newsletter.id, url: discovered.url, title: discovered.feed.title, siteUrl: discovered.feed.siteUrl, fullContent: mode });
    print(`feed ${feed.id} added to ${newsletter.slug}: ${feed.url}${feed.title ? ` ("${feed.title}")` : ''}, ${discovered.feed.format.toUpperCase()} with ${discovered.feed.items.length} item(s), full content: ${mode}`);
    if (!options.poll) {
      print(`import its items with: npx mailroom feeds poll ${feed.id}`);
      return 0;
    }
    const [result] = await pollFeeds([feed], { stores: app.stores, feeds, policy });
    return result ? printPollResult(result) : 0;
  });
}

export async function feedsListCommand(options: { newsletter?: string }): Promise<number> {
  return withContentApp(async ({ app, feeds }) => {
    const newsletter = options.newsletter ? await resolveNewsletter(app.stores.newsletters, options.newsletter) : undefined;
    const rows = await feeds.listFeeds(newsletter ? { newsletterId: newsletter.id } : {});
    if (rows.length === 0) {
      print(`no feeds yet: npx mailroom feeds add ${newsletter?.slug ?? 'NEWSLETTER'} https://example.com/feed.xml`);
      return 0;
    }
    print(
      formatTable(
        ['ID', 'NEWSLETTER', 'MODE', 'ITEMS', 'LAST POLL', 'STATUS', 'URL'],
        rows.map((feed) => [
          feed.id,
          feed.newsletterSlug,
          feed.fullContent,
          feed.items,
          feed.lastPolledAt ? feed.lastPolledAt.slice(0, 16).replace('T', ' ') : 'never',
          feed.lastError ? 'problems' : feed.lastPolledAt ? 'ok' : '-',
          feed.url,
        ]),
      ),
    );
    for (const feed of rows.filter((f) => f.lastError)) printError(`feed ${feed.id}: ${feed.lastError}`);
    return 0;
  });
}

function printPollResult(result: Awaited<ReturnType<typeof pollFeeds>>[number], say: (line: string) => void = print, warn: (line: string) => void = printError): number {
  say(formatPollLine(result));
  for (const warning of result.warnings) warn(`  warning: ${warning}`);
  for (const error of result.errors) warn(`  error: ${error}`);
  return result.errors.length > 0 ? 1 : 0;
}

export async function feedsPollCommand(ref: string | undefined, options: { newsletter?: string; json?: boolean }): Promise<number> {
  const json = options.json ?? false;
  const say = json ? printError : print;
  return withContentApp(async (context) => {
    const { app, feeds, fetch } = context;
    let targets: Feed[];
    if (ref) targets = [await resolveFeed(context, ref, options.newsletter)];
    else {
      const newsletter = options.newsletter ? await resolveNewsletter(app.stores.newsletters, options.newsletter) : undefined;
      targets = await feeds.listFeeds(newsletter ? { newsletterId: newsletter.id } : {});
    }
    if (targets.length === 0) {
      if (json) print(formatResultJson({ feeds: 0, new: 0, updated: 0, unchanged: 0, errors: 0 }));
      say('no feeds to poll: npx mailroom feeds add NEWSLETTER URL');
      return 0;
    }
    let exitCode = 0;
    const totals = { added: 0, updated: 0, unchanged: 0, errors: 0 };
    const progress = commandProgress('feeds poll', 'feeds', { json, intervalSeconds: app.config.progressIntervalSeconds });
    let polled = 0;
    progress.update(0, targets.length);
    try {
      await pollFeeds(targets, { stores: app.stores, feeds, policy: fetchPolicyFrom(fetch) }, (result) => {
        if (printPollResult(result, (line) => progress.log(line), (line) => progress.log(line, true)) !== 0) exitCode = 1;
        totals.added += result.added;
        totals.updated += result.updated;
        totals.unchanged += result.unchanged;
        totals.errors += result.errors.length;
        polled += 1;
        progress.update(polled, targets.length, { new: totals.added, updated: totals.updated, errors: totals.errors });
      });
    } finally {
      progress.finish();
    }
    if (json) print(formatResultJson({ feeds: targets.length, new: totals.added, updated: totals.updated, unchanged: totals.unchanged, errors: totals.errors }));
    if (targets.length > 1) say(`${targets.length} feeds: ${totals.added} new, ${totals.updated} updated, ${totals.unchanged} unchanged, ${totals.errors} error(s)`);
    return exitCode;
  });
}

export async function feedsRemoveCommand(ref: string, options: { newsletter?: string }): Promise<number> {
  return withContentApp(async (context) => {
    const feed = await resolveFeed(context, ref, options.newsletter);
    await context.feeds.removeFeed(feed.id);
    print(`feed ${feed.id} removed: ${feed.url} (the articles it brought stay)`);
    return 0;
  });
}

export async function feedsSetCommand(ref: string, options: { newsletter?: string; fullContent: string }): Promise<number> {
  return withContentApp(async (context) => {
    const feed = await resolveFeed(context, ref, options.newsletter);
    const mode = checkMode(options.fullContent);
    await context.feeds.setFullContent(feed.id, mode);
    print(`feed ${feed.id} ${feed.url}: full content ${mode}; every item is imported again on the next poll (npx mailroom feeds poll ${feed.id})`);
    return 0;
  });
}
