/** Tests for slugify: ASCII, hyphens, transliteration, length limit and the fallback. */

import { describe, expect, it } from 'vitest';
import { FALLBACK_SLUG, MAX_SLUG_LENGTH, SLUG_PATTERN, isSlug, slugify } from '../src/content/slug.ts';

describe('slugify', () => {
  it('lowercases and joins words with single hyphens', () => {
    expect(slugify('Writing Subject Lines People Actually Open')).toBe('writing-subject-lines-people-actually-open');
    expect(slugify('  Hello,   World!  ')).toBe('hello-world');
    expect(slugify('a -- b __ c')).toBe('a-b-c');
  });

  it('transliterates accents and letters NFKD does not decompose', () => {
    expect(slugify('Recap: Inbox Summit 2026 in Malmö')).toBe('recap-inbox-summit-2026-in-malmo');
    expect(slugify('Crème brûlée à la café')).toBe('creme-brulee-a-la-cafe');
    expect(slugify('Straße, Ærø, Łódź, Þórr, Œuvre')).toBe('strasse-aero-lodz-thorr-oeuvre');
    expect(slugify('São Paulo – Ñandú')).toBe('sao-paulo-nandu');
    expect(slugify('ﬁnance Ｗｅｅｋｌｙ')).toBe('finance-weekly');
  });

  it('drops apostrophes and thousands separators instead of splitting on them', () => {
    expect(slugify("OpenAI's Partner’s Deal")).toBe('openais-partners-deal');
    expect(slugify('Grew to 8,000 readers and 1,250,000 views')).toBe('grew-to-8000-readers-and-1250000-views');
    expect(slugify('A $4.5 Trillion Pivot')).toBe('a-4-5-trillion-pivot');
  });

  it('spells out ampersands', () => {
    expect(slugify('Rye & Rise')).toBe('rye-and-rise');
  });

  it('makes the sample title into a valid slug', () => {
    const slug = slugify('Microsoft and OpenAI Announce Tentative Deal: A $4.5 Trillion Partnership Pivot');
    expect(slug).toBe('microsoft-and-openai-announce-tentative-deal-a-4-5-trillion-partnership-pivot');
    expect(isSlug(slug)).toBe(true);
  });

  it('cuts long text at a word boundary within the limit', () => {
    const long = Array.from({ length: 40 }, (_, index) => `word${index}`).join(' ');
    const slug = slugify(long);
    expect(slug.length).toBeLessThanOrEqual(MAX_SLUG_LENGTH);
    expect(slug).toMatch(SLUG_PATTERN);
    expect(long.toLowerCase().replace(/ /g, '-').startsWith(slug)).toBe(true);
    expect(long.replace(/ /g, '-').charAt(slug.length)).toBe('-');
  });

  it('cuts one very long word at the limit', () => {
    const slug = slugify('x'.repeat(200));
    expect(slug).toBe('x'.repeat(MAX_SLUG_LENGTH));
  });

  it('never returns an empty slug', () => {
    for (const text of ['', '   ', '!!!', '—', '日本語のタイトル', '🙂🙂']) {
      expect(slugify(text)).toBe(FALLBACK_SLUG);
    }
  });

  it('only ever returns lowercase ASCII letters, digits and single hyphens', () => {
    for (const text of ['Ünïcödé Ŧêxŧ', '--leading and trailing--', 'ĳssel & ǅemal', 'Ⅻ chapters', 'tab\tand\nnewline']) {
      expect(slugify(text)).toMatch(SLUG_PATTERN);
    }
  });
});

describe('isSlug', () => {
  it('accepts well-formed slugs and rejects everything else', () => {
    expect(isSlug('microsoft-openai-tentative-deal')).toBe(true);
    expect(isSlug('2026-recap')).toBe(true);
    expect(isSlug('Has-Capitals')).toBe(false);
    expect(isSlug('double--hyphen')).toBe(false);
    expect(isSlug('-leading')).toBe(false);
    expect(isSlug('with space')).toBe(false);
    expect(isSlug('')).toBe(false);
    expect(isSlug('a'.repeat(MAX_SLUG_LENGTH + 1))).toBe(false);
  });
});
