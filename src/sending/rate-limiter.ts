/**
 * A rate limiter for outgoing mail: a per-second token bucket, first come first served, on an injectable clock.
 * (A relay's hourly and daily caps are counted in the database, across processes: src/smtp/relay-quota.ts.)
 */
import { MailroomError } from '../core/errors.ts';

export interface RateLimiterOptions {
  /** Messages per second, as a token bucket; null or absent for no limit. */
  readonly perSecond?: number | null;
  /**
   * How many messages may go back to back after a quiet spell (the bucket's capacity). The default, 1,
   * spaces messages evenly (after a stall, the late ones catch up at no more than twice the rate);
   * whatever the burst, no 1-second window ever holds more than perSecond.
   */
  readonly burst?: number;
  /**
   * Added to every window (default 5 ms), so that timer jitter of up to this much cannot make a window
   * hold more than the limit. It costs marginMs/1000 of the per-second rate (0.5% by default). Jitter
   * on the way to the receiver is covered by `hold`, whatever its size.
   */
  readonly marginMs?: number;
  /** Milliseconds; default a monotonic wall clock. */
  readonly clock?: () => number;
  /** Waits ms; the signal, when given, asks to stop waiting early (the limiter re-checks afterwards). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RateLimiterStats {
  /** Slots handed out so far. */
  readonly acquired: number;
  /** Callers waiting for a slot right now. */
  readonly waiting: number;
  /** Slots taken with `hold` and not yet done. */
  readonly inFlight: number;
  /** Total time callers spent waiting, in ms. */
  readonly waitedMs: number;
}

/** Ends a slot taken with `hold`; calling it again does nothing. */
export type DoneWithSlot = () => void;

export interface RateLimiter {
  /** Resolves when the caller may send one message, counted from now; callers are served in the order they asked. Rejects with `signal.reason` on abort. */
  acquire(signal?: AbortSignal): Promise<void>;
  /**
   * As acquire, but the message counts from when it is done (call the returned function once the server has
   * answered, or the attempt failed) and, until then, as if it were always now. The receiver stamps a
   * message between our send and its reply, so however long and uneven the way there, no window it
   * measures holds more than the limit. The price is the round trip: each slot is held that much longer.
   */
  hold(signal?: AbortSignal): Promise<DoneWithSlot>;
  /** Takes a slot only if one is free now and nobody is waiting (it never jumps the queue). */
  tryAcquire(): boolean;
  readonly stats: RateLimiterStats;
}

export const DEFAULT_MARGIN_MS = 5;
const SECOND = 1000;
/** Float slack when comparing times, so a wake-up that lands a hair early does not loop on a zero-length sleep. */
const EPSILON_MS = 1e-6;

const monotonicNow = (): number => performance.timeOrigin + performance.now();

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * At most `limit` events in any window of `spanMs`. Events are kept as (expiry, count) pairs, oldest
 * first. Events in flight have no time yet and count until they are recorded.
 */
class SlidingWindow {
  private readonly expiries: number[] = [];
  private readonly counts: number[] = [];
  private head = 0;
  private total = 0;
  private inFlight = 0;

  constructor(
    readonly limit: number,
    private readonly spanMs: number,
  ) {}

  /** The earliest time at which `need` more events fit: -Infinity when they fit now, Infinity when it waits on events in flight. */
  freeAt(now: number, need = 1): number {
    this.prune(now);
    let excess = this.total + this.inFlight + need - this.limit;
    if (excess <= 0) return -Infinity;
    for (let i = this.head; i < this.expiries.length; i++) {
      excess -= this.counts[i] ?? 0;
      if (excess <= 0) return this.expiries[i] ?? now;
    }
    if (this.inFlight > 0) return Infinity;
    // More callers queued than the whole cap: the last known expiry is a lower bound.
    return this.expiries[this.expiries.length - 1] ?? now;
  }

  begin(): void {
    this.inFlight += 1;
  }

  finish(at: number): void {
    this.inFlight -= 1;
    this.record(at);
  }

  record(at: number): void {
    const expiry = at + this.spanMs;
    const lastIndex = this.expiries.length - 1;
    const last = lastIndex >= this.head ? this.expiries[lastIndex] : undefined;
    if (last !== undefined && expiry <= last) {
      // The same time (or a clock that stepped back): count it with the newest entry, which expires no earlier.
      this.counts[lastIndex] = (this.counts[lastIndex] ?? 0) + 1;
    } else {
      this.expiries.push(expiry);
      this.counts.push(1);
    }
    this.total += 1;
  }

  private prune(now: number): void {
    while (this.head < this.expiries.length && (this.expiries[this.head] ?? Infinity) <= now + EPSILON_MS) {
      this.total -= this.counts[this.head] ?? 0;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.expiries.length) {
      this.expiries.splice(0, this.head);
      this.counts.splice(0, this.head);
      this.head = 0;
    }
  }
}

interface Waiter {
  readonly since: number;
  readonly held: boolean;
  resolve(): void;
  reject(reason: unknown): void;
  detach(): void;
}

function check(name: string, value: number, integer: boolean): void {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new MailroomError('INVALID_INPUT', `rate limiter: ${name} must be a ${integer ? 'whole number' : 'number'} above 0, got ${String(value)}`);
  }
}

export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const clock = options.clock ?? monotonicNow;
  const sleep = options.sleep ?? defaultSleep;
  const perSecond = options.perSecond ?? null;
  const burst = options.burst ?? 1;
  const margin = options.marginMs ?? DEFAULT_MARGIN_MS;
  if (perSecond !== null) check('perSecond', perSecond, false);
  check('burst', burst, true);
  if (!Number.isFinite(margin) || margin < 0) throw new MailroomError('INVALID_INPUT', `rate limiter: marginMs must be 0 or more, got ${String(margin)}`);

  // The bucket, as a GCRA: `tat` is when the bucket would be full again; a slot is free once now >= tat - tolerance.
  const interval = perSecond === null ? 0 : (SECOND + margin) / perSecond;
  const tolerance = (burst - 1) * interval;
  let tat = -Infinity;
  let lastRelease = -Infinity;
  /** While catching up, messages still go at least half an interval apart: never more than twice the rate, even for a moment. */
  const spacedAt = (): number => (perSecond === null ? -Infinity : lastRelease + interval / 2);
  // The hard guarantee: never more than perSecond (rounded up) in any second plus the margin, whatever the burst or the timers do.
  const windows: SlidingWindow[] = [];
  if (perSecond !== null) windows.push(new SlidingWindow(Math.ceil(perSecond), SECOND + margin));

  const queue: Waiter[] = [];
  let pumping = false;
  // Ends the pump's current wait early: a held slot was done, or nobody is left waiting.
  let wakePump: (() => void) | null = null;
  let acquired = 0;
  let inFlight = 0;
  let waitedMs = 0;

  const readyAt = (now: number): number => {
    let at = perSecond === null ? -Infinity : tat - tolerance;
    for (const w of windows) at = Math.max(at, w.freeAt(now));
    return at;
  };

  /**
   * Hands out one slot at `now`. A caller that had to wait is charged when the bucket's slot came due,
   * not when it actually went: a late timer, a stalled event loop or a window that held it back (a slow
   * reply) does not push the schedule back, so the rate keeps up. Up to one window of lag is caught up,
   * at no more than twice the rate (see `spacedAt`); the windows, recorded at the real times, still hold.
   */
  const take = (now: number, waited: boolean, held: boolean): void => {
    if (perSecond !== null) {
      const anchor = waited ? Math.max(tat - tolerance, now - Math.max(interval, SECOND + margin)) : now;
      tat = Math.max(tat, anchor) + interval;
      lastRelease = now;
    }
    for (const w of windows) {
      if (held) w.begin();
      else w.record(now);
    }
    if (held) inFlight += 1;
    acquired += 1;
  };

  const doneWith = (): DoneWithSlot => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const now = clock();
      for (const w of windows) w.finish(now);
      inFlight -= 1;
      wakePump?.();
    };
  };

  const takeNow = (held: boolean): boolean => {
    if (queue.length > 0) return false;
    const now = clock();
    if (readyAt(now) > now + EPSILON_MS) return false;
    take(now, false, held);
    return true;
  };

  const pump = async (): Promise<void> => {
    pumping = true;
    try {
      while (queue.length > 0) {
        const now = clock();
        const at = Math.max(readyAt(now), spacedAt());
        if (at <= now + EPSILON_MS) {
          const waiter = queue.shift();
          if (!waiter) break;
          take(now, true, waiter.held);
          waitedMs += Math.max(0, now - waiter.since);
          waiter.detach();
          waiter.resolve();
          continue;
        }
        const stopSleeping = new AbortController();
        const woken = new Promise<void>((resolve) => {
          wakePump = resolve;
        });
        // An infinite wait is one for a held slot to be done: only a wake-up ends it.
        await (Number.isFinite(at) ? Promise.race([sleep(at - now, stopSleeping.signal), woken]) : woken);
        wakePump = null;
        stopSleeping.abort();
      }
    } catch (error) {
      // A sleep that throws: nobody can be served on time, so everybody hears about it.
      for (const waiter of queue.splice(0)) {
        waiter.detach();
        waiter.reject(error);
      }
    } finally {
      pumping = false;
      wakePump = null;
    }
  };

  const wait = (held: boolean, signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (takeNow(held)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = queue.indexOf(waiter);
        if (index < 0) return;
        queue.splice(index, 1);
        // Nobody left to wait for: end the pump's wait instead of holding a timer open.
        if (queue.length === 0) wakePump?.();
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        since: clock(),
        held,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (!pumping) void pump();
    });
  };

  return {
    acquire: (signal?: AbortSignal): Promise<void> => wait(false, signal),
    hold: async (signal?: AbortSignal): Promise<DoneWithSlot> => {
      await wait(true, signal);
      return doneWith();
    },
    tryAcquire: () => takeNow(false),
    get stats(): RateLimiterStats {
      return { acquired, waiting: queue.length, inFlight, waitedMs };
    },
  };
}
