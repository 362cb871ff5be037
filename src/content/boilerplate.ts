/**
 * Generic signals of page chrome, shared by the page-text and HTML importers: the labels of buttons and navigation,
 * image placeholders, reading times, bylines and calls to action. None of it names a particular site.
 */
import { countWords } from './text-tools.ts';

/** Whole-line labels of site UI (matched case-insensitively, ignoring trailing punctuation and arrows). */
const UI_LABELS = new Set(
  [
    'menu', 'main menu', 'open menu', 'close menu', 'toggle menu', 'toggle navigation', 'navigation', 'close', 'dismiss', 'search',
    'share', 'share this', 'share this article', 'share this post', 'share this story', 'share article', 'tweet', 'copy link',
    'link copied', 'copied', 'print', 'email', 'save', 'bookmark', 'home', 'back', 'go back', 'back to top', 'top',
    'skip to content', 'skip to main content', 'skip navigation', 'sign in', 'log in', 'login', 'log out', 'sign up', 'register',
    'subscribe', 'subscribe now', 'read more', 'see more', 'show more', 'load more', 'view more', 'view all', 'see all',
    'advertisement', 'advertising', 'ad', 'sponsored', 'sponsored content', 'promoted', 'related', 'related articles',
    'related posts', 'related stories', 'related content', 'recommended', 'recommended for you', 'you may also like',
    'you might also like', 'more stories', 'more articles', 'more news', 'trending', 'trending now', 'popular', 'most popular',
    'most read', 'next', 'previous', 'prev', 'next article', 'previous article', 'next post', 'previous post', 'next story',
    'listen', 'listen to this article', 'play', 'pause', 'mute', 'unmute', 'comments', 'comment', 'leave a comment',
    'leave a reply', 'reply', 'like', 'follow', 'follow us', 'facebook', 'twitter', 'linkedin', 'instagram', 'youtube', 'tiktok',
    'pinterest', 'reddit', 'whatsapp', 'threads', 'mastodon', 'bluesky', 'rss', 'accept', 'accept all', 'accept cookies',
    'reject all', 'cookie settings', 'manage cookies', 'cookie policy', 'privacy', 'privacy policy', 'terms', 'terms of use',
    'terms of service', 'terms and conditions', 'contact', 'contact us', 'about', 'about us', 'careers', 'press', 'sitemap',
    'loading', 'image', 'photo', 'video', 'gallery', 'view image', 'enlarge', 'expand', 'collapse', 'tags', 'topics',
    'categories', 'table of contents', 'on this page', 'in this article', 'jump to', 'translate', 'english', 'language',
    'get the app', 'download the app', 'open in app', 'watch now', 'learn more', 'get started', 'try it free',
    'start free trial', 'book a demo', 'request a demo', 'free trial', 'log in / sign up',
  ].map((label) => label.toLowerCase()),
);

/** Beginnings of lines that are never article text. */
const CHROME_PREFIXES =
  /^(read more\s*:|read next\s*:|related\s*:|see also\s*:|also read\s*:|also see\s*:|recommended\s*:|more\s*:|advertisement\b|sponsored by\b|photo\s*:|image\s*:|image (credit|source)\b|photo (credit|by)\b|credit\s*:|©|\(c\)\s|copyright\s+(©\s*)?\d{4}|all rights reserved|tags?\s*:|topics?\s*:|categories\s*:|filed under\b|posted in\b|share on\b|share via\b|follow us\b|we use cookies|this (web)?site uses cookies|by (using|continuing)\b.*\bcookies|skip to\b|jump to\b|click here to\b|tap here to\b|updated\s*:?\s*$)/i;

const PLACEHOLDER_WORDS = /(?:^|\s)(image|img|photo|picture|pic|thumbnail|placeholder|icon|logo|banner|graphic|illustration|avatar|hero)s?(?:\s+\d+)?$/i;

/** The line's lowercase words, without trailing punctuation, arrows or counters like "(3)". */
function labelKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/\s*\(\d+\)$/, '')
    .replace(/[\s.:!?…→›»>|·•-]+$/u, '')
    .replace(/^[\s←‹«<|·•-]+/u, '')
    .trim();
}

/** A button, menu or footer label ("Share", "Read more →", "Privacy Policy"), or a line that starts like one ("Read more: …", "© 2026 …"). */
export function isUiLabel(text: string): boolean {
  const key = labelKey(text);
  return UI_LABELS.has(key) || CHROME_PREFIXES.test(text.trim());
}

/** Text with no letters or digits at all: "×", "☰", "→", "|", "•••". */
export function isSymbolOnly(text: string): boolean {
  return !/[\p{L}\p{N}]/u.test(text);
}

/** An image's stand-in text ("Home Image", "Hero image 2", "Company logo", "img"). */
export function isImagePlaceholder(text: string): boolean {
  const words = countWords(text);
  if (words === 0 || words > 4 || !PLACEHOLDER_WORDS.test(text.trim())) return false;
  return words <= 2 || /\b(image|img|placeholder|thumbnail)s?\b/i.test(text);
}

/** "5 min read", "Reading time: 4 minutes", "3 minute read". */
export function isReadingTime(text: string): boolean {
  return /^(reading time\s*:?\s*)?(about\s+|~\s*)?\d+\s*(-|–)?\s*(min|mins|minute|minutes)\.?(\s+(read|to read|reading|listen))?$/i.test(text.trim());
}

/** "By Jane Doe", "Written by …", "Author: …" → the name(s), else null. */
export function readByline(text: string): string | null {
  const match = /^(?:by|written by|words by|posted by|story by|author|authors)\s*:?\s+(.+)$/i.exec(text.trim());
  if (!match?.[1]) return null;
  const name = match[1].split(/\s+[|·•—–]\s+|\s+-\s+|,\s*(?=\d)|\s+on\s+(?=\w+\s+\d)/u)[0]?.trim() ?? '';
  if (name === '' || countWords(name) > 8 || !/^[\p{Lu}\p{Lt}@]/u.test(name) || /[.!?]$/.test(name)) return null;
  return name;
}

/** A breadcrumb trail or a row of links run together: "Home › Blog › News", "News | World | Tech". */
export function isBreadcrumb(text: string): boolean {
  const separators = text.match(/\s[›»>/|→·•]\s|\s[›»>/|→·•]$|^[›»>/|→·•]\s/gu) ?? [];
  return separators.length >= 2 && countWords(text) <= 12 && !/[.!?]$/.test(text);
}

/**
 * A call to action or a slogan of the kind sites put after an article: "Ready to live more and work less?",
 * "Subscribe to our newsletter", "Book a demo today!", "© 2026 Acme". Only used at the end of a page.
 */
export function isCallToAction(text: string): boolean {
  const trimmed = text.trim();
  const words = countWords(trimmed);
  if (isUiLabel(trimmed)) return true;
  if (/newsletter|subscribe|unsubscribe|cookies?\b|©|all rights reserved|privacy policy|terms of (use|service)|sign up|get in touch|book a (demo|call)|free trial/i.test(trimmed) && words <= 30) return true;
  if (
    words <= 25 &&
    /^(subscribe|sign up|join|get started|get in touch|contact|book|schedule|request|download|try|start|learn more|discover more|find out|explore|follow|share|register|claim|grab|shop|buy|order|call|email us|talk to|let'?s (talk|chat|connect)|ready to|want to|need help|interested in|looking for|don'?t miss|stay (up to date|updated|in the loop|tuned|informed)|never miss|get (the|our|your|to know|more|a|access|free|in touch))\b/i.test(trimmed)
  ) {
    return true;
  }
  if (/\?["'”’)]*$/.test(trimmed) && words <= 15) return true;
  if (/!["'”’)]*$/.test(trimmed) && words <= 15) return true;
  return false;
}
