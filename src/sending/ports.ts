/** The narrow interfaces the sending engine owns; storage and SMTP adapters implement them. */
import type { SendMailOptions } from 'nodemailer';
import type { Attributes, CampaignStatus, SendCounts, SuppressionReason } from '../core/domain.ts';

/** One claimed (campaign, subscriber) row with the subscriber as they are right now. */
export interface ClaimedRecipient {
  readonly subscriberId: number;
  readonly email: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly attributes: Attributes;
  readonly attempts: number;
  /** Set when the subscriber may no longer be mailed (unsubscribed, bounced, suppressed since the campaign was created). */
  readonly skipReason: string | null;
}

export type SendOutcome =
  | { readonly subscriberId: number; readonly status: 'sent'; readonly smtpResponse: string; readonly messageId: string }
  | { readonly subscriberId: number; readonly status: 'failed'; readonly smtpResponse: string | null; readonly error: string }
  | { readonly subscriberId: number; readonly status: 'deferred'; readonly smtpResponse: string | null; readonly error: string; readonly nextAttemptAt: string }
  | { readonly subscriberId: number; readonly status: 'skipped'; readonly error: string }
  /** Handed back untouched (the server went away before answering): pending again, attempt not counted. */
  | { readonly subscriberId: number; readonly status: 'released' };

export interface CampaignStore {
  /** Moves up to `limit` pending rows (and deferred rows that are due at `now`) to `sending` and returns them, lowest subscriber id first. */
  claimRecipients(campaignId: number, limit: number, now: string): Promise<ClaimedRecipient[]>;
  /** Records what the SMTP server said, in one transaction. Only rows in `sending` move. */
  recordOutcomes(campaignId: number, outcomes: readonly SendOutcome[], now: string): Promise<void>;
  /** Rows left in `sending` (a crash or a stop mid-flight): back to pending. Returns their emails, which may have been sent already. */
  releaseInFlight(campaignId: number): Promise<string[]>;
  /** When the earliest deferred row falls due, or null when none is deferred. */
  nextDeferredAt(campaignId: number): Promise<string | null>;
  countSends(campaignId: number): Promise<SendCounts>;
  setCampaignStatus(campaignId: number, status: CampaignStatus, fields?: { error?: string | null; at?: string }): Promise<void>;
  /** A hard bounce: the subscriber becomes bounced and the address suppressed, together. */
  suppressAddress(email: string, reason: SuppressionReason, detail: string): Promise<void>;
}

/** One message ready for the wire: nodemailer's message options (nodemailer composes the MIME). */
export interface OutgoingMessage {
  readonly envelopeTo: string;
  readonly options: SendMailOptions;
}

export interface TransportAccepted {
  readonly response: string;
  readonly messageId: string;
}

/** How an SMTP attempt went wrong. `unavailable`: the server (not the recipient) is the problem; nobody's row should fail. */
export type TransportErrorKind = 'temporary' | 'permanent' | 'unavailable';

export class TransportError extends Error {
  readonly kind: TransportErrorKind;
  readonly responseCode: number | null;
  readonly response: string | null;
  constructor(kind: TransportErrorKind, message: string, responseCode: number | null, response: string | null) {
    super(message);
    this.name = 'TransportError';
    this.kind = kind;
    this.responseCode = responseCode;
    this.response = response;
  }
}

export interface MessageTransport {
  /** Resolves when the server accepted the message; rejects with a TransportError otherwise. */
  send(message: OutgoingMessage): Promise<TransportAccepted>;
  /** Checks that the server can be reached and, with credentials, that they are accepted. */
  verify(): Promise<void>;
  close(): Promise<void>;
  readonly maxConnections: number;
}
