/**
 * Extracts the article from a web page with Mozilla Readability on jsdom (scripts never run, nothing is loaded), its
 * metadata from meta tags and JSON-LD, and its body as sanitized Markdown without navigation, footers, share bars or promos.
 */
import { Readability } from '@mozilla/readability';
import { JSDOM, VirtualConsole } from 'jsdom';
import type { LeadImage } from '../core/domain.ts';
import { MailroomError } from '../core/errors.ts';
import { htmlToMarkdown, removeNoise, safeUrl } from './sanitize.ts';
import { slugify } from './slug.ts';
import { collapseWhitespace, countWords, firstParagraphText, parseDateValue, shortenText, stripControlCharacters, type ExtractedArticle } from './text-tools.ts';

export interface HtmlArticleOptions {
  /** Where the page came from (the final URL of a fetch, or --url for a saved file): base for relative links, canonical fallback. */
  readonly url?: string | undefined;
  /** The import time: the date when the page has none. */
  readonly now?: Date;
}

export interface PageMetadata {
  readonly title: string;
  readonly description: string;
  readonly author: string;
  readonly publishedAt: string | null;
  readonly canonicalUrl: string;
  readonly image: LeadImage | null;
  readonly siteName: string;
  readonly tags: readonly string[];
}

/** Fewest characters of text a page's main content must have to count as an article. */
export const MIN_ARTICLE_TEXT = 200;

/** Most tags kept from a page's metadata. */
const MAX_TAGS = 10;

const ARTICLE_TYPES = new Set([
  'article', 'newsarticle', 'blogposting', 'report', 'scholarlyarticle', 'techarticle', 'reportagenewsarticle', 'analysisnewsarticle',
  'opinionnewsarticle', 'reviewnewsarticle', 'backgroundnewsarticle', 'liveblogposting', 'socialmediaposting', 'posting', 'webpage',
]);

/**
 * Removes what would only cost time to parse and is dropped anyway: stylesheets, scripts other than JSON-LD, inline
 * SVG and comments. (A script or style element ends at the first "</script" or "</style", as in the HTML parser.)
 */
function dropInertBulk(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<style\b[^>]*>[\s\S]*?<\/style\s*>/gi, '')
    .replace(/<script\b([^>]*)>[\s\S]*?<\/script\s*>/gi, (whole, attributes: string) => (/application\/ld\+json/i.test(attributes) ? whole : ''))
    .replace(/<svg\b[^>]*>[\s\S]*?<\/svg\s*>/gi, '');
}

/** Parses a page; scripts are never run and no subresource (image, stylesheet, frame) is ever loaded. */
export function parseHtmlDocument(html: string, url?: string): Document {
  const dom = new JSDOM(html, {
    contentType: 'text/html',
    virtualConsole: new VirtualConsole(),
    ...(url ? { url } : {}),
  });
  return dom.window.document;
}

/**
 * Reads a page's article. Throws MailroomError naming the source when the page has no article (too little text, or a
 * page of links). `source` names the page in messages (its URL or file name).
 */
export function extractArticleFromHtml(html: string, source: string, options: HtmlArticleOptions = {}): ExtractedArticle {
  const fail = (problem: string): never => {
    throw new MailroomError('INVALID_INPUT', `${source}: ${problem}`);
  };
  if (html.trim() === '') fail('the page is empty');
  const pageUrl = options.url && /^https?:\/\//i.test(options.url) ? options.url : undefined;
  const light = dropInertBulk(html);
  const document = parseHtmlDocument(light, pageUrl);
  const metadata = readPageMetadata(document, pageUrl);
  const baseUrl = chooseBaseUrl(document, pageUrl, metadata.canonicalUrl);

  // Readability works on the page (its metadata is read already) with the furniture gone. A saved page that only
  // learns its address from its own metadata is parsed again at that address, so that relative links resolve.
  const copy = pageUrl === undefined && baseUrl !== null && document.baseURI !== baseUrl ? parseHtmlDocument(light, baseUrl) : document;
  if (copy.body) removeNoise(copy.body);
  // Classes are kept so the sanitizer can still spot promos and code languages; it drops them before Markdown.
  const parsed = new Readability(copy, { charThreshold: 250, keepClasses: true }).parse();
  const contentHtml = parsed?.content ?? '';
  const contentText = collapseWhitespace(parsed?.textContent ?? '');
  if (!parsed || contentText.length < MIN_ARTICLE_TEXT) {
    fail(`no article found on the page (${contentText.length} characters of main text; an article needs at least ${MIN_ARTICLE_TEXT})`);
  }
  const linkShare = linkTextShare(contentHtml);
  if (linkShare > 0.6 && contentText.length < 3000) {
    fail(`no article found on the page: its main block is mostly links (${Math.round(linkShare * 100)}% of the text), like a home or index page`);
  }

  const title = cleanTitle(metadata.title || collapseWhitespace(parsed?.title ?? '') || collapseWhitespace(document.title), metadata.siteName);
  if (title === '') fail('the page has no title (no og:title, <title> or heading)');

  const leadImage = metadata.image ?? firstImage(contentHtml, baseUrl, title);
  const body = htmlToMarkdown(contentHtml, { baseUrl, title, leadImageUrl: leadImage?.url ?? null, summary: metadata.description });
  if (countWords(body) < 20) fail('no article found on the page: after removing navigation, promos and unsafe content, almost no text was left');

  const author = metadata.author || cleanByline(parsed?.byline ?? '');
  const published = metadata.publishedAt ?? parseDateValue(parsed?.publishedTime ?? undefined);
  const summary = shortenText(metadata.description || firstParagraphText(body));
  return {
    article: {
      slug: slugify(title),
      title,
      summary,
      body,
      canonicalUrl: metadata.canonicalUrl || (pageUrl ? stripTracking(pageUrl) : ''),
      author,
      publishedAt: published ?? (options.now ?? new Date()).toISOString(),
      leadImage,
      tags: metadata.tags,
    },
    publishedKnown: published !== null,
    dropped: [],
    warnings: baseUrl === null && hasRelativeUrls(contentHtml) ? ['the page has relative links or images and no address to resolve them against, so they were left out; give the address it was saved from with --url'] : [],
  };
}

/** Whether a block of HTML links to or shows anything by a relative address. */
function hasRelativeUrls(html: string): boolean {
  const document = parseHtmlDocument(`<body>${html}</body>`);
  return Array.from(document.querySelectorAll('a[href], img[src]')).some((element) => {
    const value = (element.getAttribute('href') ?? element.getAttribute('src') ?? '').trim();
    return value !== '' && !value.startsWith('#') && !/^[a-z][a-z0-9+.-]*:/i.test(value) && !value.startsWith('//');
  });
}

/** Title, description, author, dates, canonical URL, lead image, site name and tags from meta tags and JSON-LD. */
export function readPageMetadata(document: Document, pageUrl?: string): PageMetadata {
  const meta = collectMeta(document);
  const ld = readJsonLd(document);
  const base = chooseBaseUrl(document, pageUrl, '');
  const first = (...names: string[]): string => {
    for (const name of names) {
      const value = meta.get(name)?.[0];
      if (value) return value;
    }
    return '';
  };

  const canonicalHref = document.querySelector('link[rel~="canonical" i][href]')?.getAttribute('href') ?? '';
  const canonicalCandidates = [canonicalHref, first('og:url'), ld.url];
  let canonicalUrl = '';
  for (const candidate of canonicalCandidates) {
    const absolute = candidate ? safeUrl(candidate, base, 'link') : null;
    if (absolute && /^https?:/.test(absolute)) {
      canonicalUrl = stripTracking(absolute);
      break;
    }
  }
  const imageBase = base ?? (canonicalUrl || null);
  const imageUrl = [first('og:image:secure_url', 'og:image:url', 'og:image'), first('twitter:image', 'twitter:image:src'), ld.image]
    .map((candidate) => (candidate ? safeUrl(candidate, imageBase, 'image') : null))
    .find((candidate): candidate is string => candidate !== null);
  const title = collapseWhitespace(first('og:title', 'twitter:title') || ld.headline || first('dc.title', 'parsely-title'));
  const imageAlt = collapseWhitespace(first('og:image:alt', 'twitter:image:alt') || ld.imageAlt);

  const metaAuthor = first('author', 'article:author', 'parsely-author', 'dc.creator', 'sailthru.author', 'byl');
  const author = ld.authors.length > 0 ? joinNames(ld.authors) : /^https?:\/\//.test(metaAuthor) ? '' : cleanByline(metaAuthor);

  const dateCandidates = [
    ld.datePublished,
    first('article:published_time', 'og:article:published_time', 'published_time', 'date', 'pubdate', 'publishdate', 'publish-date', 'publish_date', 'dc.date', 'dc.date.issued', 'dcterms.created', 'dcterms.date', 'sailthru.date', 'parsely-pub-date'),
    document.querySelector('[itemprop="datePublished"]')?.getAttribute('content') ?? document.querySelector('[itemprop="datePublished"]')?.getAttribute('datetime') ?? '',
    document.querySelector('article time[datetime], time[pubdate][datetime]')?.getAttribute('datetime') ?? '',
    ld.dateModified,
    first('article:modified_time', 'og:updated_time'),
  ];
  const publishedAt = dateCandidates.map((candidate) => parseDateValue(candidate)).find((value): value is string => value !== null) ?? null;

  const tags: string[] = [];
  for (const tag of [...(meta.get('article:tag') ?? []), ...ld.keywords]) {
    const normalized = collapseWhitespace(tag).toLowerCase();
    if (normalized !== '' && normalized.length <= 40 && !tags.includes(normalized) && tags.length < MAX_TAGS) tags.push(normalized);
  }

  return {
    title,
    description: collapseWhitespace(first('description', 'og:description', 'twitter:description', 'dc.description') || ld.description),
    author,
    publishedAt,
    canonicalUrl,
    image: imageUrl ? { url: imageUrl, alt: imageAlt || title } : null,
    siteName: collapseWhitespace(first('og:site_name', 'application-name') || ld.publisher),
    tags,
  };
}

/** Every meta tag's content by lowercase name or property, in document order. */
function collectMeta(document: Document): Map<string, string[]> {
  const meta = new Map<string, string[]>();
  for (const element of Array.from(document.querySelectorAll('meta[content]'))) {
    const content = stripControlCharacters(element.getAttribute('content') ?? '').trim();
    if (content === '') continue;
    for (const attribute of ['property', 'name', 'itemprop']) {
      const key = element.getAttribute(attribute)?.trim().toLowerCase();
      if (!key) continue;
      const values = meta.get(key) ?? [];
      values.push(content);
      meta.set(key, values);
    }
  }
  return meta;
}

interface JsonLdArticle {
  headline: string;
  description: string;
  datePublished: string;
  dateModified: string;
  authors: string[];
  image: string;
  imageAlt: string;
  url: string;
  publisher: string;
  keywords: string[];
}

/** The first Article-like object (NewsArticle, BlogPosting, …) in the page's JSON-LD blocks, @graph included. */
function readJsonLd(document: Document): JsonLdArticle {
  const result: JsonLdArticle = { headline: '', description: '', datePublished: '', dateModified: '', authors: [], image: '', imageAlt: '', url: '', publisher: '', keywords: [] };
  const objects: Record<string, unknown>[] = [];
  const collect = (value: unknown, depth: number) => {
    if (depth > 6 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) collect(item, depth + 1);
      return;
    }
    const record = value as Record<string, unknown>;
    objects.push(record);
    if (record['@graph']) collect(record['@graph'], depth + 1);
  };
  for (const script of Array.from(document.querySelectorAll('script[type="application/ld+json" i]'))) {
    const text = (script.textContent ?? '').replace(/^\s*<!--|-->\s*$/g, '').replace(/^\s*\/\/<!\[CDATA\[|\/\/\]\]>\s*$/g, '').trim();
    if (text === '') continue;
    try {
      collect(JSON.parse(text), 0);
    } catch {
      // A broken JSON-LD block is ignored: the meta tags and the page itself still say enough.
    }
  }
  const typeOf = (record: Record<string, unknown>): string[] => {
    const type = record['@type'];
    return (Array.isArray(type) ? type : [type]).filter((t): t is string => typeof t === 'string').map((t) => t.toLowerCase());
  };
  const article =
    objects.find((record) => typeOf(record).some((type) => ARTICLE_TYPES.has(type) && type !== 'webpage')) ??
    objects.find((record) => typeOf(record).includes('webpage') && (record.headline || record.datePublished));
  if (!article) return result;
  const text = (value: unknown): string => (typeof value === 'string' ? collapseWhitespace(value) : '');
  result.headline = text(article.headline) || text(article.name);
  result.description = text(article.description);
  result.datePublished = text(article.datePublished) || text(article.dateCreated);
  result.dateModified = text(article.dateModified);
  result.authors = namesOf(article.author ?? article.creator);
  const image = Array.isArray(article.image) ? article.image[0] : article.image;
  if (typeof image === 'string') result.image = image;
  else if (image && typeof image === 'object') {
    const record = image as Record<string, unknown>;
    result.image = text(record.url) || text(record.contentUrl) || text(record['@id']);
    result.imageAlt = text(record.caption) || text(record.description) || text(record.name);
  }
  const mainEntity = article.mainEntityOfPage;
  const id = text(article['@id']).replace(/#.*$/, '');
  result.url = text(article.url) || (/^https?:\/\//.test(id) ? id : '') || (typeof mainEntity === 'string' ? mainEntity : mainEntity && typeof mainEntity === 'object' ? text((mainEntity as Record<string, unknown>)['@id']) || text((mainEntity as Record<string, unknown>).url) : '');
  const publisher = article.publisher;
  result.publisher = publisher && typeof publisher === 'object' && !Array.isArray(publisher) ? text((publisher as Record<string, unknown>).name) : text(publisher);
  const keywords = article.keywords;
  result.keywords = (typeof keywords === 'string' ? keywords.split(',') : Array.isArray(keywords) ? keywords : []).filter((k): k is string => typeof k === 'string');
  return result;
}

function namesOf(value: unknown): string[] {
  const names: string[] = [];
  const add = (item: unknown) => {
    if (typeof item === 'string') {
      const name = collapseWhitespace(item);
      if (name !== '' && !/^https?:\/\//.test(name)) names.push(name);
    } else if (item && typeof item === 'object' && !Array.isArray(item)) {
      const name = (item as Record<string, unknown>).name;
      if (typeof name === 'string') add(name);
    }
  };
  if (Array.isArray(value)) value.forEach(add);
  else add(value);
  return [...new Set(names)];
}

/** "Ada", "Ada and Bob", "Ada, Bob and Cy". */
function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** "By Jane Doe | March 3, 2026" → "Jane Doe". */
function cleanByline(byline: string): string {
  const text = collapseWhitespace(byline).replace(/^(by|written by|posted by|author:?)\s+/i, '');
  const name = text.split(/\s+[|·•—–]\s+|\s+-\s+|,\s*(?=\d)|\s+on\s+(?=\w+\s+\d)/)[0]?.trim() ?? '';
  return countWords(name) <= 10 ? name : '';
}

/** Drops " | Site name" and "Site name: " around a title when they name the site. */
function cleanTitle(title: string, siteName: string): string {
  let clean = collapseWhitespace(title);
  if (siteName) {
    const site = siteName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    clean = clean.replace(new RegExp(`\\s+[|\\-–—·:»]\\s+${site}$`, 'i'), '').replace(new RegExp(`^${site}\\s+[|\\-–—·:»]\\s+`, 'i'), '');
  }
  return clean;
}

/** Where relative URLs point: the page's own base (its URL and any <base href>), else its canonical URL. */
function chooseBaseUrl(document: Document, pageUrl: string | undefined, canonicalUrl: string): string | null {
  const baseUri = document.baseURI;
  if (/^https?:\/\//i.test(baseUri)) return baseUri;
  const baseHref = document.querySelector('base[href]')?.getAttribute('href') ?? '';
  if (/^https?:\/\//i.test(baseHref)) return baseHref;
  if (pageUrl) return pageUrl;
  return canonicalUrl || null;
}

function firstImage(contentHtml: string, baseUrl: string | null, title: string): LeadImage | null {
  const document = parseHtmlDocument(`<body>${contentHtml}</body>`);
  for (const img of Array.from(document.querySelectorAll('img[src]'))) {
    const url = safeUrl(img.getAttribute('src') ?? '', baseUrl, 'image');
    const width = Number(img.getAttribute('width') ?? NaN);
    if (url && !(width <= 2)) return { url, alt: collapseWhitespace(img.getAttribute('alt') ?? '') || title };
  }
  return null;
}

/** How much of a block's text sits inside links. */
function linkTextShare(contentHtml: string): number {
  const document = parseHtmlDocument(`<body>${contentHtml}</body>`);
  const total = collapseWhitespace(document.body.textContent ?? '').length;
  if (total === 0) return 0;
  const inLinks = Array.from(document.querySelectorAll('a')).reduce((sum, link) => sum + collapseWhitespace(link.textContent ?? '').length, 0);
  return inLinks / total;
}

/** A page URL without campaign parameters and fragment, as a canonical URL. */
export function stripTracking(url: string): string {
  try {
    const parsed = new URL(url);
    for (const key of Array.from(parsed.searchParams.keys())) {
      if (/^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|ref_src|igshid|_hsenc|_hsmi)$/i.test(key)) parsed.searchParams.delete(key);
    }
    parsed.hash = '';
    return parsed.href;
  } catch {
    return url;
  }
}
