/**
 * Sign-up with double opt-in: validate a form or JSON request, record a pending membership with its consent, and send
 * the confirmation email after the response, at most once per address per hour. Defenses against subscription
 * bombing: a per-IP rate limit, a honeypot field, and one identical answer for new, existing and suppressed addresses.
 */
import { createHmac } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { MailingList, MembershipStatus, Newsletter, Subscriber } from '../core/domain.ts';
import { checkEmail, normalizeEmail } from '../core/email-address.ts';
import { confirmUrl, preferencesUrl, type LinkSettings } from '../core/links.ts';
import { verifyExpiringToken } from '../core/tokens.ts';
import { toEmailBrand } from '../issues/assemble.ts';
import type { MessageTransport } from '../sending/ports.ts';
import { hashEmail } from '../store/suppression.ts';
import { CONFIRMATION_EMAIL_BUCKET, SIGNUP_IP_BUCKET, type ConfirmOutcome, type ListPageNewsletter, type RateLimitResult, type SignupOutcome, type SignupRequest } from '../store/subscriber-store.ts';
import { listLabel } from './list-label.ts';

/** What sign-up needs of the stores (app.stores has it). */
export interface SignupStores {
  readonly audience: {
    findListByName(name: string): Promise<MailingList | null>;
    getList(id: number): Promise<MailingList | null>;
    getSubscriber(id: number): Promise<Subscriber | null>;
  };
  readonly newsletters: {
    listNewsletters(): Promise<Newsletter[]>;
  };
}

/** How long a confirmation link works. */
export const CONFIRM_LINK_DAYS = 7;
/** At most one confirmation (or "already subscribed") email per address in this window. */
export const CONFIRMATION_EMAIL_WINDOW_MS = 60 * 60 * 1000;
/** The per-IP limit counts sign-up requests in this window. */
export const SIGNUP_RATE_WINDOW_MS = 60 * 1000;
/** Unconfirmed sign-ups are deleted this long after their last request or email. */
export const PENDING_RETENTION_DAYS = 30;
/** The hidden field people leave empty and form-filling bots do not. */
export const HONEYPOT_FIELD = 'leave_blank';
export const NAME_MAX_LENGTH = 200;
/** Confirmation emails waiting for the SMTP server beyond this are dropped (and their hourly slot given back). */
const MAX_QUEUED_EMAILS = 500;
const MAINTENANCE_INTERVAL_MS = 10 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface SignupSettings extends LinkSettings {
  /** Keep the client IP with the consent record (SIGNUP_RECORD_IP). */
  readonly recordIp: boolean;
  /** Sign-up requests per IP per minute (SIGNUP_RATE_PER_MINUTE). */
  readonly ratePerMinute: number;
}

/** What sign-up needs of the subscriber records: requests, confirmations, rate limits, upkeep (app.stores.subscribers has it). */
export interface SignupRecords {
  isSignupOpen(listId: number): Promise<boolean>;
  listPageNewsletters(listId: number): Promise<ListPageNewsletter[]>;
  requestSignup(request: SignupRequest): Promise<SignupOutcome>;
  markConfirmationSent(subscriberId: number, listId: number, at: Date): Promise<void>;
  confirmMembership(subscriberId: number, listId: number, ip: string | null, at: Date): Promise<ConfirmOutcome>;
  membershipStatus(subscriberId: number, listId: number): Promise<MembershipStatus | null>;
  purgeStalePending(before: Date): Promise<{ memberships: number; subscribers: number }>;
  hitRateLimit(bucket: string, key: string, now: Date, windowMs: number, limit: number): Promise<RateLimitResult>;
  releaseRateLimitHit(bucket: string, key: string, at: Date): Promise<void>;
  pruneRateLimits(before: Date): Promise<number>;
}

export interface SignupDeps {
  readonly stores: SignupStores;
  readonly subscribers: SignupRecords;
  readonly settings: SignupSettings;
  /** Where confirmation emails go; null: sign-up is unavailable (503). */
  readonly openTransport: (() => MessageTransport) | null;
  readonly clock: () => Date;
  readonly log: (line: string) => void;
}

/** A list that accepts sign-ups, and the newsletters it receives (the first one signs the confirmation email). */
export interface SignupTarget {
  readonly list: MailingList;
  readonly newsletters: readonly Newsletter[];
  readonly sender: Newsletter;
  /** What a subscriber gets, e.g. "Mailroom Weekly" or "Mailroom Weekly and The Digest". */
  readonly label: string;
}

export interface SignupInput {
  readonly email: unknown;
  readonly name: unknown;
  readonly honeypot: unknown;
  readonly ip: string;
  readonly via: 'form' | 'api';
}

export type SignupResult =
  /** The one answer for every well-formed request: new, existing, suppressed, honeypot. */
  | { readonly status: 'accepted'; readonly email: string }
  | { readonly status: 'invalid'; readonly field: 'email' | 'name'; readonly problem: string };

export type ConfirmLinkState =
  | { readonly state: 'invalid' }
  | { readonly state: 'expired'; readonly list: MailingList | null }
  | {
      readonly state: 'pending' | 'confirmed' | 'already-subscribed' | 'not-pending' | 'blocked';
      readonly list: MailingList;
      readonly email: string;
      readonly preferencesUrl: string;
      readonly label: string;
    };

/**
 * The key an IP is counted under: IPv4 as is, IPv6 by its /64 (one subscriber line usually owns a whole /64), both
 * HMAC'd with the secret so the table never holds an address.
 */
export function clientKey(secret: string, ip: string): string {
  let key = ip;
  if (ipaddr.isValid(ip)) {
    const address = ipaddr.process(ip);
    if (address.kind() === 'ipv6') key = `${(address as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16)).join(':')}::/64`;
    else key = address.toString();
  }
  return createHmac('sha256', secret).update(`mailroom:ip:${key}`).digest('base64url').slice(0, 22);
}

function splitName(name: string): { firstName: string; lastName: string } {
  const words = name.split(/\s+/).filter(Boolean);
  return { firstName: words[0] ?? '', lastName: words.slice(1).join(' ') };
}

export class SignupService {
  private readonly deps: SignupDeps;
  private readonly tasks = new Set<Promise<void>>();
  private transport: MessageTransport | null = null;
  private lastMaintenance = 0;
  private maintenanceTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(deps: SignupDeps) {
    this.deps = deps;
  }

  get available(): boolean {
    return this.deps.openTransport !== null;
  }

  /** The list by name when it accepts sign-ups: it exists, sign-up is open, and at least one newsletter goes to it. */
  async findTarget(listName: string): Promise<SignupTarget | null> {
    const list = await this.deps.stores.audience.findListByName(listName);
    if (!list || !(await this.deps.subscribers.isSignupOpen(list.id))) return null;
    const newsletters = (await this.deps.stores.newsletters.listNewsletters()).filter((n) => n.listId === list.id).sort((a, b) => a.id - b.id);
    const sender = newsletters[0];
    if (!sender) return null;
    return { list, newsletters, sender, label: listLabel(list.name, newsletters) };
  }

  /** Counts one sign-up request from this IP; refused past SIGNUP_RATE_PER_MINUTE in a minute. */
  async checkRate(ip: string): Promise<RateLimitResult> {
    return this.deps.subscribers.hitRateLimit(SIGNUP_IP_BUCKET, clientKey(this.deps.settings.secret, ip), this.deps.clock(), SIGNUP_RATE_WINDOW_MS, this.deps.settings.ratePerMinute);
  }

  /**
   * Validates and records a sign-up. Every well-formed request gets the same answer; what happens next (a confirmation
   * email, an "already subscribed" notice, or nothing at all) happens after the response and is not visible in it.
   */
  async submit(target: SignupTarget, input: SignupInput): Promise<SignupResult> {
    const rawEmail = typeof input.email === 'string' ? input.email : '';
    const email = normalizeEmail(rawEmail);
    const problem = checkEmail(email);
    if (problem) return { status: 'invalid', field: 'email', problem: rawEmail.trim() === '' ? 'Enter your email address.' : `This address ${problem}.` };
    const name = typeof input.name === 'string' ? input.name.trim().replace(/\s+/g, ' ') : '';
    if (name.length > NAME_MAX_LENGTH) return { status: 'invalid', field: 'name', problem: `The name is longer than ${NAME_MAX_LENGTH} characters.` };
    if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return { status: 'invalid', field: 'name', problem: 'The name contains control characters.' };

    const honeypot = typeof input.honeypot === 'string' ? input.honeypot.trim() : input.honeypot === undefined || input.honeypot === null ? '' : 'filled';
    if (honeypot !== '') {
      this.deps.log(`sign-up to list ${target.list.name}: honeypot field filled; nothing recorded or sent`);
      return { status: 'accepted', email };
    }

    const now = this.deps.clock();
    const outcome = await this.deps.subscribers.requestSignup({
      listId: target.list.id,
      email,
      name,
      ...splitName(name),
      source: `signup:${input.via}`,
      ip: this.deps.settings.recordIp ? input.ip : null,
      now,
    });
    // The hourly slot is taken for every outcome, blocked ones included, so every request does the same work.
    const slot = await this.deps.subscribers.hitRateLimit(CONFIRMATION_EMAIL_BUCKET, hashEmail(email), now, CONFIRMATION_EMAIL_WINDOW_MS, 1);
    if (outcome.kind !== 'blocked' && slot.allowed) {
      this.enqueueEmail(target, email, outcome.kind, outcome.subscriberId, outcome.listId, now);
    }
    this.maybeMaintain(now);
    return { status: 'accepted', email };
  }

  private enqueueEmail(target: SignupTarget, email: string, kind: 'confirm' | 'already-subscribed', subscriberId: number, listId: number, requestedAt: Date): void {
    const release = () => this.deps.subscribers.releaseRateLimitHit(CONFIRMATION_EMAIL_BUCKET, hashEmail(email), requestedAt);
    if (this.closed || this.tasks.size >= MAX_QUEUED_EMAILS) {
      this.deps.log(`sign-up to list ${target.list.name}: confirmation email not queued (${this.closed ? 'shutting down' : 'too many waiting'})`);
      this.track(release());
      return;
    }
    this.track(
      (async () => {
        try {
          const expiresAt = new Date(requestedAt.getTime() + CONFIRM_LINK_DAYS * DAY_MS);
          const actionUrl =
            kind === 'confirm' ? confirmUrl(this.deps.settings, subscriberId, listId, expiresAt) : preferencesUrl(this.deps.settings, subscriberId, listId);
          // Loaded on first use: React Email is heavy, and the CLI imports this module for its constants.
          const { composeConfirmationMessage, renderConfirmationEmail } = await import('./confirmation-mail.ts');
          const rendered = await renderConfirmationEmail({
            brand: toEmailBrand(target.sender, this.deps.settings.publicUrl),
            kind,
            email,
            listLabel: target.label,
            actionUrl,
            expiresAt: expiresAt.toISOString(),
            requestedAt: requestedAt.toISOString(),
          });
          const message = composeConfirmationMessage(target.sender, email, rendered, this.deps.clock());
          await this.openTransport().send(message);
          if (kind === 'confirm') await this.deps.subscribers.markConfirmationSent(subscriberId, listId, this.deps.clock());
        } catch (error) {
          this.deps.log(`sign-up to list ${target.list.name}: the confirmation email could not be sent: ${error instanceof Error ? error.message : String(error)}`);
          await release().catch(() => undefined);
        }
      })(),
    );
  }

  private openTransport(): MessageTransport {
    if (!this.deps.openTransport) throw new Error('no SMTP transport is configured');
    this.transport ??= this.deps.openTransport();
    return this.transport;
  }

  /** Runs the maintenance every 10 minutes while the server runs (also when no sign-up comes in); stopped by close(). */
  startMaintenance(): void {
    if (this.maintenanceTimer) return;
    this.maintenanceTimer = setInterval(() => this.maybeMaintain(this.deps.clock()), MAINTENANCE_INTERVAL_MS);
    this.maintenanceTimer.unref();
  }

  /** Every so often: forget old rate-limit hits and delete sign-ups nobody confirmed. */
  private maybeMaintain(now: Date): void {
    if (now.getTime() - this.lastMaintenance < MAINTENANCE_INTERVAL_MS) return;
    this.lastMaintenance = now.getTime();
    this.track(
      (async () => {
        try {
          await this.deps.subscribers.pruneRateLimits(new Date(now.getTime() - CONFIRMATION_EMAIL_WINDOW_MS));
          const purged = await this.deps.subscribers.purgeStalePending(new Date(now.getTime() - PENDING_RETENTION_DAYS * DAY_MS));
          if (purged.memberships > 0) this.deps.log(`deleted ${purged.memberships} unconfirmed sign-up(s) older than ${PENDING_RETENTION_DAYS} days (${purged.subscribers} subscriber record(s))`);
        } catch (error) {
          this.deps.log(`sign-up maintenance failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      })(),
    );
  }

  private track(task: Promise<unknown>): void {
    const done: Promise<void> = task.then(
      () => undefined,
      () => undefined,
    );
    this.tasks.add(done);
    void done.finally(() => this.tasks.delete(done));
  }

  /** Resolves when every queued confirmation email (and maintenance) has finished. */
  async idle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }

  /** Waits for queued emails, then closes the SMTP connection. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
    this.maintenanceTimer = null;
    await this.idle();
    await this.transport?.close();
    this.transport = null;
  }

  // -------------------------------------------------------------- confirmation

  private async describeLink(token: string): Promise<
    | { kind: 'invalid' }
    | { kind: 'expired'; list: MailingList | null }
    | { kind: 'ok'; subscriberId: number; list: MailingList; email: string; label: string }
  > {
    const verified = verifyExpiringToken(this.deps.settings.secret, 'confirm', token, this.deps.clock());
    if (!verified) return { kind: 'invalid' };
    const list = await this.deps.stores.audience.getList(verified.listId);
    if (verified.expired) return { kind: 'expired', list };
    const subscriber = await this.deps.stores.audience.getSubscriber(verified.subscriberId);
    if (!subscriber || !list) return { kind: 'invalid' };
    const newsletters = await this.deps.subscribers.listPageNewsletters(list.id);
    return { kind: 'ok', subscriberId: subscriber.id, list, email: subscriber.email, label: listLabel(list.name, newsletters) };
  }

  /** What the confirmation link shows (GET): never changes anything, since link scanners follow GETs. */
  async inspectConfirmation(token: string): Promise<ConfirmLinkState> {
    const link = await this.describeLink(token);
    if (link.kind === 'invalid') return { state: 'invalid' };
    if (link.kind === 'expired') return { state: 'expired', list: link.list };
    const status = await this.deps.subscribers.membershipStatus(link.subscriberId, link.list.id);
    if (status === null) return { state: 'invalid' };
    const state = status === 'pending' ? 'pending' : status === 'subscribed' ? 'already-subscribed' : 'not-pending';
    return { state, list: link.list, email: link.email, label: link.label, preferencesUrl: preferencesUrl(this.deps.settings, link.subscriberId, link.list.id) };
  }

  /** The confirmation itself (POST). */
  async confirm(token: string, ip: string): Promise<ConfirmLinkState> {
    const link = await this.describeLink(token);
    if (link.kind === 'invalid') return { state: 'invalid' };
    if (link.kind === 'expired') return { state: 'expired', list: link.list };
    const outcome = await this.deps.subscribers.confirmMembership(link.subscriberId, link.list.id, this.deps.settings.recordIp ? ip : null, this.deps.clock());
    if (outcome === 'unknown') return { state: 'invalid' };
    if (outcome === 'confirmed') this.deps.log(`sign-up confirmed: subscriber ${link.subscriberId} on list ${link.list.name}`);
    return { state: outcome, list: link.list, email: link.email, label: link.label, preferencesUrl: preferencesUrl(this.deps.settings, link.subscriberId, link.list.id) };
  }
}
