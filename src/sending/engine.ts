/**
 * The sending engine: drains one campaign's send rows through a transport, a bounded batch at a time.
 * A row moves forward only after the SMTP server answered; a server that is down pauses the campaign
 * instead of failing anyone.
 */
import type { CampaignStatus, SendCounts } from '../core/domain.ts';
import { composeMessage, makeMessageId, type MessageFrame } from '../mime/compose.ts';
import { buildRecipientContext, type CompiledIssue } from '../personalization/personalize.ts';
import { TransportError, type CampaignStore, type ClaimedRecipient, type MessageTransport, type SendOutcome } from './ports.ts';
import { backoffMs, isHardBounce } from './smtp-replies.ts';

/** The per-recipient links, built by whoever knows the public URL and the secret. */
export interface RecipientLinks {
  unsubscribeUrl(subscriberId: number): string;
  preferencesUrl(subscriberId: number): string;
  readonly webVersionUrl: string;
}

export interface EngineOptions {
  /** Rows claimed per round trip to the store. */
  readonly batchSize: number;
  /** Attempts before a 4xx becomes a failure. */
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  /** Wait for deferred rows to fall due (true), or return and leave them for a later run. */
  readonly waitForDeferred: boolean;
  /** Name used when a subscriber has none ("Hi there,"). */
  readonly fallbackName: string;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  batchSize: 200,
  maxAttempts: 5,
  retryBaseMs: 30_000,
  waitForDeferred: true,
  fallbackName: 'there',
};

export interface EngineDeps {
  readonly store: CampaignStore;
  readonly transport: MessageTransport;
  readonly clock?: () => Date;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Progress lines for a human. */
  readonly log?: (line: string) => void;
  /** Abort to stop taking recipients; in-flight ones finish and are recorded, and the campaign is paused. */
  readonly signal?: AbortSignal;
}

export interface CampaignRun {
  readonly campaignId: number;
  readonly compiled: CompiledIssue;
  readonly frame: MessageFrame;
  readonly links: RecipientLinks;
}

export interface CampaignResult {
  readonly status: CampaignStatus;
  readonly counts: SendCounts;
  /** Addresses that were in flight when an earlier run stopped; they may have received the message twice. */
  readonly possiblyDuplicated: readonly string[];
  readonly error: string | null;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Runs `work` over `items` with at most `limit` at a time, preserving nothing but completion. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(lanes);
}

export async function runCampaign(run: CampaignRun, deps: EngineDeps, options: EngineOptions = DEFAULT_ENGINE_OPTIONS): Promise<CampaignResult> {
  const { store, transport } = deps;
  const clock = deps.clock ?? (() => new Date());
  const sleep = deps.sleep ?? defaultSleep;
  const log = deps.log ?? (() => undefined);
  const id = run.campaignId;

  const possiblyDuplicated = await store.releaseInFlight(id);
  if (possiblyDuplicated.length > 0) log(`campaign ${id}: ${possiblyDuplicated.length} message(s) were in flight when the last run stopped; sending them again`);

  const pause = async (reason: string): Promise<CampaignResult> => {
    await store.setCampaignStatus(id, 'paused', { error: reason });
    return { status: 'paused', counts: await store.countSends(id), possiblyDuplicated, error: reason };
  };

  try {
    await transport.verify();
  } catch (error) {
    const reason = error instanceof TransportError ? error.message : `SMTP server check failed: ${(error as Error).message}`;
    return pause(reason);
  }
  await store.setCampaignStatus(id, 'sending', { error: null });

  let unavailable: string | null = null;
  const sendOne = async (recipient: ClaimedRecipient): Promise<SendOutcome> => {
    if (recipient.skipReason) return { subscriberId: recipient.subscriberId, status: 'skipped', error: recipient.skipReason };
    if (unavailable || deps.signal?.aborted) return { subscriberId: recipient.subscriberId, status: 'released' };
    const context = buildRecipientContext(
      recipient,
      {
        unsubscribeUrl: run.links.unsubscribeUrl(recipient.subscriberId),
        preferencesUrl: run.links.preferencesUrl(recipient.subscriberId),
        webVersionUrl: run.links.webVersionUrl,
      },
      options.fallbackName,
    );
    const parts = run.compiled.personalize(context);
    const message = composeMessage(run.frame, { email: recipient.email, name: recipient.name }, parts, context, {
      messageId: makeMessageId(run.frame.fromEmail, id, recipient.subscriberId),
      date: clock(),
    });
    try {
      const accepted = await transport.send(message);
      return { subscriberId: recipient.subscriberId, status: 'sent', smtpResponse: accepted.response, messageId: accepted.messageId };
    } catch (error) {
      if (!(error instanceof TransportError)) {
        return { subscriberId: recipient.subscriberId, status: 'failed', smtpResponse: null, error: `could not be sent: ${(error as Error).message}` };
      }
      if (error.kind === 'unavailable') {
        unavailable ??= error.message;
        return { subscriberId: recipient.subscriberId, status: 'released' };
      }
      if (error.kind === 'temporary') {
        const attempt = recipient.attempts + 1;
        if (attempt >= options.maxAttempts) {
          return { subscriberId: recipient.subscriberId, status: 'failed', smtpResponse: error.response, error: `gave up after ${attempt} attempts: ${error.message}` };
        }
        const nextAttemptAt = new Date(clock().getTime() + backoffMs(attempt, options.retryBaseMs)).toISOString();
        return { subscriberId: recipient.subscriberId, status: 'deferred', smtpResponse: error.response, error: error.message, nextAttemptAt };
      }
      if (isHardBounce(error.responseCode, error.response)) {
        await store.suppressAddress(recipient.email, 'hard-bounce', error.response ?? error.message);
      }
      return { subscriberId: recipient.subscriberId, status: 'failed', smtpResponse: error.response, error: error.message };
    }
  };

  for (;;) {
    if (deps.signal?.aborted) return pause('stopped by the operator');
    const batch = await store.claimRecipients(id, options.batchSize, clock().toISOString());
    if (batch.length === 0) {
      const due = await store.nextDeferredAt(id);
      if (due === null) break;
      if (!options.waitForDeferred) {
        return { status: 'sending', counts: await store.countSends(id), possiblyDuplicated, error: null };
      }
      const waitMs = Math.max(0, new Date(due).getTime() - clock().getTime());
      log(`campaign ${id}: waiting ${Math.ceil(waitMs / 1000)}s for deferred recipients to fall due`);
      await sleep(waitMs, deps.signal);
      continue;
    }
    const outcomes: SendOutcome[] = [];
    await forEachLimited(batch, transport.maxConnections, async (recipient) => {
      outcomes.push(await sendOne(recipient));
    });
    await store.recordOutcomes(id, outcomes, clock().toISOString());
    if (unavailable) return pause(unavailable);
    const counts = await store.countSends(id);
    log(`campaign ${id}: ${counts.sent} sent, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.deferred} deferred, ${counts.pending} pending`);
  }

  const counts = await store.countSends(id);
  await store.setCampaignStatus(id, 'sent');
  return { status: 'sent', counts, possiblyDuplicated, error: null };
}
