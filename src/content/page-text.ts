/**
 * Turns text copied from a web page into an article: the title (counted once however often the page repeats it), the dek,
 * section headings, bullet and numbered lists and paragraphs, with the site's chrome around them left out (logo text,
 * menus, close buttons, breadcrumbs, image placeholders, repeated links, calls to action after the article).
 *
 * The rules are generic, by position and shape, never by a site's wording:
 * - everything before the title is chrome (metadata such as "By Jane Doe" or a date is kept as the author and date);
 * - the title is a heading-like line before the first sentence of prose: the one the page repeats, else the last one;
 * - when the title comes again after one to three paragraphs, those paragraphs are the dek (the summary);
 * - a short line without closing punctuation is a heading when text or a list follows it, chrome when nothing does;
 * - lines starting with •, ·, -, *, – (and the like) are list items; "1." or "1)" lines are numbered items;
 * - after the last paragraph or list item, short lines, questions, slogans and calls to action are chrome;
 * - lines of symbols only (×, ☰), UI labels ("Share", "Read more"), "… Image" placeholders, reading times and short
 *   lines the page repeats are chrome wherever they are.
 */
import { MailroomError } from '../core/errors.ts';
import { isBreadcrumb, isCallToAction, isImagePlaceholder, isReadingTime, isSymbolOnly, isUiLabel, readByline } from './boilerplate.ts';
import { slugify } from './slug.ts';
import { collapseWhitespace, countWords, escapeMarkdown, findDateInText, shortenText, stripControlCharacters, type ExtractedArticle } from './text-tools.ts';

export interface PageTextOptions {
  /** The page's address, when known: becomes the canonical URL. */
  readonly url?: string | undefined;
  /** The import time, used as the date when the text has none. */
  readonly now?: Date;
}

type Marker = 'bullet' | 'numbered' | null;

interface Unit {
  /** The line's text, without its list marker. */
  readonly text: string;
  /** For comparing lines: lowercase, same quotes, single spaces. */
  readonly key: string;
  readonly marker: Marker;
  /** The number of a numbered item. */
  readonly number: number;
  readonly words: number;
  /** 1-based line in the file, for messages. */
  readonly line: number;
}

type Role = 'drop' | 'heading' | 'paragraph' | 'item';

/** List markers people's pages use: bullets, dashes, arrows, checks. (An em dash is left out: it starts attributions.) */
const BULLET_LINE = /^(?:[•·▪◦●‣⁃∙○■□▫➤►▸✓✔☐☑→]\s*|[*+\-–]\s+)(\S.*)$/u;
const BARE_BULLET = /^[•·▪◦●‣⁃∙○■□▫➤►▸]$/u;
const NUMBERED_LINE = /^(\d{1,3})[.)]\s+(\S.*)$/;
/** Words a wrapped line can end on but a heading or a paragraph cannot. */
const DANGLING_END = /(,|\b(and|or|but|the|a|an|of|to|in|on|for|with|by|from|at|as|that|which|who|its|their|our|your|is|are|was|were))$/i;

/** Parses page text; throws MailroomError naming the source when there is no title or no article text. */
export function parsePageText(text: string, source: string, options: PageTextOptions = {}): ExtractedArticle {
  const fail = (problem: string): never => {
    throw new MailroomError('INVALID_INPUT', `${source}: ${problem}`);
  };
  const normalized = stripControlCharacters(text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').replace(/\t/g, ' '));
  if (text.includes('\u0000')) fail('contains NUL bytes: it looks like a binary file, not text copied from a page');
  const units = readUnits(normalized);
  if (units.length === 0) fail('the file is empty');

  const counts = new Map<string, number>();
  for (const unit of units) counts.set(unit.key, (counts.get(unit.key) ?? 0) + 1);
  const repeated = (unit: Unit) => (counts.get(unit.key) ?? 0) >= 2;

  // ---- the title
  // (A cookie banner or a sign-up line above the title is a sentence, but not the article's.)
  const firstProse = units.findIndex((unit) => isSentenceProse(unit) && !isChrome(unit) && !isMetadata(unit) && !isFooterText(unit.text, 40));
  const headerEnd = firstProse === -1 ? units.length : firstProse;
  const titleCandidate = (unit: Unit) =>
    unit.marker === null && !isChrome(unit) && !isMetadata(unit) && unit.words >= 2 && unit.words <= 30 && unit.text.length <= 200 && !/[.,;:]["'”’)\]]*$/.test(unit.text);
  let titleIndex = -1;
  for (let i = 0; i < headerEnd && titleIndex === -1; i += 1) {
    const unit = units[i] as Unit;
    if (titleCandidate(unit) && unit.words >= 3 && repeated(unit)) titleIndex = i;
  }
  let subtitleIndex = -1;
  if (titleIndex === -1) {
    for (const minWords of [3, 2]) {
      for (let i = headerEnd - 1; i >= 0 && titleIndex === -1; i -= 1) {
        const unit = units[i] as Unit;
        if (titleCandidate(unit) && unit.words >= minWords) titleIndex = i;
      }
    }
    // A sentence-case subtitle right under a Title Case title: the title is the line above it.
    const above = units[titleIndex - 1];
    const chosen = units[titleIndex];
    if (above && chosen && titleCandidate(above) && above.words >= 3 && chosen.words >= 5 && isTitleCase(above.text) && !isTitleCase(chosen.text)) {
      subtitleIndex = titleIndex;
      titleIndex -= 1;
    }
  }
  if (titleIndex === -1) {
    return fail('no title found: the text should have the article\'s title on a line of its own before the first paragraph');
  }
  const title = (units[titleIndex] as Unit).text;
  const titleKey = (units[titleIndex] as Unit).key;

  // ---- metadata and chrome before the article
  const droppedUnits = new Set<Unit>();
  const drop = (unit: Unit) => droppedUnits.add(unit);
  let author = '';
  let published: string | null = null;
  const harvest = (unit: Unit) => {
    for (const part of splitMetadata(unit.text)) {
      author ||= readByline(part) ?? '';
      published ??= isDateLine(part) ? findDateInText(part) : null;
    }
  };
  for (let i = 0; i < titleIndex; i += 1) {
    const unit = units[i] as Unit;
    harvest(unit);
    drop(unit);
  }

  // ---- the dek: paragraphs between the title and the title repeated, or the subtitle
  const summaryParagraphs: string[] = [];
  let bodyStart = titleIndex + 1;
  if (subtitleIndex !== -1) {
    summaryParagraphs.push((units[subtitleIndex] as Unit).text);
    bodyStart = subtitleIndex + 1;
  }
  const repeatAt = units.findIndex((unit, i) => i > titleIndex && unit.key === titleKey);
  if (repeatAt !== -1) {
    const between = units.slice(titleIndex + 1, repeatAt).filter((unit) => !isChrome(unit) && !isMetadata(unit));
    if (between.length >= 1 && between.length <= 3 && between.every((unit) => unit.marker === null && (isSentenceProse(unit) || unit.words >= 8))) {
      for (const unit of units.slice(titleIndex + 1, repeatAt)) {
        if (between.includes(unit)) summaryParagraphs.push(unit.text);
        else {
          harvest(unit);
          drop(unit);
        }
      }
      drop(units[repeatAt] as Unit);
      bodyStart = repeatAt + 1;
    }
  }

  // ---- where the article ends: before end matter ("Related posts", "Comments", "Subscribe…") that no long paragraph
  // follows, then back to the last paragraph or list item that is not a call to action
  let end = units.length - 1;
  for (let i = bodyStart; i < units.length; i += 1) {
    if (!isEndMatterMarker(units[i] as Unit)) continue;
    if (units.slice(i + 1).some((unit) => isSentenceProse(unit) && unit.words >= 25)) continue;
    end = i - 1;
    break;
  }
  while (end >= bodyStart) {
    const unit = units[end] as Unit;
    const substantive = !isChrome(unit) && !isMetadata(unit) && unit.key !== titleKey && !(repeated(unit) && unit.words <= 6);
    if (substantive && unit.marker !== null && unit.words >= 2 && !isUiLabel(unit.text) && !isFooterText(unit.text)) break;
    if (substantive && unit.marker === null && isSentenceProse(unit) && !isCallToAction(unit.text)) break;
    end -= 1;
  }
  for (let i = end + 1; i < units.length; i += 1) {
    const unit = units[i] as Unit;
    author ||= readByline(unit.text) ?? '';
    drop(unit);
  }

  // ---- roles inside the article
  const roles: Role[] = units.map(() => 'drop');
  // Bylines and dates count as metadata until the article's first paragraph; later a date line may head a section.
  let seenParagraph = false;
  const isSkippable = (unit: Unit): boolean =>
    isChrome(unit) || unit.key === titleKey || (repeated(unit) && unit.words <= 6 && unit.marker === null) || (!seenParagraph && isMetadata(unit));
  const nextSignificant = (from: number): Unit | null => {
    for (let j = from; j <= end; j += 1) {
      const candidate = units[j] as Unit;
      if (!isSkippable(candidate)) return candidate;
    }
    return null;
  };
  const previousKept = (from: number): Role | null => {
    for (let j = from; j >= bodyStart; j -= 1) if (roles[j] !== 'drop') return roles[j] as Role;
    return null;
  };
  const beforeFirstProse = (index: number) => firstProse !== -1 && index < firstProse;

  for (let i = bodyStart; i <= end; i += 1) {
    const unit = units[i] as Unit;
    if (isSkippable(unit)) {
      if (!seenParagraph) harvest(unit);
      drop(unit);
      continue;
    }
    if (unit.marker === 'bullet') {
      roles[i] = 'item';
      seenParagraph = true;
      continue;
    }
    if (unit.marker === 'numbered') {
      // A lone numbered line with text after it ("2. Market outlook") is a numbered heading, not a one-item list.
      const next = nextSignificant(i + 1);
      const alone = previousKept(i - 1) !== 'item' && next !== null && next.marker === null;
      roles[i] = alone && isHeadingLike(unit.text) && next !== null && !isHeadingLike(next.text) ? 'heading' : 'item';
      continue;
    }
    if (!isHeadingLike(unit.text)) {
      roles[i] = 'paragraph';
      seenParagraph = true;
      continue;
    }
    // A heading needs text after it; a run of three or more heading-like lines is a block of links, not headings.
    let runEnd = i;
    while (runEnd + 1 <= end) {
      const following = units[runEnd + 1] as Unit;
      if (isSkippable(following) || (following.marker === null && isHeadingLike(following.text))) runEnd += 1;
      else break;
    }
    const run = units.slice(i, runEnd + 1).filter((candidate) => !isSkippable(candidate));
    const next = nextSignificant(runEnd + 1);
    const followedByText = next !== null && (next.marker !== null || !isHeadingLike(next.text));
    const keepRun = followedByText && run.length <= 2;
    for (let j = i; j <= runEnd; j += 1) {
      const member = units[j] as Unit;
      if (isSkippable(member)) {
        drop(member);
        continue;
      }
      if (keepRun && beforeFirstProse(j) && member.words >= 8 && summaryParagraphs.length === 0) {
        summaryParagraphs.push(member.text); // a subtitle without closing punctuation
      } else if (keepRun && !(beforeFirstProse(j) && member.words <= 3)) {
        roles[j] = 'heading';
      } else {
        drop(member);
      }
    }
    i = runEnd;
  }

  // ---- Markdown
  const [summaryParagraph = '', ...extraDek] = summaryParagraphs;
  const blocks: string[] = extraDek.map((paragraph) => escapeMarkdown(paragraph));
  let list: string[] = [];
  let listKind: Marker = null;
  let listNumber = 1;
  const flushList = () => {
    if (list.length > 0) blocks.push(list.join('\n'));
    list = [];
    listKind = null;
  };
  for (let i = bodyStart; i <= end; i += 1) {
    const role = roles[i];
    const unit = units[i] as Unit;
    if (role === 'drop') continue;
    if (role === 'item') {
      if (listKind !== unit.marker) {
        flushList();
        listKind = unit.marker;
        listNumber = unit.marker === 'numbered' ? unit.number : 1;
      }
      list.push(unit.marker === 'numbered' ? `${listNumber}. ${formatItem(unit.text)}` : `- ${formatItem(unit.text)}`);
      listNumber += 1;
      continue;
    }
    flushList();
    blocks.push(role === 'heading' ? `## ${escapeMarkdown(unit.marker === 'numbered' ? `${unit.number}. ${unit.text}` : unit.text, 'heading')}` : escapeMarkdown(unit.text));
  }
  flushList();
  const body = blocks.join('\n\n');
  const dropped = units.filter((unit) => droppedUnits.has(unit)).map((unit) => unit.text);
  if (!blocks.some((block) => !block.startsWith('## '))) {
    fail(`no article text found after the title ${JSON.stringify(title)}: ${dropped.length} line(s) looked like page chrome and nothing else was left`);
  }

  const firstParagraph = units.find((_, i) => roles[i] === 'paragraph')?.text ?? units.find((_, i) => roles[i] === 'item')?.text ?? '';
  const summary = summaryParagraph !== '' ? collapseWhitespace(summaryParagraph) : shortenText(collapseWhitespace(firstParagraph));
  const now = options.now ?? new Date();
  return {
    article: {
      slug: slugify(title),
      title,
      summary,
      body,
      canonicalUrl: options.url ?? '',
      author,
      publishedAt: published ?? now.toISOString(),
      leadImage: null,
      tags: [],
    },
    publishedKnown: published !== null,
    dropped,
  };
}

/** Splits the text into one unit per line, joining wrapped lines and bullets whose text is on the next line. */
function readUnits(text: string): Unit[] {
  const lines = text.split('\n');
  const units: Unit[] = [];
  let blankBefore = true;
  let previousLine = '';
  for (let index = 0; index < lines.length; index += 1) {
    let line = collapseWhitespace(lines[index] ?? '');
    if (line === '') {
      blankBefore = true;
      continue;
    }
    const lineNumber = index + 1;
    if (BARE_BULLET.test(line)) {
      // A bullet whose text is on the next line; not a "·" standing between "Follow" and "8 min read".
      const next = collapseWhitespace(lines[index + 1] ?? '');
      if (countWords(next) >= 3 && !isReadingTime(next) && findDateInText(next) === null) {
        line = `${line} ${next}`;
        index += 1;
      }
    }
    const previous = units[units.length - 1];
    const bullet = BULLET_LINE.exec(line);
    const numbered = NUMBERED_LINE.exec(line);
    const isWrap =
      previous !== undefined &&
      !blankBefore &&
      line !== previousLine &&
      countWords(previousLine) >= 4 &&
      !bullet &&
      !numbered &&
      !/[.!?…:;]["'”’)\]]*$/.test(previous.text) &&
      (/^\p{Ll}/u.test(line) || DANGLING_END.test(previous.text));
    if (isWrap) {
      units[units.length - 1] = makeUnit(`${previous.text} ${line}`, previous.marker, previous.number, previous.line);
    } else if (bullet?.[1] && !(line.startsWith('*') && /\*$/.test(bullet[1]))) {
      units.push(makeUnit(bullet[1], 'bullet', 0, lineNumber));
    } else if (numbered?.[2]) {
      units.push(makeUnit(numbered[2], 'numbered', Number(numbered[1]), lineNumber));
    } else {
      units.push(makeUnit(line, null, 0, lineNumber));
    }
    blankBefore = false;
    previousLine = line;
  }
  return units;
}

function makeUnit(text: string, marker: Marker, number: number, line: number): Unit {
  const key = text.normalize('NFKC').toLowerCase().replace(/[‘’`´]/g, "'").replace(/[“”„]/g, '"').replace(/\s+/g, ' ').trim();
  return { text, key, marker, number, words: countWords(text), line };
}

/** Logo letters, close buttons, menu labels, image placeholders, reading times, breadcrumbs. */
function isChrome(unit: Unit): boolean {
  const text = unit.text;
  if (isSymbolOnly(text)) return true;
  if (unit.marker === null && text.replace(/[^\p{L}\p{N}]/gu, '').length <= 2 && unit.words <= 1) return true;
  return isUiLabel(text) || isImagePlaceholder(text) || isReadingTime(text) || (unit.marker === null && isBreadcrumb(text));
}

/** A byline, a date line, or a line made of such parts ("By Jane Doe · Nov 20, 2026 · 5 min read"). */
function isMetadata(unit: Unit): boolean {
  if (unit.marker !== null) return false;
  const parts = splitMetadata(unit.text);
  if (!parts.some((part) => readByline(part) !== null || isDateLine(part))) return false;
  return parts.every((part) => readByline(part) !== null || isDateLine(part) || isReadingTime(part) || countWords(part) <= 3);
}

function splitMetadata(text: string): string[] {
  return text.split(/\s+[|·•—–]\s+|\s+-\s+/u).map((part) => part.trim()).filter(Boolean);
}

/** "November 20, 2026", "Published 2026-11-20", "Updated: Nov. 4, 2025 at 6:12 p.m.". */
function isDateLine(text: string): boolean {
  const unpunctuated = text.replace(/\b([ap]\.m|[A-Z][a-z]{2,3})\.$/i, '');
  return countWords(text) <= 10 && !/[.!?]$/.test(unpunctuated) && findDateInText(text) !== null;
}

/** A label that starts what sites put after an article: related links, comments, sign-ups, share bars, tags. */
function isEndMatterMarker(unit: Unit): boolean {
  return (
    unit.words <= 6 &&
    !/[.!?]$/.test(unit.text) &&
    /^(related|recommended|written by|you (may|might) (also )?like|more (from|stories|articles|news|in|on|like this)|read next|up next|keep reading|further reading|what to read next|comments?\b|\d+ comments?|leave a (comment|reply)|join the (discussion|conversation)|about the author|share (this|on|the)|subscribe|sign up|newsletter|follow us|tags\b|topics\b|filed under|popular|trending|most (read|popular)|latest (news|posts|stories|articles))/i.test(
      unit.text,
    )
  );
}

const SMALL_WORDS = new Set(['a', 'an', 'the', 'and', 'or', 'nor', 'but', 'of', 'to', 'in', 'on', 'for', 'with', 'at', 'by', 'from', 'as', 'is', 'vs', 'via', 'into', 'over', 'per']);

/** "The Hidden Cost of Microservices" (most words capitalized), unlike "What nobody tells you about it". */
function isTitleCase(text: string): boolean {
  const words = text.split(/\s+/).filter((word) => /\p{L}/u.test(word));
  const significant = words.filter((word, index) => index === 0 || !SMALL_WORDS.has(word.toLowerCase().replace(/[^\p{L}]/gu, '')));
  const capitalized = significant.filter((word) => /^["'“‘(]?[\p{Lu}\p{N}]/u.test(word));
  return significant.length >= 2 && capitalized.length / significant.length >= 0.75;
}

/** Short, without closing punctuation (a question or an exclamation is fine), starting with a capital or a digit. */
function isHeadingLike(text: string): boolean {
  const words = countWords(text);
  return words >= 1 && words <= 12 && text.length <= 100 && !/[.,;:…]["'”’)\]]*$/.test(text) && /^["'“‘(¿¡]?[\p{Lu}\p{Lt}\p{N}$€£]/u.test(text);
}

/** A sentence or more of prose: closing punctuation with a few words, or long text. */
function isSentenceProse(unit: Unit): boolean {
  if (unit.marker !== null) return false;
  if (unit.words > 25) return true;
  return /[.!?…:]["'”’)\]]*$/.test(unit.text) && unit.words >= 3 && !isHeadingLike(unit.text);
}

/** Footer text that may come as a list item: copyright lines, legal links, newsletter sign-ups. */
function isFooterText(text: string, maxWords = 15): boolean {
  return /©|all rights reserved|privacy policy|terms of (use|service)|cookie|newsletter|subscribe|sign up|sign in|log in/i.test(text) && countWords(text) <= maxWords;
}

/** A list item; a short label before a colon ("Multi cloud strategy: …") is set in bold. */
function formatItem(text: string): string {
  const match = /^([^:]{1,60}):\s+(\S.*)$/.exec(text);
  const label = match?.[1];
  const rest = match?.[2];
  if (label && rest && countWords(label) <= 6 && !/[.!?*]/.test(label) && /^["'“‘(]?[\p{Lu}\p{N}]/u.test(label)) {
    return `**${escapeMarkdown(label)}:** ${escapeMarkdown(rest).replace(/^\\([-+>#])/, '$1')}`;
  }
  return escapeMarkdown(text);
}
