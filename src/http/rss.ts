/** RSS 2.0 for a newsletter's archive: a pure function from the channel and its items to an XML document. */

export interface RssItem {
  readonly title: string;
  readonly link: string;
  readonly description: string;
  readonly publishedAt: Date;
}

export interface RssChannel {
  readonly title: string;
  /** The archive page. */
  readonly link: string;
  /** Where this feed lives (atom:link rel="self"). */
  readonly selfUrl: string;
  readonly description: string;
  /** BCP 47, e.g. "en". */
  readonly language: string;
  /** Newest first. */
  readonly items: readonly RssItem[];
}

/** Characters XML 1.0 does not allow at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF). */
const NOT_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text for an XML element or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(NOT_XML, '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

export function buildRssFeed(channel: RssChannel): string {
  const newest = channel.items[0]?.publishedAt;
  const items = channel.items
    .map(
      (item) => `    <item>
      <title>${escapeXml(item.title)}</title>
      <link>${escapeXml(item.link)}</link>
      <guid isPermaLink="true">${escapeXml(item.link)}</guid>
      <pubDate>${item.publishedAt.toUTCString()}</pubDate>
      <description>${escapeXml(item.description)}</description>
    </item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>${escapeXml(channel.title)}</title>
    <link>${escapeXml(channel.link)}</link>
    <atom:link href="${escapeXml(channel.selfUrl)}" rel="self" type="application/rss+xml"/>
    <description>${escapeXml(channel.description)}</description>
    <language>${escapeXml(channel.language)}</language>
    <generator>Mailroom</generator>
    <docs>https://www.rssboard.org/rss-specification</docs>
${newest ? `    <lastBuildDate>${newest.toUTCString()}</lastBuildDate>\n` : ''}${items}
  </channel>
</rss>
`;
}
