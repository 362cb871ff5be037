/**
 * Writes the props of the newest real issue in the database to emails/_preview/latest-issue.json, which the
 * templates' PreviewProps use instead of the shipped sample (`npm run dev` then previews real content):
 * `npm run preview-props [-- --out FILE]`; `npm run preview-props -- --clear` goes back to the sample.
 * Reads DATABASE_URL, PUBLIC_URL and DATA_DIR like every mailroom command.
 */

import { storedSource } from '../src/personalization/template-source.ts';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LATEST_ISSUE_PATH, type LatestIssue } from '../emails/_preview/latest-issue.ts';
import type { EmailArticle } from '../emails/types.ts';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { Article } from '../src/core/domain.ts';
import { assembleTemplateInput } from '../src/issues/assemble.ts';
import type { Stores } from '../src/store/open-store.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * React Email's preview server re-renders a template only when a module it imports changes, and the JSON file is
 * read, not imported: touching the module that reads it makes an open preview reload with the new props.
 */
function nudgePreviewServer(): void {
  const now = new Date();
  utimesSync(path.join(REPO_ROOT, 'emails/_preview/latest-issue.ts'), now, now);
}

/**
 * The newest issue of any newsletter (by creation time), as template props: its newsletter's brand, its subject,
 * preheader, number and date, and its articles lead first, exactly as a rebuild of it would render them. Null when
 * no issue exists yet.
 */
export async function readLatestIssueProps(store: Stores, publicUrl: string): Promise<LatestIssue | null> {
  let newest: { newsletterId: number; number: number; createdAt: string; id: number } | null = null;
  for (const newsletter of await store.newsletters.listNewsletters()) {
    for (const issue of await store.newsletters.listIssues(newsletter.id)) {
      const later = newest === null || issue.createdAt > newest.createdAt || (issue.createdAt === newest.createdAt && issue.id > newest.id);
      if (later) newest = { newsletterId: newsletter.id, number: issue.number, createdAt: issue.createdAt, id: issue.id };
    }
  }
  if (newest === null) return null;
  const newsletter = await store.newsletters.getNewsletter(newest.newsletterId);
  const issue = await store.newsletters.findIssue(newest.newsletterId, newest.number);
  if (newsletter === null || issue === null) return null;
  const articles: Article[] = [];
  for (const id of issue.articleIds) {
    const article = await store.content.findArticle(id);
    if (article) articles.push(article);
  }
  if (articles.length === 0) return null;
  const input = assembleTemplateInput(newsletter, { subject: storedSource(issue.subject), preheader: storedSource(issue.preheader), number: issue.number, date: issue.createdAt }, articles, publicUrl);
  const lead: readonly EmailArticle[] = input.template === 'digest' ? [input.props.lead, ...input.props.others] : [input.props.article];
  return { source: `${newsletter.slug} #${issue.number}`, brand: input.props.brand, issue: input.props.issue, articles: [...lead] };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, clear: { type: 'boolean', default: false } } });
  const out = path.resolve(values.out ?? path.join(REPO_ROOT, LATEST_ISSUE_PATH));
  if (values.clear) {
    rmSync(out, { force: true });
    nudgePreviewServer();
    console.log(`removed ${path.relative(process.cwd(), out)}: previews show the shipped sample`);
    return 0;
  }
  const app = await createApp(loadConfig());
  try {
    const props = await readLatestIssueProps(app.stores, app.config.publicUrl);
    if (props === null) {
      console.error('no issue in the database yet, so previews keep the shipped sample; build one first: npx mailroom issue build weekly');
      return 1;
    }
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(props, null, 2)}\n`, 'utf8');
    nudgePreviewServer();
    console.log(`${path.relative(process.cwd(), out)}: ${props.source} "${props.issue.subject}", ${props.articles.length} article(s); npm run dev previews it (images load from ${app.config.publicUrl})`);
    return 0;
  } finally {
    await app.close();
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) process.exitCode = await main();
