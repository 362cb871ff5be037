/** Builds an issue: picks its articles, renders the newsletter's template ONCE, and stores the result. */
import type { Article, Issue, Newsletter } from '../core/domain.ts';
import { isMailroomError, MailroomError, quote } from '../core/errors.ts';
import { pickFeedArticles, type FeedIssuePicker } from '../feeds/issue-articles.ts';
import { compileIssue } from '../personalization/personalize.ts';
import { renderIssue } from '../rendering/render-issue.ts';
import type { IssueInput, StoredIssue } from '../store/store-types.ts';
import { assembleTemplateInput, makeHeadline } from './assemble.ts';

/** What building an issue needs of the stores (`feeds`: a newsletter fed by feeds picks its feeds' new items). */
export interface IssueBuilderStores {
  readonly feeds: FeedIssuePicker;
  readonly content: {
    countNewsletterArticles(newsletterId: number): Promise<{ total: number; unsent: number }>;
    findArticle(ref: string | number): Promise<Article | null>;
    listArticlesNotSentIn(newsletterId: number, limit: number, publishedAfter?: string | null): Promise<Article[]>;
    listUnassignedArticles(limit: number): Promise<{ count: number; newest: Article[] }>;
  };
  readonly newsletters: {
    createIssue(input: IssueInput): Promise<StoredIssue>;
    listIssues(newsletterId: number): Promise<(Issue & { campaigns: number })[]>;
  };
}

export interface ComposedIssue {
  readonly input: IssueInput;
  readonly number: number;
  readonly articles: Article[];
}

export interface BuildIssueOptions {
  /** Slugs, ids or canonical URLs of the articles, lead first. Default: the newest of the newsletter's own not yet sent in it. */
  readonly articles?: readonly string[];
  /** Most articles when picking automatically (default: the newsletter's maxArticles). */
  readonly max?: number;
  /** The operator's subject for this issue: a pattern like the newsletter's (`{title}`, `{name}`, `{number}`, `{{firstName}}`). */
  readonly subject?: string;
  /** The operator's preheader for this issue, a pattern too. Default: the lead article's summary. */
  readonly preheader?: string;
  readonly publicUrl: string;
  readonly now?: Date;
  /** Only articles published after this instant (a scheduled issue: what is new since the last sent one). */
  readonly publishedAfter?: string | null;
}

/** The articles named by slugs, ids or canonical URLs (`--articles`), in that order, each once; an unknown one is an error naming it. */
export async function resolveArticleRefs(stores: { readonly content: Pick<IssueBuilderStores['content'], 'findArticle'> }, refs: readonly string[]): Promise<Article[]> {
  const found: Article[] = [];
  for (const ref of refs) {
    const article = await stores.content.findArticle(/^\d+$/.test(ref) ? Number(ref) : ref);
    if (!article) throw new MailroomError('NOT_FOUND', `--articles: no article ${quote(ref)} (see: mailroom articles list)`);
    if (!found.some((a) => a.id === article.id)) found.push(article);
  }
  return found;
}

/** Why a newsletter has nothing to put in an issue, and how to give it articles. */
async function noArticlesError(stores: IssueBuilderStores, newsletter: Newsletter): Promise<MailroomError> {
  const slug = newsletter.slug;
  const { total } = await stores.content.countNewsletterArticles(newsletter.id);
  const unassigned = await stores.content.listUnassignedArticles(5);
  const details = [
    `a newsletter takes only its own articles: imported for it (mailroom articles import PATH --newsletter ${slug}), assigned to it (mailroom articles assign ${slug} ARTICLE…), brought by its feeds (mailroom feeds add ${slug} URL), or carrying a tag it selects (mailroom newsletter set ${slug} --tag TAG)`,
  ];
  if (unassigned.count > 0) {
    const shown = unassigned.newest.map((a) => `${a.slug} ("${a.title}")`).join(', ');
    details.push(`${unassigned.count} article(s) belong to no newsletter yet: ${shown}${unassigned.count > unassigned.newest.length ? ', …' : ''} (see: mailroom articles list --unassigned)`);
    details.push(`to send them in ${slug}: mailroom articles assign ${slug} ${unassigned.newest.map((a) => a.slug).join(' ')}`);
  }
  if (total > 0) details.push(`or send an earlier issue again with --issue N (only to those who have not received it)`);
  const message =
    total === 0
      ? `newsletter ${quote(slug)} has no articles yet`
      : `newsletter ${quote(slug)}: all ${total} of its article(s) have been sent already`;
  return new MailroomError('NOT_FOUND', message, details);
}

async function pickArticles(stores: IssueBuilderStores, newsletter: Newsletter, options: BuildIssueOptions): Promise<Article[]> {
  // Named explicitly: taken whatever newsletter they belong to (the issue makes them this newsletter's too).
  if (options.articles && options.articles.length > 0) return resolveArticleRefs(stores, options.articles);
  const max = options.max ?? newsletter.maxArticles;
  // RSS-to-email: a newsletter with feeds carries what arrived since its last sent issue.
  const fromFeeds = await pickFeedArticles(stores, newsletter, { max, onlyNew: options.publishedAfter !== undefined });
  if (fromFeeds) return fromFeeds;
  // Otherwise its newest articles not sent yet, and only its own (see belongsToNewsletter).
  const articles = await stores.content.listArticlesNotSentIn(newsletter.id, max, options.publishedAfter ?? null);
  if (articles.length === 0) throw await noArticlesError(stores, newsletter);
  return articles;
}

/**
 * Picks the articles, renders the newsletter's template once, and checks the result compiles for personalization
 * (every placeholder allowed): an issue that could not be sent is never built. Stores nothing (see buildIssue).
 */
export async function composeIssue(stores: IssueBuilderStores, newsletter: Newsletter, options: BuildIssueOptions): Promise<ComposedIssue> {
  const articles = await pickArticles(stores, newsletter, options);
  const existing = await stores.newsletters.listIssues(newsletter.id);
  const number = (existing[0]?.number ?? 0) + 1;
  const { subject, preheader } = makeHeadline(newsletter, articles, number, {
    ...(options.subject !== undefined ? { subject: options.subject } : {}),
    ...(options.preheader !== undefined ? { preheader: options.preheader } : {}),
  });
  const date = (options.now ?? new Date()).toISOString();
  const rendered = await renderIssue(assembleTemplateInput(newsletter, { subject, preheader, number, date }, articles, options.publicUrl));
  try {
    compileIssue({ subject, html: rendered.html, text: rendered.text });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MailroomError(isMailroomError(error) ? error.code : 'TEMPLATE', `newsletter ${quote(newsletter.slug)}, issue #${number}: ${reason}`, [], { cause: error });
  }
  return { input: { newsletterId: newsletter.id, subject, preheader, html: rendered.html, text: rendered.text, articleIds: articles.map((a) => a.id) }, number, articles };
}

/**
 * A composed issue as it would be stored, for a dry run or a preview that must not store it: `id` 0 (no issue has
 * it), the number it would get now.
 */
export function unsavedIssue(composed: ComposedIssue, now: Date = new Date()): StoredIssue {
  const { input } = composed;
  return { id: 0, newsletterId: input.newsletterId, number: composed.number, subject: input.subject, preheader: input.preheader, articleIds: input.articleIds, createdAt: now.toISOString(), html: input.html, text: input.text };
}

/** Assembles, renders and stores the next issue of a newsletter. A build that fails stores nothing. */
export async function buildIssue(stores: IssueBuilderStores, newsletter: Newsletter, options: BuildIssueOptions): Promise<{ issue: StoredIssue; articles: Article[] }> {
  const { input, articles } = await composeIssue(stores, newsletter, options);
  const issue = await stores.newsletters.createIssue(input);
  return { issue, articles };
}
