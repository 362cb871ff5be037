/** Privacy requests (GDPR articles 15 and 17): export everything held about an address, or erase it all but a hashed suppression. */
import { checkEmail, normalizeEmail } from '../core/email-address.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { hashEmail } from '../store/suppression.ts';
import type { ErasureReport, PersonalData } from '../store/subscriber-store.ts';

/** What privacy requests need of the subscriber records (app.stores.subscribers has it). */
export interface PersonalDataRecords {
  collectPersonalData(email: string): Promise<PersonalData>;
  erasePerson(email: string, at: Date): Promise<ErasureReport>;
}

export interface SubscriberExport {
  readonly format: 'mailroom-subscriber-export';
  readonly version: 1;
  readonly exportedAt: string;
  readonly email: string;
  /** The profile: name, attributes, status, first consent. */
  readonly subscriber: Record<string, unknown> | null;
  /** Every list membership with its consent record (source, time, IP when recorded, confirmation time). */
  readonly lists: readonly Record<string, unknown>[];
  /** Every send row to this person or address: campaign, newsletter, issue, outcome, SMTP reply. */
  readonly sends: readonly Record<string, unknown>[];
  /** A suppression of the address (keyed by its sha256), if any. */
  readonly suppression: Record<string, unknown> | null;
  /** When confirmation emails were sent within the last hour (kept for the hourly limit, then deleted). */
  readonly confirmationEmails: readonly string[];
  /** Bounces and complaints about the address after the 250, each with the report as received. */
  readonly deliveryEvents: readonly Record<string, unknown>[];
  /** Opens and clicks tied to the person (only where per-subscriber tracking was on): campaign, open or click, link, machine or not, when. */
  readonly tracking: readonly Record<string, unknown>[];
  /** What Mailroom does not hold, so the answer is complete. */
  readonly notes: readonly string[];
}

const NOTES = [
  'Opens and clicks are counted only for newsletters whose operator turned it on; a hit is tied to a person only where the operator also turned on per-subscriber data (listed under tracking), and no IP address or user agent is kept.',
  'Email content is the same for every reader of an issue apart from name and links; issues are not stored per person.',
  'Client IP addresses are stored only with a sign-up consent when SIGNUP_RECORD_IP is on; rate-limit counters keep a keyed hash of the IP for at most one hour.',
];

export function checkedAddress(raw: string): string {
  const email = normalizeEmail(raw);
  const problem = checkEmail(email);
  if (problem) throw new MailroomError('INVALID_INPUT', `email ${quote(raw)} ${problem}`);
  return email;
}

export async function exportSubscriber(subscribers: Pick<PersonalDataRecords, 'collectPersonalData'>, rawEmail: string, now: Date): Promise<SubscriberExport> {
  const email = checkedAddress(rawEmail);
  const data = await subscribers.collectPersonalData(email);
  return {
    format: 'mailroom-subscriber-export',
    version: 1,
    exportedAt: now.toISOString(),
    email,
    subscriber: data.subscriber,
    lists: data.memberships,
    sends: data.sends,
    suppression: data.suppression ? { ...data.suppression, emailHash: hashEmail(email) } : null,
    confirmationEmails: data.confirmationEmails,
    deliveryEvents: data.deliveryEvents,
    tracking: data.tracking,
    notes: NOTES,
  };
}

/** True when the export holds nothing about the person (no profile, list, send or suppression). */
export function isEmptyExport(data: SubscriberExport): boolean {
  return data.subscriber === null && data.lists.length === 0 && data.sends.length === 0 && data.suppression === null && data.confirmationEmails.length === 0 && data.deliveryEvents.length === 0 && data.tracking.length === 0;
}

export async function eraseSubscriber(subscribers: Pick<PersonalDataRecords, 'erasePerson'>, rawEmail: string, now: Date): Promise<ErasureReport & { email: string }> {
  const email = checkedAddress(rawEmail);
  const report = await subscribers.erasePerson(email, now);
  return { ...report, email };
}
