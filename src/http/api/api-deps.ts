/** What the API's handlers use: the stores, the application services' settings and the send machinery; built by buildHttpServer. */
import type { SendStatus } from '../../core/domain.ts';
import type { AccountService } from '../../accounts/account-service.ts';
import type { FetchPolicy } from '../../net/safe-fetch.ts';
import type { SendDeps } from '../../sending/send-newsletter.ts';
import type { ApiQueries } from '../../store/api-queries.ts';
import type { Feed, FeedSummary, FullContentMode } from '../../store/feed-store.ts';
import type { Kysely } from 'kysely';
import type { Article, Campaign, CampaignStatus, Issue, MailingList, Newsletter, SendRow, Subscriber } from '../../core/domain.ts';
import type { ListLookup, NewsletterLookup } from '../../store/lookups.ts';
import type { Database } from '../../store/schema.ts';
import type { ListSummary, NewsletterSchedule, StoredIssue } from '../../store/store-types.ts';
import type { CampaignControlStores } from '../../services/campaign-control.ts';
import type { RecipientCountStores } from '../../services/campaign-recipients.ts';
import type { SubscriberServiceStores } from '../../services/subscriber-service.ts';
import type { NewsletterServiceStores } from '../../services/newsletter-service.ts';
import type { IssueWarningStores } from '../../services/issue-warnings.ts';
import type { ArticleServiceStores } from '../../services/article-service.ts';
import type { FeedPollPort, FeedPollStores } from '../../feeds/poll-feed.ts';
import type { SignupFormStores, SignupSwitch } from '../../subscribers/signup-form.ts';
import type { PersonalDataRecords } from '../../subscribers/privacy.ts';
import type { IssueBuilderStores } from '../../issues/build-issue.ts';
import type { RateLimitResult } from '../../store/subscriber-store.ts';
import type { CampaignStatsStores } from '../../services/campaign-stats.ts';
import type { SuppressionRouteStores } from './routes/suppressions.ts';
import type { ImportJobs } from '../../services/import-jobs.ts';

export type SettingValue = string | number | boolean | null;

export interface ApiOptions {
  /** Sending (test sends, campaigns); without it those routes answer 503. */
  readonly sendDeps?: () => SendDeps;
  /** Wakes the campaign runner so a campaign made through the API starts now rather than at the next tick. */
  readonly kickCampaigns?: () => void;
  /** The effective settings, secrets already hidden. */
  readonly settings?: () => Readonly<Record<string, SettingValue>>;
  /** For article imports from URLs and feeds. */
  readonly fetchPolicy?: FetchPolicy;
  /** How often the campaign event stream sends progress (default 1000 ms). */
  readonly eventIntervalMs?: number;
  /** SCHEDULE_MIN_INTERVAL_MINUTES (default 60). */
  readonly scheduleMinIntervalMinutes?: number;
}

/** What the API's handlers need of the stores, beyond the services they call (app.stores has it). */
export type ApiStores = CampaignControlStores &
  CampaignStatsStores &
  SuppressionRouteStores &
  RecipientCountStores &
  SubscriberServiceStores &
  NewsletterServiceStores &
  IssueWarningStores &
  ArticleServiceStores &
  FeedPollStores &
  SignupFormStores &
  IssueBuilderStores & {
  readonly db: Kysely<Database>;
  readonly audience: ListLookup & {
    createList(name: string, description?: string): Promise<MailingList>;
    findSubscriberByEmail(email: string): Promise<Subscriber | null>;
    getSubscriber(id: number): Promise<Subscriber | null>;
    listLists(): Promise<ListSummary[]>;
  };
  readonly campaigns: {
    getCampaign(id: number): Promise<Campaign | null>;
    listCampaigns(options?: { status?: CampaignStatus; limit?: number }): Promise<Campaign[]>;
    listSends(campaignId: number, options?: { status?: SendStatus; possibleDuplicate?: boolean; limit?: number; offset?: number }): Promise<SendRow[]>;
  };
  readonly content: {
    countNewsletterArticles(newsletterId: number): Promise<{ total: number; unsent: number }>;
    findArticle(ref: string | number): Promise<Article | null>;
    listArticles(options?: { limit?: number; offset?: number; newsletterId?: number; unassigned?: boolean }): Promise<Article[]>;
    newsletterTags(newsletterId: number): Promise<string[]>;
    setNewsletterTags(newsletterId: number, tags: readonly string[]): Promise<string[]>;
  };
  readonly newsletters: NewsletterLookup & {
    findIssue(newsletterId: number, number: number): Promise<StoredIssue | null>;
    getNewsletter(id: number): Promise<Newsletter | null>;
    listIssues(newsletterId: number): Promise<(Issue & { campaigns: number })[]>;
    listNewsletters(): Promise<Newsletter[]>;
  };
  readonly schedules: {
    listSchedules(): Promise<NewsletterSchedule[]>;
    removeSchedule(newsletterId: number): Promise<boolean>;
    saveSchedule(newsletterId: number, fields: { cron: string; timezone: string; emptyPolicy: 'skip' | 'send' }): Promise<NewsletterSchedule>;
  };
};

/** What the API's handlers need of the subscriber's side: rate limits, names and unsubscribes, the sign-up form, privacy requests (app.stores.subscribers has it). */
export interface ApiSubscriberRecords extends SignupSwitch, PersonalDataRecords {
  hitRateLimit(bucket: string, key: string, now: Date, windowMs: number, limit: number): Promise<RateLimitResult>;
  updateName(subscriberId: number, fields: { name: string; firstName: string; lastName: string }, at: Date): Promise<boolean>;
  unsubscribe(subscriberId: number, listId: number, at: Date): Promise<{ email: string; listName: string; wasSubscribed: boolean } | null>;
  unsubscribeAll(subscriberId: number, at: Date): Promise<number>;
}

/** What the API's handlers need of the feeds: managing them, polling one, importing articles (app.stores.feeds has it). */
export interface ApiFeeds extends FeedPollPort {
  addFeed(input: { newsletterId: number; url: string; title: string; siteUrl: string; fullContent: FullContentMode }): Promise<Feed>;
  getFeed(id: number): Promise<Feed | null>;
  listFeeds(options?: { newsletterId?: number }): Promise<FeedSummary[]>;
  removeFeed(id: number): Promise<boolean>;
}

export interface ApiDeps {
  readonly stores: ApiStores;
  readonly subscribers: ApiSubscriberRecords;
  readonly feeds: ApiFeeds;
  readonly queries: ApiQueries;
  readonly accounts: AccountService;
  readonly jobs: ImportJobs;
  readonly publicUrl: string;
  readonly secret: string;
  readonly clock: () => Date;
  readonly log: (line: string) => void;
  readonly options: ApiOptions;
  /** A GET of a path on this very server, in process, answering its status (links in an email checked before sending). */
  readonly ownServerGet: (path: string) => Promise<number>;
}
