/**
 * Turns one feed item into an article: from the item's own full content when the feed carries it, else from the linked
 * page, extracted like any web page (per feed: `auto`, `feed` or `page`).
 */
import { extractArticleFromHtml, stripTracking } from '../content/html-article.ts';
import { htmlToMarkdown, parseHtmlFragment, safeUrl } from '../content/sanitize.ts';
import { slugify } from '../content/slug.ts';
import { collapseWhitespace, countWords, firstParagraphText, shortenText, type ExtractedArticle } from '../content/text-tools.ts';
import { MailroomError } from '../core/errors.ts';
import { safeFetch, type FetchPolicy } from '../net/safe-fetch.ts';
import type { FullContentMode } from '../store/feed-store.ts';
import type { FeedItem } from './parse-feed.ts';

/** A summary field with at least this many words, and no "read more" ending, counts as the full article. */
export const FULL_TEXT_MIN_WORDS = 150;

export interface ItemArticleDeps {
  readonly policy: FetchPolicy;
  readonly now: Date;
  readonly signal?: AbortSignal | undefined;
}

export interface ItemArticle {
  readonly extracted: ExtractedArticle;
  /** Where the text came from. */
  readonly from: 'feed' | 'page';
  /** Things worth telling the user that did not stop the import (e.g. the page failed, the feed's text was used). */
  readonly warnings: readonly string[];
}

/** The item's HTML as plain text, without the WordPress "The post … appeared first on …" line. */
function htmlText(html: string): string {
  const container = parseHtmlFragment(html);
  for (const paragraph of Array.from(container.querySelectorAll('p'))) {
    if (/^the post .{1,300} appeared first on .{1,200}$/i.test(collapseWhitespace(paragraph.textContent ?? ''))) paragraph.remove();
  }
  return collapseWhitespace(container.textContent ?? '');
}

/** Whether a text ends like a teaser: "[…]", "…", "Read more", "Continue reading →". */
export function looksTruncated(text: string): boolean {
  return /(\[\s*(…|\.\.\.)\s*\]|…|\.\.\.)\s*$/.test(text) || /\b(continue reading|read more|read the (full|rest|whole)|keep reading|full (story|article|post))\b[^.!?]{0,80}$/i.test(text);
}

/**
 * Whether the feed's text is the whole article: the full-content field (content:encoded, Atom content) unless it ends
 * like a teaser; the summary field only when it is long and does not.
 */
export function looksComplete(html: string, field: 'content' | 'summary'): boolean {
  const text = htmlText(html);
  if (text === '' || looksTruncated(text)) return false;
  return field === 'content' ? countWords(text) >= 20 : countWords(text) >= FULL_TEXT_MIN_WORDS;
}

/** Builds the article for one item. Throws MailroomError naming what is missing or what failed. */
export async function articleFromItem(item: FeedItem, mode: FullContentMode, feedBase: string, deps: ItemArticleDeps): Promise<ItemArticle> {
  const warnings: string[] = [];
  const feedHtml =
    mode === 'feed'
      ? item.contentHtml || item.summaryHtml
      : item.contentHtml && looksComplete(item.contentHtml, 'content')
        ? item.contentHtml
        : item.summaryHtml && looksComplete(item.summaryHtml, 'summary')
          ? item.summaryHtml
          : '';
  // "feed" still falls back to the page when the feed has no text at all for the item.
  const wantPage = mode === 'page' || feedHtml === '';

  if (wantPage) {
    if (item.url === '') {
      if (mode === 'page') throw new MailroomError('INVALID_INPUT', 'has no link, so its page cannot be fetched (--full-content page)');
    } else {
      try {
        const page = await safeFetch(item.url, deps.policy, { accept: ['html'], ...(deps.signal ? { signal: deps.signal } : {}) });
        const extracted = extractArticleFromHtml(page.text, item.url, { url: page.url, now: deps.now });
        return { extracted: mergePage(item, extracted, deps.now), from: 'page', warnings };
      } catch (error) {
        const fallback = item.contentHtml || item.summaryHtml;
        if (mode === 'page' || fallback === '') throw error;
        warnings.push(`the page could not be used (${(error as Error).message}); the feed's own text was imported instead`);
      }
    }
  }
  const html = feedHtml || item.contentHtml || item.summaryHtml;
  if (html === '') throw new MailroomError('INVALID_INPUT', 'the feed has no text for it, and no link to fetch its page from');
  return { extracted: fromFeedText(item, html, feedBase, deps.now), from: 'feed', warnings };
}

function fromFeedText(item: FeedItem, html: string, feedBase: string, now: Date): ExtractedArticle {
  const base = item.url || feedBase;
  const image = item.image ?? firstImage(html, base);
  const title = item.title || shortenText(htmlText(html), 80);
  const body = htmlToMarkdown(html, { baseUrl: base, title, leadImageUrl: image?.url ?? null });
  if (countWords(body) === 0) throw new MailroomError('INVALID_INPUT', 'its text is empty once unsafe content is removed');
  const summarySource = html !== item.summaryHtml && item.summaryHtml ? cleanTeaser(htmlText(item.summaryHtml)) : '';
  const published = item.publishedAt ?? item.updatedAt;
  return {
    article: {
      slug: slugify(title),
      title,
      summary: shortenText(summarySource || firstParagraphText(body)),
      body,
      canonicalUrl: item.url ? stripTracking(item.url) : '',
      author: item.author,
      publishedAt: published ?? now.toISOString(),
      leadImage: image ? { url: image.url, alt: image.alt || title } : null,
      tags: [...item.categories],
    },
    publishedKnown: published !== null,
    dropped: [],
  };
}

/** The page's article, with what the feed says about the item taking precedence (its title, date, author, teaser). */
function mergePage(item: FeedItem, page: ExtractedArticle, now: Date): ExtractedArticle {
  const title = item.title || page.article.title;
  const teaser = item.summaryHtml ? cleanTeaser(htmlText(item.summaryHtml)) : '';
  const published = item.publishedAt ?? item.updatedAt ?? (page.publishedKnown ? page.article.publishedAt : null);
  return {
    article: {
      ...page.article,
      slug: slugify(title),
      title,
      summary: shortenText(teaser || page.article.summary),
      canonicalUrl: page.article.canonicalUrl || stripTracking(item.url),
      author: item.author || page.article.author,
      publishedAt: published ?? now.toISOString(),
      leadImage: item.image ? { url: item.image.url, alt: item.image.alt || page.article.leadImage?.alt || title } : page.article.leadImage,
      tags: item.categories.length > 0 ? [...item.categories] : page.article.tags,
    },
    publishedKnown: published !== null,
    dropped: page.dropped,
  };
}

/** A teaser without its "[…]" or "Continue reading" ending. */
function cleanTeaser(text: string): string {
  return collapseWhitespace(
    text
      .replace(/\s*(\[\s*(…|\.\.\.)\s*\])\s*$/, '…')
      .replace(/\s*\b(continue reading|read more|read the (full|rest|whole) \w+|keep reading)\b[^.!?]{0,80}$/i, '')
      .replace(/\s*the post .{1,300} appeared first on .{1,200}$/i, ''),
  );
}

function firstImage(html: string, base: string): { url: string; alt: string } | null {
  for (const img of Array.from(parseHtmlFragment(html).querySelectorAll('img[src]'))) {
    const url = safeUrl(img.getAttribute('src') ?? '', base, 'image');
    const width = Number(img.getAttribute('width') ?? NaN);
    if (url && !(width <= 2)) return { url, alt: collapseWhitespace(img.getAttribute('alt') ?? '') };
  }
  return null;
}
