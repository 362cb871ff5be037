/**
 * Several SMTP relays behind one MessageTransport: SMTP_URL parsed into relays, weighted picking, a rate limiter and
 * hourly/daily caps per relay (counted in a RelayQuotaStore: the database, across processes and restarts), and
 * failover while a relay is down.
 */
import type { DkimConfig } from '../config.ts';
import { MailroomError } from '../core/errors.ts';
import { TransportError, type MessageTransport, type OutgoingMessage, type TransportAccepted } from '../sending/ports.ts';
import { createRateLimiter, type DoneWithSlot, type RateLimiter, type RateLimiterStats } from '../sending/rate-limiter.ts';
import { createMemoryQuotaStore, relayCaps, type QuotaCap, type QuotaTicket, type RelayQuotaStore } from './relay-quota.ts';
import { createSmtpTransport, type SmtpTransportOptions } from './smtp-transport.ts';
import { redact, type RelaySpec } from './smtp-url.ts';

export { parseRelays, type RelaySpec } from './smtp-url.ts';

/**
 * A relay's per-second rate counted with every other process (the database: relay-rate-store.ts): reserves the next
 * start for one message and says how many ms to wait for it.
 */
export interface SharedRateStore {
  reserve(relay: string, perSecond: number): Promise<number>;
}

/** Per-second rate limiters kept per relay across transports (one per App), so campaigns run by one process share a relay's rate. */
export type RelayLimiters = Map<string, RateLimiter>;

export function createRelayLimiters(): RelayLimiters {
  return new Map();
}

export interface RelayTransportOptions {
  /** Connections per relay when its URL has no `pool=` (SMTP_POOL_SIZE). */
  readonly poolSize: number;
  readonly dkim: DkimConfig | null;
  /** Messages per second per relay when its URL has no `rate=` (SMTP_RATE_PER_SECOND); null for no limit. */
  readonly defaultRatePerSecond: number | null;
  /** Seconds to wait for a server to connect / answer (smtp-transport's default when absent). */
  readonly timeoutSeconds?: number;
  /** Builds one relay's transport; createSmtpTransport unless a test injects fakes. */
  readonly makeTransport?: (options: SmtpTransportOptions) => MessageTransport;
  /** Milliseconds, for cooldowns, rate limits and caps; default a monotonic clock (cooldowns, rates) and Date.now (caps, shared with other processes). */
  readonly clock?: () => number;
  /** For the rate limiters and the waits for a cap (tests use a fake one). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A relay that answered `unavailable` rests baseMs (default 5 s), doubled for every failure in a row, at most maxMs (default 5 min). */
  readonly cooldown?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Share rate limiters with other transports (see createRelayLimiters); by default each transport has its own. */
  readonly limiters?: RelayLimiters;
  /** Where hourly and daily caps are counted: the database (the app's), so they hold across restarts and processes; by default this transport only. */
  readonly quotas?: RelayQuotaStore;
  /** Where the per-second rate is shared with other processes (Postgres: every worker on the database); absent: this process's limiter only. */
  readonly sharedRate?: SharedRateStore;
}

export interface RelayStatus {
  readonly name: string;
  /** The URL with any password hidden. */
  readonly url: string;
  readonly weight: number;
  readonly up: boolean;
  /** While down: when it will be tried again. */
  readonly downUntil: number | null;
  /** `unavailable` answers in a row. */
  readonly failures: number;
  readonly sent: number;
  readonly lastError: string | null;
  readonly limiter: RateLimiterStats | null;
  /** When its hourly or daily cap was last found used up: when a unit frees (null: not capped as far as this transport saw). */
  readonly cappedUntil: number | null;
}

export interface RelayTransport extends MessageTransport {
  /** As MessageTransport.send; aborting `signal` while the message waits for a rate-limit slot or a cap rejects with `unavailable` (nothing was sent). */
  send(message: OutgoingMessage, signal?: AbortSignal): Promise<TransportAccepted>;
  status(): RelayStatus[];
}

interface Relay {
  readonly spec: RelaySpec;
  readonly transport: MessageTransport;
  readonly limiter: RateLimiter | null;
  /** Messages per second, or null for no limit. */
  readonly rate: number | null;
  readonly caps: readonly QuotaCap[];
  /** Caps found used up until then (quota clock); 0 when not. */
  cappedUntil: number;
  /** Smooth weighted round-robin state. */
  current: number;
  downUntil: number;
  failures: number;
  /** Bumped whenever the relay is marked down or up, so that answers to attempts started before do not count twice. */
  generation: number;
  sent: number;
  lastError: TransportError | null;
}

const DEFAULT_COOLDOWN_BASE_MS = 5_000;
const DEFAULT_COOLDOWN_MAX_MS = 5 * 60_000;
/** A send waiting for a cap looks again at least this often (another process may give a unit back). */
const MAX_CAP_WAIT_MS = 60_000;
const monotonicNow = (): number => performance.timeOrigin + performance.now();

/**
 * An `unavailable` answer that may still have delivered the message: nodemailer's pool re-sends by itself a
 * message of which nothing was written, so a plain "Connection closed unexpectedly" reaching us means the
 * connection dropped mid-message, possibly after the server had the whole of it. Sending it through another
 * relay could deliver it twice, so it is not failed over. (smtp-transport files this under `unavailable`;
 * a kind of its own there would make this text match unnecessary.)
 */
function mayHaveBeenAccepted(error: TransportError): boolean {
  // A close that came with a reply (a 421) is the server saying it took nothing.
  return error.responseCode === null && /Connection closed unexpectedly/i.test(error.message);
}

/** A referenced timer (a send waiting for a cap keeps the process alive), cleared as soon as the signal aborts. */
function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function asTransportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  return new TransportError('unavailable', error instanceof Error ? error.message : String(error), null, null);
}

/**
 * One MessageTransport over several relays. Each message goes to a healthy relay chosen by smooth
 * weighted round-robin (deterministic: weights 3 and 1 give a a b a, a a b a…), after that relay's rate
 * limiter lets it. A relay that answers `unavailable` (unreachable, or credentials refused: nothing was
 * accepted) rests for a cooldown and the same message goes to another relay, except after a connection
 * that dropped mid-message (see mayHaveBeenAccepted); `temporary` and `permanent` answers are the
 * recipient's business and pass through untouched.
 */
export function createRelayTransport(specs: readonly RelaySpec[], options: RelayTransportOptions): RelayTransport {
  if (specs.length === 0) throw new MailroomError('CONFIG', 'SMTP_URL: no relay to send through');
  const clock = options.clock ?? monotonicNow;
  const makeTransport = options.makeTransport ?? createSmtpTransport;
  const cooldownBase = options.cooldown?.baseMs ?? DEFAULT_COOLDOWN_BASE_MS;
  const cooldownMax = options.cooldown?.maxMs ?? DEFAULT_COOLDOWN_MAX_MS;
  const quotas = options.quotas ?? createMemoryQuotaStore();
  // Caps are counted with other processes: on the epoch clock, not this process's monotonic one.
  const quotaNow = options.clock ?? Date.now;
  const sleep = options.sleep ?? sleepUnlessAborted;

  const relays: Relay[] = specs.map((spec) => {
    const rate = spec.ratePerSecond === null ? options.defaultRatePerSecond : spec.ratePerSecond > 0 ? spec.ratePerSecond : null;
    let limiter: RateLimiter | null = null;
    if (rate !== null) {
      const key = [spec.name, redact(spec.url), rate].join('\n');
      limiter = options.limiters?.get(key) ?? null;
      if (limiter === null) {
        limiter = createRateLimiter({
          perSecond: rate,
          ...(options.clock ? { clock: options.clock } : {}),
          ...(options.sleep ? { sleep: options.sleep } : {}),
        });
        options.limiters?.set(key, limiter);
      }
    }
    const transport = makeTransport({
      url: spec.url,
      poolSize: spec.pool ?? options.poolSize,
      dkim: options.dkim,
      // The relay's limiter paces the messages; nodemailer's own limit would count them a second time.
      ratePerSecond: null,
      allowPlaintextAuth: spec.tls.plaintextAuth,
      ca: spec.tls.ca,
      ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
    });
    return { spec, transport, limiter, rate, caps: relayCaps(spec), cappedUntil: 0, current: 0, downUntil: 0, failures: 0, generation: 0, sent: 0, lastError: null };
  });

  const closing = new AbortController();
  const isUp = (relay: Relay, now: number): boolean => relay.downUntil <= now;

  const markDown = (relay: Relay, error: TransportError, generation: number): void => {
    relay.lastError = error;
    // Another attempt already reported this outage: one outage, one step of the backoff.
    if (relay.generation !== generation) return;
    relay.failures += 1;
    relay.generation += 1;
    relay.downUntil = clock() + Math.min(cooldownMax, cooldownBase * 2 ** (relay.failures - 1));
  };

  const markUp = (relay: Relay): void => {
    if (relay.failures === 0 && relay.downUntil === 0) return;
    relay.failures = 0;
    relay.downUntil = 0;
    relay.generation += 1;
  };

  /** Smooth weighted round-robin over the healthy relays not tried yet, preferring those whose hourly/daily cap is not used up. */
  const pick = (tried: ReadonlySet<Relay>): Relay | null => {
    const now = clock();
    const healthy = relays.filter((r) => !tried.has(r) && isUp(r, now));
    if (healthy.length === 0) return null;
    const capNow = quotaNow();
    const uncapped = healthy.filter((r) => r.cappedUntil <= capNow);
    const candidates = uncapped.length > 0 ? uncapped : healthy;
    let total = 0;
    let best: Relay | null = null;
    for (const relay of candidates) {
      relay.current += relay.spec.weight;
      total += relay.spec.weight;
      if (best === null || relay.current > best.current) best = relay;
    }
    if (best) best.current -= total;
    return best;
  };

  const describe = (relay: Relay, now: number): string => {
    const why = relay.lastError?.message ?? 'not reachable';
    const wait = relay.downUntil > now ? ` (retrying in ${Math.ceil((relay.downUntil - now) / 1000)}s)` : '';
    return `${relay.spec.name} (${redact(relay.spec.url)}): ${why}${wait}`;
  };

  /** Every relay is down. With one relay its own error, as before relays existed; with several, all of them by name. */
  const allDown = (latest: TransportError | null): TransportError => {
    const only = relays.length === 1 ? relays[0] : undefined;
    if (only) {
      if (latest) return latest;
      const last = only.lastError;
      return new TransportError('unavailable', last?.message ?? `SMTP server ${redact(only.spec.url)} is not available`, last?.responseCode ?? null, last?.response ?? null, last?.relayFault ?? 'failing');
    }
    const now = clock();
    // One fault shared by every relay (all refuse the login, say) is the pool's; mixed faults are just failing.
    const faults = new Set(relays.map((r) => r.lastError?.relayFault ?? 'failing'));
    const fault = faults.size === 1 ? [...faults][0] : 'failing';
    return new TransportError('unavailable', `no SMTP relay is available: ${relays.map((r) => describe(r, now)).join('; ')}`, null, null, fault);
  };

  /** Waits until the first cap among the relays still to try frees (looking again at least every minute), or the send is stopped. */
  const waitForCaps = async (tried: ReadonlySet<Relay>, abort: AbortSignal): Promise<void> => {
    const now = quotaNow();
    const until = Math.min(...relays.filter((r) => !tried.has(r) && r.cappedUntil > now).map((r) => r.cappedUntil));
    const ms = Math.max(1, Math.min(MAX_CAP_WAIT_MS, (Number.isFinite(until) ? until : now) - now));
    let onAbort = (): void => undefined;
    const aborted = new Promise<void>((resolve) => {
      onAbort = resolve;
      abort.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([sleep(ms, abort), aborted]);
    } finally {
      abort.removeEventListener('abort', onAbort);
    }
    if (abort.aborted) throw stopped();
    // Ask the store again: a unit may have freed early (another process gave one back).
    for (const r of relays) r.cappedUntil = 0;
  };

  const stopped = (): TransportError =>
    new TransportError('unavailable', closing.signal.aborted ? 'the SMTP transport was closed before the message was sent' : 'stopped before the message was sent', null, null);

  return {
    maxConnections: relays.reduce((sum, r) => sum + (r.spec.pool ?? options.poolSize), 0),

    async send(message: OutgoingMessage, signal?: AbortSignal): Promise<TransportAccepted> {
      // The caller's stop and this transport's closing, combined only when the message has to wait (most never do:
      // no signal made per message on the way through).
      let combined: AbortSignal | null = null;
      const waitSignal = (): AbortSignal => (signal ? (combined ??= AbortSignal.any([closing.signal, signal])) : closing.signal);
      const isStopped = (): boolean => closing.signal.aborted || signal?.aborted === true;
      const tried = new Set<Relay>();
      let latest: TransportError | null = null;
      for (;;) {
        if (isStopped()) throw stopped();
        const relay = pick(tried);
        if (!relay) throw allDown(latest);
        // pick() gives a relay whose cap is used up only when every relay it could give is: wait for the first unit to free.
        if (relay.cappedUntil > quotaNow()) {
          await waitForCaps(tried, waitSignal());
          continue;
        }
        // The slot is held until the server has answered, so the relay's own count (which it stamps somewhere in between) never exceeds the limit.
        let done: DoneWithSlot | null = null;
        if (relay.limiter) {
          try {
            done = await relay.limiter.hold(waitSignal());
          } catch {
            throw stopped();
          }
          // Every process's messages through this relay: the next start, reserved in the database.
          if (options.sharedRate && relay.rate !== null) {
            // A start this process reached late (a stalled event loop, a slow reservation) is left empty and another
            // reserved: sent late, it would crowd the next process's start on time into the same second.
            const rate = relay.rate;
            for (let tries = 0; ; tries += 1) {
              const asked = performance.now();
              const wait = await options.sharedRate.reserve(relay.spec.name, rate).catch((error: unknown) => {
                done?.();
                throw new TransportError('unavailable', `${relay.spec.name}: cannot reserve a place in its shared rate: ${error instanceof Error ? error.message : String(error)}`, null, null);
              });
              const startAt = asked + wait;
              if (startAt > performance.now()) await sleep(startAt - performance.now(), waitSignal());
              if (isStopped()) {
                done();
                throw stopped();
              }
              if (performance.now() - startAt <= 250 / rate || tries >= 5) break;
            }
          }
          // It went down while we waited for the slot: choose again (the slot is simply not used).
          if (!isUp(relay, clock())) {
            done();
            continue;
          }
        }
        // Counted against the relay's caps before it is sent, in the store every process shares.
        let ticket: QuotaTicket | null = null;
        if (relay.caps.length > 0) {
          const taken = await quotas.take(relay.spec.name, relay.caps, quotaNow()).catch((error: unknown) => {
            done?.();
            throw new TransportError('unavailable', `${relay.spec.name}: cannot count the message against its hourly/daily caps: ${error instanceof Error ? error.message : String(error)}`, null, null);
          });
          if (!taken.taken) {
            relay.cappedUntil = taken.freeAt;
            done?.();
            continue;
          }
          relay.cappedUntil = 0;
          ticket = taken.ticket;
        }
        const generation = relay.generation;
        try {
          const accepted = await relay.transport.send(message).finally(() => done?.());
          relay.sent += 1;
          if (ticket) await quotas.settle(ticket, quotaNow()).catch(() => undefined);
          // Only an answer to an attempt started after the last outage report clears it.
          if (relay.generation === generation) markUp(relay);
          return accepted;
        } catch (error) {
          // Only `unavailable` means the server took nothing: anything else could double-send, so it goes back as it came.
          if (!(error instanceof TransportError) || error.kind !== 'unavailable') {
            if (ticket) await quotas.settle(ticket, quotaNow()).catch(() => undefined);
            throw error;
          }
          markDown(relay, error, generation);
          // The relay rests either way, but a message it may have taken is not sent again from here (and stays counted).
          if (mayHaveBeenAccepted(error)) {
            if (ticket) await quotas.settle(ticket, quotaNow()).catch(() => undefined);
            throw error;
          }
          if (ticket) await quotas.giveBack(ticket).catch(() => undefined);
          tried.add(relay);
          latest = error;
        }
      }
    },

    async verify(): Promise<void> {
      const generations = relays.map((r) => r.generation);
      const results = await Promise.allSettled(relays.map((r) => r.transport.verify()));
      let firstError: TransportError | null = null;
      results.forEach((result, i) => {
        const relay = relays[i];
        if (!relay) return;
        if (result.status === 'fulfilled') {
          markUp(relay);
        } else {
          const error = asTransportError(result.reason);
          firstError ??= error;
          markDown(relay, error, generations[i] ?? relay.generation);
        }
      });
      if (results.some((r) => r.status === 'fulfilled')) return;
      throw allDown(relays.length === 1 ? firstError : null);
    },

    async close(): Promise<void> {
      closing.abort();
      const results = await Promise.allSettled(relays.map((r) => r.transport.close()));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    },

    status(): RelayStatus[] {
      const now = clock();
      return relays.map((r) => ({
        name: r.spec.name,
        url: redact(r.spec.url),
        weight: r.spec.weight,
        up: isUp(r, now),
        downUntil: isUp(r, now) ? null : r.downUntil,
        failures: r.failures,
        sent: r.sent,
        lastError: r.lastError?.message ?? null,
        limiter: r.limiter?.stats ?? null,
        cappedUntil: r.cappedUntil > quotaNow() ? r.cappedUntil : null,
      }));
    },
  };
}
