/** Table shapes as Kysely sees them. Timestamps are ISO 8601 strings; JSON columns are text. */
import type { Generated } from 'kysely';

export interface ArticlesTable {
  id: Generated<number>;
  slug: string;
  canonical_url: string;
  title: string;
  summary: string;
  body: string;
  author: string;
  published_at: string;
  lead_image_url: string | null;
  lead_image_alt: string | null;
  tags: string;
  created_at: string;
  updated_at: string;
}

export interface ListsTable {
  id: Generated<number>;
  name: string;
  description: string;
  created_at: string;
  /** 1: the hosted sign-up page and embeddable form accept sign-ups (migration 0003). */
  signup_open: Generated<number>;
}

export interface SubscribersTable {
  id: Generated<number>;
  email: string;
  name: string;
  first_name: string;
  last_name: string;
  attributes: string;
  status: string;
  consent_source: string;
  consent_at: string;
  created_at: string;
  updated_at: string;
}

export interface ListMembershipsTable {
  list_id: number;
  subscriber_id: number;
  /** pending | subscribed | unsubscribed */
  status: string;
  created_at: string;
  updated_at: string;
  /** Consent per list (migration 0003): how and when it was asked for, from which IP (when recorded), when it was confirmed. */
  consent_source: Generated<string>;
  consent_at: string | null;
  consent_ip: string | null;
  confirmed_at: string | null;
  confirmed_ip: string | null;
  confirmation_sent_at: string | null;
  unsubscribed_at: string | null;
}

export interface SuppressionsTable {
  email_hash: string;
  email: string | null;
  reason: string;
  detail: string;
  created_at: string;
}

export interface NewslettersTable {
  id: Generated<number>;
  slug: string;
  name: string;
  from_name: string;
  from_email: string;
  reply_to: string;
  list_id: number;
  template: string;
  postal_address: string;
  logo_url: string;
  subject_template: string;
  max_articles: number;
  language: string;
  created_at: string;
  /** 1: the archive index and RSS feed are public (migration 0003). Sent issues stay reachable at their web-version URL either way. */
  archive_public: Generated<number>;
}

export interface IssuesTable {
  id: Generated<number>;
  newsletter_id: number;
  number: number;
  subject: string;
  preheader: string;
  html: string;
  text: string;
  created_at: string;
}

export interface IssueArticlesTable {
  issue_id: number;
  article_id: number;
  position: number;
}

export interface CampaignsTable {
  id: Generated<number>;
  issue_id: number;
  newsletter_id: number;
  list_id: number;
  status: string;
  created_at: string;
  scheduled_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  last_error: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
  pause_reason: string | null;
  resume_after: string | null;
  /** With pause_reason 'smtp': 'refusing-logins' | 'unreachable' | 'failing' (migration 2026-12-08-campaign-relay-fault). */
  relay_fault: string | null;
  /** 1: sent on purpose to members who already received the issue in an earlier campaign (migration 2026-12-05-campaign-resend). */
  resend: Generated<number>;
}

export interface SendsTable {
  campaign_id: number;
  subscriber_id: number;
  email: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  smtp_response: string | null;
  message_id: string | null;
  error: string | null;
  possible_duplicate: Generated<number>;
  first_attempt_at: string | null;
  updated_at: string;
  /** Who claimed the row (and so sent it): the worker's id (host, pid, random part). */
  worker: string | null;
  /** Until when that claim holds, on the database's clock (shared claims, Postgres). */
  claim_expires_at: string | null;
}

export interface NewsletterSchedulesTable {
  newsletter_id: number;
  cron: string;
  timezone: string;
  empty_policy: string;
  enabled: Generated<number>;
  checked_until: string;
  created_at: string;
  updated_at: string;
}

export interface ScheduleSlotsTable {
  newsletter_id: number;
  slot_at: string;
  outcome: string;
  campaign_id: number | null;
  detail: string;
  created_at: string;
}

/** One counted event of a rate limit (migration 0003); `at` is in milliseconds since the epoch. */
export interface RateLimitHitsTable {
  bucket: string;
  key: string;
  at: number;
}

/** A feed that feeds a newsletter (migration 0002). */
export interface FeedsTable {
  id: Generated<number>;
  newsletter_id: number;
  url: string;
  title: Generated<string>;
  site_url: Generated<string>;
  /** auto | feed | page: where an item's article text comes from. */
  full_content: Generated<string>;
  etag: string | null;
  last_modified: string | null;
  last_polled_at: string | null;
  last_success_at: string | null;
  last_error: string | null;
  created_at: string;
}

/** One item seen in a feed and the article made from it (migration 0002). */
export interface FeedItemsTable {
  id: Generated<number>;
  feed_id: number;
  guid: Generated<string>;
  url: Generated<string>;
  article_id: number;
  content_hash: string;
  /** When the item arrived: what a feed-fed newsletter's next issue is built from. */
  first_seen_at: string;
  updated_at: string;
}

/**
 * An article assigned to a newsletter, or taken out of it (migration 2026-12-05-newsletter-articles). A newsletter
 * takes its rows with `excluded` 0, its feeds' items and the articles with one of its tags, except its rows with
 * `excluded` 1 (`articles unassign`, which wins over a feed or a tag).
 */
export interface NewsletterArticlesTable {
  newsletter_id: number;
  article_id: number;
  excluded: Generated<number>;
  /** import | assign | issue | demo | migration: how it came to belong. */
  source: string;
  /** When it came to belong: a feed-fed newsletter's next issue takes what arrived since its last one. */
  added_at: string;
}

/** A tag a newsletter selects (lowercase): articles carrying it belong to the newsletter. */
export interface NewsletterTagsTable {
  newsletter_id: number;
  tag: string;
}

export interface Database {
  articles: ArticlesTable;
  lists: ListsTable;
  subscribers: SubscribersTable;
  list_memberships: ListMembershipsTable;
  suppressions: SuppressionsTable;
  newsletters: NewslettersTable;
  issues: IssuesTable;
  issue_articles: IssueArticlesTable;
  campaigns: CampaignsTable;
  sends: SendsTable;
  rate_limit_hits: RateLimitHitsTable;
  newsletter_schedules: NewsletterSchedulesTable;
  schedule_slots: ScheduleSlotsTable;
  feeds: FeedsTable;
  feed_items: FeedItemsTable;
  newsletter_articles: NewsletterArticlesTable;
  newsletter_tags: NewsletterTagsTable;
}
