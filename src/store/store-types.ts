/** The shapes the aggregate stores take and return (see CONTEXT.md: stores by aggregate). */
import type { Attributes, Campaign, Issue, MailingList, MembershipStatus, Newsletter, Subscriber } from '../core/domain.ts';
import type { ImportCounts } from '../core/import-report.ts';

export type UpsertOutcome = 'added' | 'updated' | 'unchanged';

/** What an import or an add supplies for one person. */
export interface SubscriberFields {
  readonly email: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly attributes: Attributes;
}

export type ImportRowResult =
  /** `address`: the address as the file wrote it, for a "duplicates line N" rejection found by the store. */
  | { readonly line: number; readonly ok: true; readonly row: SubscriberFields; readonly address?: string }
  | { readonly line: number; readonly ok: false; readonly reason: string; readonly value?: string };

/**
 * Rows for an import. A source that can leave duplicate detection to the store (the CSV reader) has
 * `deferDuplicates`: called before the first row, it stops keeping its own index of addresses, and the store finds
 * repeats inside the import's transaction instead, with the same "duplicates line N" rejection, in constant memory.
 */
export type ImportRows = AsyncIterable<ImportRowResult> & { deferDuplicates?: () => void };

export interface ImportRejection {
  readonly line: number;
  readonly reason: string;
  readonly value?: string;
}

/** What happened to the list and, apart, to the people (src/core/import-report.ts). */
export interface ImportReport extends ImportCounts {
  readonly rejected: readonly ImportRejection[];
  /** False when `strict` was asked and a rejection rolled the whole import back. */
  readonly applied: boolean;
}

export type NewsletterInput = Omit<Newsletter, 'id' | 'createdAt'>;

/** An issue's parts are Handlebars sources: only recipient placeholders are live; content in them is escaped text. */
export interface IssueInput {
  readonly newsletterId: number;
  readonly subject: string;
  readonly preheader: string;
  readonly html: string;
  readonly text: string;
  readonly articleIds: readonly number[];
}

/** A schedule slot's issue and where its campaign goes (createSlotCampaign, retrySlotCampaign). */
export interface SlotCampaignInput {
  readonly newsletterId: number;
  readonly listId: number;
  readonly slotAt: string;
  readonly issue: IssueInput;
}

export interface SlotCampaign {
  readonly campaign: Campaign;
  readonly issue: StoredIssue;
  readonly recipients: number;
}

/** What a schedule did at one of its slots. */
export interface ScheduleSlot {
  readonly newsletterId: number;
  readonly slotAt: string;
  readonly outcome: 'campaign' | 'skipped-empty' | 'skipped-missed' | 'failed';
  readonly campaignId: number | null;
  readonly detail: string;
  /** When the slot was recorded. */
  readonly createdAt: string;
}


export interface StoredIssue extends Issue {
  readonly html: string;
  readonly text: string;
}

export interface ListSummary extends MailingList {
  readonly subscribed: number;
  readonly unsubscribed: number;
  /** Signed up, not confirmed yet. */
  readonly pending: number;
}

export interface SubscriberWithLists extends Subscriber {
  readonly lists: readonly { readonly name: string; readonly status: MembershipStatus }[];
}

export interface UnsubscribeResult {
  readonly email: string;
  readonly listName: string;
  readonly wasSubscribed: boolean;
}

export interface NewsletterSchedule {
  readonly newsletterId: number;
  readonly cron: string;
  readonly timezone: string;
  readonly emptyPolicy: 'skip' | 'send';
  readonly checkedUntil: string;
}

/** What fixing a campaign's recipients did. */
export interface FixedRecipients {
  readonly recipients: number;
  /** Members left out because they already received the issue in an earlier campaign (0 with `resend`). */
  readonly alreadyReceived: number;
}
