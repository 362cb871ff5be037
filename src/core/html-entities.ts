/**
 * The one decoder of character references (`&amp;`, `&#233;`, `&eacute;`…) in Mailroom: the WHATWG tables from the
 * `entities` package, so every reader of articles, feeds and Markdown decodes the same references the same way.
 */
import { decodeHTML, decodeHTMLStrict, decodeXML } from 'entities';

/**
 * How references are written where the text came from:
 * - `html`: as a browser reads HTML, legacy references without `;` included (`&copy 2026`); for scheme checks this is
 *   the safe choice, since it decodes whatever a browser would;
 * - `markdown`: as CommonMark reads Markdown, only references closed by `;` (so "AT&T &notes" stays as written);
 * - `xml`: XML's five named references and numeric ones (feeds, before their HTML is read).
 */
export type EntitySyntax = 'html' | 'markdown' | 'xml';

/** Decodes character references; unknown names stay as written, invalid code points become U+FFFD. */
export function decodeEntities(text: string, syntax: EntitySyntax = 'html'): string {
  if (!text.includes('&')) return text;
  if (syntax === 'xml') return decodeXML(text);
  return syntax === 'markdown' ? decodeHTMLStrict(text) : decodeHTML(text);
}
