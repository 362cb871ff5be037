/**
 * Warnings before sending an issue, on the exact email one subscriber (or the sample reader) gets: its HTML size
 * against Gmail's clipping, images without alt text, and links and images on this server that fail. The same checks
 * as the local inbox's "Check" tab (src/checks/own-urls.ts): links on other hosts are listed, never fetched.
 */
import { checkMessage, type OwnServerGet, type OwnUrlResult } from '../checks/own-urls.ts';
import type { ClipVerdict } from '../checks/gmail-clipping.ts';
import type { Article, Newsletter } from '../core/domain.ts';
import { articleWebUrl, issueWebUrl, preferencesUrl, unsubscribeUrl } from '../core/links.ts';
import type { StoredIssue } from '../store/store-types.ts';
import { previewIssueAs, type IssuePreviewStores } from './issue-preview.ts';

/** What checking an issue needs of the stores (app.stores has it). */
export type IssueWarningStores = IssuePreviewStores & {
  readonly content: {
    findArticle(ref: string | number): Promise<Article | null>;
  };
};

export interface IssueWarnings {
  /** Whose email was checked. */
  readonly email: string;
  readonly html: { readonly bytes: number; readonly limitBytes: number; readonly warnBytes: number; readonly verdict: ClipVerdict };
  /** The src of each image with no alt attribute. */
  readonly imagesWithoutAlt: readonly string[];
  /** Links and images on this server that answered 400 or more. */
  readonly failingUrls: readonly OwnUrlResult[];
  /** How many links and images on this server were requested. */
  readonly checkedUrls: number;
  /** Links and images on other hosts: listed, not requested. */
  readonly otherHosts: readonly string[];
  /** Pages on this server that go public when this issue is sent (its web version, its articles' pages): not failing yet. */
  readonly liveOnceSent: readonly string[];
}

export async function issueWarnings(
  stores: IssueWarningStores,
  settings: { readonly publicUrl: string; readonly secret: string },
  get: OwnServerGet,
  newsletter: Newsletter,
  issue: StoredIssue,
  as: string | undefined,
  label: string,
): Promise<IssueWarnings> {
  const preview = await previewIssueAs(stores, settings, newsletter, issue, as, label);
  // The sample reader is nobody: its own unsubscribe and preferences links cannot work, and are not the email's fault.
  const sampleLinks = as ? new Set<string>() : new Set([unsubscribeUrl(settings, 0, newsletter.listId), preferencesUrl(settings, 0, newsletter.listId)]);
  // The issue's web version and its articles' pages answer 404 until the issue is sent (src/http/archive-routes.ts).
  const slugs = await Promise.all(issue.articleIds.map(async (id) => (await stores.content.findArticle(id))?.slug));
  const unpublished = new Set([issueWebUrl(settings, newsletter.slug, issue.number), ...slugs.filter((slug) => slug !== undefined).map((slug) => articleWebUrl(settings, slug))]);
  const check = await checkMessage(preview.html, settings.publicUrl, (path) => get(path));
  const urls = check.urls.filter((url) => !sampleLinks.has(url.url));
  const own = urls.filter((url) => url.status !== null);
  const waiting = own.filter((url) => url.status === 404 && unpublished.has(url.url));
  return {
    email: preview.email,
    html: check.report.html,
    imagesWithoutAlt: check.report.imagesWithoutAlt.map((image) => image.src),
    failingUrls: own.filter((url) => (url.status ?? 0) >= 400 && !waiting.includes(url)),
    checkedUrls: own.length,
    otherHosts: urls.filter((url) => url.status === null).map((url) => url.url),
    liveOnceSent: waiting.map((url) => url.url),
  };
}
