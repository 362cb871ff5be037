/**
 * The web copy of a rendered email: the same document without the parts that only make sense in an inbox ("View in
 * browser", the greeting, "you are receiving this because…", unsubscribe links). The templates mark those parts
 * with `data-email-only` (emails/components/elements.tsx); this removes every marked element, found by an HTML
 * parser, and leaves every other byte as it was. Pure.
 */

import { DomUtils, parseDocument } from 'htmlparser2';
import { EMAIL_ONLY_ATTRIBUTE } from '../../emails/components/elements.tsx';

/** `html` without its email-only elements. A document without markers (an issue rendered before them) is returned as is. */
export function toWebCopy(html: string): string {
  if (!html.includes(EMAIL_ONLY_ATTRIBUTE)) return html;
  const document = parseDocument(html, { withStartIndices: true, withEndIndices: true });
  const marked = DomUtils.findAll((element) => element.attribs[EMAIL_ONLY_ATTRIBUTE] !== undefined, document.children);
  const ranges = marked
    .map((element) => ({ start: element.startIndex, end: element.endIndex }))
    .filter((range): range is { start: number; end: number } => range.start !== null && range.end !== null)
    .sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const range of ranges) {
    // A marked element inside another one went with it.
    if (range.start < at) continue;
    out += html.slice(at, range.start);
    at = range.end + 1;
  }
  return out + html.slice(at);
}
