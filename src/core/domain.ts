/**
 * Mailroom's glossary, as types. See CONTEXT.md for the words and the words to avoid.
 *
 * - Article: one piece of content (Markdown body plus metadata), imported from files, pages or feeds.
 * - Newsletter: a named publication (sender, list, template, postal address) that issues are made for.
 * - Issue: one edition of a newsletter: its subject, preheader and ordered articles. Rendered once.
 * - List: a named set of subscribers; membership has its own status.
 * - Subscriber: one person, by normalized email, with a global status and attributes.
 * - Campaign: one sending of one issue to one list's recipients, fixed when the campaign is created.
 * - Send: the durable row for one (campaign, subscriber) pair and its outcome.
 * - Suppression: an address (or its hash) that no import, sign-up or campaign may mail.
 */

export interface LeadImage {
  readonly url: string;
  readonly alt: string;
}

export interface Article {
  readonly id: number;
  readonly slug: string;
  readonly title: string;
  readonly summary: string;
  /** Markdown. */
  readonly body: string;
  readonly canonicalUrl: string;
  readonly author: string;
  /** ISO 8601 timestamp. */
  readonly publishedAt: string;
  readonly leadImage: LeadImage | null;
  readonly tags: readonly string[];
}

export type ArticleInput = Omit<Article, 'id'>;

export const SUBSCRIBER_STATUSES = ['active', 'unsubscribed', 'bounced', 'complained'] as const;
export type SubscriberStatus = (typeof SUBSCRIBER_STATUSES)[number];

/** pending: signed up, waiting for the confirmation click (double opt-in); never mailed a campaign until subscribed. */
export const MEMBERSHIP_STATUSES = ['pending', 'subscribed', 'unsubscribed'] as const;
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number];

export type Attributes = Readonly<Record<string, string>>;

export interface Subscriber {
  readonly id: number;
  readonly email: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly attributes: Attributes;
  readonly status: SubscriberStatus;
  readonly consentSource: string;
  readonly consentAt: string;
  readonly createdAt: string;
}

export interface MailingList {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly createdAt: string;
}

export interface Newsletter {
  readonly id: number;
  /** Short identifier used on the command line, e.g. "weekly". */
  readonly slug: string;
  readonly name: string;
  readonly fromName: string;
  readonly fromEmail: string;
  readonly replyTo: string;
  readonly listId: number;
  readonly template: TemplateName;
  readonly postalAddress: string;
  readonly logoUrl: string;
  /** Handlebars template for the subject; may use the issue's subject and recipient variables. */
  readonly subjectTemplate: string;
  /** Most articles an issue built automatically carries. */
  readonly maxArticles: number;
  /** Language of the email (`lang` attribute). */
  readonly language: string;
  readonly createdAt: string;
}

export const TEMPLATE_NAMES = ['digest', 'article'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export interface Issue {
  readonly id: number;
  readonly newsletterId: number;
  /** 1, 2, 3… within its newsletter. */
  readonly number: number;
  readonly subject: string;
  readonly preheader: string;
  readonly articleIds: readonly number[];
  readonly createdAt: string;
}

/** scheduled → sending → (paused ⇄ sending) → sent | failed | cancelled. */
export const CAMPAIGN_STATUSES = ['scheduled', 'sending', 'sent', 'failed', 'paused', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export interface Campaign {
  readonly id: number;
  readonly issueId: number;
  readonly newsletterId: number;
  readonly listId: number;
  readonly status: CampaignStatus;
  readonly createdAt: string;
  /** When a scheduled campaign starts (its recipients are fixed then). */
  readonly scheduledAt: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** Why the campaign stopped, when it did not finish. */
  readonly lastError: string | null;
  /** 'operator': waits for `campaigns resume`; 'smtp': the server was unreachable, retried by itself at resumeAfter. */
  readonly pauseReason: PauseReason | null;
  /** With pauseReason 'smtp': what was wrong with the relay (null on campaigns paused before this was recorded). */
  readonly relayFault: RelayFault | null;
  readonly resumeAfter: string | null;
  /** Sent on purpose to members who already received its issue in an earlier campaign (`send --resend`); else they are left out. */
  readonly resend: boolean;
}

export type PauseReason = 'operator' | 'smtp';

/**
 * Why a relay answered `unavailable`, as the transport knew it (not read back from its wording): it refused the
 * login, could not be reached, or refused service another way (421, a refusing greeting, TLS, a pool with no relay left).
 */
export type RelayFault = 'refusing-logins' | 'unreachable' | 'failing';

/** pending → sending → sent | failed | skipped, or deferred (a 4xx: tried again later). "sent" means the SMTP server accepted it, not that it was delivered. */
export const SEND_STATUSES = ['pending', 'sending', 'deferred', 'sent', 'failed', 'skipped'] as const;
export type SendStatus = (typeof SEND_STATUSES)[number];

export interface SendRow {
  readonly campaignId: number;
  readonly subscriberId: number;
  readonly email: string;
  readonly status: SendStatus;
  readonly attempts: number;
  readonly smtpResponse: string | null;
  readonly messageId: string | null;
  readonly error: string | null;
  /** The row was in flight when a sender stopped abruptly: its message may have gone out twice. */
  readonly possibleDuplicate: boolean;
  readonly updatedAt: string;
}

export type SendCounts = Readonly<Record<SendStatus, number>>;

export const SUPPRESSION_REASONS = ['unsubscribed', 'hard-bounce', 'complaint', 'manual', 'erased', 'soft-bounces'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];
