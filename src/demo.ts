/**
 * The demo workspace: list "demo", its subscribers, the demo articles and the "weekly" newsletter. Its files ship with
 * Mailroom (data/ beside src/, found from this module, whatever DATA_DIR and the working directory are); DATA_DIR only
 * holds what Mailroom writes.
 */
import type { Newsletter } from './core/domain.ts';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { App } from './app.ts';
import { readArticleSources } from './content/article-file.ts';
import { finalizeArticle } from './content/import-source.ts';
import { readSubscriberCsv } from './subscribers/csv-rows.ts';

export const DEMO_NEWSLETTER = 'weekly';
export const DEMO_LIST = 'demo';
/** The demo newsletter's sender: an example domain no real newsletter sends from, so the demo is told apart from a newsletter of the operator's also called "weekly". */
export const DEMO_FROM_EMAIL = 'news@mailroom.example';

/** Where the demo's files are: in the package, next to src/. */
export const DEMO_ASSETS = {
  articlesDir: fileURLToPath(new URL('../data/articles', import.meta.url)),
  /** The images the demo articles and the demo newsletter's logo refer to as /media/…; served while the demo is loaded. */
  mediaDir: fileURLToPath(new URL('../data/media', import.meta.url)),
  subscribersCsv: fileURLToPath(new URL('../data/demo-subscribers.csv', import.meta.url)),
} as const;

/** True when the database holds the demo newsletter (loaded on a first local start or by `mailroom demo`). */
export async function isDemoWorkspaceLoaded(stores: { readonly newsletters: { findNewsletter(slug: string): Promise<Newsletter | null> } }): Promise<boolean> {
  const newsletter = await stores.newsletters.findNewsletter(DEMO_NEWSLETTER);
  return newsletter !== null && newsletter.fromEmail === DEMO_FROM_EMAIL;
}

export interface DemoSummary {
  readonly created: boolean;
  readonly articles: number;
  readonly subscribers: number;
  readonly problems: readonly string[];
}

/** Loads (or tops up) the demo workspace; running it again changes nothing. */
export async function loadDemoWorkspace(app: App): Promise<DemoSummary> {
  const { stores } = app;
  const problems: string[] = [];
  const list = (await stores.audience.findListByName(DEMO_LIST)) ?? (await stores.audience.createList(DEMO_LIST, 'Demo readers (example addresses; mail goes to the local inbox)'));
  const report = await stores.audience.importSubscribers(list.id, readSubscriberCsv(createReadStream(DEMO_ASSETS.subscribersCsv), 'demo-subscribers.csv'), {
    source: 'demo-subscribers.csv',
  });
  for (const r of report.rejected) problems.push(`demo-subscribers.csv line ${r.line}: ${r.reason}`);
  const sources = await readArticleSources(DEMO_ASSETS.articlesDir);
  for (const error of sources.errors) problems.push(error.message);
  // The same cleaning every import gets, so nothing unsafe reaches a template even from the demo folder.
  const articleIds: number[] = [];
  for (const { article } of sources.articles) articleIds.push((await stores.content.upsertArticle(finalizeArticle(article).article)).article.id);
  let created = false;
  if (!(await stores.newsletters.findNewsletter(DEMO_NEWSLETTER))) {
    await stores.newsletters.createNewsletter({
      slug: DEMO_NEWSLETTER,
      name: 'Mailroom Weekly',
      fromName: 'Mailroom Weekly',
      fromEmail: DEMO_FROM_EMAIL,
      replyTo: 'editor@mailroom.example',
      listId: list.id,
      template: 'digest',
      postalAddress: 'Mailroom Demo Co., 123 Example Street, Springfield, IL 62701, USA',
      logoUrl: '/media/logo.png',
      subjectTemplate: '{name} #{number}: {title}',
      maxArticles: 5,
      language: 'en',
    });
    created = true;
  }
  // The demo articles are the demo newsletter's only: no other newsletter takes them.
  const demo = await stores.newsletters.findNewsletter(DEMO_NEWSLETTER);
  if (demo) await stores.content.assignArticles(demo.id, articleIds, 'demo');
  return { created, articles: sources.articles.length, subscribers: report.addedToList + report.alreadyOnList, problems };
}
