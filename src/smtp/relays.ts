/** Several SMTP relays behind one MessageTransport: SMTP_URL parsed into relays, weighted picking, a rate limiter per relay, and failover while a relay is down. */
import type { DkimConfig } from '../config.ts';
import { redact } from '../config.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { TransportError, type MessageTransport, type OutgoingMessage, type TransportAccepted } from '../sending/ports.ts';
import { createRateLimiter, type DoneWithSlot, type RateLimiter, type RateLimiterStats } from '../sending/rate-limiter.ts';
import { createSmtpTransport, type SmtpTransportOptions } from './smtp-transport.ts';

/** One relay from SMTP_URL. */
export interface RelaySpec {
  /** From `name=`, else host:port (with #2, #3… when two relays share one). */
  readonly name: string;
  /** The URL for nodemailer: the part of SMTP_URL without Mailroom's own options, otherwise exactly as written. */
  readonly url: string;
  /** Share of the messages relative to the other relays (`weight=`, default 1). */
  readonly weight: number;
  /** Messages per second (`rate=`); null: SMTP_RATE_PER_SECOND; 0: no limit. */
  readonly ratePerSecond: number | null;
  /** Messages in any hour (`hourly=`); null: no cap. */
  readonly hourly: number | null;
  /** Messages in any 24 hours (`daily=`); null: no cap. */
  readonly daily: number | null;
  /** Connections (`pool=`); null: SMTP_POOL_SIZE (also for nodemailer's `pool=true`). */
  readonly pool: number | null;
}

const MAILROOM_PARAMS = ['weight', 'rate', 'hourly', 'daily', 'pool', 'name'] as const;
type MailroomParam = (typeof MAILROOM_PARAMS)[number];
const isMailroomParam = (key: string): key is MailroomParam => (MAILROOM_PARAMS as readonly string[]).includes(key);

/** Separators between URLs: commas or whitespace, but only where the next URL starts, so a comma inside a password stays put. */
const SEPARATOR = /[\s,]+(?=[a-z][a-z0-9+.-]*:\/\/)/i;

/** SMTP_URL for messages and logs: `redact` hides only the first password, so each relay's URL is redacted on its own. */
export function redactRelays(smtpUrlSetting: string): string {
  return smtpUrlSetting
    .split(new RegExp(`(${SEPARATOR.source})`, 'i'))
    .map((piece, i) => (i % 2 === 0 ? redact(piece) : piece))
    .join('');
}

function decodeQueryPart(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * Reads SMTP_URL: one URL as before, or several separated by commas or whitespace, each with
 * Mailroom's options in its query string (weight, rate, hourly, daily, pool, name); every other
 * query parameter is left in the URL for nodemailer.
 */
export function parseRelays(smtpUrlSetting: string): RelaySpec[] {
  const parts = smtpUrlSetting
    .trim()
    .replace(/^[\s,]+|[\s,]+$/g, '')
    .split(SEPARATOR)
    .filter((part) => part.length > 0);
  if (parts.length === 0) throw new MailroomError('CONFIG', 'SMTP_URL is empty (expected smtp://user:pass@host:587, or several such URLs separated by commas)');

  const specs: (Omit<RelaySpec, 'name'> & { name: string | null; host: string })[] = [];
  parts.forEach((part, index) => {
    const where = parts.length === 1 ? `SMTP_URL=${quote(redact(part))}` : `SMTP_URL, relay ${index + 1} of ${parts.length} (${quote(redact(part))})`;
    const bad = (why: string): never => {
      throw new MailroomError('CONFIG', `${where}: ${why}`);
    };
    let parsed: URL;
    try {
      parsed = new URL(part);
    } catch {
      return bad('is not a URL (expected smtp://user:pass@host:587 or smtps://user:pass@host:465)');
    }
    if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') bad(`scheme ${quote(parsed.protocol)} is not smtp: or smtps:`);
    if (!parsed.hostname) bad('has no host');

    // Take Mailroom's parameters out of the raw query, keeping the others byte for byte.
    const queryStart = part.indexOf('?');
    const hashStart = part.indexOf('#', queryStart < 0 ? 0 : queryStart);
    const values = new Map<MailroomParam, string>();
    let url = part;
    if (queryStart >= 0) {
      const rawQuery = part.slice(queryStart + 1, hashStart < 0 ? undefined : hashStart);
      const kept: string[] = [];
      for (const piece of rawQuery.split('&')) {
        if (piece === '') continue;
        const eq = piece.indexOf('=');
        const key = decodeQueryPart(eq < 0 ? piece : piece.slice(0, eq));
        if (!isMailroomParam(key)) {
          kept.push(piece);
          continue;
        }
        if (values.has(key)) bad(`${key} is given twice`);
        values.set(key, decodeQueryPart(eq < 0 ? '' : piece.slice(eq + 1)));
      }
      if (values.size > 0) {
        url = part.slice(0, queryStart) + (kept.length > 0 ? `?${kept.join('&')}` : '') + (hashStart < 0 ? '' : part.slice(hashStart));
      }
    }

    const number = (key: MailroomParam, check: (n: number) => boolean, expected: string): number | null => {
      const raw = values.get(key);
      if (raw === undefined) return null;
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!check(n)) bad(`${key}=${quote(raw)} is not ${expected}`);
      return n;
    };
    const wholeFrom = (min: number, max: number) => (n: number) => Number.isInteger(n) && n >= min && n <= max;
    const weight = number('weight', wholeFrom(1, 1_000_000), 'a whole number of 1 or more') ?? 1;
    const ratePerSecond = number('rate', (n) => Number.isFinite(n) && n >= 0, 'a number of messages per second (0 for no limit)');
    const hourly = number('hourly', wholeFrom(1, Number.MAX_SAFE_INTEGER), 'a whole number of messages per hour, 1 or more');
    const daily = number('daily', wholeFrom(1, Number.MAX_SAFE_INTEGER), 'a whole number of messages per day, 1 or more');
    // nodemailer's own `pool=true` (a pool is always used) means the default size.
    if (values.get('pool') === 'true') values.delete('pool');
    const pool = number('pool', wholeFrom(1, 100), 'a number of connections from 1 to 100');
    const name = values.get('name');
    if (name !== undefined && !/^[\w.:@-]{1,64}$/.test(name)) bad(`name=${quote(name)} must be 1 to 64 letters, digits or . _ - : @`);
    const defaultPort = parsed.protocol === 'smtps:' ? '465' : '587';
    specs.push({ name: name ?? null, host: `${parsed.hostname}:${parsed.port || defaultPort}`, url, weight, ratePerSecond, hourly, daily, pool });
  });

  const named = new Set<string>();
  for (const spec of specs) {
    if (spec.name === null) continue;
    if (named.has(spec.name)) throw new MailroomError('CONFIG', `SMTP_URL: two relays are named ${quote(spec.name)}; names must differ`);
    named.add(spec.name);
  }
  const used = new Set<string>(named);
  return specs.map(({ host, name, ...spec }) => {
    let chosen = name ?? host;
    for (let n = 2; name === null && used.has(chosen); n++) chosen = `${host}#${n}`;
    used.add(chosen);
    return { ...spec, name: chosen };
  });
}

/** Rate limiters kept per relay across transports (one per App), so hourly and daily caps hold across campaigns run by one process. */
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
  /** Milliseconds, for cooldowns and rate limits; default a monotonic wall clock. */
  readonly clock?: () => number;
  /** For the rate limiters (tests use a fake one). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A relay that answered `unavailable` rests baseMs (default 5 s), doubled for every failure in a row, at most maxMs (default 5 min). */
  readonly cooldown?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Share rate limiters with other transports (see createRelayLimiters); by default each transport has its own. */
  readonly limiters?: RelayLimiters;
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
}

export interface RelayTransport extends MessageTransport {
  /** As MessageTransport.send; aborting `signal` while the message waits for a rate-limit slot rejects with `unavailable` (nothing was sent). */
  send(message: OutgoingMessage, signal?: AbortSignal): Promise<TransportAccepted>;
  status(): RelayStatus[];
}

interface Relay {
  readonly spec: RelaySpec;
  readonly transport: MessageTransport;
  readonly limiter: RateLimiter | null;
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
const monotonicNow = (): number => performance.timeOrigin + performance.now();

/**
 * An `unavailable` answer that may still have delivered the message: nodemailer's pool re-sends by itself a
 * message of which nothing was written, so a plain "Connection closed unexpectedly" reaching us means the
 * connection dropped mid-message, possibly after the server had the whole of it. Sending it through another
 * relay could deliver it twice, so it is not failed over. (smtp-transport files this under `unavailable`;
 * a kind of its own there would make this text match unnecessary.)
 */
function mayHaveBeenAccepted(error: TransportError): boolean {
  return /Connection closed unexpectedly/i.test(error.message);
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

  const relays: Relay[] = specs.map((spec) => {
    const rate = spec.ratePerSecond === null ? options.defaultRatePerSecond : spec.ratePerSecond > 0 ? spec.ratePerSecond : null;
    let limiter: RateLimiter | null = null;
    if (rate !== null || spec.hourly !== null || spec.daily !== null) {
      const key = [spec.name, redact(spec.url), rate, spec.hourly, spec.daily].join('\n');
      limiter = options.limiters?.get(key) ?? null;
      if (limiter === null) {
        limiter = createRateLimiter({
          perSecond: rate,
          perHour: spec.hourly,
          perDay: spec.daily,
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
      ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
    });
    return { spec, transport, limiter, current: 0, downUntil: 0, failures: 0, generation: 0, sent: 0, lastError: null };
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
    const uncapped = healthy.filter((r) => r.limiter === null || r.limiter.stats.cappedUntil === null);
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
      return new TransportError('unavailable', last?.message ?? `SMTP server ${redact(only.spec.url)} is not available`, last?.responseCode ?? null, last?.response ?? null);
    }
    const now = clock();
    return new TransportError('unavailable', `no SMTP relay is available: ${relays.map((r) => describe(r, now)).join('; ')}`, null, null);
  };

  const stopped = (): TransportError =>
    new TransportError('unavailable', closing.signal.aborted ? 'the SMTP transport was closed before the message was sent' : 'stopped before the message was sent', null, null);

  return {
    maxConnections: relays.reduce((sum, r) => sum + (r.spec.pool ?? options.poolSize), 0),

    async send(message: OutgoingMessage, signal?: AbortSignal): Promise<TransportAccepted> {
      const abort = signal ? AbortSignal.any([closing.signal, signal]) : closing.signal;
      const tried = new Set<Relay>();
      let latest: TransportError | null = null;
      for (;;) {
        if (abort.aborted) throw stopped();
        const relay = pick(tried);
        if (!relay) throw allDown(latest);
        // The slot is held until the server has answered, so the relay's own count (which it stamps somewhere in between) never exceeds the limit.
        let done: DoneWithSlot | null = null;
        if (relay.limiter) {
          try {
            done = await relay.limiter.hold(abort);
          } catch {
            throw stopped();
          }
          // It went down while we waited for the slot: choose again (the slot is simply not used).
          if (!isUp(relay, clock())) {
            done();
            continue;
          }
        }
        const generation = relay.generation;
        try {
          const accepted = await relay.transport.send(message).finally(() => done?.());
          relay.sent += 1;
          // Only an answer to an attempt started after the last outage report clears it.
          if (relay.generation === generation) markUp(relay);
          return accepted;
        } catch (error) {
          // Only `unavailable` means the server took nothing: anything else could double-send, so it goes back as it came.
          if (!(error instanceof TransportError) || error.kind !== 'unavailable') throw error;
          markDown(relay, error, generation);
          // The relay rests either way, but a message it may have taken is not sent again from here.
          if (mayHaveBeenAccepted(error)) throw error;
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
      }));
    },
  };
}
