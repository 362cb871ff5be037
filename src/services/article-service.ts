/** Storing imported articles, shared by `mailroom articles import` and the API's import, upload and Markdown routes. */
import type { UpsertOutcome } from '../store/store-types.ts';
import { parseArticleFile } from '../content/article-file.ts';
import { extractArticleFromHtml } from '../content/html-article.ts';
import { finalizeArticle, type ImportedArticle, type ImportSourceResult } from '../content/import-source.ts';
import { parsePageText } from '../content/page-text.ts';
import type { Article, ArticleInput, Newsletter } from '../core/domain.ts';
import { isMailroomError, MailroomError } from '../core/errors.ts';
import type { Kysely } from 'kysely';
import type { ExtractedArticle } from '../content/text-tools.ts';
import type { Database } from '../store/schema.ts';

/** What saving articles needs of the stores (app.stores has it). */
/** What saving articles needs of the feed store: an extracted page as an article (the slug an earlier import gave it). */
export interface ArticlePreparer {
  prepareArticle(extracted: ExtractedArticle, options?: { articleId?: number | undefined; distinct?: boolean }): Promise<ArticleInput>;
}

export interface ArticleServiceStores {
  readonly content: {
    upsertArticle(input: ArticleInput, options?: { assignTo?: number; in?: Kysely<Database> }): Promise<{ article: Article; outcome: UpsertOutcome }>;
  };
}

export interface SavedArticle {
  readonly imported: ImportedArticle;
  readonly article: Article;
  readonly outcome: 'added' | 'updated' | 'unchanged';
}

/** An uploaded document: Markdown with front matter, a saved page, or page text. */
export type UploadKind = 'markdown' | 'html' | 'text';

export function readUploadedArticle(text: string, kind: UploadKind, source: string, options: { url?: string | undefined; now?: Date } = {}): ImportSourceResult {
  const result: ImportSourceResult = { articles: [], errors: [] };
  try {
    const extracted =
      kind === 'markdown'
        ? { article: parseArticleFile(text, source), publishedKnown: true, dropped: [] }
        : kind === 'html'
          ? extractArticleFromHtml(text, source, { url: options.url, now: options.now ?? new Date() })
          : parsePageText(text, source, { url: options.url, now: options.now ?? new Date() });
    const { article, cleaned } = finalizeArticle(extracted.article);
    result.articles.push({ source, kind, extracted: { ...extracted, article }, cleaned });
  } catch (error) {
    if (!isMailroomError(error)) throw error;
    result.errors.push(error);
  }
  return result;
}

/** Stores each article (Markdown says its slug; pages keep the slug an earlier import gave their URL); a failing one is reported, the rest saved. */
export async function saveImportedArticles(stores: ArticleServiceStores, feeds: ArticlePreparer, imported: readonly ImportedArticle[], newsletter?: Newsletter, label: (source: string) => string = (source) => source): Promise<{ saved: SavedArticle[]; errors: MailroomError[] }> {
  const saved: SavedArticle[] = [];
  const errors: MailroomError[] = [];
  for (const item of imported) {
    try {
      const input = item.kind === 'markdown' ? item.extracted.article : await feeds.prepareArticle(item.extracted);
      const { article, outcome } = await stores.content.upsertArticle(input, newsletter ? { assignTo: newsletter.id } : {});
      saved.push({ imported: item, article, outcome });
    } catch (error) {
      if (error instanceof MailroomError) errors.push(new MailroomError(error.code, `${label(item.source)}: ${error.message}`, error.details));
      else throw error;
    }
  }
  return { saved, errors };
}
