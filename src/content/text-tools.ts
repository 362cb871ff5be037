/** Small text helpers shared by the page, page-text and feed importers: whitespace, summaries, Markdown escaping, loose dates. */
import { Lexer, type Token } from 'marked';
import type { ArticleInput } from '../core/domain.ts';
import { decodeEntities } from '../core/html-entities.ts';
import { MAX_DERIVED_SUMMARY_LENGTH } from './article-file.ts';

/** An article read from a page, a page's text or a feed item, with what the importer needs to know about it. */
export interface ExtractedArticle {
  readonly article: ArticleInput;
  /** Whether the source gave a publication date; when it did not, `publishedAt` is the import time and a re-import keeps the stored date. */
  readonly publishedKnown: boolean;
  /** Lines or blocks left out as page chrome (navigation, buttons, calls to action), for reports. */
  readonly dropped: readonly string[];
  /** Things the user should know about the import (e.g. relative links that could not be resolved). */
  readonly warnings?: readonly string[];
}

export function collapseWhitespace(text: string): string {
  return text.replace(/[\s\u00A0\u200B\u2028\u2029\uFEFF]+/g, ' ').trim();
}

/** Removes control characters (not tabs or newlines) that have no place in stored text. */
export function stripControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069]/g, '');
}

/** Cuts text at a word boundary to at most `max` characters, ellipsis included (the same rule as Markdown files' summaries). */
export function shortenText(text: string, max = MAX_DERIVED_SUMMARY_LENGTH): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const lastSpace = cut.lastIndexOf(' ');
  const words = lastSpace >= max * 0.6 ? cut.slice(0, lastSpace) : cut;
  return `${words.replace(/[\s,;:.\-–—]+$/, '')}…`;
}

/** Words in a text: runs of non-space characters holding a letter or a digit. */
export function countWords(text: string): number {
  return text.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
}

/**
 * Escapes plain text so Markdown shows it literally: emphasis, code, link and HTML characters everywhere, and block
 * markers (#, >, list markers, setext underlines) at the start of the line.
 */
export function escapeMarkdown(text: string, where: 'block' | 'heading' = 'block'): string {
  let escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/([*_`[\]<~])/g, '\\$1')
    .replace(/&(?=#?[a-z0-9]+;)/gi, '\\&');
  // In an ATX heading only a closing run of # matters.
  if (where === 'heading') return escaped.replace(/(\s)(#+)\s*$/, (_, space: string, marks: string) => `${space}${marks.replace(/#/g, '\\#')}`);
  escaped = escaped
    .replace(/^(\s*)(#{1,6})(?=\s|$)/, '$1\\$2')
    .replace(/^(\s*)>/, '$1\\>')
    .replace(/^(\s*)([-+])(?=\s)/, '$1\\$2')
    .replace(/^(\s*)(\d{1,9})([.)])(?=\s|$)/, '$1$2\\$3')
    .replace(/^(\s*)([=-]+)\s*$/, (_, space: string, marks: string) => `${space}${marks.replace(/./g, '\\$&')}`);
  return escaped;
}

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1, january: 1, feb: 2, february: 2, mar: 3, march: 3, apr: 4, april: 4, may: 5, jun: 6, june: 6, jul: 7, july: 7,
  aug: 8, august: 8, sep: 9, sept: 9, september: 9, oct: 10, october: 10, nov: 11, november: 11, dec: 12, december: 12,
};

const MONTH = '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
const MONTH_DAY_YEAR = new RegExp(`\\b${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`, 'i');
const DAY_MONTH_YEAR = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH},?\\s+(\\d{4})\\b`, 'i');
const ISO_DATE_TIME = /\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?\s*(Z|[+-]\d{2}:?\d{2})?)?\b/;

function isoFrom(year: number, month: number, day: number, time?: { h: number; m: number; s: number; zone: string | undefined }): string | null {
  if (year < 1970 || year > 2200 || month < 1 || month > 12) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return null;
  if (!time) return new Date(Date.UTC(year, month - 1, day)).toISOString();
  if (time.h > 23 || time.m > 59 || time.s > 59) return null;
  let offset = 0;
  if (time.zone && time.zone.toUpperCase() !== 'Z') {
    const zone = /^([+-])(\d{2}):?(\d{2})$/.exec(time.zone);
    if (!zone) return null;
    offset = (zone[1] === '-' ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3]));
  }
  return new Date(Date.UTC(year, month - 1, day, time.h, time.m, time.s) - offset * 60_000).toISOString();
}

/** Finds a date written for people ("November 20, 2026", "20 Nov 2026", "2026-11-20T09:00Z") in a line; ISO string or null. */
export function findDateInText(text: string): string | null {
  const iso = ISO_DATE_TIME.exec(text);
  if (iso) {
    const [, y, mo, d, h, mi, s, zone] = iso;
    return isoFrom(Number(y), Number(mo), Number(d), h === undefined ? undefined : { h: Number(h), m: Number(mi), s: Number(s ?? 0), zone });
  }
  const mdy = MONTH_DAY_YEAR.exec(text);
  if (mdy) return isoFrom(Number(mdy[3]), MONTHS[(mdy[1] ?? '').toLowerCase().replace(/\.$/, '')] ?? 0, Number(mdy[2]));
  const dmy = DAY_MONTH_YEAR.exec(text);
  if (dmy) return isoFrom(Number(dmy[3]), MONTHS[(dmy[2] ?? '').toLowerCase().replace(/\.$/, '')] ?? 0, Number(dmy[1]));
  return null;
}

/** A machine-readable date from metadata or a feed (ISO 8601, RFC 822/2822 and the like) → ISO string, or null. */
export function parseDateValue(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text === '' || !/\b(19[7-9]\d|2[01]\d\d)\b/.test(text)) return null;
  const iso = ISO_DATE_TIME.exec(text);
  if (iso && iso.index === 0) {
    const [, y, mo, d, h, mi, s, zone] = iso;
    return isoFrom(Number(y), Number(mo), Number(d), h === undefined ? undefined : { h: Number(h), m: Number(mi), s: Number(s ?? 0), zone });
  }
  const time = Date.parse(text.replace(/\b(UT|Z)$/, 'GMT'));
  if (!Number.isNaN(time)) return new Date(time).toISOString();
  return findDateInText(text);
}

/** The first paragraph of a Markdown text as plain text (links keep their words, images and code marks go). */
export function firstParagraphText(markdown: string): string {
  const paragraph = new Lexer({ gfm: true }).lex(markdown).find((token) => token.type === 'paragraph' && plainText([token]).trim() !== '');
  return paragraph ? collapseWhitespace(plainText([paragraph])) : '';
}

function plainText(tokens: readonly Token[]): string {
  let text = '';
  for (const token of tokens) {
    if (token.type === 'image' || token.type === 'html') continue;
    if (token.type === 'br') text += ' ';
    else if ('tokens' in token && Array.isArray(token.tokens)) text += plainText(token.tokens as Token[]);
    else if ('text' in token && typeof token.text === 'string') text += token.type === 'escape' ? token.text : decodeEntities(token.text, 'markdown');
  }
  return text;
}

