/**
 * The sending rate and ETA that `campaigns show` prints, as pure functions. A running campaign's rate is measured over
 * the time it has actually been sending, bounded by the last minute; a finished one shows its overall average and
 * how long it took, never an ETA.
 */
import type { CampaignStatus } from '../core/domain.ts';

/** The longest window the current rate is measured over. */
export const RATE_WINDOW_MS = 60_000;

const FINISHED: readonly CampaignStatus[] = ['sent', 'failed', 'cancelled'];

/** Where the current rate's window starts: the campaign's start, or a minute ago when it is older. */
export function rateWindowStart(startedAt: string | null, now: Date, windowMs: number = RATE_WINDOW_MS): Date {
  const minuteAgo = now.getTime() - windowMs;
  const started = startedAt ? Date.parse(startedAt) : Number.NaN;
  return new Date(Number.isNaN(started) ? minuteAgo : Math.min(now.getTime(), Math.max(minuteAgo, started)));
}

export interface RateInput {
  readonly status: CampaignStatus;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** Messages accepted in the whole campaign. */
  readonly sent: number;
  /** Rows still to go: pending, deferred and in flight. */
  readonly remaining: number;
  /** Messages accepted since `rateWindowStart(startedAt, now)`. */
  readonly sentInWindow: number;
  readonly now: Date;
}

export type CampaignRate =
  | { readonly kind: 'not-started' }
  /** Sending or paused: the rate over the last `windowMs`, and when it should be done at that rate (null when it cannot be told). */
  | { readonly kind: 'running'; readonly perSecond: number; readonly windowMs: number; readonly etaMs: number | null }
  /** Sent, failed or cancelled: the average over its whole run, and how long it took. */
  | { readonly kind: 'finished'; readonly averagePerSecond: number | null; readonly durationMs: number | null };

export function campaignRate(input: RateInput): CampaignRate {
  const started = input.startedAt ? Date.parse(input.startedAt) : Number.NaN;
  if (FINISHED.includes(input.status)) {
    const finished = input.finishedAt ? Date.parse(input.finishedAt) : Number.NaN;
    if (Number.isNaN(started) || Number.isNaN(finished)) return { kind: 'finished', averagePerSecond: null, durationMs: null };
    // A campaign of a few messages can finish within the clock's resolution: count at least a millisecond.
    const durationMs = Math.max(1, finished - started);
    return { kind: 'finished', averagePerSecond: (input.sent * 1000) / durationMs, durationMs };
  }
  if (Number.isNaN(started)) return { kind: 'not-started' };
  const windowMs = input.now.getTime() - rateWindowStart(input.startedAt, input.now).getTime();
  const perSecond = windowMs > 0 ? (input.sentInWindow * 1000) / windowMs : 0;
  const etaMs = input.status === 'sending' && perSecond > 0 && input.remaining > 0 ? (input.remaining / perSecond) * 1000 : input.remaining === 0 ? 0 : null;
  return { kind: 'running', perSecond, windowMs, etaMs };
}

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)} min ${String(totalSeconds % 60).padStart(2, '0')} s`;
  const minutes = Math.round(totalSeconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

function formatRate(perSecond: number): string {
  return `${perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1)} messages/s`;
}

/** The `rate:` line of `campaigns show`. */
export function formatCampaignRate(rate: CampaignRate, status: CampaignStatus, now: Date): string {
  switch (rate.kind) {
    case 'not-started':
      return 'not started yet';
    case 'finished':
      if (rate.averagePerSecond === null || rate.durationMs === null) return `${status}; no timing recorded`;
      return `${formatRate(rate.averagePerSecond)} on average; took ${formatDuration(rate.durationMs)} from start to finish`;
    case 'running': {
      const window = rate.windowMs >= RATE_WINDOW_MS ? 'the last minute' : `the last ${formatDuration(rate.windowMs)} (since it started)`;
      const base = `${formatRate(rate.perSecond)} over ${window}`;
      if (status === 'paused') return `${base}; no ETA while paused`;
      if (rate.etaMs === null) return `${base}; no ETA yet`;
      return `${base}; ETA ${new Date(now.getTime() + rate.etaMs).toISOString()} (in ${formatDuration(rate.etaMs)})`;
    }
  }
}
