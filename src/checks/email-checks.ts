/**
 * Checks of a rendered email's HTML, from the HTML alone: its size against Gmail's clipping, images without alt text,
 * links (with their names, and names shared by links to different places), and the HTML and CSS features that
 * email clients do not support, from caniemail's data (through doiuse-email). Pure: nothing is fetched.
 */

import { doIUseEmail } from '@jsx-email/doiuse-email';
import { DomUtils, parseDocument } from 'htmlparser2';
import { HTML_LIMIT_BYTES, HTML_WARN_BYTES, measureHtmlForGmail, type ClipVerdict } from './gmail-clipping.ts';

type Element = ReturnType<typeof DomUtils.getElementsByTagName>[number];

/** The clients checked unless told otherwise: the four families most newsletters are read in. */
export const DEFAULT_CHECKED_CLIENTS: readonly string[] = ['gmail.*', 'outlook.*', 'apple-mail.*', 'yahoo.*'];

export interface CheckedImage {
  readonly src: string;
  /** null: no alt attribute at all (a screen reader reads the file name). '' marks a decorative image. */
  readonly alt: string | null;
}

export interface CheckedLink {
  readonly href: string;
  /** What a screen reader announces: the link's text, with the alt text of images inside it. */
  readonly name: string;
}

/** Links with one name that lead to different places: a screen reader's list of links cannot tell them apart. */
export interface AmbiguousLinkName {
  readonly name: string;
  readonly hrefs: readonly string[];
}

/** One feature caniemail says some checked clients do not support. */
export interface ClientSupportFinding {
  /** caniemail's name of the feature, e.g. "border-radius", "@media", "target attribute". */
  readonly feature: string;
  /** caniemail's client ids, e.g. "outlook.windows", sorted. */
  readonly clients: readonly string[];
  /** The families of those clients, e.g. "outlook", sorted. */
  readonly families: readonly string[];
}

export interface EmailCheckReport {
  readonly html: { readonly bytes: number; readonly limitBytes: number; readonly warnBytes: number; readonly verdict: ClipVerdict };
  readonly images: readonly CheckedImage[];
  /** Images with no alt attribute. */
  readonly imagesWithoutAlt: readonly CheckedImage[];
  readonly links: readonly CheckedLink[];
  /** Links a screen reader announces with no name at all (e.g. an image link whose image has alt=""). */
  readonly unnamedLinks: readonly CheckedLink[];
  readonly ambiguousLinkNames: readonly AmbiguousLinkName[];
  readonly unsupported: readonly ClientSupportFinding[];
  /** The caniemail check could not run on this HTML (the message says why); the other checks still did. */
  readonly unsupportedError: string | null;
}

export interface EmailCheckOptions {
  /** caniemail client globs (e.g. "gmail.*", "outlook.windows"); default DEFAULT_CHECKED_CLIENTS. */
  readonly clients?: readonly string[];
}

const CLIENT_LABELS: Readonly<Record<string, string>> = {
  'gmail.desktop-webmail': 'Gmail on the web',
  'gmail.mobile-webmail': 'Gmail mobile web (non-Google accounts)',
  'gmail.ios': 'Gmail for iOS',
  'gmail.android': 'Gmail for Android',
  'outlook.windows': 'Outlook on Windows',
  'outlook.windows-mail': 'Windows Mail',
  'outlook.macos': 'Outlook for Mac',
  'outlook.ios': 'Outlook for iOS',
  'outlook.android': 'Outlook for Android',
  'apple-mail.macos': 'Apple Mail on macOS',
  'apple-mail.ios': 'Apple Mail on iOS',
  'yahoo.desktop-webmail': 'Yahoo Mail on the web',
  'yahoo.ios': 'Yahoo Mail for iOS',
  'yahoo.android': 'Yahoo Mail for Android',
};

const FAMILY_LABELS: Readonly<Record<string, string>> = { gmail: 'Gmail', outlook: 'Outlook', 'apple-mail': 'Apple Mail', yahoo: 'Yahoo Mail' };

/** A caniemail client id as people say it ("outlook.windows" → "Outlook on Windows"). */
export function describeClient(id: string): string {
  return CLIENT_LABELS[id] ?? id;
}

/** A client family as people say it ("apple-mail" → "Apple Mail"). */
export function describeFamily(family: string): string {
  return FAMILY_LABELS[family] ?? family;
}

function collapseSpace(text: string): string {
  return text.replace(/[\s\u200B-\u200F\uFEFF]+/g, ' ').trim();
}

/** The name a screen reader gives a link: aria-label if any, else its text with the alt text of images inside. */
function linkName(link: Element): string {
  const label = link.attribs['aria-label'];
  if (label !== undefined && collapseSpace(label) !== '') return collapseSpace(label);
  const parts: string[] = [];
  const walk = (nodes: Element['children']): void => {
    for (const node of nodes) {
      if (DomUtils.isText(node)) parts.push(node.data);
      else if (DomUtils.isTag(node)) {
        if (node.name === 'img') parts.push(` ${node.attribs.alt ?? ''} `);
        else walk(node.children);
      }
    }
  };
  walk(link.children);
  return collapseSpace(parts.join(''));
}

function findAmbiguousNames(links: readonly CheckedLink[]): AmbiguousLinkName[] {
  const byName = new Map<string, { name: string; hrefs: Set<string> }>();
  for (const link of links) {
    if (link.name === '') continue;
    const key = link.name.toLowerCase();
    const entry = byName.get(key) ?? { name: link.name, hrefs: new Set<string>() };
    entry.hrefs.add(link.href);
    byName.set(key, entry);
  }
  return [...byName.values()].filter((entry) => entry.hrefs.size > 1).map((entry) => ({ name: entry.name, hrefs: [...entry.hrefs] }));
}

const UNSUPPORTED_MESSAGE = /^`(.+)` is not supported by `([^`]+)`$/;

/** caniemail's "not supported" findings for `html`, one per feature with every client concerned. */
function checkClientSupport(html: string, clients: readonly string[]): { findings: ClientSupportFinding[]; error: string | null } {
  let result: ReturnType<typeof doIUseEmail>;
  try {
    result = doIUseEmail(html, { emailClients: [...clients] });
  } catch (error) {
    return { findings: [], error: error instanceof Error ? error.message : String(error) };
  }
  if (result.success) return { findings: [], error: null };
  const byFeature = new Map<string, Set<string>>();
  for (const message of result.errors) {
    const match = UNSUPPORTED_MESSAGE.exec(message);
    const feature = match?.[1] ?? message;
    const client = match?.[2];
    const set = byFeature.get(feature) ?? new Set<string>();
    if (client !== undefined) set.add(client);
    byFeature.set(feature, set);
  }
  const findings = [...byFeature.entries()].map(([feature, set]) => {
    const ids = [...set].sort();
    return { feature, clients: ids, families: [...new Set(ids.map((id) => id.split('.')[0] ?? id))].sort() };
  });
  findings.sort((a, b) => a.feature.localeCompare(b.feature));
  return { findings, error: null };
}

/** Every check of one email's HTML. */
export function checkEmailHtml(html: string, options: EmailCheckOptions = {}): EmailCheckReport {
  const document = parseDocument(html, { decodeEntities: true });
  const images: CheckedImage[] = DomUtils.getElementsByTagName('img', document, true).map((img) => ({
    src: img.attribs.src ?? '',
    alt: img.attribs.alt ?? null,
  }));
  const links: CheckedLink[] = DomUtils.getElementsByTagName('a', document, true)
    .filter((a) => a.attribs.href !== undefined)
    .map((a) => ({ href: a.attribs.href ?? '', name: linkName(a) }));
  const size = measureHtmlForGmail(html);
  const support = checkClientSupport(html, options.clients ?? DEFAULT_CHECKED_CLIENTS);
  return {
    html: { bytes: size.bytes, limitBytes: HTML_LIMIT_BYTES, warnBytes: HTML_WARN_BYTES, verdict: size.verdict },
    images,
    imagesWithoutAlt: images.filter((image) => image.alt === null),
    links,
    unnamedLinks: links.filter((link) => link.name === ''),
    ambiguousLinkNames: findAmbiguousNames(links),
    unsupported: support.findings,
    unsupportedError: support.error,
  };
}
