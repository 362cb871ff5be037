/**
 * Relay quotas: a relay's hourly and daily caps (`hourly=`, `daily=` in SMTP_URL), counted where every process sees
 * them. The relay transport owns this interface; the store implements it in the database (src/store/relay-quota-store.ts)
 * so caps hold across restarts and processes, and `createMemoryQuotaStore` here counts within one process.
 *
 * The model: a cap of N in a window of W is N reusable units ("slots"). Taking one needs a unit whose last use is at
 * least W ago; a message's unit counts from when it was taken and, once the relay has answered, from the answer
 * (the relay stamps the message somewhere in between). So no window of W, measured anywhere, holds more than N
 * messages, and taking a unit is one conditional write on one row: two processes cannot both take the last one.
 */

export type QuotaWindow = 'hourly' | 'daily';

export const QUOTA_WINDOW_MS: Readonly<Record<QuotaWindow, number>> = { hourly: 3_600_000, daily: 86_400_000 };

/** The last use of a unit given back (or never used): older than any window. */
export const UNIT_FREE = Number.MIN_SAFE_INTEGER;

export interface QuotaCap {
  readonly window: QuotaWindow;
  /** Messages in any window of that length. */
  readonly limit: number;
}

/** One unit taken from one cap. */
export interface QuotaUnit {
  readonly window: QuotaWindow;
  readonly slot: number;
}

/** The units one message took (one per cap), and when. */
export interface QuotaTicket {
  readonly relay: string;
  readonly takenAt: number;
  readonly units: readonly QuotaUnit[];
}

export type QuotaTake =
  | { readonly taken: true; readonly ticket: QuotaTicket }
  /** A cap is used up: `window` is the one, `freeAt` (ms since the epoch) when a unit of it frees, at the earliest. */
  | { readonly taken: false; readonly window: QuotaWindow; readonly freeAt: number };

export interface QuotaUsage {
  readonly window: QuotaWindow;
  readonly limit: number;
  /** Messages counted in the window ending now. */
  readonly used: number;
}

export interface RelayQuotaStore {
  /** Counts one message against every cap of the relay at `now` (ms since the epoch): all of them or none, atomically across processes. */
  take(relay: string, caps: readonly QuotaCap[], now: number): Promise<QuotaTake>;
  /** The relay answered at `at`: the message counts from then. */
  settle(ticket: QuotaTicket, at: number): Promise<void>;
  /** Nothing reached the relay (it was unavailable, or the send was stopped): the units go back. */
  giveBack(ticket: QuotaTicket): Promise<void>;
  /** How much of each cap the window ending at `now` holds. */
  usage(relay: string, caps: readonly QuotaCap[], now: number): Promise<QuotaUsage[]>;
}

/** The caps a relay's settings ask for. */
export function relayCaps(spec: { readonly hourly: number | null; readonly daily: number | null }): QuotaCap[] {
  const caps: QuotaCap[] = [];
  if (spec.hourly !== null) caps.push({ window: 'hourly', limit: spec.hourly });
  if (spec.daily !== null) caps.push({ window: 'daily', limit: spec.daily });
  return caps;
}

/**
 * Caps counted in this process only (a relay transport without a store, and tests). The same rules as the
 * database's: units reused once their last use is a whole window old; slots above a lowered limit are not used again
 * but count while in the window.
 */
export function createMemoryQuotaStore(): RelayQuotaStore {
  /** Per relay and window, the last use of each slot (UNIT_FREE: given back). */
  const slots = new Map<string, number[]>();
  const key = (relay: string, window: QuotaWindow): string => `${window}\n${relay}`;
  const of = (relay: string, window: QuotaWindow): number[] => {
    let list = slots.get(key(relay, window));
    if (!list) {
      list = [];
      slots.set(key(relay, window), list);
    }
    return list;
  };

  /** The slot this cap would give at `now`, or when one frees. */
  const find = (relay: string, cap: QuotaCap, now: number): { slot: number } | { freeAt: number } => {
    const list = of(relay, cap.window);
    const span = QUOTA_WINDOW_MS[cap.window];
    const inWindow = list.filter((at) => at > now - span).sort((a, b) => a - b);
    if (inWindow.length < cap.limit) {
      let oldest = -1;
      for (let i = 0; i < Math.min(cap.limit, list.length); i += 1) if (oldest < 0 || (list[i] ?? UNIT_FREE) < (list[oldest] ?? UNIT_FREE)) oldest = i;
      if (oldest >= 0 && (list[oldest] ?? UNIT_FREE) <= now - span) return { slot: oldest };
      if (list.length < cap.limit) return { slot: list.length };
    }
    return { freeAt: Math.max(now, (inWindow[Math.max(0, inWindow.length - cap.limit)] ?? now) + span) };
  };

  return {
    async take(relay, caps, now) {
      const found: QuotaUnit[] = [];
      for (const cap of caps) {
        const result = find(relay, cap, now);
        if ('freeAt' in result) return { taken: false, window: cap.window, freeAt: result.freeAt };
        found.push({ window: cap.window, slot: result.slot });
      }
      for (const unit of found) of(relay, unit.window)[unit.slot] = now;
      return { taken: true, ticket: { relay, takenAt: now, units: found } };
    },
    async settle(ticket, at) {
      for (const unit of ticket.units) {
        const list = of(ticket.relay, unit.window);
        if (list[unit.slot] === ticket.takenAt) list[unit.slot] = Math.max(ticket.takenAt, at);
      }
    },
    async giveBack(ticket) {
      for (const unit of ticket.units) {
        const list = of(ticket.relay, unit.window);
        if (list[unit.slot] === ticket.takenAt) list[unit.slot] = UNIT_FREE;
      }
    },
    async usage(relay, caps, now) {
      return caps.map((cap) => {
        const since = now - QUOTA_WINDOW_MS[cap.window];
        return { window: cap.window, limit: cap.limit, used: of(relay, cap.window).filter((at) => at > since).length };
      });
    },
  };
}
