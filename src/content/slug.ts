/** Turns a title into a URL slug: lowercase ASCII words joined by hyphens, accents transliterated, never empty. */

/** Longest slug `slugify` returns. */
export const MAX_SLUG_LENGTH = 80;

/** What `slugify` returns when the text has no letters or digits it can keep. */
export const FALLBACK_SLUG = 'article';

/** A well-formed slug: lowercase ASCII letters and digits, single hyphens between them. */
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Letters that NFKD does not decompose into an ASCII base letter plus marks. */
const TRANSLITERATIONS: Readonly<Record<string, string>> = {
  ß: 'ss',
  ẞ: 'ss',
  æ: 'ae',
  Æ: 'ae',
  œ: 'oe',
  Œ: 'oe',
  ø: 'o',
  Ø: 'o',
  đ: 'd',
  Đ: 'd',
  ð: 'd',
  Ð: 'd',
  þ: 'th',
  Þ: 'th',
  ł: 'l',
  Ł: 'l',
  ı: 'i',
  ħ: 'h',
  Ħ: 'h',
  ŋ: 'ng',
  Ŋ: 'ng',
  '&': ' and ',
};

const TRANSLITERATION_PATTERN = new RegExp(`[${Object.keys(TRANSLITERATIONS).join('')}]`, 'g');

/**
 * Makes a slug from any text, e.g. "Recap: Inbox Summit 2026 in Malmö" → "recap-inbox-summit-2026-in-malmo".
 * Apostrophes and thousands separators are dropped rather than split on ("OpenAI's" → "openais", "8,000" → "8000");
 * the result is cut at a hyphen to at most MAX_SLUG_LENGTH characters; text with nothing usable gives FALLBACK_SLUG.
 */
export function slugify(text: string): string {
  const ascii = text
    .replace(TRANSLITERATION_PATTERN, (char) => TRANSLITERATIONS[char] ?? char)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['’‘`´]/g, '')
    .replace(/(\d)[,_](?=\d{3}(?!\d))/g, '$1');
  const slug = ascii.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return shortenSlug(slug) || FALLBACK_SLUG;
}

/** Whether the text is already a well-formed slug of acceptable length. */
export function isSlug(text: string): boolean {
  return text.length <= MAX_SLUG_LENGTH && SLUG_PATTERN.test(text);
}

function shortenSlug(slug: string): string {
  if (slug.length <= MAX_SLUG_LENGTH) return slug;
  const cut = slug.slice(0, MAX_SLUG_LENGTH + 1);
  const lastHyphen = cut.lastIndexOf('-');
  // Cut at the last whole word when that keeps a reasonable length; otherwise cut mid-word.
  const shortened = lastHyphen >= MAX_SLUG_LENGTH / 2 ? cut.slice(0, lastHyphen) : slug.slice(0, MAX_SLUG_LENGTH);
  return shortened.replace(/-+$/g, '');
}
