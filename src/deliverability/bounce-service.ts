/**
 * The one place bounces and complaints are applied, whichever way they came (IMAP mailbox, inbound SMTP, provider
 * webhook): find the send row, record the event, and let the store apply the rule (hard: suppress; soft: count, then
 * suppress; complaint: unsubscribe from everything and suppress).
 *
 * A DSN or ARF message is believed only when it names a send row we can prove: a VERP address signed with SECRET, or
 * the exact Message-ID stored with the send. Anyone can mail the bounce address, so an unproven report changes
 * nothing. A provider event comes with a verified signature, so it is applied even when no send row is found.
 */
import { createHash } from 'node:crypto';
import type { DeliveryEventAction, DeliveryEventInput, DeliveryEventKind, SendRowRef, SoftBouncePolicy } from '../store/deliverability-store.ts';
import { readInboundReport } from './inbound-report.ts';
import { findVerpRefs, parseOwnMessageId } from './verp.ts';

export interface DeliverabilityEvent {
  readonly kind: DeliveryEventKind;
  readonly email: string;
  readonly campaignId: number | null;
  readonly subscriberId: number | null;
  readonly status: string;
  readonly action: DeliveryEventAction;
  readonly source: string;
}

/** What the bounce loop needs of the store (app.stores.deliverability has it): the send a report names, the event applied, the mailbox's read position. */
export interface BounceRecords {
  latestSendTo(email: string): Promise<SendRowRef | null>;
  findSend(campaignId: number, subscriberId: number): Promise<SendRowRef | null>;
  recordEvent(input: DeliveryEventInput, policy: SoftBouncePolicy): Promise<DeliveryEventAction>;
  mailboxState(mailbox: string): Promise<{ uidValidity: string; lastUid: number } | null>;
  saveMailboxState(mailbox: string, uidValidity: string, lastUid: number): Promise<void>;
}

export interface BounceServiceDeps {
  readonly store: BounceRecords;
  readonly secret: string;
  readonly policy: SoftBouncePolicy;
  readonly log?: (line: string) => void;
  /** Told of every event applied (outbound webhooks subscribe here). */
  readonly onEvent?: (event: DeliverabilityEvent) => void | Promise<void>;
}

export type InboundResult =
  | { readonly outcome: 'ignored'; readonly why: string }
  | { readonly outcome: 'unmatched'; readonly why: string }
  | { readonly outcome: 'applied'; readonly events: readonly DeliverabilityEvent[] };

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function proveSend(deps: BounceServiceDeps, addresses: readonly string[], originalMessageId: string | null): Promise<SendRowRef | null> {
  for (const ref of findVerpRefs(deps.secret, addresses.join(' '))) {
    const send = await deps.store.findSend(ref.campaignId, ref.subscriberId);
    if (send) return send;
  }
  if (originalMessageId) {
    const ref = parseOwnMessageId(originalMessageId);
    const send = ref ? await deps.store.findSend(ref.campaignId, ref.subscriberId) : null;
    if (send && send.messageId === originalMessageId) return send;
  }
  return null;
}

async function apply(deps: BounceServiceDeps, event: Omit<DeliverabilityEvent, 'action'>, detail: string, report: string, dedupeKey: string): Promise<DeliverabilityEvent> {
  const action = await deps.store.recordEvent(
    { kind: event.kind, email: event.email, campaignId: event.campaignId, subscriberId: event.subscriberId, status: event.status, detail, source: event.source, report, dedupeKey },
    deps.policy,
  );
  const applied = { ...event, action };
  deps.log?.(`${event.source}: ${event.kind} ${event.status} for ${event.email}${event.campaignId ? ` (campaign ${event.campaignId})` : ''}: ${action}`);
  if (action !== 'duplicate') await deps.onEvent?.(applied);
  return applied;
}

/** A message that arrived at the bounce address (from the IMAP mailbox or the SMTP listener). */
export async function processInboundMessage(deps: BounceServiceDeps, raw: Buffer, source: 'imap' | 'smtp' | string, envelopeRecipients: readonly string[] = []): Promise<InboundResult> {
  const report = await readInboundReport(raw);
  if (report.kind === 'other') return { outcome: 'ignored', why: report.why };
  const send = await proveSend(deps, [...envelopeRecipients, ...report.addresses], report.originalMessageId);
  if (!send) return { outcome: 'unmatched', why: `a ${report.kind} that names no send of ours (no signed VERP address, no known Message-ID)` };
  const rawText = raw.toString('utf8');
  const key = report.reportId ? `report:${report.reportId}` : `raw:${sha256(rawText)}`;
  if (report.kind === 'complaint') {
    const event = { kind: 'complaint' as const, email: send.email, campaignId: send.campaignId, subscriberId: send.subscriberId, status: report.feedbackType, source };
    return { outcome: 'applied', events: [await apply(deps, event, `feedback-type ${report.feedbackType}`, rawText, sha256(`${key}|complaint|${send.email}`))] };
  }
  // A DSN may list several recipients; ours is the one the send row names (or the only one).
  const mine = report.recipients.filter((r) => r.email === send.email);
  const chosen = mine.length > 0 ? mine : report.recipients.length === 1 ? report.recipients : [];
  if (chosen.length === 0) return { outcome: 'unmatched', why: `the report names ${report.recipients.map((r) => r.email).join(', ')}, not ${send.email}` };
  const events: DeliverabilityEvent[] = [];
  for (const r of chosen) {
    const event = { kind: r.hard ? ('hard-bounce' as const) : ('soft-bounce' as const), email: send.email, campaignId: send.campaignId, subscriberId: send.subscriberId, status: r.status, source };
    events.push(await apply(deps, event, r.diagnostic, rawText, sha256(`${key}|${r.status}|${send.email}`)));
  }
  return { outcome: 'applied', events };
}

export interface ProviderEvent {
  readonly provider: 'ses' | 'postmark' | 'sendgrid' | 'mailgun';
  readonly kind: DeliveryEventKind;
  readonly email: string;
  readonly status: string;
  readonly detail: string;
  /** Our Message-ID when the provider reports it (checked against the stored send). */
  readonly messageId: string | null;
  /** The provider's own id of the event, so a retried webhook counts once. */
  readonly eventId: string;
  readonly report: string;
}

/** An event from a provider's signed webhook. */
export async function processProviderEvent(deps: BounceServiceDeps, event: ProviderEvent): Promise<DeliverabilityEvent> {
  const email = event.email.trim().toLowerCase();
  let send = event.messageId ? await proveSend(deps, [], event.messageId.startsWith('<') ? event.messageId : `<${event.messageId}>`) : null;
  if (send && send.email !== email) send = null;
  send ??= await deps.store.latestSendTo(email);
  return apply(
    deps,
    { kind: event.kind, email, campaignId: send?.campaignId ?? null, subscriberId: send?.subscriberId ?? null, status: event.status, source: event.provider },
    event.detail,
    event.report,
    sha256(`${event.provider}|${event.eventId}|${email}|${event.kind}`),
  );
}
