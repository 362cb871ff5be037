/**
 * What the overview shows beyond plain lists: list growth per day, and the problems that need someone (a paused
 * campaign, the SMTP relay refusing logins or unreachable, a feed that fails). From what the app already records: a
 * campaign the relay stopped is paused with pause reason `smtp` and the transport's error (src/sending/engine.ts);
 * a feed keeps its last poll error.
 */
import type { Campaign } from '../core/domain.ts';
import type { FeedSummary } from '../store/feed-store.ts';
import type { GrowthRow } from '../store/overview-queries.ts';

export interface ListGrowth {
  readonly list: string;
  /** One number per day of `days`. */
  readonly joined: readonly number[];
  readonly left: readonly number[];
  readonly totalJoined: number;
  readonly totalLeft: number;
}

export interface Growth {
  /** YYYY-MM-DD (UTC), oldest first, ending today. */
  readonly days: readonly string[];
  readonly lists: readonly ListGrowth[];
}

export interface GrowthSource {
  joinedPerDay(since: string): Promise<GrowthRow[]>;
  leftPerDay(since: string): Promise<GrowthRow[]>;
}

/** The last `dayCount` UTC days (today included), each list's joins and unsubscribes per day, zero days included. */
export async function listGrowth(source: GrowthSource, lists: readonly { id: number; name: string }[], now: Date, dayCount: number): Promise<Growth> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const days = Array.from({ length: dayCount }, (_, i) => new Date(today - (dayCount - 1 - i) * 86_400_000).toISOString().slice(0, 10));
  const since = `${days[0] ?? ''}T00:00:00.000Z`;
  const [joined, left] = await Promise.all([source.joinedPerDay(since), source.leftPerDay(since)]);
  const index = new Map(days.map((day, i) => [day, i]));
  const series = (rows: readonly GrowthRow[], listId: number): number[] => {
    const values = days.map(() => 0);
    for (const row of rows) {
      const i = index.get(row.day);
      if (row.listId === listId && i !== undefined) values[i] = (values[i] ?? 0) + row.count;
    }
    return values;
  };
  const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
  return {
    days,
    lists: lists.map((list) => {
      const j = series(joined, list.id);
      const l = series(left, list.id);
      return { list: list.name, joined: j, left: l, totalJoined: sum(j), totalLeft: sum(l) };
    }),
  };
}

/** What the relay did last time a campaign tried it: fine as far as anyone knows, refusing the login, out of reach, or another SMTP error. */
export type RelayState = 'ok' | 'refusing-logins' | 'unreachable' | 'failing';

export interface RelayStatus {
  readonly state: RelayState;
  /** The relay's error as the transport reported it (passwords never included). */
  readonly lastError: string | null;
  /** The campaign it stopped. */
  readonly campaignId: number | null;
  /** When that campaign tries the relay again. */
  readonly retryAt: string | null;
}

export type Problem =
  | { readonly kind: 'relay'; readonly state: Exclude<RelayState, 'ok'>; readonly message: string; readonly campaignId: number | null; readonly retryAt: string | null }
  | { readonly kind: 'campaign-paused'; readonly campaignId: number; readonly newsletterId: number; readonly reason: 'operator' | 'smtp'; readonly message: string }
  | { readonly kind: 'feed-failing'; readonly feedId: number; readonly url: string; readonly title: string; readonly newsletter: string; readonly message: string; readonly lastSuccessAt: string | null };

/** The relay's state from the newest campaign the relay stopped and that still waits for it. */
export function relayStatus(paused: readonly Campaign[]): RelayStatus {
  const stopped = paused.filter((c) => c.status === 'paused' && c.pauseReason === 'smtp').sort((a, b) => b.id - a.id)[0];
  if (!stopped) return { state: 'ok', lastError: null, campaignId: null, retryAt: null };
  const message = stopped.lastError ?? 'the SMTP server did not accept the connection';
  // The fault the transport recorded with the pause; a campaign paused before it was recorded is just failing.
  return { state: stopped.relayFault ?? 'failing', lastError: message, campaignId: stopped.id, retryAt: stopped.resumeAfter };
}

const RELAY_WORDS: Readonly<Record<Exclude<RelayState, 'ok'>, string>> = {
  'refusing-logins': 'The SMTP relay refuses the login: check the user and password in SMTP_URL',
  unreachable: 'The SMTP relay cannot be reached: check its host and port in SMTP_URL, and that it is up',
  failing: 'The SMTP relay answers with an error',
};

export function problemsOf(paused: readonly Campaign[], feeds: readonly FeedSummary[]): { relay: RelayStatus; items: Problem[] } {
  const relay = relayStatus(paused);
  const items: Problem[] = [];
  if (relay.state !== 'ok') items.push({ kind: 'relay', state: relay.state, message: `${RELAY_WORDS[relay.state]} (${relay.lastError ?? ''})`, campaignId: relay.campaignId, retryAt: relay.retryAt });
  for (const c of paused) {
    if (c.status !== 'paused') continue;
    const reason = c.pauseReason ?? 'operator';
    items.push({
      kind: 'campaign-paused',
      campaignId: c.id,
      newsletterId: c.newsletterId,
      reason,
      message: reason === 'smtp' ? `paused because the SMTP relay failed${c.resumeAfter ? `; tried again at ${c.resumeAfter}` : ''}` : c.lastError ? `paused: ${c.lastError}` : 'paused by an operator; resume it to carry on',
    });
  }
  for (const f of feeds) {
    if (f.lastError === null || f.lastError === '') continue;
    items.push({ kind: 'feed-failing', feedId: f.id, url: f.url, title: f.title, newsletter: f.newsletterSlug, message: f.lastError, lastSuccessAt: f.lastSuccessAt });
  }
  return { relay, items };
}
