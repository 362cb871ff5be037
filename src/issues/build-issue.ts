/** Builds an issue: picks its articles, renders the newsletter's template ONCE, and stores the result. */
import type { Article, Newsletter } from '../core/domain.ts';
import { isMailroomError, MailroomError, quote } from '../core/errors.ts';
import { pickFeedArticles } from '../feeds/issue-articles.ts';
import { compileIssue } from '../personalization/personalize.ts';
import { renderIssue } from '../rendering/render-issue.ts';
import type { IssueInput, SqlStore, StoredIssue } from '../store/sql-store.ts';
import { assembleTemplateInput, makeHeadline } from './assemble.ts';

/** `db`, when given, lets a newsletter fed by feeds pick its feeds' new items. */
export type IssueBuilderStore = Pick<SqlStore, 'listArticlesNotSentIn' | 'findArticle' | 'createIssue' | 'listIssues'> & { readonly db?: SqlStore['db'] };

export interface ComposedIssue {
  readonly input: IssueInput;
  readonly number: number;
  readonly articles: Article[];
}

export interface BuildIssueOptions {
  /** Slugs, ids or canonical URLs of the articles, lead first. Default: the newest not yet sent in this newsletter. */
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

async function pickArticles(store: IssueBuilderStore, newsletter: Newsletter, options: BuildIssueOptions): Promise<Article[]> {
  if (options.articles && options.articles.length > 0) {
    const found: Article[] = [];
    for (const ref of options.articles) {
      const article = await store.findArticle(/^\d+$/.test(ref) ? Number(ref) : ref);
      if (!article) throw new MailroomError('NOT_FOUND', `--articles: no article ${quote(ref)} (see: mailroom articles list)`);
      if (!found.some((a) => a.id === article.id)) found.push(article);
    }
    return found;
  }
  const max = options.max ?? newsletter.maxArticles;
  // RSS-to-email: a newsletter with feeds carries the items that arrived since its last sent issue.
  const fromFeeds = await pickFeedArticles(store, newsletter, { max, onlyNew: options.publishedAfter !== undefined });
  if (fromFeeds) return fromFeeds;
  const articles = await store.listArticlesNotSentIn(newsletter.id, max, options.publishedAfter ?? null);
  if (articles.length === 0) {
    throw new MailroomError(
      'NOT_FOUND',
      `newsletter ${quote(newsletter.slug)}: every article has been sent already; import new ones (mailroom articles import PATH), name some with --articles, or resend an issue with --issue N`,
    );
  }
  return articles;
}

/**
 * Picks the articles, renders the newsletter's template once, and checks the result compiles for personalization
 * (every placeholder allowed): an issue that could not be sent is never built. Stores nothing (see buildIssue).
 */
export async function composeIssue(store: IssueBuilderStore, newsletter: Newsletter, options: BuildIssueOptions): Promise<ComposedIssue> {
  const articles = await pickArticles(store, newsletter, options);
  const existing = await store.listIssues(newsletter.id);
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
export async function buildIssue(store: IssueBuilderStore, newsletter: Newsletter, options: BuildIssueOptions): Promise<{ issue: StoredIssue; articles: Article[] }> {
  const { input, articles } = await composeIssue(store, newsletter, options);
  const issue = await store.createIssue(input);
  return { issue, articles };
}
