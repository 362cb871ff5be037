/** The demo workspace a first start loads: list "demo", its subscribers, the demo articles and the "weekly" newsletter. */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { App } from './app.ts';
import { readArticleSources } from './content/article-file.ts';
import { finalizeArticle } from './content/import-source.ts';
import { readSubscriberCsv } from './subscribers/csv-rows.ts';

export const DEMO_NEWSLETTER = 'weekly';
export const DEMO_LIST = 'demo';

export interface DemoSummary {
  readonly created: boolean;
  readonly articles: number;
  readonly subscribers: number;
  readonly problems: readonly string[];
}

/** Loads (or tops up) the demo workspace; running it again changes nothing. */
export async function loadDemoWorkspace(app: App, dataDir: string): Promise<DemoSummary> {
  const { store } = app;
  const problems: string[] = [];
  const list = (await store.findListByName(DEMO_LIST)) ?? (await store.createList(DEMO_LIST, 'Demo readers (example addresses; mail goes to the local inbox)'));
  const report = await store.importSubscribers(list.id, readSubscriberCsv(createReadStream(join(dataDir, 'demo-subscribers.csv')), 'data/demo-subscribers.csv'), {
    source: 'demo-subscribers.csv',
  });
  for (const r of report.rejected) problems.push(`demo-subscribers.csv line ${r.line}: ${r.reason}`);
  const sources = await readArticleSources(join(dataDir, 'articles'));
  for (const error of sources.errors) problems.push(error.message);
  // The same cleaning every import gets, so nothing unsafe reaches a template even from the demo folder.
  const articleIds: number[] = [];
  for (const { article } of sources.articles) articleIds.push((await store.upsertArticle(finalizeArticle(article).article)).article.id);
  let created = false;
  if (!(await store.findNewsletter(DEMO_NEWSLETTER))) {
    await store.createNewsletter({
      slug: DEMO_NEWSLETTER,
      name: 'Mailroom Weekly',
      fromName: 'Mailroom Weekly',
      fromEmail: 'news@mailroom.example',
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
  const demo = await store.findNewsletter(DEMO_NEWSLETTER);
  if (demo) await store.assignArticles(demo.id, articleIds, 'demo');
  return { created, articles: sources.articles.length, subscribers: report.added + report.updated + report.unchanged, problems };
}
