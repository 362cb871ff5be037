/**
 * Makes imported content safe and clean before it is stored: HTML goes through DOMPurify on a jsdom window (no scripts,
 * styles, frames, forms, objects or event handlers; links only http(s) and mailto; images only http(s); every relative
 * URL made absolute), loses its navigation, share bars, promos and sign-up boxes, and becomes Markdown with turndown.
 * Markdown written by people keeps its text, but raw HTML and unsafe links in it are cleaned the same way.
 */
import createDOMPurify, { type Config as PurifyConfig, type DOMPurify } from 'dompurify';
import { JSDOM, VirtualConsole } from 'jsdom';
import { Lexer, Parser, type Token, type Tokens } from 'marked';
import TurndownService from 'turndown';
import { decodeEntities } from '../core/html-entities.ts';
import { isUiLabel } from './boilerplate.ts';
import { collapseWhitespace, countWords } from './text-tools.ts';

export type UrlKind = 'link' | 'image';

const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
const IMAGE_PROTOCOLS = new Set(['http:', 'https:']);

/** Elements removed with everything inside them. */
const FORBIDDEN_TAGS = [
  'script', 'style', 'iframe', 'frame', 'frameset', 'form', 'input', 'button', 'select', 'option', 'optgroup', 'textarea',
  'label', 'fieldset', 'object', 'embed', 'applet', 'link', 'meta', 'base', 'noscript', 'template', 'svg', 'math', 'canvas',
  'video', 'audio', 'source', 'track', 'dialog', 'nav', 'footer', 'aside', 'menu', 'head', 'title', 'portal', 'slot',
];

const PURIFY_CONFIG: PurifyConfig = {
  FORBID_TAGS: FORBIDDEN_TAGS,
  ADD_FORBID_CONTENTS: FORBIDDEN_TAGS,
  FORBID_ATTR: ['style', 'srcset', 'sizes', 'ping', 'formaction', 'action', 'background', 'poster', 'xlink:href', 'target'],
  ALLOW_DATA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  // Schemes: http(s) and mailto; anything without a scheme (relative) is resolved later and checked again.
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  WHOLE_DOCUMENT: false,
};

/** Roles of page furniture, not article text. */
const NOISE_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'complementary', 'search', 'dialog', 'alertdialog', 'menu', 'menubar', 'toolbar', 'tablist', 'form']);

/** Class and id words of share bars, promos, sign-up boxes and the like (whole words of the class or id, never substrings). */
const NOISE_TOKENS = new Set([
  'share', 'shares', 'sharing', 'sharebar', 'sharedaddy', 'addtoany', 'social', 'socials', 'newsletter', 'signup', 'subscribe',
  'subscription', 'related', 'relatedposts', 'promo', 'promos', 'promotion', 'promoted', 'advert', 'adverts', 'advertisement',
  'advertising', 'ad', 'ads', 'adslot', 'adunit', 'sponsor', 'sponsored', 'cookie', 'cookies', 'consent', 'gdpr', 'popup', 'modal',
  'comments', 'comment', 'disqus', 'breadcrumb', 'breadcrumbs', 'pagination', 'pager', 'toolbar', 'sidebar', 'cta', 'outbrain',
  'taboola', 'recirc', 'recirculation', 'trending', 'paywall', 'skiplink', 'nav', 'navbar', 'menu', 'footer', 'masthead', 'toc',
]);

const TRACKING_PIXEL_MAX = 2;

interface Purifier {
  readonly window: JSDOM['window'];
  readonly purify: DOMPurify;
}

let shared: Purifier | null = null;

/** One jsdom window (never running scripts, never loading anything) and its DOMPurify, made on first use. */
function purifier(): Purifier {
  if (!shared) {
    const { window } = new JSDOM('<!doctype html><html><body></body></html>', { virtualConsole: new VirtualConsole() });
    shared = { window, purify: createDOMPurify(window as unknown as Parameters<typeof createDOMPurify>[0]) };
  }
  return shared;
}

/** Above this size a fragment gets a document of its own: jsdom's innerHTML slows down badly on long input. */
const FRAGMENT_INNER_HTML_LIMIT = 100_000;

/** Parses an HTML fragment into a detached <div> (scripts never run, nothing is loaded). */
export function parseHtmlFragment(html: string): HTMLElement {
  if (html.length > FRAGMENT_INNER_HTML_LIMIT) {
    const { window } = new JSDOM(`<!doctype html><html><body><div>${html}</div></body></html>`, { virtualConsole: new VirtualConsole() });
    return window.document.body.firstElementChild as HTMLElement;
  }
  const { window } = purifier();
  const container = window.document.createElement('div');
  container.innerHTML = html;
  return container;
}

/** DOMPurify for the window an element lives in. */
function purifierFor(element: Element): DOMPurify {
  const shared = purifier();
  const view = element.ownerDocument.defaultView;
  if (view === null || element.ownerDocument === shared.window.document) return shared.purify;
  return createDOMPurify(view as unknown as Parameters<typeof createDOMPurify>[0]);
}

/**
 * A URL that is safe to keep, made absolute against `baseUrl`: links may be http(s) or mailto, images only http(s).
 * Entities, control characters and whitespace that hide a scheme ("java&#115;cript:", "java\tscript:") are undone
 * before the check. Null when the URL is unsafe, or relative with no base to resolve it against.
 */
export function safeUrl(raw: string, baseUrl: string | null | undefined, kind: UrlKind): string | null {
  // As browsers do: leading and trailing controls and spaces are ignored, tabs and newlines anywhere are removed.
  // eslint-disable-next-line no-control-regex
  const decoded = raw.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  if (decoded === '') return null;
  let url: URL;
  try {
    url = baseUrl ? new URL(decoded, baseUrl) : new URL(decoded);
  } catch {
    return null;
  }
  const allowed = kind === 'link' ? LINK_PROTOCOLS : IMAGE_PROTOCOLS;
  if (!allowed.has(url.protocol)) return null;
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname === '') return null;
  return url.href;
}

/**
 * For Markdown written by people: relative URLs ("/media/x.png", "#notes") stay as they are (the email resolves them
 * against the article's URL or this server); a URL with a scheme must pass `safeUrl`.
 */
export function safeMarkdownUrl(raw: string, kind: UrlKind): string | null {
  const trimmed = raw.trim();
  // Entities and invisible characters can hide a scheme: "&#106;avascript:", "java\tscript:".
  // eslint-disable-next-line no-control-regex
  const squeezed = decodeEntities(trimmed, 'html').replace(/[\u0000-\u0020\u007F-\u009F\u00AD\u200B-\u200F\uFEFF]+/g, '');
  if (squeezed === '') return null;
  if (!/^[a-z][a-z0-9+.-]*:/i.test(squeezed) && !squeezed.startsWith('//')) return /[<>"]/.test(trimmed) ? null : trimmed;
  return safeUrl(squeezed, undefined, kind) === null ? null : trimmed;
}

export interface CleanHtmlOptions {
  /** The page's address: relative links and images are resolved against it (dropped when it is missing). */
  readonly baseUrl?: string | null | undefined;
}

/** Sanitized, de-cluttered HTML with absolute URLs. */
export function sanitizeHtml(html: string, options: CleanHtmlOptions = {}): string {
  return sanitizeFragment(html, options).innerHTML;
}

/** Parses HTML into a detached element and cleans it there: DOMPurify in place, then URLs, then clutter. */
function sanitizeFragment(html: string, options: CleanHtmlOptions): HTMLElement {
  const container = parseHtmlFragment(html);
  prepareFragment(container);
  purifierFor(container).sanitize(container, { ...PURIFY_CONFIG, IN_PLACE: true });
  fixUrls(container, options.baseUrl ?? null);
  removeNoise(container);
  removeEmptyBlocks(container);
  return container;
}

export interface HtmlToMarkdownOptions extends CleanHtmlOptions {
  /** Drop a heading at the top that repeats the title. */
  readonly title?: string | undefined;
  /** Drop an image at the top that is the lead image (the template shows it already). */
  readonly leadImageUrl?: string | null | undefined;
  /** Drop a paragraph at the top that repeats the summary (a page's standfirst, shown as the dek). */
  readonly summary?: string | undefined;
}

/** Sanitizes HTML and converts it to Markdown (ATX headings, "-" bullets, fenced code, inline links). */
export function htmlToMarkdown(html: string, options: HtmlToMarkdownOptions = {}): string {
  const container = sanitizeFragment(html, options);
  dropLeadingDuplicates(container, options);
  // turndown parses the string with its own, much faster DOM.
  const markdown = turndown().turndown(container.innerHTML);
  return tidyMarkdown(markdown);
}

let turndownService: TurndownService | null = null;

function turndown(): TurndownService {
  if (turndownService) return turndownService;
  const service = new TurndownService({
    headingStyle: 'atx',
    hr: '---',
    bulletListMarker: '-',
    codeBlockStyle: 'fenced',
    fence: '```',
    emDelimiter: '_',
    strongDelimiter: '**',
    linkStyle: 'inlined',
  });
  service.remove(['script', 'style', 'noscript', 'template', 'iframe', 'form', 'button', 'input', 'select', 'textarea', 'object', 'embed']);
  // Text that reads like a tag or an entity ("the <script> tag", "&copy;") stays text: Markdown would take it as HTML.
  const escapeText = service.escape.bind(service);
  service.escape = (text: string) => escapeText(text).replace(/<(?=[a-zA-Z/!?])/g, '\\<').replace(/&(?=#?[a-zA-Z0-9]+;)/g, '\\&');
  // The article's title is shown by the template; a body h1 is a section heading.
  service.addRule('demote-h1', {
    filter: 'h1',
    replacement: (content) => `\n\n## ${collapseWhitespace(content)}\n\n`,
  });
  service.addRule('caption', {
    filter: 'figcaption',
    replacement: (content) => {
      const text = collapseWhitespace(content);
      return text === '' ? '' : `\n\n_${text.replace(/^_+|_+$/g, '')}_\n\n`;
    },
  });
  service.addRule('empty-link', {
    filter: (node) => node.nodeName === 'A' && (node.textContent ?? '').trim() === '' && !node.querySelector('img'),
    replacement: () => '',
  });
  // "- item" and "1. item" with continuation lines indented to match, instead of turndown's "-   item".
  service.addRule('list-item', {
    filter: 'li',
    replacement: (content, node) => {
      const parent = node.parentNode as HTMLElement | null;
      let prefix = '- ';
      if (parent?.nodeName === 'OL') {
        const start = Number(parent.getAttribute('start') ?? '1');
        const index = Array.prototype.indexOf.call(parent.children, node) as number;
        prefix = `${(Number.isFinite(start) ? start : 1) + index}. `;
      }
      const text = content.replace(/^\n+/, '').replace(/\n+$/, '\n').replace(/\n/gm, `\n${' '.repeat(prefix.length)}`);
      return `${prefix}${text}${node.nextSibling && !/\n$/.test(text) ? '\n' : ''}`;
    },
  });
  service.addRule('table', {
    filter: 'table',
    replacement: (_content, node) => convertTable(node as HTMLTableElement, service),
  });
  service.addRule('code-language', {
    filter: (node) => node.nodeName === 'PRE' && node.firstChild?.nodeName === 'CODE',
    replacement: (_content, node) => {
      const code = node.firstChild as HTMLElement;
      const language = /(?:^|\s)(?:language|lang)-([\w+#-]+)/.exec(code.getAttribute('class') ?? '')?.[1] ?? '';
      const text = (code.textContent ?? '').replace(/\n$/, '');
      const fence = text.includes('```') ? '~~~~' : '```';
      return `\n\n${fence}${language}\n${text}\n${fence}\n\n`;
    },
  });
  turndownService = service;
  return service;
}

/** A simple table (one line per cell) as a GFM table; anything richer as one paragraph per row. */
function convertTable(table: HTMLTableElement, service: TurndownService): string {
  const rows = Array.from(table.querySelectorAll('tr'));
  if (rows.length === 0) return '';
  const cellText = (cell: Element) => collapseWhitespace(service.turndown((cell as HTMLElement).innerHTML)).replace(/\|/g, '\\|');
  const matrix = rows.map((row) => Array.from(row.children).filter((cell) => cell.nodeName === 'TD' || cell.nodeName === 'TH').map(cellText));
  const width = Math.max(...matrix.map((row) => row.length));
  const simple = width > 0 && rows.every((row) => !row.querySelector('table, ul, ol, pre, blockquote, h1, h2, h3, h4, h5, h6'));
  if (!simple) return `\n\n${matrix.map((row) => row.filter(Boolean).join(' · ')).filter(Boolean).join('\n\n')}\n\n`;
  const padded = matrix.map((row) => [...row, ...Array.from({ length: width - row.length }, () => '')]);
  const [header = [], ...body] = padded;
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return `\n\n${[line(header), line(header.map(() => '---')), ...body.map(line)].join('\n')}\n\n`;
}

/** Before sanitizing: lazy images get their real source, video frames become links, hidden things go. */
function prepareFragment(root: HTMLElement): void {
  for (const element of Array.from(root.querySelectorAll('[hidden], [aria-hidden="true"]'))) element.remove();
  for (const img of Array.from(root.querySelectorAll('img'))) {
    const src = img.getAttribute('src') ?? '';
    if (src === '' || src.startsWith('data:')) {
      const lazy = ['data-src', 'data-lazy-src', 'data-original', 'data-url', 'data-hi-res-src'].map((name) => img.getAttribute(name)).find((value) => value);
      const fromSet = bestFromSrcset(img.getAttribute('srcset') ?? img.getAttribute('data-srcset') ?? '');
      const chosen = lazy ?? fromSet;
      if (chosen) img.setAttribute('src', chosen);
    }
  }
  for (const frame of Array.from(root.querySelectorAll('iframe[src]'))) {
    const src = frame.getAttribute('src') ?? '';
    if (/^(https?:)?\/\/(www\.)?(youtube(-nocookie)?\.com|youtu\.be|player\.vimeo\.com|vimeo\.com)\//i.test(src)) {
      const paragraph = frame.ownerDocument.createElement('p');
      const link = frame.ownerDocument.createElement('a');
      const absolute = src.startsWith('//') ? `https:${src}` : src;
      const youtube = /youtube(?:-nocookie)?\.com\/embed\/([\w-]{6,})/i.exec(absolute)?.[1];
      const vimeo = /player\.vimeo\.com\/video\/(\d+)/i.exec(absolute)?.[1];
      link.setAttribute('href', youtube ? `https://www.youtube.com/watch?v=${youtube}` : vimeo ? `https://vimeo.com/${vimeo}` : absolute);
      link.textContent = frame.getAttribute('title') ? `Video: ${frame.getAttribute('title')}` : 'Watch the video';
      paragraph.appendChild(link);
      frame.replaceWith(paragraph);
    }
  }
}

function bestFromSrcset(srcset: string): string | null {
  let best: { url: string; score: number } | null = null;
  for (const candidate of srcset.split(/,\s+/)) {
    const [url = '', descriptor = '1x'] = candidate.trim().split(/\s+/);
    if (url === '' || url.startsWith('data:')) continue;
    const score = Number.parseFloat(descriptor) || 1;
    if (!best || score > best.score) best = { url, score };
  }
  return best?.url ?? null;
}

/** Links and images: absolute and of an allowed scheme, or gone (a link keeps its text). Tracking pixels go too. */
function fixUrls(root: HTMLElement, baseUrl: string | null): void {
  for (const link of Array.from(root.querySelectorAll('a'))) {
    const href = link.getAttribute('href');
    const safe = href === null ? null : safeUrl(href, baseUrl, 'link');
    for (const name of Array.from(link.getAttributeNames())) if (name !== 'href' && name !== 'title') link.removeAttribute(name);
    if (safe === null) unwrap(link);
    else link.setAttribute('href', safe);
  }
  for (const img of Array.from(root.querySelectorAll('img'))) {
    const src = img.getAttribute('src');
    const safe = src === null ? null : safeUrl(src, baseUrl, 'image');
    const width = Number(img.getAttribute('width') ?? NaN);
    const height = Number(img.getAttribute('height') ?? NaN);
    if (safe === null || (width <= TRACKING_PIXEL_MAX && height <= TRACKING_PIXEL_MAX)) {
      img.remove();
      continue;
    }
    img.setAttribute('src', safe);
    img.setAttribute('alt', collapseWhitespace(img.getAttribute('alt') ?? ''));
    for (const name of Array.from(img.getAttributeNames())) if (!['src', 'alt', 'title'].includes(name)) img.removeAttribute(name);
  }
  // Any other attribute that could carry a URL is dropped outright.
  for (const element of Array.from(root.querySelectorAll('[cite], [longdesc], [usemap], [srcset]'))) {
    for (const name of ['cite', 'longdesc', 'usemap', 'srcset']) element.removeAttribute(name);
  }
}

function unwrap(element: Element): void {
  element.replaceWith(...Array.from(element.childNodes));
}

/** The words of an element's class and id: "newsletterSignup share-bar" → newsletter, signup, share, bar. */
function attributeWords(element: Element): string[] {
  const text = `${element.getAttribute('class') ?? ''} ${element.getAttribute('id') ?? ''}`;
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether an element is page furniture: by tag, role or class words, or because all it says is a UI label. */
export function isNoiseElement(element: Element, totalText: number): boolean {
  const tag = element.nodeName.toLowerCase();
  if (tag === 'body' || tag === 'html' || tag === 'main' || tag === 'article') return false;
  const role = (element.getAttribute('role') ?? '').toLowerCase();
  const byShape = ['nav', 'footer', 'aside', 'form', 'button', 'dialog', 'menu'].includes(tag) || NOISE_ROLES.has(role) || attributeWords(element).some((word) => NOISE_TOKENS.has(word));
  if (byShape) {
    // Never remove what holds most of the text: a "share-enabled" article wrapper is still the article.
    return !(totalText > 0 && collapseWhitespace(element.textContent ?? '').length > totalText * 0.4);
  }
  if (!['p', 'div', 'span', 'li', 'ul', 'section', 'h2', 'h3', 'h4', 'h5', 'h6'].includes(tag) || element.childElementCount > 3) return false;
  const raw = element.textContent ?? '';
  if (raw.length > 400) return false;
  const text = collapseWhitespace(raw);
  if (text !== '' && text.length <= 60 && isUiLabel(text) && element.querySelector('img') === null) return true;
  return tag === 'p' && /^the post .{1,300} appeared first on .{1,200}$/i.test(text);
}

/** Removes navigation, share bars, promos, sign-up boxes and UI labels from a fragment or a whole document. */
export function removeNoise(root: Element): void {
  const totalText = collapseWhitespace(root.textContent ?? '').length;
  for (const element of Array.from(root.querySelectorAll('*'))) {
    if (!root.contains(element)) continue;
    if (isNoiseElement(element, totalText)) element.remove();
  }
}

/** Paragraphs, list items and containers left with nothing in them. */
function removeEmptyBlocks(root: HTMLElement): void {
  for (let pass = 0; pass < 3; pass += 1) {
    for (const element of Array.from(root.querySelectorAll('p, div, span, li, ul, ol, section, blockquote, figure, h1, h2, h3, h4, h5, h6, strong, em, b, i'))) {
      if ((element.textContent ?? '').trim() === '' && element.querySelector('img, br, hr') === null) element.remove();
    }
  }
}

function dropLeadingDuplicates(root: HTMLElement, options: HtmlToMarkdownOptions): void {
  const normalize = (text: string) => collapseWhitespace(text).toLowerCase();
  for (let guard = 0; guard < 5; guard += 1) {
    const first = firstContentElement(root);
    if (!first) return;
    if (/^H[1-6]$/.test(first.nodeName) && options.title && normalize(first.textContent ?? '') === normalize(options.title)) {
      first.remove();
      continue;
    }
    const text = normalize(first.textContent ?? '');
    if (first.nodeName === 'P' && options.summary && text !== '' && text === normalize(options.summary)) {
      first.remove();
      continue;
    }
    // A kicker ("Wellbeing", "Analysis") left above the text.
    if (first.nodeName === 'P' && text !== '' && countWords(text) <= 3 && !/[.!?:]$/.test(text) && first.querySelector('img, a') === null && first.nextElementSibling !== null) {
      first.remove();
      continue;
    }
    const image = first.nodeName === 'IMG' ? first : first.querySelector('img');
    const onlyImage = image !== null && collapseWhitespace(first.textContent ?? '') === '' && first.querySelectorAll('img').length === 1;
    if (image && options.leadImageUrl && (first.nodeName === 'IMG' || onlyImage || first.nodeName === 'FIGURE') && sameImage(image.getAttribute('src') ?? '', options.leadImageUrl)) {
      first.remove();
      continue;
    }
    return;
  }
}

function firstContentElement(root: Element): Element | null {
  let node: Element | null = root.firstElementChild;
  while (node && ['DIV', 'SECTION', 'ARTICLE', 'HEADER'].includes(node.nodeName) && node.firstElementChild && collapseWhitespace(Array.from(node.childNodes).filter((child) => child.nodeType === 3).map((child) => child.textContent).join('')) === '') {
    node = node.firstElementChild;
  }
  return node;
}

function sameImage(a: string, b: string): boolean {
  const strip = (url: string) => url.replace(/[?#].*$/, '').replace(/^https?:/, '');
  return a !== '' && strip(a) === strip(b);
}

/** Collapses the blank lines turndown leaves, trims trailing spaces (keeping hard breaks) and the ends. */
export function tidyMarkdown(markdown: string): string {
  return markdown
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+$/gm, (spaces) => (spaces.length >= 2 ? '  ' : ''))
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\s*\n/, '')
    .trim();
}

// -------------------------------------------------------------------------------------------------------------------
// Markdown written by people

export interface SanitizedMarkdown {
  readonly markdown: string;
  /** What was removed or rewritten, for reports: "raw HTML", "javascript: link", … */
  readonly changes: readonly string[];
}

/**
 * Cleans hand-written Markdown: blocks that contain raw HTML or a link or image with an unsafe URL are rendered,
 * sanitized and converted back to Markdown; every other block is kept exactly as written. Reference definitions with an
 * unsafe URL are dropped. Idempotent: clean Markdown comes back unchanged.
 */
export function sanitizeMarkdown(markdown: string): SanitizedMarkdown {
  const tokens = new Lexer({ gfm: true }).lex(markdown);
  const changes: string[] = [];
  let out = '';
  for (const token of tokens) {
    if (token.type === 'def') {
      const def = token as Tokens.Def;
      if (safeMarkdownUrl(def.href, 'link') === null) {
        changes.push(`dropped the link definition [${def.tag}] to ${describeScheme(def.href)}`);
        out += '\n';
        continue;
      }
      out += token.raw;
      continue;
    }
    const problems = findProblems(token);
    if (problems.length === 0) {
      out += token.raw;
      continue;
    }
    changes.push(...problems);
    const html = new Parser({ gfm: true }).parse([token as Token]);
    const cleaned = restoreRelativeUrls(htmlToMarkdown(neutralizeUrls(html), {}));
    const trailing = /\n*$/.exec(token.raw)?.[0] ?? '';
    out += cleaned === '' ? trailing : `${cleaned}${trailing || '\n'}`;
  }
  const result = out.replace(/\n{3,}/g, '\n\n').trim();
  return { markdown: changes.length === 0 ? markdown : result, changes: [...new Set(changes)] };
}

/** Raw HTML, and links or images whose URL has a scheme that is not allowed, anywhere inside a block. */
function findProblems(token: Token): string[] {
  const problems: string[] = [];
  const visit = (node: Token) => {
    if (node.type === 'html') problems.push(`raw HTML ${describeHtml((node as Tokens.HTML).text)}`);
    if (node.type === 'link' && safeMarkdownUrl((node as Tokens.Link).href, 'link') === null) problems.push(`a link to ${describeScheme((node as Tokens.Link).href)}`);
    if (node.type === 'image' && safeMarkdownUrl((node as Tokens.Image).href, 'image') === null) problems.push(`an image from ${describeScheme((node as Tokens.Image).href)}`);
    const children: Token[] = [];
    if ('tokens' in node && Array.isArray(node.tokens)) children.push(...(node.tokens as Token[]));
    if (node.type === 'list') for (const item of (node as Tokens.List).items) children.push(item);
    if (node.type === 'table') {
      const table = node as Tokens.Table;
      for (const cell of table.header) children.push(...cell.tokens);
      for (const row of table.rows) for (const cell of row) children.push(...cell.tokens);
    }
    for (const child of children) visit(child);
  };
  visit(token);
  return problems;
}

/**
 * Before a Markdown block's HTML is sanitized: unsafe links lose their address (an autolink, whose text is the address,
 * goes entirely), unsafe images go, and safe addresses, "/media/…" paths included, are carried through as written;
 * other relative addresses cannot be resolved and are dropped.
 */
function neutralizeUrls(html: string): string {
  const container = parseHtmlFragment(html);
  for (const link of Array.from(container.querySelectorAll('a'))) {
    const href = link.getAttribute('href') ?? '';
    const safe = safeMarkdownUrl(href, 'link');
    if (safe === null || (!/^[a-z][a-z0-9+.-]*:/i.test(safe) && !safe.startsWith('/'))) {
      if (collapseWhitespace(link.textContent ?? '') === collapseWhitespace(href)) link.remove();
      else link.removeAttribute('href');
    } else {
      link.setAttribute('href', placeholder(safe));
    }
  }
  for (const img of Array.from(container.querySelectorAll('img'))) {
    const safe = safeMarkdownUrl(img.getAttribute('src') ?? '', 'image');
    if (safe === null || (!/^https?:/i.test(safe) && !safe.startsWith('/'))) img.remove();
    else img.setAttribute('src', placeholder(safe));
  }
  return container.innerHTML;
}

/** Carries a URL through the sanitizer exactly as written (restoreRelativeUrls gives it back). */
function placeholder(url: string): string {
  return `${RELATIVE_BASE}${encodeURIComponent(url).replace(/\(/g, '%28').replace(/\)/g, '%29')}`;
}

const RELATIVE_BASE = 'https://relative.mailroom.invalid/?u=';

function describeHtml(html: string): string {
  const tag = /<\s*([a-z][a-z0-9-]*)/i.exec(html)?.[1];
  return tag ? `<${tag.toLowerCase()}>` : JSON.stringify(html.trim().slice(0, 20));
}

function describeScheme(href: string): string {
  const scheme = /^\s*([a-z][a-z0-9+.-]*):/i.exec(decodeEntities(href, 'html').replace(/[\s\u0000-\u001F]+/g, ''))?.[1];
  return scheme ? `${scheme.toLowerCase()}:` : JSON.stringify(href.slice(0, 30));
}

/** Restores relative URLs that went through the sanitizer as placeholders. */
export function restoreRelativeUrls(markdown: string): string {
  return markdown.replace(/https:\/\/relative\.mailroom\.invalid\/\?u=([^)\s"]*)/g, (_, encoded: string) => decodeURIComponent(encoded));
}

