/** The narrow interfaces the sending engine owns; storage and SMTP adapters implement them. */
import type { SendMailOptions } from 'nodemailer';
import type { Attributes, CampaignStatus, PauseReason, RelayFault, SendCounts, SuppressionReason } from '../core/domain.ts';
export type { RelayFault } from '../core/domain.ts';

/** A (campaign, subscriber) row that is due now, with the subscriber as they are right now. */
export interface DueRecipient {
  readonly subscriberId: number;
  readonly email: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly attributes: Attributes;
  readonly attempts: number;
  /** When the first attempt was made (for the retry age limit), or null. */
  readonly firstAttemptAt: string | null;
  /** Set when the subscriber may no longer be mailed (unsubscribed, bounced, suppressed since the campaign was created). */
  readonly skipReason: string | null;
}

export type SendOutcome =
  | { readonly subscriberId: number; readonly status: 'sent'; readonly smtpResponse: string; readonly messageId: string }
  | {
      readonly subscriberId: number;
      readonly status: 'failed';
      readonly smtpResponse: string | null;
      readonly error: string;
      /** A hard bounce: the subscriber is marked bounced and the address suppressed in the same transaction. */
      readonly suppress?: SuppressionReason;
    }
  | { readonly subscriberId: number; readonly status: 'deferred'; readonly smtpResponse: string | null; readonly error: string; readonly nextAttemptAt: string }
  | { readonly subscriberId: number; readonly status: 'skipped'; readonly error: string }
  /** Handed back untouched (stopped, or the server went away before answering): pending again, attempt not counted. */
  | { readonly subscriberId: number; readonly status: 'released' };

/** What to do with rows found in flight after a crash: send them again (default), or hold them (failed, for review). */
export type InFlightPolicy = 'resend' | 'hold';

export interface CampaignStore {
  /** Takes (or renews) the right to run a campaign until `until`; false when another live process holds it. */
  acquireLease(campaignId: number, owner: string, until: string, now: string): Promise<boolean>;
  releaseLease(campaignId: number, owner: string): Promise<void>;
  /** Who holds a live lease on the campaign at `now` (null: nobody, or it ran out). */
  leaseHolder(campaignId: number, now: string): Promise<{ readonly owner: string; readonly expiresAt: string | null } | null>;
  /** Takes the lease from `from` (a holder known to be gone) at once; false when `from` no longer holds it. */
  takeOverLease(campaignId: number, from: string, owner: string, until: string): Promise<boolean>;
  campaignStatus(campaignId: number): Promise<CampaignStatus | null>;
  /** Up to `limit` rows that are pending, or deferred and due at `now`, lowest subscriber id first. Changes nothing. */
  listDueRecipients(campaignId: number, limit: number, now: string): Promise<DueRecipient[]>;
  /**
   * Moves rows to `sending` just before their message is handed to SMTP, but only while the subscriber may still be
   * mailed. Returns, per subscriber id, null when claimed, or why it was not (it is then recorded as skipped).
   */
  claimForSending(campaignId: number, subscriberIds: readonly number[], now: string, worker?: string | null): Promise<Map<number, string | null>>;
  /** Records what the SMTP server said, in one transaction. Only rows in `sending` move (skips also from pending). */
  /** `worker`: only rows still claimed by that worker are moved (a late answer leaves a row another worker claimed since alone). */
  recordOutcomes(campaignId: number, outcomes: readonly SendOutcome[], now: string, worker?: string | null): Promise<void>;
  /** Rows left in `sending` by a crash: marked as possible duplicates, then pending again or held. Returns their emails. */
  releaseInFlight(campaignId: number, policy: InFlightPolicy, now: string): Promise<string[]>;
  /** When the earliest deferred row falls due, or null when none is deferred. */
  nextDeferredAt(campaignId: number): Promise<string | null>;
  countSends(campaignId: number): Promise<SendCounts>;
  setCampaignStatus(campaignId: number, status: CampaignStatus, fields?: { error?: string | null; at?: string; pauseReason?: PauseReason | null; resumeAfter?: string | null; relayFault?: RelayFault | null }): Promise<void>;
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
  /** Set on `unavailable` answers: what was wrong with the relay. */
  readonly relayFault: RelayFault | null;
  constructor(kind: TransportErrorKind, message: string, responseCode: number | null, response: string | null, relayFault: RelayFault | null = kind === 'unavailable' ? 'failing' : null) {
    super(message);
    this.name = 'TransportError';
    this.kind = kind;
    this.responseCode = responseCode;
    this.response = response;
    this.relayFault = relayFault;
  }
}

export interface MessageTransport {
  /**
   * Resolves when the server accepted the message; rejects with a TransportError otherwise. Aborting `signal` while
   * the message still waits (for a rate-limit slot, a relay's hourly or daily cap) rejects with kind `unavailable`:
   * nothing was sent. A message already being transmitted is not interrupted.
   */
  send(message: OutgoingMessage, signal?: AbortSignal): Promise<TransportAccepted>;
  /** Checks that the server can be reached and, with credentials, that they are accepted. */
  verify(): Promise<void>;
  close(): Promise<void>;
  readonly maxConnections: number;
}

/**
 * Row-level claims for several processes sending one campaign together (Postgres; see send-claims-store.ts). Given
 * to the engine, it replaces the campaign lease and the per-message claim: each worker claims small batches of rows,
 * each row with its worker id and a claim lease on the database's clock.
 */
export interface SharedSendClaims {
  /** Claims up to `limit` due rows for `worker` with a lease of `leaseMs`; rows claimed by nobody else, ready to send (or to skip). */
  claimBatch(campaignId: number, worker: string, limit: number, leaseMs: number, now: string): Promise<DueRecipient[]>;
  /** Extends the lease of every row `worker` holds in the campaign. */
  renewClaims(campaignId: number, worker: string, leaseMs: number): Promise<void>;
  /** Rows whose claim ran out (their worker is gone), handled by the in-flight policy and marked possible duplicates. */
  reclaimExpired(campaignId: number, policy: InFlightPolicy, now: string): Promise<{ readonly email: string; readonly worker: string | null }[]>;
  /** Ms until the earliest claim still held (by anyone) runs out; null when no row is claimed. */
  msUntilNextClaimExpires(campaignId: number): Promise<number | null>;
}

/** How many rows of a campaign one worker sent (and holds in flight now). */
export interface WorkerTally {
  readonly worker: string;
  readonly sent: number;
  readonly sending: number;
}
