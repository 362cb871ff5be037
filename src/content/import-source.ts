/**
 * `mailroom articles import SOURCE`: what a source is and how it is read. An http(s) URL is fetched and its article
 * extracted; FILE.html / .htm is extracted; FILE.txt is text copied from a page; a .md / .markdown file or a folder is
 * read as Markdown with front matter. Everything comes out sanitized. A source's problems are errors naming it; in a
 * folder, one bad file never stops the others.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { ArticleInput } from '../core/domain.ts';
import { MailroomError, isMailroomError, quote } from '../core/errors.ts';
import { decodeText, parseHttpUrl, safeFetch, type FetchPolicy } from '../net/safe-fetch.ts';
import { ARTICLE_FILE_EXTENSIONS, MAX_ARTICLE_FILE_BYTES, decodeArticleBytes, readArticleSources } from './article-file.ts';
import { extractArticleFromHtml } from './html-article.ts';
import { parsePageText } from './page-text.ts';
import { safeMarkdownUrl, safeUrl, sanitizeMarkdown } from './sanitize.ts';
import { collapseWhitespace, stripControlCharacters, type ExtractedArticle } from './text-tools.ts';

export type SourceKind = 'url' | 'html' | 'text' | 'markdown';

export const HTML_FILE_EXTENSIONS = ['.html', '.htm', '.xhtml'] as const;
export const TEXT_FILE_EXTENSIONS = ['.txt', '.text'] as const;

export interface ImportSourceOptions {
  /** For a saved page or page text: the address it came from (base for relative links, canonical URL). */
  readonly url?: string | undefined;
  /** Needed to fetch URLs. */
  readonly policy?: FetchPolicy;
  readonly now?: Date;
}

export interface ImportedArticle {
  /** The file or URL it came from. */
  readonly source: string;
  readonly kind: SourceKind;
  readonly extracted: ExtractedArticle;
  /** What sanitizing removed, for the report. */
  readonly cleaned: readonly string[];
}

export interface ImportSourceResult {
  readonly articles: ImportedArticle[];
  readonly errors: MailroomError[];
}

/** What kind of source an argument names (a folder counts as Markdown). */
export async function classifySource(source: string): Promise<SourceKind> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    parseHttpUrl(source);
    return 'url';
  }
  let isDirectory = false;
  try {
    isDirectory = (await stat(source)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new MailroomError('NOT_FOUND', `${source}: no such file or folder`);
    if (code === 'EACCES' || code === 'EPERM') throw new MailroomError('INVALID_INPUT', `${source}: permission denied`);
    throw new MailroomError('INVALID_INPUT', `${source}: cannot be read: ${(error as Error).message}`, [], { cause: error });
  }
  if (isDirectory) return 'markdown';
  const extension = extname(source).toLowerCase();
  if ((ARTICLE_FILE_EXTENSIONS as readonly string[]).includes(extension)) return 'markdown';
  if ((HTML_FILE_EXTENSIONS as readonly string[]).includes(extension)) return 'html';
  if ((TEXT_FILE_EXTENSIONS as readonly string[]).includes(extension)) return 'text';
  throw new MailroomError(
    'INVALID_INPUT',
    `${source}: cannot tell what this is from its name ${extension ? `(${quote(extension)})` : '(no extension)'}; give an http(s) URL, a .md/.markdown file or folder, a saved page (.html, .htm) or page text (.txt)`,
  );
}

/** Reads a source into sanitized articles (and the errors of the ones that could not be read). */
export async function readImportSource(source: string, options: ImportSourceOptions = {}): Promise<ImportSourceResult> {
  const kind = await classifySource(source);
  const pageUrl = options.url === undefined ? undefined : checkPageUrl(options.url);
  if (pageUrl !== undefined && kind !== 'html' && kind !== 'text') {
    throw new MailroomError('INVALID_INPUT', `--url ${quote(options.url)}: only for a saved page (.html) or page text (.txt); ${kind === 'url' ? 'a URL is its own address' : 'a Markdown file sets canonical_url in its front matter'}`);
  }
  const now = options.now ?? new Date();
  const result: ImportSourceResult = { articles: [], errors: [] };
  const add = (extracted: ExtractedArticle, from: string) => {
    const { article, cleaned } = finalizeArticle(extracted.article);
    result.articles.push({ source: from, kind, extracted: { ...extracted, article }, cleaned });
  };
  try {
    switch (kind) {
      case 'markdown': {
        const read = await readArticleSources(source);
        result.errors.push(...read.errors);
        for (const { source: file, article } of read.articles) add({ article, publishedKnown: true, dropped: [] }, file);
        break;
      }
      case 'url': {
        if (!options.policy) throw new MailroomError('CONFIG', `${source}: fetching is not set up`);
        const page = await safeFetch(source, options.policy, { accept: ['html'] });
        add(extractArticleFromHtml(page.text, page.requestedUrl, { url: page.url, now }), page.requestedUrl);
        break;
      }
      case 'html': {
        const bytes = await readSourceFile(source);
        add(extractArticleFromHtml(decodeText(bytes, null, 'html'), source, { url: pageUrl, now }), source);
        break;
      }
      case 'text': {
        const bytes = await readSourceFile(source);
        add(parsePageText(decodeArticleBytes(bytes, source), source, { url: pageUrl, now }), source);
        break;
      }
    }
  } catch (error) {
    if (!isMailroomError(error)) throw error;
    result.errors.push(error.message.startsWith(source) || kind === 'markdown' ? error : new MailroomError(error.code, `${source}: ${error.message}`, error.details, { cause: error }));
  }
  return result;
}

/**
 * The last line of defence before the store, whatever the source: the body's raw HTML and unsafe links cleaned, text
 * fields without control characters or line breaks, the lead image and canonical URL only when safe.
 */
export function finalizeArticle(input: ArticleInput): { article: ArticleInput; cleaned: string[] } {
  const { markdown, changes } = sanitizeMarkdown(input.body);
  const line = (text: string) => collapseWhitespace(stripControlCharacters(text));
  const canonical = input.canonicalUrl === '' ? '' : safeUrl(input.canonicalUrl, undefined, 'link');
  const imageUrl = input.leadImage ? safeMarkdownUrl(input.leadImage.url, 'image') : null;
  const cleaned = [...changes];
  if (input.canonicalUrl !== '' && (canonical === null || !/^https?:/.test(canonical))) cleaned.push(`dropped the canonical URL ${quote(input.canonicalUrl)}`);
  if (input.leadImage && imageUrl === null) cleaned.push(`dropped the lead image ${quote(input.leadImage.url)}`);
  return {
    article: {
      ...input,
      title: line(input.title),
      summary: line(input.summary),
      author: line(input.author),
      body: markdown,
      canonicalUrl: canonical && /^https?:/.test(canonical) ? canonical : '',
      leadImage: input.leadImage && imageUrl ? { url: imageUrl, alt: line(input.leadImage.alt) } : null,
      tags: input.tags.map(line).filter(Boolean),
    },
    cleaned,
  };
}

function checkPageUrl(raw: string): string {
  try {
    return parseHttpUrl(raw, '--url').href;
  } catch (error) {
    throw new MailroomError('INVALID_INPUT', `--url ${quote(raw)}: not an absolute http(s) URL`, [], { cause: error });
  }
}

async function readSourceFile(source: string): Promise<Buffer> {
  const info = await stat(source);
  if (info.size > MAX_ARTICLE_FILE_BYTES) {
    throw new MailroomError('INVALID_INPUT', `${source}: the file is too large (${info.size} bytes; at most ${MAX_ARTICLE_FILE_BYTES} bytes)`);
  }
  const bytes = await readFile(source);
  if (bytes.length === 0) throw new MailroomError('INVALID_INPUT', `${source}: the file is empty`);
  return bytes;
}
