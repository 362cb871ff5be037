/** What a listing says about itself: how many of how many it shows, and how to see the rest. */

const n = (value: number): string => value.toLocaleString('en-US');

export interface ListingPage {
  /** Rows printed. */
  readonly shown: number;
  /** Rows skipped before them (--offset). */
  readonly offset: number;
  /** Rows matching the filter in all. */
  readonly total: number;
  /** What they are, plural ("subscribers"). */
  readonly noun: string;
  /** A filter was given (--list, --status, --search): "match" is said. */
  readonly filtered: boolean;
}

/** "showing 100 of 50,000 subscribers (1–100; next: --offset 100, or --all)", "all 3 subscribers", "no subscribers match". */
export function describeListingPage(page: ListingPage): string {
  const { shown, offset, total, noun, filtered } = page;
  if (total === 0) return filtered ? `no ${noun} match` : `no ${noun}`;
  const matching = filtered ? ' matching' : '';
  if (shown === total) return `all ${n(total)}${matching} ${noun}`;
  if (shown === 0) return `showing 0 of ${n(total)}${matching} ${noun} (--offset ${n(offset)} is past the end)`;
  const last = offset + shown;
  const next = last < total ? `next: --offset ${last}, or --all` : 'the last page; everything: --all';
  return `showing ${n(shown)} of ${n(total)}${matching} ${noun} (${n(offset + 1)}–${n(last)}; ${next})`;
}
