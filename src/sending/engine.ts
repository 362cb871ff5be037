/**
 * The sending engine: drains one campaign's send rows through a transport with a fixed number of workers.
 * A row is claimed (`sending`) just before its message goes to SMTP and moves on only after the server answered,
 * so a crash can leave at most one message per worker in doubt. A server that is down pauses the campaign
 * instead of failing anyone. One process runs a campaign at a time, under a lease it keeps renewing.
 */
import type { CampaignStatus, SendCounts } from '../core/domain.ts';
import type { MessageFrame } from '../mime/compose.ts';
import type { CompiledIssue } from '../personalization/personalize.ts';
import { describeLeaseHolder, isDeadLocalHolder, makeLeaseOwner, parseLeaseOwner } from './lease-owner.ts';
import { NodemailerInternalsError } from '../mime/issue-mime.ts';
import { prepareMessageBuilder } from './message-builder.ts';
import { TransportError, type CampaignStore, type DueRecipient, type InFlightPolicy, type MessageTransport, type RelayFault, type SendOutcome, type SharedSendClaims } from './ports.ts';
import { backoffMs, isHardBounce } from './smtp-replies.ts';
import { createWriteCoalescer } from './write-coalescer.ts';

/** The per-recipient links, built by whoever knows the public URL and the secret. */
export interface RecipientLinks {
  unsubscribeUrl(subscriberId: number): string;
  preferencesUrl(subscriberId: number): string;
  readonly webVersionUrl: string;
  /** The recipient's signed tracking token, for per-subscriber tracking (src/tracking/tracking.ts). */
  readonly trackingToken?: ((campaignId: number, subscriberId: number) => string) | undefined;
}

export interface EngineOptions {
  /** Rows read per round trip to the store. */
  readonly batchSize: number;
  /** Attempts before a 4xx becomes a failure. */
  readonly maxAttempts: number;
  /** Time after the first attempt past which a 4xx becomes a failure. */
  readonly maxRetryAgeMs: number;
  readonly retryBaseMs: number;
  /** Wait for deferred rows to fall due (true), or return and leave them for a later run. */
  readonly waitForDeferred: boolean;
  /** Name used when a subscriber has none ("Hi there,"). */
  readonly fallbackName: string;
  readonly inFlightPolicy: InFlightPolicy;
  /** How long a lease lasts without renewal; a crashed runner's campaign is taken over after this. */
  readonly leaseMs: number;
  /** After the SMTP server was unreachable, when to try again. */
  readonly smtpRetryMs: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  batchSize: 500,
  maxAttempts: 5,
  maxRetryAgeMs: 24 * 3600_000,
  retryBaseMs: 30_000,
  waitForDeferred: true,
  fallbackName: 'there',
  inFlightPolicy: 'resend',
  leaseMs: 30_000,
  smtpRetryMs: 30_000,
};

export interface EngineDeps {
  readonly store: CampaignStore;
  readonly transport: MessageTransport;
  readonly clock?: () => Date;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Progress lines for a human. */
  readonly log?: (line: string) => void;
  /** Abort to drain: stop taking recipients, finish and record the ones in flight, leave the campaign to resume. */
  readonly signal?: AbortSignal;
  /**
   * Called each time outcomes are written: recipients done (sent, failed or skipped) of all the campaign's. Given a
   * callback, the engine leaves out its own counts line every few seconds.
   */
  readonly onProgress?: (progress: CampaignProgress) => void;
  /** Identifies this runner in the campaign's lease (see lease-owner.ts). */
  readonly owner?: string;
  /** Whether the process holding a campaign's lease is certainly gone (default: on this host, and its pid does not exist). */
  readonly isHolderGone?: (owner: string) => boolean;
  /**
   * Row-level claims (Postgres): several processes send the campaign together, each claiming small batches of rows
   * under its own claim lease, instead of one process holding the campaign. Absent: the single-process path.
   */
  readonly claims?: SharedSendClaims;
}

/** How far a campaign is, for a progress bar: `done` counts final outcomes (sent + failed + skipped). */
export interface CampaignProgress {
  readonly campaignId: number;
  readonly done: number;
  readonly total: number;
  readonly sent: number;
  readonly failed: number;
  readonly skipped: number;
}

export interface CampaignRun {
  readonly campaignId: number;
  readonly compiled: CompiledIssue;
  readonly frame: MessageFrame;
  readonly links: RecipientLinks;
}

export interface CampaignResult {
  /** 'busy': another live process holds the campaign (`error` says which, and until when). 'sending': stopped by the signal (or deferred rows left), to resume. */
  readonly status: CampaignStatus | 'busy';
  readonly counts: SendCounts;
  /** Addresses that were in flight when an earlier run stopped; they may have received the message twice. */
  readonly possiblyDuplicated: readonly string[];
  readonly error: string | null;
}

/** Least time between two progress lines of one campaign. */
const PROGRESS_EVERY_MS = 5000;
/** While messages are out, how often the engine checks whether the campaign was paused or cancelled. */
const STATUS_WATCH_MS = 1000;

/** This process's lease owner: host, pid and a random part, in a form other processes parse (lease-owner.ts). */
export function defaultOwner(): string {
  return makeLeaseOwner();
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function runCampaign(run: CampaignRun, deps: EngineDeps, options: EngineOptions = DEFAULT_ENGINE_OPTIONS): Promise<CampaignResult> {
  const { store, transport } = deps;
  const clock = deps.clock ?? (() => new Date());
  const iso = () => clock().toISOString();
  const sleep = deps.sleep ?? defaultSleep;
  const log = deps.log ?? (() => undefined);
  const owner = deps.owner ?? defaultOwner();
  const id = run.campaignId;
  const leaseUntil = () => new Date(clock().getTime() + options.leaseMs).toISOString();
  const isHolderGone = deps.isHolderGone ?? ((holder: string) => isDeadLocalHolder(holder));

  /**
   * Takes the lease, or takes it over at once from a holder that is certainly gone (a process of this host that no
   * longer exists, e.g. after kill -9). Returns null when this runner holds it, else who does and until when.
   */
  async function takeLease(): Promise<string | null> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if (await store.acquireLease(id, owner, leaseUntil(), iso())) return null;
      const holder = await store.leaseHolder(id, iso());
      if (!holder) continue; // it ran out or was released meanwhile: try again
      if (!isHolderGone(holder.owner)) return describeLeaseHolder(holder.owner, holder.expiresAt);
      if (await store.takeOverLease(id, holder.owner, owner, leaseUntil())) {
        const gone = parseLeaseOwner(holder.owner);
        log(`taking over campaign ${id} from ${gone ? `process ${gone.pid} on host ${gone.host}` : JSON.stringify(holder.owner)}, which no longer exists (its lease ran until ${holder.expiresAt ?? '?'})`);
        return null;
      }
    }
    const holder = await store.leaseHolder(id, iso());
    return holder ? describeLeaseHolder(holder.owner, holder.expiresAt) : 'another process';
  }

  const shared = deps.claims ?? null;
  const busyWith = shared ? null : await takeLease();
  if (busyWith !== null) return { status: 'busy', counts: await store.countSends(id), possiblyDuplicated: [], error: `being sent by ${busyWith}` };
  // Keep the lease alive while messages are out, even through a long batch (shared: the leases of this worker's claimed rows).
  const heartbeat = setInterval(
    () => void (shared ? shared.renewClaims(id, owner, options.leaseMs) : store.acquireLease(id, owner, leaseUntil(), iso())).catch(() => undefined),
    Math.max(50, Math.floor(options.leaseMs / 3)),
  );
  heartbeat.unref();

  try {
    /** Shared claims: rows whose worker died, taken back now (and again whenever nothing else is left to claim). */
    const reclaim = async (): Promise<string[]> => {
      if (!shared) return [];
      const rows = await shared.reclaimExpired(id, options.inFlightPolicy, iso());
      if (rows.length > 0) {
        const workers = [...new Set(rows.map((r) => r.worker ?? '?'))].join(', ');
        log(`campaign ${id}: ${rows.length} message(s) were in flight at worker ${workers}, whose claim ran out; ${options.inFlightPolicy === 'resend' ? 'sending them again' : 'held for review'}: ${rows.map((r) => r.email).join(', ')}`);
      }
      return rows.map((r) => r.email);
    };
    const possiblyDuplicated = shared ? await reclaim() : await store.releaseInFlight(id, options.inFlightPolicy, iso());
    if (!shared && possiblyDuplicated.length > 0) {
      log(`campaign ${id}: ${possiblyDuplicated.length} message(s) were in flight when the last run stopped; ${options.inFlightPolicy === 'resend' ? 'sending them again' : 'held for review'}`);
    }
    const finish = async (status: CampaignStatus, error: string | null): Promise<CampaignResult> => ({ status, counts: await store.countSends(id), possiblyDuplicated, error });
    const pauseForSmtp = async (reason: string, relayFault: RelayFault): Promise<CampaignResult> => {
      await store.setCampaignStatus(id, 'paused', { error: reason, pauseReason: 'smtp', relayFault, resumeAfter: new Date(clock().getTime() + options.smtpRetryMs).toISOString() });
      return finish('paused', reason);
    };

    try {
      await transport.verify();
    } catch (error) {
      return pauseForSmtp(error instanceof TransportError ? error.message : `SMTP server check failed: ${(error as Error).message}`, error instanceof TransportError ? (error.relayFault ?? 'failing') : 'failing');
    }
    const current = await store.campaignStatus(id);
    if (current !== 'sending' && current !== 'paused') return finish(current ?? 'failed', null);
    await store.setCampaignStatus(id, 'sending', { error: null });

    // The issue's MIME is built once here; each message then only fills in its recipient.
    // nodemailer's private API gone or changed (NodemailerInternalsError): nobody is mailed or failed; the campaign
    // waits, paused, for the operator to install the pinned version and resume.
    const pauseForSoftware = async (reason: string): Promise<CampaignResult> => {
      log(`campaign ${id}: paused: ${reason}`);
      await store.setCampaignStatus(id, 'paused', { error: reason, pauseReason: 'operator' });
      return finish('paused', reason);
    };
    let builder: Awaited<ReturnType<typeof prepareMessageBuilder>>;
    try {
      builder = await prepareMessageBuilder(run, options.fallbackName);
    } catch (error) {
      if (error instanceof NodemailerInternalsError) return await pauseForSoftware(error.message);
      throw error;
    }
    let unavailable = null as { message: string; fault: RelayFault } | null;
    let broken = null as string | null;
    // Progress: counted once here, then moved by each batch of outcomes written (no count query per batch).
    const progress = deps.onProgress ? { ...(await store.countSends(id)) } : null;
    const total = progress ? Object.values(progress).reduce((a, b) => a + b, 0) : 0;
    const report = () => {
      if (!progress || !deps.onProgress) return;
      deps.onProgress({ campaignId: id, done: progress.sent + progress.failed + progress.skipped, total, sent: progress.sent, failed: progress.failed, skipped: progress.skipped });
    };
    report();
    let stopReason = null as 'signal' | 'operator' | null;
    // Aborted as soon as the run must stop: a send still waiting for a relay's rate slot or cap (an hour, a day) gives
    // up at once and its recipient is released, instead of holding the stop until the cap frees.
    const stopping = new AbortController();
    const stop = (reason: 'signal' | 'operator'): void => {
      stopReason ??= reason;
      stopping.abort();
    };
    // One queue for both kinds of write: what the workers ask for in the same turn goes to the store together
    // (outcomes first, then claims), and a store that can joins both calls in one transaction.
    type Write = { readonly claim: number } | { readonly outcome: SendOutcome };
    const writes = createWriteCoalescer<Write, Map<number, string | null>>(async (items) => {
      const outcomes: SendOutcome[] = [];
      const ids: number[] = [];
      for (const item of items) {
        if ('claim' in item) ids.push(item.claim);
        else outcomes.push(item.outcome);
      }
      const now = iso();
      if (progress) {
        for (const outcome of outcomes) if (outcome.status === 'sent' || outcome.status === 'failed' || outcome.status === 'skipped') progress[outcome.status] += 1;
      }
      const [, claimed] = await Promise.all([
        outcomes.length > 0 ? store.recordOutcomes(id, outcomes, now, owner) : undefined,
        ids.length > 0 ? store.claimForSending(id, ids, now, owner) : new Map<number, string | null>(),
      ]);
      return claimed;
    });
    const claims = { push: (subscriberId: number) => writes.push({ claim: subscriberId }) };
    const records = { flush: () => writes.flush() };
    const record = async (outcome: SendOutcome): Promise<void> => {
      await writes.push({ outcome });
    };

    const decide = (recipient: DueRecipient, error: TransportError): SendOutcome => {
      const subscriberId = recipient.subscriberId;
      if (error.kind === 'temporary') {
        const attempt = recipient.attempts + 1;
        const firstAt = recipient.firstAttemptAt ? new Date(recipient.firstAttemptAt).getTime() : clock().getTime();
        const delay = backoffMs(attempt, options.retryBaseMs);
        if (attempt >= options.maxAttempts) return { subscriberId, status: 'failed', smtpResponse: error.response, error: `gave up after ${attempt} attempts: ${error.message}` };
        if (clock().getTime() + delay - firstAt > options.maxRetryAgeMs) return { subscriberId, status: 'failed', smtpResponse: error.response, error: `gave up after ${Math.round((clock().getTime() - firstAt) / 60_000)} minutes of retries: ${error.message}` };
        return { subscriberId, status: 'deferred', smtpResponse: error.response, error: error.message, nextAttemptAt: new Date(clock().getTime() + delay).toISOString() };
      }
      if (isHardBounce(error.responseCode, error.response)) return { subscriberId, status: 'failed', smtpResponse: error.response, error: error.message, suppress: 'hard-bounce' };
      return { subscriberId, status: 'failed', smtpResponse: error.response, error: error.message };
    };

    /**
     * Sends one recipient's message. `carried` are the outcomes of this worker's previous message, not yet written:
     * they go to the store in the same transaction as this recipient's claim, so a message costs one write, and the
     * worker still sends nothing new before the last outcome is durable. Returns the outcomes to carry to the next.
     */
    const sendOne = async (recipient: DueRecipient, carried: readonly SendOutcome[]): Promise<SendOutcome[]> => {
      const subscriberId = recipient.subscriberId;
      if (recipient.skipReason) return [...carried, { subscriberId, status: 'skipped', error: recipient.skipReason }];
      if (shared) {
        // Already claimed with its batch: the previous outcome is made durable before this message goes out.
        await Promise.all(carried.map(record));
        if (unavailable || broken || stopReason) return [{ subscriberId, status: 'released' }];
      } else {
        if (unavailable || broken || stopReason) return [...carried];
        // Claimed only now, in the same statement that checks they may still be mailed.
        const [claimed] = await Promise.all([claims.push(subscriberId), ...carried.map(record)]);
        const refused = claimed.get(subscriberId);
        if (refused !== null) return refused === 'no longer pending' ? [] : [{ subscriberId, status: 'skipped', error: refused ?? 'not mailable' }];
        if (unavailable || broken || stopReason) return [{ subscriberId, status: 'released' }];
      }
      let outcome: SendOutcome;
      try {
        const message = builder.build(recipient, clock());
        const accepted = await transport.send(message, stopping.signal);
        // A raw message's Message-ID is the one we wrote (nodemailer reports a made-up one for raw input).
        const messageId = typeof message.options.messageId === 'string' ? message.options.messageId : accepted.messageId;
        outcome = { subscriberId, status: 'sent', smtpResponse: accepted.response, messageId };
      } catch (error) {
        if (error instanceof NodemailerInternalsError) {
          broken ??= error.message;
          outcome = { subscriberId, status: 'released' };
        } else if (error instanceof TransportError && error.kind === 'unavailable' && stopping.signal.aborted) {
          // Stopped while it waited for a rate slot or a cap: nothing was sent; it goes back, pending.
          outcome = { subscriberId, status: 'released' };
        } else if (error instanceof TransportError && error.kind === 'unavailable') {
          unavailable ??= { message: error.message, fault: error.relayFault ?? 'failing' };
          outcome = { subscriberId, status: 'released' };
        } else if (error instanceof TransportError) {
          outcome = decide(recipient, error);
        } else {
          outcome = { subscriberId, status: 'failed', smtpResponse: null, error: `could not be sent: ${(error as Error).message}` };
        }
      }
      return [outcome];
    };

    /**
     * Shared claims: the connections pull recipients from a small buffer of rows this worker claimed, refilled by
     * one claim at a time (pool size x 2 rows), so no connection waits for a whole batch to finish. When nothing is
     * left to claim, rows of a dead worker are taken back once their lease runs out; the campaign is marked sent only
     * when no row is pending, claimed by anyone, or deferred. Returns a result to end with, or null to finish normally.
     */
    const sendShared = async (claimer: SharedSendClaims): Promise<CampaignResult | null> => {
      const claimSize = Math.max(1, transport.maxConnections) * 2;
      let buffer: DueRecipient[] = [];
      let refilling: Promise<void> | null = null;
      let exhausted = false;
      const refill = (): Promise<void> =>
        (refilling ??= (async () => {
          try {
            if ((await store.campaignStatus(id)) !== 'sending') {
              stop('operator');
              return;
            }
            const got = await claimer.claimBatch(id, owner, claimSize, options.leaseMs, iso());
            if (got.length === 0) exhausted = true;
            buffer = buffer.concat(got);
          } finally {
            refilling = null;
          }
        })());
      const next = async (): Promise<DueRecipient | null> => {
        for (;;) {
          if (stopReason || unavailable || broken) return null;
          const recipient = buffer.shift();
          if (recipient) {
            if (buffer.length < transport.maxConnections && !exhausted) void refill().catch(() => undefined);
            return recipient;
          }
          if (exhausted) return null;
          await refill();
        }
      };
      for (;;) {
        exhausted = false;
        const lane = async () => {
          let carried: SendOutcome[] = [];
          for (let recipient = await next(); recipient; recipient = await next()) carried = await sendOne(recipient, carried);
          await Promise.all(carried.map(record));
        };
        await Promise.all(Array.from({ length: Math.max(1, transport.maxConnections) }, lane));
        await refilling;
        // Stopped with rows claimed and not sent: they go back, pending, for any worker.
        for (const recipient of buffer.splice(0)) await record({ subscriberId: recipient.subscriberId, status: 'released' });
        await records.flush();
        report();
        if (broken) return await pauseForSoftware(broken);
        if (unavailable) return await pauseForSmtp(unavailable.message, unavailable.fault);
        if (stopReason) return null;
        if (!deps.onProgress && performance.now() - lastProgressAt >= PROGRESS_EVERY_MS) {
          lastProgressAt = performance.now();
          const counts = await store.countSends(id);
          log(`campaign ${id}: ${counts.sent} sent, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.deferred} deferred, ${counts.pending} pending`);
        }
        // Nothing left to claim now: rows of a worker that died come back once their lease ran out.
        const taken = await reclaim();
        possiblyDuplicated.push(...taken);
        if (taken.length > 0) continue;
        const heldFor = await claimer.msUntilNextClaimExpires(id);
        if (heldFor !== null) {
          // Other workers are still sending their last rows (or died holding them): look again soon.
          await sleep(Math.min(Math.max(heldFor + 10, 100), 1000, options.leaseMs / 3), deps.signal);
          if (deps.signal?.aborted) stop('signal');
          if (stopReason) return null;
          continue;
        }
        const due = await store.nextDeferredAt(id);
        if (due === null) return null;
        if (!options.waitForDeferred) return await finish('sending', null);
        const waitMs = Math.max(0, new Date(due).getTime() - clock().getTime());
        if (waitMs > 0) {
          log(`campaign ${id}: waiting ${Math.ceil(waitMs / 1000)}s for deferred recipients to fall due`);
          await sleep(Math.min(waitMs, options.leaseMs / 3), deps.signal);
          if (deps.signal?.aborted) stop('signal');
        }
      }
    };

    const onAbort = () => stop('signal');
    // An operator's pause or cancel (the CLI, the API, another worker pausing for SMTP trouble) is seen between
    // batches, and by this watch while messages are out, which may wait long for a relay's cap.
    const statusWatch = setInterval(() => {
      store.campaignStatus(id).then(
        (status) => {
          if (status !== 'sending') stop('operator');
        },
        () => undefined,
      );
    }, STATUS_WATCH_MS);
    statusWatch.unref();
    let lastProgressAt = Number.NEGATIVE_INFINITY;
    deps.signal?.addEventListener('abort', onAbort, { once: true });
    if (deps.signal?.aborted) onAbort();
    try {
      if (shared) {
        const outcome = await sendShared(shared);
        if (outcome) return outcome;
      }
      for (; !shared; ) {
        if (stopReason) break;
        const status = await store.campaignStatus(id);
        if (status !== 'sending') {
          stop('operator');
          break;
        }
        const batch = await store.listDueRecipients(id, options.batchSize, iso());
        if (batch.length === 0) {
          const due = await store.nextDeferredAt(id);
          if (due === null) break;
          if (!options.waitForDeferred) return await finish('sending', null);
          const waitMs = Math.max(0, new Date(due).getTime() - clock().getTime());
          log(`campaign ${id}: waiting ${Math.ceil(waitMs / 1000)}s for deferred recipients to fall due`);
          await sleep(Math.min(waitMs, options.leaseMs / 3), deps.signal);
          continue;
        }
        let next = 0;
        const worker = async () => {
          let carried: SendOutcome[] = [];
          while (next < batch.length && !unavailable && !broken && !stopReason) {
            const recipient = batch[next++] as DueRecipient;
            carried = await sendOne(recipient, carried);
          }
          // The worker's last outcome is durable before the batch is done.
          await Promise.all(carried.map(record));
        };
        await Promise.all(Array.from({ length: Math.max(1, Math.min(transport.maxConnections, batch.length)) }, worker));
        await records.flush();
        report();
        if (broken) return await pauseForSoftware(broken);
        if (unavailable) return await pauseForSmtp(unavailable.message, unavailable.fault);
        // Counting walks every row of the campaign: at most every few seconds, not after each batch of a long one.
        if (!deps.onProgress && performance.now() - lastProgressAt >= PROGRESS_EVERY_MS) {
          lastProgressAt = performance.now();
          const counts = await store.countSends(id);
          log(`campaign ${id}: ${counts.sent} sent, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.deferred} deferred, ${counts.pending} pending`);
        }
      }
    } finally {
      clearInterval(statusWatch);
      deps.signal?.removeEventListener('abort', onAbort);
      await records.flush();
    }
    if (stopReason === 'signal') {
      log(`campaign ${id}: stopped; the messages in flight were recorded, the rest will be sent when the campaign resumes`);
      return await finish('sending', null);
    }
    if (stopReason === 'operator') {
      const status = (await store.campaignStatus(id)) ?? 'failed';
      return await finish(status, null);
    }
    await store.setCampaignStatus(id, 'sent');
    return await finish('sent', null);
  } finally {
    clearInterval(heartbeat);
    await store.releaseLease(id, owner);
  }
}
