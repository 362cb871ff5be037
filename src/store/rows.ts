/** Row mappers shared by the aggregate stores: database rows to domain values. */
import type { Selectable } from 'kysely';
import type { Article, Attributes, Campaign, CampaignStatus, Newsletter, PauseReason, RelayFault, SendRow, SendStatus, Subscriber, SubscriberStatus, TemplateName } from '../core/domain.ts';
import type { DueRecipient } from '../sending/ports.ts';
import type { ArticlesTable, CampaignsTable, NewsletterSchedulesTable, NewslettersTable, ScheduleSlotsTable, SendsTable, SubscribersTable } from './schema.ts';
import type { NewsletterSchedule, ScheduleSlot } from './store-types.ts';

export function parseAttributes(text: string): Attributes {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}

export function parseTags(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : [];
}

export function toArticle(row: Selectable<ArticlesTable>): Article {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    summary: row.summary,
    body: row.body,
    canonicalUrl: row.canonical_url,
    author: row.author,
    publishedAt: row.published_at,
    leadImage: row.lead_image_url ? { url: row.lead_image_url, alt: row.lead_image_alt ?? '' } : null,
    tags: parseTags(row.tags),
  };
}

export function toSubscriber(row: Selectable<SubscribersTable>): Subscriber {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    firstName: row.first_name,
    lastName: row.last_name,
    attributes: parseAttributes(row.attributes),
    status: row.status as SubscriberStatus,
    consentSource: row.consent_source,
    consentAt: row.consent_at,
    createdAt: row.created_at,
  };
}

export function toNewsletter(row: Selectable<NewslettersTable>): Newsletter {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    fromName: row.from_name,
    fromEmail: row.from_email,
    replyTo: row.reply_to,
    listId: row.list_id,
    template: row.template as TemplateName,
    postalAddress: row.postal_address,
    logoUrl: row.logo_url,
    subjectTemplate: row.subject_template,
    maxArticles: row.max_articles,
    language: row.language,
    createdAt: row.created_at,
  };
}

export function toCampaign(row: Selectable<CampaignsTable>): Campaign {
  return {
    id: row.id,
    issueId: row.issue_id,
    newsletterId: row.newsletter_id,
    listId: row.list_id,
    status: row.status as CampaignStatus,
    createdAt: row.created_at,
    scheduledAt: row.scheduled_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    lastError: row.last_error,
    pauseReason: row.pause_reason as PauseReason | null,
    resumeAfter: row.resume_after,
    relayFault: row.relay_fault as RelayFault | null,
    resend: row.resend === 1,
  };
}

export function toSendRow(row: Selectable<SendsTable>): SendRow {
  return {
    campaignId: row.campaign_id,
    subscriberId: row.subscriber_id,
    email: row.email,
    status: row.status as SendStatus,
    attempts: row.attempts,
    smtpResponse: row.smtp_response,
    messageId: row.message_id,
    error: row.error,
    possibleDuplicate: row.possible_duplicate === 1,
    updatedAt: row.updated_at,
  };
}


export function toSchedule(row: Selectable<NewsletterSchedulesTable>): NewsletterSchedule {
  return { newsletterId: row.newsletter_id, cron: row.cron, timezone: row.timezone, emptyPolicy: row.empty_policy as 'skip' | 'send', checkedUntil: row.checked_until };
}

/** Why a subscriber may no longer be mailed by a campaign to their list, or null when they may. */
export function skipReasonOf(subscriberStatus: string | null, membershipStatus: string | null, suppressionReason: string | null, domainSuppressed = false): string | null {
  if (subscriberStatus === null) return 'subscriber was removed';
  if (suppressionReason !== null) return `address is suppressed (${suppressionReason})`;
  if (domainSuppressed) return 'address is suppressed (its domain is suppressed)';
  if (subscriberStatus !== 'active') return `subscriber is ${subscriberStatus}`;
  if (membershipStatus !== 'subscribed') return 'unsubscribed from the list';
  return null;
}


export function toScheduleSlot(row: Selectable<ScheduleSlotsTable>): ScheduleSlot {
  return { newsletterId: row.newsletter_id, slotAt: row.slot_at, outcome: row.outcome as ScheduleSlot['outcome'], campaignId: row.campaign_id, detail: row.detail, createdAt: row.created_at };
}

/** A due send row joined with its subscriber, membership and suppression (the shared claims add whether its domain is suppressed). */
export interface DueRow {
  subscriber_id: number;
  email: string;
  attempts: number;
  first_attempt_at: string | null;
  name: string | null;
  first_name: string | null;
  last_name: string | null;
  attributes: string | null;
  subscriber_status: string | null;
  membership_status: string | null;
  suppression_reason: string | null;
  domain_suppressed?: boolean | null;
}

/** A due send row (see DueRow) as the engine sees it. */
export function toDueRecipient(r: DueRow): DueRecipient {
  return {
    subscriberId: Number(r.subscriber_id),
    email: r.email,
    name: r.name ?? '',
    firstName: r.first_name ?? '',
    lastName: r.last_name ?? '',
    attributes: r.attributes ? parseAttributes(r.attributes) : {},
    attempts: Number(r.attempts),
    firstAttemptAt: r.first_attempt_at,
    skipReason: skipReasonOf(r.subscriber_status, r.membership_status, r.suppression_reason, r.domain_suppressed === true),
  };
}
