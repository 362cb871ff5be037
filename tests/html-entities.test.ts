/** One decoder of character references: Markdown files, page text, feeds, the email's Markdown and the URL checks read the same references the same way. */
import { describe, expect, test } from 'vitest';
import { parseArticleFile } from '../src/content/article-file.ts';
import { safeMarkdownUrl } from '../src/content/sanitize.ts';
import { firstParagraphText } from '../src/content/text-tools.ts';
import { decodeEntities } from '../src/core/html-entities.ts';
import { parseFeed } from '../src/feeds/parse-feed.ts';
import { decodeEntities as decodeEmailMarkdown } from '../emails/components/markdown.tsx';

// Named references the old decoders' tables each lacked some of, numeric ones in both bases, and an astral one.
const CASES: readonly (readonly [string, string])[] = [
  ['Caf&eacute; cr&egrave;me', 'Café crème'],
  ['&hearts; &frac12; &Omega; &rarr;', '♥ ½ Ω →'],
  ['&#233;&#xE9;&#XE9; &#x1F600;', 'ééé 😀'],
  ['&lt;b&gt; &amp; &quot;q&quot; &apos;a&apos;', '<b> & "q" \'a\''],
  ['&mdash;&ndash;&hellip;&ldquo;&rdquo;', '—–…“”'],
  ['&unknownname; stays', '&unknownname; stays'],
];

const feed = (title: string) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>F</title><link>https://example.com/</link><item><title>${title.replace(/&/g, '&amp;')}</title><link>https://example.com/a</link><description>x</description></item></channel></rss>`;

describe('character references decode the same everywhere', () => {
  test.each(CASES)('%s', (written, decoded) => {
    expect(decodeEntities(written, 'html')).toBe(decoded);
    expect(decodeEntities(written, 'markdown')).toBe(decoded);
    // A Markdown article file's derived summary.
    expect(parseArticleFile(`---\ntitle: T\npublished: 2026-11-20\n---\n\n${written}\n`, 'a.md').summary).toBe(decoded);
    // A page's or feed item's first paragraph.
    expect(firstParagraphText(written)).toBe(decoded);
    // The email's Markdown renderer.
    expect(decodeEmailMarkdown(written)).toBe(decoded);
    // A feed item's HTML title (escaped once more for XML).
    expect(parseFeed(feed(`<b>${written}</b>`), 'https://example.com/feed').items[0]?.title).toBe(decoded);
  });

  test('a non-breaking space is one everywhere, and plain text collapses it', () => {
    expect(decodeEntities('a&nbsp;b')).toBe('a\u00A0b');
    expect(decodeEmailMarkdown('a&nbsp;b')).toBe('a\u00A0b');
    expect(firstParagraphText('a&nbsp;&nbsp;b')).toBe('a b');
  });

  test('invalid code points become U+FFFD, never a crash or a lone surrogate', () => {
    for (const syntax of ['html', 'markdown', 'xml'] as const) expect(decodeEntities('&#0;&#xD800;&#x110000;', syntax)).toBe('\uFFFD\uFFFD\uFFFD');
  });

  test('Markdown needs the semicolon (CommonMark); HTML reads legacy references without one, as browsers do', () => {
    expect(decodeEntities('AT&T &copy 2026 &amp', 'markdown')).toBe('AT&T &copy 2026 &amp');
    expect(decodeEntities('&copy 2026 &#106avascript', 'html')).toBe('© 2026 javascript');
  });

  test('XML reads only its own names', () => {
    expect(decodeEntities('&lt;&amp;&eacute;&#233;', 'xml')).toBe('<&&eacute;é');
  });

  test.each([
    '&#106;avascript:alert(1)',
    '&#106avascript:alert(1)',
    'javascript&colon;alert(1)',
    'jav&Tab;ascript:alert(1)',
    'jav&NewLine;ascript:alert(1)',
    '&#x6A;avascript&#x3A;alert(1)',
  ])('a scheme hidden by references is still seen: %s', (href) => {
    expect(safeMarkdownUrl(href, 'link')).toBeNull();
  });
});
