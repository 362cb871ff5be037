/**
 * A campaign's numbers, one copy for `mailroom campaigns stats` and `GET /api/v1/campaigns/{id}/stats`: delivered,
 * deferred, failed, bounces after the 250 (hard, soft), complaints, unsubscribes, and, where the newsletter tracks
 * them, opens and clicks (totals, the people behind them when per-subscriber data is on, machines counted apart).
 */
import type { Kysely } from 'kysely';
import { MailroomError, quote } from '../core/errors.ts';
import type { CampaignDeliveryStats } from '../store/deliverability-store.ts';
import type { Database } from '../store/schema.ts';
import type { TrackingCounts, TrackingSettings } from '../store/tracking-store.ts';

export interface CampaignStats extends CampaignDeliveryStats {
  readonly campaign: number;
  /** Present when the newsletter tracks opens or clicks, or once the campaign has any. */
  readonly tracking?: TrackingCounts & { readonly settings: TrackingSettings };
}

/** What a campaign's numbers need of the stores (app.stores has it). */
export interface CampaignStatsStores {
  readonly db: Kysely<Database>;
  readonly deliveryReports: { campaignStats(campaignId: number): Promise<CampaignDeliveryStats> };
  readonly tracking: {
    settings(newsletterId: number): Promise<TrackingSettings>;
    counts(campaignId: number, people?: boolean): Promise<TrackingCounts>;
  };
}

/** NOT_FOUND naming `where` when the campaign does not exist. */
export async function campaignStatsOf(stores: CampaignStatsStores, campaignId: number, where: string): Promise<CampaignStats> {
  const campaign = Number.isSafeInteger(campaignId) && campaignId > 0 ? await stores.db.selectFrom('campaigns').select(['id', 'newsletter_id']).where('id', '=', campaignId).executeTakeFirst() : undefined;
  if (!campaign) throw new MailroomError('NOT_FOUND', `${where} ${quote(String(campaignId))}: no such campaign (see: mailroom campaigns list)`);
  const stats = await stores.deliveryReports.campaignStats(campaign.id);
  const tracking = stores.tracking;
  const settings = await tracking.settings(campaign.newsletter_id);
  const counts = await tracking.counts(campaign.id, settings.people);
  const tracked = settings.opens || settings.clicks || counts.links.length > 0 || counts.opens.human + counts.opens.machine > 0;
  return { campaign: campaign.id, ...stats, ...(tracked ? { tracking: { settings, ...counts } } : {}) };
}
