/** Derives an email's text/plain part from its rendered HTML, leaving every word as written (placeholders and the renderer's markers included). */

import { compile } from 'html-to-text';
import type { FormatCallback, SelectorDefinition } from 'html-to-text';

/** Longest line of the text part; long words (URLs, placeholders) are never split, so a line may exceed it. */
export const PLAIN_TEXT_LINE_WIDTH = 78;

/**
 * The filler React Email's `<Preview>` appends after the preheader (repeats of NBSP ZWNJ ZWSP ZWJ LRM RLM BOM), as it
 * looks after html-to-text turned its NBSP and ZWSP into spaces. It sits in a skipped block; this catches strays.
 */
const PREVIEW_FILLER = /(?:[ \u00A0\u200B]*\u200C[ \u00A0\u200B]*\u200D\u200E\u200F\uFEFF)+[ \u00A0\u200B]*/g;

/** An image becomes its alt text in brackets, or nothing when the alt text is empty (decorative). */
const formatImageAlt: FormatCallback = (elem, _walk, builder) => {
  const alt = (elem.attribs?.['alt'] ?? '').trim();
  if (alt !== '') builder.addInline(`[${alt}]`, { noWordTransform: true });
};

const headingSelectors: SelectorDefinition[] = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({
  selector,
  format: 'heading',
  // html-to-text uppercases headings by default, which would turn {{firstName}} (or a marker standing for it) into {{FIRSTNAME}}.
  options: { uppercase: false, leadingLineBreaks: 2, trailingLineBreaks: 2 },
}));

const convertHtml = compile({
  wordwrap: PLAIN_TEXT_LINE_WIDTH,
  // Wrap at spaces only: a URL or a placeholder is one word and is never cut.
  longWordSplit: { wrapCharacters: [], forceWrapOnLimit: false },
  preserveNewlines: false,
  formatters: { imageAlt: formatImageAlt },
  selectors: [
    ...headingSelectors,
    // React Email's <Preview> (preheader plus filler) and anything else marked as not for the text part.
    { selector: '[data-skip-in-text=true]', format: 'skip' },
    { selector: 'img', format: 'imageAlt' },
    {
      selector: 'a',
      options: { linkBrackets: ['<', '>'], hideLinkHrefIfSameAsText: true, noAnchorUrl: true },
    },
    // Layout tables: one block per cell, not a grid.
    { selector: 'table', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'td', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'th', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    // Tables from article Markdown keep their grid, with header cells as written.
    {
      selector: 'table[data-text-format=dataTable]',
      format: 'dataTable',
      options: { uppercaseHeaderCells: false, maxColumnWidth: 30, leadingLineBreaks: 2, trailingLineBreaks: 2 },
    },
    { selector: 'ul', options: { itemPrefix: ' * ' } },
    { selector: 'hr', options: { length: 40 } },
  ],
});

/** The text/plain alternative of a rendered email: headings as written, links as `text <url>`, no preheader filler. */
export function htmlToPlainText(html: string): string {
  const text = convertHtml(html)
    .replace(PREVIEW_FILLER, '')
    .replace(/[ \t]+$/gm, '')
    .replace(/^\n+/, '')
    .trimEnd();
  return `${text}\n`;
}
