/** RSS-to-email: the articles a newsletter fed by feeds puts in its next issue. */
import type { Article, Newsletter } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import type { FeedIssueArticles } from '../store/feed-store.ts';

/** What picking feed articles needs of the feed store. */
export interface FeedIssuePicker {
  listFeedIssueArticles(newsletterId: number, limit: number, options?: { includeOlder?: boolean }): Promise<FeedIssueArticles | null>;
}

export interface FeedPickOptions {
  readonly max: number;
  /**
   * Only items that arrived since the last sent issue (a scheduled issue). Otherwise, when nothing new arrived, items
   * that arrived earlier but were never sent (over an earlier issue's limit) are taken.
   */
  readonly onlyNew: boolean;
}

/**
 * The items of the newsletter's feeds that arrived since its last sent issue, newest first; null when the newsletter
 * has no feed, so the usual choice applies. Throws NOT_FOUND, naming the feeds, when nothing
 * is there to send.
 */
export async function pickFeedArticles(stores: { readonly feeds: FeedIssuePicker }, newsletter: Newsletter, options: FeedPickOptions): Promise<Article[] | null> {
  const found = await stores.feeds.listFeedIssueArticles(newsletter.id, options.max, { includeOlder: !options.onlyNew });
  if (found === null) return null;
  if (found.articles.length > 0) return found.articles;
  const since = found.lastIssue ? ` since issue #${found.lastIssue.number} (built ${found.lastIssue.createdAt})` : '';
  const feeds = found.feeds.map((feed) => feed.url).join(', ');
  throw new MailroomError(
    'NOT_FOUND',
    `newsletter ${quote(newsletter.slug)} is fed by ${found.feeds.length} feed(s) (${feeds}) and no new item arrived${since}; poll them (mailroom feeds poll), or name articles with --articles`,
  );
}
