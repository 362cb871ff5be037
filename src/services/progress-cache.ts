/**
 * Campaign progress for the API and its event stream, about `ttlMs` old at most (plus one count's time). Counting a million send rows costs a
 * noticeable time on SQLite, so every caller within the same second shares one count; the rate comes from the
 * counts seen over the last minute (so only the first look at a campaign asks the database for its sending rate).
 */
import type { SendCounts } from '../core/domain.ts';
import { campaignRate, RATE_WINDOW_MS } from '../sending/campaign-rate.ts';
import { campaignProgress, findCampaign, type CampaignControlStores, type CampaignProgress } from './campaign-control.ts';

/** What the progress cache needs of the stores (app.stores has it). */
export type ProgressCacheStores = CampaignControlStores;

interface Sample {
  readonly at: number;
  readonly sent: number;
}

interface Entry {
  at: number;
  value: Promise<CampaignProgress>;
  samples: Sample[];
  refreshing: boolean;
  last: CampaignProgress | null;
}

const FINISHED = new Set(['sent', 'failed', 'cancelled']);

export class ProgressCache {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly stores: ProgressCacheStores,
    private readonly clock: () => Date = () => new Date(),
    private readonly ttlMs = 1000,
  ) {}

  /**
   * The latest progress: fresh when none was counted for `ttlMs`; otherwise the last one, while (after `ttlMs`) one
   * recount runs in the background for the next caller. So a caller never waits for a count another one started.
   */
  get(campaignId: number): Promise<CampaignProgress> {
    const now = this.clock().getTime();
    const entry = this.entries.get(campaignId);
    if (entry) {
      if (now - entry.at >= this.ttlMs && !entry.refreshing) {
        entry.refreshing = true;
        const fresh: Entry = { at: now, value: entry.value, samples: entry.samples, refreshing: false, last: entry.last };
        // Counted after this caller's answer went out: on SQLite the count holds the event loop while it runs.
        const counted = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.fromSamples(campaignId, fresh));
        counted
          .then((progress) => {
            fresh.value = Promise.resolve(progress);
            fresh.last = progress;
            fresh.at = this.clock().getTime();
            this.entries.set(campaignId, fresh);
          })
          .catch(() => this.entries.delete(campaignId))
          .finally(() => {
            entry.refreshing = false;
          });
        // A finished campaign's last count may be stale in a way that matters (the final numbers): wait for it.
        if (entry.last && FINISHED.has(entry.last.campaign.status)) return counted;
      }
      return entry.value;
    }
    const first: Entry = { at: now, value: Promise.resolve(null as never), samples: [], refreshing: false, last: null };
    first.value = campaignProgress(this.stores, campaignId, new Date(now))
      .then((p) => {
        first.last = p;
        return this.remember(first, p);
      })
      .catch((error: unknown) => {
        this.entries.delete(campaignId);
        throw error;
      });
    this.entries.set(campaignId, first);
    if (this.entries.size > 1000) this.entries.delete(this.entries.keys().next().value as number);
    return first.value;
  }

  private remember(entry: Entry, progress: CampaignProgress): CampaignProgress {
    entry.samples = [...entry.samples.filter((s) => s.at > entry.at - RATE_WINDOW_MS), { at: entry.at, sent: progress.counts.sent }];
    return progress;
  }

  private async fromSamples(campaignId: number, entry: Entry): Promise<CampaignProgress> {
    const campaign = await findCampaign(this.stores, campaignId);
    // The store counts off the event loop on SQLite (SqlCampaignStore.countSends).
    const c = await this.stores.campaigns.countSends(campaignId);
    const remaining = c.pending + c.deferred + c.sending;
    const now = new Date(entry.at);
    const oldest = entry.samples.find((s) => s.at >= entry.at - RATE_WINDOW_MS) ?? { at: entry.at, sent: c.sent };
    // The window is the span the samples cover (never before the campaign started).
    const rate = campaignRate({ status: campaign.status, startedAt: new Date(Math.max(oldest.at, campaign.startedAt ? Date.parse(campaign.startedAt) : oldest.at)).toISOString(), finishedAt: campaign.finishedAt, sent: c.sent, remaining, sentInWindow: c.sent - oldest.sent, now });
    const finished = campaign.finishedAt && campaign.startedAt ? campaignRate({ status: campaign.status, startedAt: campaign.startedAt, finishedAt: campaign.finishedAt, sent: c.sent, remaining, sentInWindow: 0, now }) : rate;
    const shown = finished.kind === 'finished' ? finished : rate;
    return this.remember(entry, {
      campaign,
      counts: { sent: c.sent, failed: c.failed, skipped: c.skipped, deferred: c.deferred, pending: c.pending, sending: c.sending, remaining, total: c.sent + c.failed + c.skipped + remaining },
      ratePerMinute: shown.kind === 'running' ? shown.perSecond * 60 : shown.kind === 'finished' && shown.averagePerSecond !== null ? shown.averagePerSecond * 60 : null,
      etaSeconds: shown.kind === 'running' && shown.etaMs !== null ? Math.round(shown.etaMs / 1000) : null,
    });
  }
}
