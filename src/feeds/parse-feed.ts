/**
 * Reads RSS 2.0 (and 0.9x), Atom 1.0 and RSS 1.0 (RDF) feeds with fast-xml-parser. A document that is not a well-formed
 * feed is an error naming the feed's URL; an item that cannot become an article (no link and no guid, no title and no
 * text, an unsafe link, a repeat) is listed in `problems` and left out, and the others are kept.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { MailroomError } from '../core/errors.ts';
import { decodeEntities } from '../core/html-entities.ts';
import { safeUrl } from '../content/sanitize.ts';
import { collapseWhitespace, parseDateValue } from '../content/text-tools.ts';

export type FeedFormat = 'rss' | 'atom' | 'rdf';

export interface FeedItem {
  /** 1-based position in the feed, for messages. */
  readonly index: number;
  readonly guid: string;
  /** Absolute http(s) URL of the item's page, or '' when it has none. */
  readonly url: string;
  /** Plain text. */
  readonly title: string;
  /** The full-content field (content:encoded, Atom content), as HTML; '' when absent. */
  readonly contentHtml: string;
  /** The summary field (description, Atom summary), as HTML; '' when absent. */
  readonly summaryHtml: string;
  readonly author: string;
  readonly publishedAt: string | null;
  readonly updatedAt: string | null;
  readonly categories: readonly string[];
  readonly image: { readonly url: string; readonly alt: string } | null;
}

export interface ParsedFeed {
  readonly format: FeedFormat;
  readonly title: string;
  /** The site the feed belongs to (its alternate link), or ''. */
  readonly siteUrl: string;
  readonly author: string;
  readonly items: readonly FeedItem[];
  /** One line per item left out, e.g. 'item 3 ("Title"): has neither a link nor a guid'. */
  readonly problems: readonly string[];
}

type XmlNode = Record<string, unknown>;

/** Elements whose content is HTML (escaped, in CDATA, or inline XHTML): kept raw, decoded here. */
const HTML_FIELDS = ['description', 'content:encoded', 'content', 'summary', 'title', 'media:description', 'media:title'];

const ARRAY_ELEMENTS = new Set(['item', 'entry', 'link', 'category', 'enclosure', 'media:content', 'media:thumbnail', 'author', 'dc:creator', 'atom:link']);

function makeParser(): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    processEntities: true,
    htmlEntities: true,
    cdataPropName: false,
    removeNSPrefix: false,
    stopNodes: [
      ...HTML_FIELDS.map((field) => `rss.channel.item.${field}`),
      ...HTML_FIELDS.map((field) => `feed.entry.${field}`),
      ...HTML_FIELDS.map((field) => `rdf:RDF.item.${field}`),
      'feed.title',
      'feed.subtitle',
    ],
    isArray: (name) => ARRAY_ELEMENTS.has(name),
  });
}

/** Parses a feed. Throws MailroomError naming `feedUrl` when the document is not a well-formed RSS, Atom or RDF feed. */
export function parseFeed(xml: string, feedUrl: string): ParsedFeed {
  const fail = (problem: string): never => {
    throw new MailroomError('INVALID_INPUT', `feed ${feedUrl}: ${problem}`);
  };
  const text = xml.replace(/^\uFEFF/, '').trimStart();
  if (text === '') fail('the document is empty');
  if (/^(<!--[\s\S]*?-->\s*)*<(!doctype\s+html|html)\b/i.test(text)) fail('this is a web page, not a feed (look for its RSS or Atom link, or give the page to `mailroom feeds add`, which finds it)');
  if (/^\s*[[{]/.test(text)) fail('this is JSON, not XML (JSON Feed is not supported; use the site\'s RSS or Atom feed)');
  if (/<!ENTITY/i.test(text.slice(0, 10_000))) fail('the document declares XML entities, which are refused (they can expand without limit)');
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: true });
  if (valid !== true) fail(`not well-formed XML: ${valid.err.msg.replace(/\.$/, '')} (line ${valid.err.line}, column ${valid.err.col})`);

  let document: XmlNode;
  try {
    document = makeParser().parse(text) as XmlNode;
  } catch (error) {
    return fail(`could not be read as XML: ${(error as Error).message}`);
  }
  if (isNode(document.rss)) return readRss(document.rss, feedUrl);
  if (isNode(document.feed)) return readAtom(document.feed, feedUrl);
  if (isNode(document['rdf:RDF'])) return readRdf(document['rdf:RDF'], feedUrl);
  const root = Object.keys(document).find((key) => !key.startsWith('?') && !key.startsWith('!'));
  return fail(`not an RSS or Atom feed (the document's root element is <${root ?? 'nothing'}>, expected <rss>, <feed> or <rdf:RDF>)`);
}

// -------------------------------------------------------------------------------------------------------------------
// RSS 2.0

function readRss(rss: XmlNode, feedUrl: string): ParsedFeed {
  const channel = isNode(rss.channel) ? rss.channel : Array.isArray(rss.channel) && isNode(rss.channel[0]) ? (rss.channel[0] as XmlNode) : null;
  if (!channel) throw new MailroomError('INVALID_INPUT', `feed ${feedUrl}: an <rss> document without a <channel>`);
  const siteUrl = absoluteLink(firstLinkText(channel.link), feedUrl) ?? '';
  const base = siteUrl || feedUrl;
  const feedAuthor = plainText(channel['managingEditor']) || plainText(channel['dc:creator']);
  const rawItems = asArray(channel.item);
  const drafts = rawItems.map((value, position): ItemDraft => {
    const item = isNode(value) ? value : {};
    const guidNode = item.guid;
    return {
      index: position + 1,
      guid: plainText(guidNode),
      link: firstLinkText(item.link) || (isPermaLink(guidNode) ? plainText(guidNode) : ''),
      title: htmlFieldText(item.title, 'html-maybe'),
      contentHtml: htmlField(item['content:encoded']),
      summaryHtml: htmlField(item.description),
      author: rssAuthor(item) || feedAuthor,
      published: parseDateValue(plainText(item.pubDate)) ?? parseDateValue(plainText(item['dc:date'])),
      updated: parseDateValue(plainText(item['atom:updated'])) ?? parseDateValue(plainText(item['a10:updated'])),
      categories: asArray(item.category).map(plainText),
      image: mediaImage(item, base),
    };
  });
  return finish('rss', htmlFieldText(channel.title, 'html-maybe'), siteUrl, feedAuthor, drafts, base);
}

function isPermaLink(guid: unknown): boolean {
  if (!isNode(guid)) return typeof guid === 'string' && /^https?:\/\//.test(guid);
  const flag = guid['@_isPermaLink'];
  return flag !== 'false' && /^https?:\/\//.test(plainText(guid));
}

/** "jane@example.com (Jane Doe)" → "Jane Doe"; dc:creator as it is. */
function rssAuthor(item: XmlNode): string {
  const creators = asArray(item['dc:creator']).map(plainText).filter(Boolean);
  if (creators.length > 0) return creators.join(', ');
  const author = plainText(item.author);
  const named = /\(([^)]+)\)\s*$/.exec(author)?.[1];
  if (named) return collapseWhitespace(named);
  return author.includes('@') ? '' : author;
}

// -------------------------------------------------------------------------------------------------------------------
// Atom

function readAtom(feed: XmlNode, feedUrl: string): ParsedFeed {
  const feedBase = resolveBase(feed['@_xml:base'], feedUrl);
  const siteUrl = atomLink(feed.link, 'alternate', feedBase) ?? '';
  const feedAuthor = atomAuthors(feed.author);
  const drafts = asArray(feed.entry).map((value, position): ItemDraft => {
    const entry = isNode(value) ? value : {};
    const base = resolveBase(entry['@_xml:base'], feedBase);
    const content = isNode(entry.content) ? entry.content : null;
    // Out-of-line content (content src="…") is a link to the text, not the text.
    const outOfLine = content && typeof content['@_src'] === 'string' ? absoluteLink(content['@_src'], base) : null;
    return {
      index: position + 1,
      guid: plainText(entry.id),
      link: atomLink(entry.link, 'alternate', base) ?? outOfLine ?? '',
      title: atomText(entry.title),
      contentHtml: outOfLine ? '' : atomHtml(entry.content),
      summaryHtml: atomHtml(entry.summary),
      author: atomAuthors(entry.author) || feedAuthor,
      published: parseDateValue(plainText(entry.published)) ?? parseDateValue(plainText(entry.issued)) ?? parseDateValue(plainText(entry.updated)),
      updated: parseDateValue(plainText(entry.updated)),
      categories: asArray(entry.category).map((category) => (isNode(category) ? String(category['@_label'] ?? category['@_term'] ?? '') : plainText(category))),
      image: mediaImage(entry, base) ?? atomEnclosureImage(entry.link, base),
    };
  });
  return finish('atom', atomText(feed.title), siteUrl, feedAuthor, drafts, feedBase);
}

function atomLink(links: unknown, rel: string, base: string): string | null {
  for (const link of asArray(links)) {
    if (!isNode(link)) continue;
    const linkRel = typeof link['@_rel'] === 'string' ? link['@_rel'] : 'alternate';
    const type = typeof link['@_type'] === 'string' ? link['@_type'] : '';
    if (linkRel === rel && (rel !== 'alternate' || type === '' || /html/i.test(type))) {
      const href = absoluteLink(String(link['@_href'] ?? ''), base);
      if (href) return href;
    }
  }
  return null;
}

function atomEnclosureImage(links: unknown, base: string): { url: string; alt: string } | null {
  for (const link of asArray(links)) {
    if (isNode(link) && link['@_rel'] === 'enclosure' && /^image\//i.test(String(link['@_type'] ?? ''))) {
      const url = safeUrl(String(link['@_href'] ?? ''), base, 'image');
      if (url) return { url, alt: String(link['@_title'] ?? '') };
    }
  }
  return null;
}

function atomAuthors(authors: unknown): string {
  return asArray(authors)
    .map((author) => (isNode(author) ? plainText(author.name) : plainText(author)))
    .filter(Boolean)
    .join(', ');
}

/** An Atom text construct as plain text (type text, html or xhtml). */
function atomText(node: unknown): string {
  const type = isNode(node) ? String(node['@_type'] ?? 'text') : 'text';
  return htmlFieldText(node, type === 'text' ? 'text' : 'html');
}

/** An Atom text construct as HTML. */
function atomHtml(node: unknown): string {
  const type = isNode(node) ? String(node['@_type'] ?? 'text').toLowerCase() : 'text';
  const raw = rawText(node);
  if (raw === '') return '';
  if (type === 'xhtml') return stripXhtmlWrapper(raw);
  if (type === 'html' || type === 'text/html') return decodeXml(raw);
  return `<p>${escapeHtml(decodeXml(raw)).replace(/\n{2,}/g, '</p><p>')}</p>`;
}

// -------------------------------------------------------------------------------------------------------------------
// RSS 1.0 (RDF)

function readRdf(rdf: XmlNode, feedUrl: string): ParsedFeed {
  const channel = isNode(rdf.channel) ? rdf.channel : {};
  const siteUrl = absoluteLink(firstLinkText(channel.link), feedUrl) ?? '';
  const base = siteUrl || feedUrl;
  const drafts = asArray(rdf.item).map((value, position): ItemDraft => {
    const item = isNode(value) ? value : {};
    return {
      index: position + 1,
      guid: typeof item['@_rdf:about'] === 'string' ? item['@_rdf:about'] : '',
      link: firstLinkText(item.link),
      title: htmlFieldText(item.title, 'html-maybe'),
      contentHtml: htmlField(item['content:encoded']),
      summaryHtml: htmlField(item.description),
      author: asArray(item['dc:creator']).map(plainText).filter(Boolean).join(', '),
      published: parseDateValue(plainText(item['dc:date'])),
      updated: null,
      categories: asArray(item['dc:subject']).map(plainText),
      image: null,
    };
  });
  return finish('rdf', htmlFieldText(channel.title, 'html-maybe'), siteUrl, '', drafts, base);
}

// -------------------------------------------------------------------------------------------------------------------
// Items

interface ItemDraft {
  readonly index: number;
  readonly guid: string;
  readonly link: string;
  readonly title: string;
  readonly contentHtml: string;
  readonly summaryHtml: string;
  readonly author: string;
  readonly published: string | null;
  readonly updated: string | null;
  readonly categories: readonly string[];
  readonly image: { url: string; alt: string } | null;
}

/** Checks every item, drops the broken ones and repeats (each with a reason), and resolves links. */
function finish(format: FeedFormat, title: string, siteUrl: string, author: string, drafts: readonly ItemDraft[], base: string): ParsedFeed {
  const items: FeedItem[] = [];
  const problems: string[] = [];
  const seenGuids = new Map<string, number>();
  const seenUrls = new Map<string, number>();
  for (const draft of drafts) {
    const name = `item ${draft.index}${draft.title ? ` (${JSON.stringify(draft.title.length > 60 ? `${draft.title.slice(0, 60)}…` : draft.title)})` : ''}`;
    const rawLink = draft.link.trim();
    let url = '';
    if (rawLink !== '') {
      const absolute = absoluteLink(rawLink, base);
      if (!absolute) {
        problems.push(`${name}: its link ${JSON.stringify(rawLink.slice(0, 80))} is not an http(s) URL`);
        continue;
      }
      url = absolute;
    }
    const guid = collapseWhitespace(draft.guid);
    if (url === '' && guid === '') {
      problems.push(`${name}: has neither a link nor a guid`);
      continue;
    }
    if (draft.title === '' && draft.contentHtml.trim() === '' && draft.summaryHtml.trim() === '') {
      problems.push(`${name}: has no title and no text`);
      continue;
    }
    const repeatOf = (guid !== '' ? seenGuids.get(guid) : undefined) ?? (guid === '' && url !== '' ? seenUrls.get(url) : undefined);
    if (repeatOf !== undefined) {
      problems.push(`${name}: repeats item ${repeatOf} (same ${guid !== '' ? 'guid' : 'link'}); skipped`);
      continue;
    }
    if (guid !== '') seenGuids.set(guid, draft.index);
    if (url !== '') seenUrls.set(url, draft.index);
    const categories = [...new Set(draft.categories.map((category) => collapseWhitespace(category).toLowerCase()).filter((category) => category !== '' && category.length <= 40))];
    items.push({
      index: draft.index,
      guid,
      url,
      title: draft.title,
      contentHtml: draft.contentHtml.trim(),
      summaryHtml: draft.summaryHtml.trim(),
      author: draft.author,
      publishedAt: draft.published,
      updatedAt: draft.updated,
      categories,
      image: draft.image,
    });
  }
  return { format, title, siteUrl, author, items, problems };
}

/** An image for the item from Media RSS (media:content, media:thumbnail, media:group) or an image enclosure. */
function mediaImage(item: XmlNode, base: string): { url: string; alt: string } | null {
  const group = isNode(item['media:group']) ? (item['media:group'] as XmlNode) : {};
  const candidates = [...asArray(item['media:content']), ...asArray(group['media:content']), ...asArray(item['media:thumbnail']), ...asArray(group['media:thumbnail']), ...asArray(item.enclosure)];
  for (const candidate of candidates) {
    if (!isNode(candidate)) continue;
    const type = String(candidate['@_type'] ?? '');
    const medium = String(candidate['@_medium'] ?? '');
    const isImage = medium === 'image' || /^image\//i.test(type) || (medium === '' && type === '' && /\.(jpe?g|png|gif|webp|avif)(\?|$)/i.test(String(candidate['@_url'] ?? '')));
    if (!isImage) continue;
    const url = safeUrl(String(candidate['@_url'] ?? ''), base, 'image');
    if (url) return { url, alt: htmlFieldText(candidate['media:description'] ?? item['media:description'], 'html-maybe') };
  }
  return null;
}

// -------------------------------------------------------------------------------------------------------------------
// Values

function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The text of an element parsed normally (entities decoded, CDATA merged). */
function plainText(value: unknown): string {
  if (Array.isArray(value)) return plainText(value[0]);
  if (typeof value === 'string' || typeof value === 'number') return collapseWhitespace(String(value));
  if (isNode(value) && value['#text'] !== undefined) return collapseWhitespace(String(value['#text']));
  return '';
}

/** The raw inner text of an element kept whole by the parser (a stop node). */
function rawText(value: unknown): string {
  if (Array.isArray(value)) return rawText(value[0]);
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (isNode(value) && value['#text'] !== undefined) return String(value['#text']);
  return '';
}

/** An HTML-bearing field (description, content:encoded) as the HTML it carries. */
function htmlField(value: unknown): string {
  return decodeXml(rawText(value));
}

/** An HTML-bearing field as plain text: tags dropped, entities decoded. 'html-maybe': only when it looks like markup. */
function htmlFieldText(value: unknown, kind: 'text' | 'html' | 'html-maybe'): string {
  let text = decodeXml(rawText(value));
  if (kind === 'text') return collapseWhitespace(text);
  if (kind === 'html' || /<\/?[a-z][^>]*>|&[a-z#0-9]+;/i.test(text)) {
    text = decodeEntities(text.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, '').replace(/<[^>]*>/g, ' '), 'html');
  }
  return collapseWhitespace(text);
}

/** The first link as text: RSS <link>text</link>, or an Atom-style <link href>. */
function firstLinkText(links: unknown): string {
  for (const link of asArray(links)) {
    if (typeof link === 'string' && link.trim() !== '') return link.trim();
    if (isNode(link)) {
      if (typeof link['#text'] === 'string' && link['#text'].trim() !== '') return link['#text'].trim();
      if (typeof link['@_href'] === 'string' && (link['@_rel'] === undefined || link['@_rel'] === 'alternate')) return link['@_href'];
    }
  }
  return '';
}

function absoluteLink(link: string, base: string): string | null {
  const url = link.trim() === '' ? null : safeUrl(link.trim(), base, 'link');
  return url && /^https?:/.test(url) ? url : null;
}

function resolveBase(xmlBase: unknown, parent: string): string {
  if (typeof xmlBase !== 'string' || xmlBase.trim() === '') return parent;
  try {
    const url = new URL(xmlBase.trim(), parent);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : parent;
  } catch {
    return parent;
  }
}

/** Undoes one level of XML escaping outside CDATA sections and unwraps them. */
export function decodeXml(raw: string): string {
  return raw
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part) => (part.startsWith('<![CDATA[') ? part.slice(9, -3) : decodeEntities(part, 'xml')))
    .join('');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Atom xhtml content is wrapped in one <div xmlns="…">; its children are the content. */
function stripXhtmlWrapper(raw: string): string {
  const match = /^\s*<(?:[\w-]+:)?div\b[^>]*>([\s\S]*)<\/(?:[\w-]+:)?div>\s*$/i.exec(raw);
  return (match?.[1] ?? raw).replace(/<(\/?)[\w-]+:/g, '<$1');
}
