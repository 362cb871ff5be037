/** Reads articles from Markdown files with YAML front matter, with errors that name the file, the field and the value. */

import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import matter from 'gray-matter';
import { Lexer } from 'marked';
import type { Token } from 'marked';
import { z } from 'zod';
import type { ArticleInput, LeadImage } from '../core/domain.ts';
import { MailroomError, isMailroomError, quote } from '../core/errors.ts';
import { decodeEntities } from '../core/html-entities.ts';
import { isSlug, slugify } from './slug.ts';

/** The front matter keys an article file may use; any other key is an error. */
export const FRONT_MATTER_KEYS = [
  'title',
  'slug',
  'summary',
  'canonical_url',
  'author',
  'published',
  'lead_image',
  'tags',
] as const;

/** The keys of the `lead_image` mapping. */
export const LEAD_IMAGE_KEYS = ['url', 'alt'] as const;

/** File name endings `readArticleSources` picks up in a directory (case-insensitive). */
export const ARTICLE_FILE_EXTENSIONS = ['.md', '.markdown'] as const;

/** Longest summary derived from the body, ellipsis included. */
export const MAX_DERIVED_SUMMARY_LENGTH = 300;

/** Largest article file `readArticleSources` reads. */
export const MAX_ARTICLE_FILE_BYTES = 5 * 1024 * 1024;

export interface ArticleDirResult {
  articles: { source: string; article: ArticleInput }[];
  errors: MailroomError[];
}

/** Keys people reach for that mean one of ours, for "did you mean" hints. */
const KEY_ALIASES: Readonly<Record<string, string>> = {
  date: 'published',
  published_at: 'published',
  publishedAt: 'published',
  pubDate: 'published',
  description: 'summary',
  dek: 'summary',
  excerpt: 'summary',
  subtitle: 'summary',
  url: 'canonical_url',
  link: 'canonical_url',
  canonical: 'canonical_url',
  canonicalUrl: 'canonical_url',
  image: 'lead_image',
  leadImage: 'lead_image',
  cover: 'lead_image',
  tag: 'tags',
  categories: 'tags',
  authors: 'author',
  src: 'url',
  href: 'url',
  caption: 'alt',
};

const DATE_EXAMPLE = 'write it like 2026-11-20 or 2026-11-20T09:00:00Z';

/**
 * Parses one article file: YAML front matter between `---` lines, then the Markdown body.
 * `source` names the file in error messages. Throws MailroomError('INVALID_INPUT') listing every problem found
 * (the first in the message, all of them in `details`).
 */
export function parseArticleFile(text: string, source: string): ArticleInput {
  const fail = (problem: string, details: readonly string[] = [], cause?: unknown): never => {
    throw new MailroomError('INVALID_INPUT', `${source}: ${problem}`, details, cause === undefined ? undefined : { cause });
  };

  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (normalized.trim() === '') fail(normalized === '' ? 'the file is empty' : 'the file is empty (only whitespace)');
  if (normalized.includes('\u0000')) fail('contains NUL bytes: it looks like a binary file, not Markdown text');

  // Blank lines before the opening --- are tolerated; remember how many so YAML line numbers still match the file.
  const leading = /^(?:[ \t]*\n)*/.exec(normalized)?.[0] ?? '';
  const lineOffset = leading.split('\n').length - 1;
  const document = normalized.slice(leading.length);
  checkDelimiters(document, fail);

  let parsed: matter.GrayMatterFile<string>;
  try {
    // Always pass options: gray-matter caches results by content when called without them.
    parsed = matter(document, { language: 'yaml', engines: DISABLED_ENGINES });
  } catch (error) {
    const yamlError = describeYamlError(error, lineOffset);
    if (yamlError) return fail(`front matter is not valid YAML: ${yamlError.problem}`, yamlError.snippet, error);
    return fail(`front matter could not be read: ${error instanceof Error ? error.message : String(error)}`, [], error);
  }

  const data: unknown = parsed.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data) || data instanceof Date) {
    return fail(`front matter must be YAML fields like "title: …", not ${describeKind(data)} ${showValue(data)}`);
  }
  const fields = prepareFields(data as Record<string, unknown>, parsed.matter);

  const problems: string[] = [];
  const result = frontMatterSchema.safeParse(fields);
  if (!result.success) {
    // Unknown keys first: a misspelt key usually explains the "missing" problem that follows.
    const issues = [...result.error.issues].sort(
      (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
    );
    for (const issue of issues) problems.push(formatIssue(issue, fields));
  }
  const body = normalizeBody(parsed.content);
  if (body === '') problems.push('the body is empty: write the article in Markdown after the closing --- line');

  if (!result.success || problems.length > 0) {
    const [first = 'is not a valid article', ...rest] = problems;
    const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'})` : '';
    return fail(`${first}${more}`, problems.map((problem) => `${source}: ${problem}`));
  }

  const meta = result.data;
  const title = meta.title;
  const leadImage: LeadImage | null = meta.lead_image ? { url: meta.lead_image.url, alt: meta.lead_image.alt || title } : null;
  return {
    slug: meta.slug || slugify(title),
    title,
    summary: meta.summary || deriveSummary(body),
    body,
    canonicalUrl: meta.canonical_url ?? '',
    author: meta.author ?? '',
    publishedAt: meta.published,
    leadImage,
    tags: meta.tags ?? [],
  };
}

/**
 * Reads a directory (every *.md / *.markdown file in it, sorted by name, not recursive, dot files skipped) or a
 * single file. A file that cannot be read or parsed goes into `errors` and never stops the others; so does a file
 * whose slug an earlier file already uses. Throws MailroomError('NOT_FOUND') when the path does not exist.
 */
export async function readArticleSources(path: string): Promise<ArticleDirResult> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    throw describeFsError(error, path, 'article source');
  }

  const sources = isDirectory ? await listArticleFiles(path) : [path];
  const result: ArticleDirResult = { articles: [], errors: [] };
  const slugOwners = new Map<string, string>();
  for (const source of sources) {
    try {
      const article = parseArticleFile(await readArticleText(source), source);
      const owner = slugOwners.get(article.slug);
      if (owner !== undefined) {
        throw new MailroomError('CONFLICT', `${source}: slug ${quote(article.slug)} is already used by ${owner}; give one of them another "slug"`);
      }
      slugOwners.set(article.slug, source);
      result.articles.push({ source, article });
    } catch (error) {
      result.errors.push(
        isMailroomError(error)
          ? error
          : new MailroomError('INVALID_INPUT', `${source}: ${error instanceof Error ? error.message : String(error)}`, [], { cause: error }),
      );
    }
  }
  return result;
}

/** Decodes a file's bytes as UTF-8, failing clearly when they are empty, too large, UTF-16 or not UTF-8. */
export function decodeArticleBytes(bytes: Uint8Array, source: string): string {
  const fail = (problem: string, cause?: unknown): never => {
    throw new MailroomError('INVALID_INPUT', `${source}: ${problem}`, [], cause === undefined ? undefined : { cause });
  };
  if (bytes.length === 0) fail('the file is empty');
  if (bytes.length > MAX_ARTICLE_FILE_BYTES) {
    fail(`the file is too large (${bytes.length} bytes; at most ${MAX_ARTICLE_FILE_BYTES} bytes)`);
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    fail('is UTF-16 text, not UTF-8: save it as UTF-8');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    const lossy = new TextDecoder('utf-8').decode(bytes);
    const at = lossy.indexOf('\uFFFD');
    const line = at < 0 ? 1 : lossy.slice(0, at).split('\n').length;
    return fail(`is not UTF-8 text (first invalid bytes on line ${line}): save it as UTF-8`, error);
  }
}

async function readArticleText(source: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(source);
  } catch (error) {
    throw describeFsError(error, source, 'article file');
  }
  return decodeArticleBytes(bytes, source);
}

async function listArticleFiles(directory: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    throw describeFsError(error, directory, 'article directory');
  }
  return entries
    .filter((entry) => !entry.name.startsWith('.') && (entry.isFile() || entry.isSymbolicLink()))
    .map((entry) => entry.name)
    .filter((name) => ARTICLE_FILE_EXTENSIONS.some((extension) => name.toLowerCase().endsWith(extension)))
    .sort()
    .map((name) => join(directory, name));
}

function describeFsError(error: unknown, path: string, what: string): MailroomError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new MailroomError('NOT_FOUND', `${what} ${quote(path)} does not exist`, [], { cause: error });
  const reason = error instanceof Error ? error.message : String(error);
  return new MailroomError('INVALID_INPUT', `${path}: cannot read the ${what}: ${reason}`, [], { cause: error });
}

// ---------------------------------------------------------------------------------------------------------------
// Front matter

/** gray-matter would `eval` a `---js` block; only YAML is allowed (checkDelimiters rejects other languages first). */
const DISABLED_ENGINES = Object.fromEntries(
  ['js', 'javascript', 'coffee', 'coffeescript', 'cson', 'json', 'toml'].map((name) => [
    name,
    (): object => {
      throw new Error(`front matter language "${name}" is not supported; use YAML`);
    },
  ]),
);

function checkDelimiters(document: string, fail: (problem: string) => never): void {
  const newline = document.indexOf('\n');
  const firstLine = newline < 0 ? document : document.slice(0, newline);
  const opening = /^---(.*)$/.exec(firstLine);
  if (!opening || opening[1]?.startsWith('-')) {
    fail('has no front matter: start the file with a --- line, then fields such as "title:" and "published:", then a closing --- line');
  }
  const language = opening?.[1]?.trim() ?? '';
  if (language !== '' && language.toLowerCase() !== 'yaml') {
    fail(`front matter language ${quote(language)} is not supported: use YAML after a plain --- line`);
  }
  const close = document.indexOf('\n---', firstLine.length);
  if (close < 0) fail('front matter is not closed: add a --- line between the fields and the body');
  const lineEnd = document.indexOf('\n', close + 1);
  const rest = document.slice(close + 4, lineEnd < 0 ? undefined : lineEnd);
  if (rest.trim() !== '') fail(`the closing --- line of the front matter has extra text ${quote(rest.trim())}`);
}

function describeYamlError(error: unknown, lineOffset: number): { problem: string; snippet: string[] } | null {
  if (!(error instanceof Error) || error.name !== 'YAMLException') return null;
  const { reason, mark } = error as Error & { reason?: string; mark?: { line: number; column: number } };
  // The YAML text starts on the opening --- line, so js-yaml's line numbers are the file's.
  const where = mark ? ` at line ${mark.line + 1 + lineOffset}, column ${mark.column + 1}` : '';
  const snippet = error.message.split('\n').slice(1).filter((line) => line.trim() !== '');
  return { problem: `${reason ?? error.message.split('\n')[0]}${where}`, snippet };
}

/**
 * Gets the parsed front matter ready for the schema: known keys left empty (`summary:`) count as absent, and an
 * unquoted YAML date is re-read from its source text so that e.g. 2026-02-30 is an error instead of March 2.
 */
function prepareFields(data: Record<string, unknown>, rawMatter: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (value === null && (FRONT_MATTER_KEYS as readonly string[]).includes(key)) continue;
    fields[key] = value;
  }
  if (fields.published instanceof Date) {
    const raw = /^published[ \t]*:[ \t]*([^\s#'"][^#\n]*?)[ \t]*(?:#.*)?$/m.exec(rawMatter)?.[1];
    if (raw !== undefined) fields.published = raw;
  }
  const image = fields.lead_image;
  if (typeof image === 'string') {
    fields.lead_image = { url: image }; // shorthand: `lead_image: /media/cover.png`
  } else if (typeof image === 'object' && image !== null && !Array.isArray(image) && !(image instanceof Date)) {
    fields.lead_image = Object.fromEntries(Object.entries(image).filter(([, value]) => value !== null));
  }
  return fields;
}

const typeError =
  (expected: string, hint = '') =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is missing' : `is ${describeKind(issue.input)}, not ${expected}${hint}`;

const quoteHint = (issue: { input?: unknown }): string =>
  typeof issue.input === 'number' || typeof issue.input === 'boolean' ? ' (put it in quotes)' : '';

const textField = (what = 'text') =>
  z.string({ error: (issue) => `${typeError(what)(issue)}${quoteHint(issue)}` }).transform(collapseWhitespace);

const lineField = textField()
  .optional()
  .transform((value) => value ?? '');

const leadImageSchema = z.strictObject(
  {
    url: textField('a URL').refine(isImageUrl, {
      error: 'is not an absolute http(s) URL or a path starting with / (like "/media/cover.png")',
    }),
    alt: lineField,
  },
  { error: typeError('a mapping with "url" and "alt"') },
);

const frontMatterSchema = z.strictObject({
  title: textField().refine((value) => value !== '', { error: 'is empty' }),
  slug: textField()
    .refine((value) => value === '' || isSlug(value), {
      error: (issue) =>
        `is not a slug: use lowercase letters, digits and hyphens, like ${quote(slugify(String(issue.input)))}`,
    })
    .optional(),
  summary: lineField,
  canonical_url: textField('a URL')
    .refine((value) => value === '' || isHttpUrl(value), { error: 'is not an absolute http(s) URL' })
    .optional(),
  author: lineField,
  published: z.unknown().transform((value, context) => {
    const iso = toIsoDate(value);
    if (iso === null) {
      const kind = value === undefined ? 'is missing' : typeof value === 'string' || value instanceof Date ? 'is not a date' : `is ${describeKind(value)}, not a date`;
      context.issues.push({ code: 'custom', message: `${kind} (${DATE_EXAMPLE})`, input: value });
      return z.NEVER;
    }
    return iso;
  }),
  lead_image: leadImageSchema.optional(),
  tags: z
    .unknown()
    .optional()
    .transform((value, context) => {
      const tags = normalizeTags(value);
      if (tags === null) {
        context.issues.push({
          code: 'custom',
          message: `is ${describeKind(value)}, not a list of tags (write it like [email, deliverability] or "email, deliverability")`,
          input: value,
        });
        return z.NEVER;
      }
      return tags;
    }),
});

function formatIssue(issue: z.core.$ZodIssue, fields: Record<string, unknown>): string {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const where = path === '' ? 'front matter' : `front matter "${path}"`;
    const allowed: readonly string[] = path === '' ? FRONT_MATTER_KEYS : LEAD_IMAGE_KEYS;
    return issue.keys
      .map((key) => {
        const suggestion = suggestKey(key, allowed);
        const hint = suggestion ? `did you mean "${suggestion}"?` : `allowed keys: ${allowed.join(', ')}`;
        return `${where} has an unknown key ${quote(key)} (${hint})`;
      })
      .join('; ');
  }
  const value = valueAt(fields, issue.path);
  const shown = value === undefined ? '' : `: ${showValue(value)}`;
  return `front matter "${path}"${shown} ${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text === '' ? String(part) : `${text}.${String(part)}`), '');
}

function valueAt(fields: Record<string, unknown>, path: readonly PropertyKey[]): unknown {
  let value: unknown = fields;
  for (const part of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  const alias = KEY_ALIASES[key] ?? KEY_ALIASES[key.toLowerCase()];
  if (alias !== undefined && allowed.includes(alias)) return alias;
  const lower = key.toLowerCase().replace(/-/g, '_');
  let best: { key: string; distance: number } | undefined;
  for (const candidate of allowed) {
    const distance = measureEditDistance(lower, candidate);
    if (distance <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) {
      best = { key: candidate, distance };
    }
  }
  return best?.key;
}

function measureEditDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function describeKind(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  switch (typeof value) {
    case 'string':
      return 'text';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true/false';
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

function showValue(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : value.toISOString();
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 80)}…` : json;
}

// ---------------------------------------------------------------------------------------------------------------
// Field values

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function isHttpUrl(text: string): boolean {
  if (/\s/.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function isImageUrl(text: string): boolean {
  return isHttpUrl(text) || /^\/(?!\/)\S*$/.test(text);
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?[ \t]*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const RFC_2822_DATE =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}(?::\d{2})? (?:[+-]\d{4}|GMT|UTC?|Z)$/;

/** An ISO 8601 date or date-time (no zone means UTC, as in YAML), an RFC 2822 date, or a YAML date → ISO string. */
function toIsoDate(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (RFC_2822_DATE.test(text)) {
    const time = Date.parse(text);
    return Number.isNaN(time) ? null : new Date(time).toISOString();
  }
  const match = ISO_DATE.exec(text);
  if (!match) return null;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = match;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return null;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const zoneMatch = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    const zoneHours = Number(zoneMatch?.[2] ?? 0);
    const zoneMinutes = Number(zoneMatch?.[3] ?? 0);
    if (zoneHours > 14 || zoneMinutes > 59) return null;
    offsetMinutes = (zoneMatch?.[1] === '-' ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  const milliseconds = Math.round(Number(`0${fraction || '.0'}`) * 1000);
  const time = Date.UTC(y, mo - 1, d, h, mi, s, milliseconds) - offsetMinutes * 60_000;
  return new Date(time).toISOString();
}

/** A list of tags or a comma-separated string → trimmed, lowercased, deduplicated; null when it is neither. */
function normalizeTags(value: unknown): string[] | null {
  if (value === undefined || value === null) return [];
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null;
  if (items === null) return null;
  const tags: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string' && typeof item !== 'number') return null;
    const tag = collapseWhitespace(String(item)).toLowerCase();
    if (tag !== '' && !tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

// ---------------------------------------------------------------------------------------------------------------
// Body and summary

function normalizeBody(content: string): string {
  return content.replace(/\r\n?/g, '\n').replace(/^\s*\n/, '').trimEnd();
}

/** The first paragraph of the body as plain text, cut at a word boundary to MAX_DERIVED_SUMMARY_LENGTH. */
function deriveSummary(body: string): string {
  const paragraph = new Lexer().lex(body).find((token) => token.type === 'paragraph');
  if (!paragraph) return '';
  const text = collapseWhitespace(extractPlainText([paragraph]));
  return shortenText(text, MAX_DERIVED_SUMMARY_LENGTH);
}

function extractPlainText(tokens: readonly Token[]): string {
  let text = '';
  for (const token of tokens) {
    switch (token.type) {
      case 'image':
      case 'html':
        break;
      case 'br':
        text += ' ';
        break;
      case 'codespan':
      case 'escape':
        text += token.text;
        break;
      case 'text':
        text += token.tokens ? extractPlainText(token.tokens) : decodeEntities(token.text, 'markdown');
        break;
      default:
        if ('tokens' in token && Array.isArray(token.tokens)) text += extractPlainText(token.tokens);
        else if ('text' in token && typeof token.text === 'string') text += decodeEntities(token.text, 'markdown');
    }
  }
  return text;
}


function shortenText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const lastSpace = cut.lastIndexOf(' ');
  const words = lastSpace >= max * 0.6 ? cut.slice(0, lastSpace) : cut;
  return `${words.replace(/[\s,;:.\-–—]+$/, '')}…`;
}
