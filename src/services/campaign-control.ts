/** Campaign control shared by the CLI (`mailroom campaigns …`) and the API: which campaign may be paused, cancelled or retried, and its progress. */
import { MailroomError, quote } from '../core/errors.ts';
import type { Campaign, SendCounts } from '../core/domain.ts';
import { campaignRate, rateWindowStart } from '../sending/campaign-rate.ts';

/** What operator control of campaigns needs of the stores (app.stores has it). */
export interface CampaignControlStores {
  readonly campaigns: {
    cancelCampaign(campaignId: number, now: string): Promise<number>;
    countSends(campaignId: number): Promise<SendCounts>;
    countSentSince(campaignId: number, since: string): Promise<number>;
    getCampaign(id: number): Promise<Campaign | null>;
    pauseCampaign(campaignId: number): Promise<void>;
    resumeCampaignStatus(campaignId: number, now: string): Promise<void>;
    retryFailed(campaignId: number, now: string): Promise<{ requeued: number; receivedElsewhere: number }>;
  };
}

export async function findCampaign(stores: CampaignControlStores, id: number): Promise<Campaign> {
  const campaign = await stores.campaigns.getCampaign(id);
  if (!campaign) throw new MailroomError('NOT_FOUND', `campaign ${quote(id)} does not exist (see: npx mailroom campaigns list)`);
  return campaign;
}

export async function pauseCampaign(stores: CampaignControlStores, id: number): Promise<Campaign> {
  const campaign = await findCampaign(stores, id);
  if (!['sending', 'scheduled', 'paused'].includes(campaign.status)) throw new MailroomError('CONFLICT', `campaign ${campaign.id} is ${campaign.status}; only a scheduled or sending campaign can be paused`);
  await stores.campaigns.pauseCampaign(campaign.id);
  return findCampaign(stores, id);
}

/** Marks an operator-paused campaign runnable again; the service's runner (or `campaigns resume`) sends it. */
export async function resumeCampaignLater(stores: CampaignControlStores, id: number, now: Date): Promise<Campaign> {
  const campaign = await findCampaign(stores, id);
  if (campaign.status !== 'paused' && campaign.status !== 'sending') throw new MailroomError('CONFLICT', `campaign ${campaign.id} is ${campaign.status}; only a paused campaign can be resumed`);
  if (campaign.status === 'paused') await stores.campaigns.resumeCampaignStatus(campaign.id, now.toISOString());
  return findCampaign(stores, id);
}

export async function cancelCampaign(stores: CampaignControlStores, id: number, now: Date): Promise<{ campaign: Campaign; skipped: number }> {
  const campaign = await findCampaign(stores, id);
  if (campaign.status === 'sent' || campaign.status === 'cancelled') throw new MailroomError('CONFLICT', `campaign ${campaign.id} is already ${campaign.status}`);
  const skipped = await stores.campaigns.cancelCampaign(campaign.id, now.toISOString());
  return { campaign: await findCampaign(stores, id), skipped };
}

export async function retryFailedSends(stores: CampaignControlStores, id: number, now: Date): Promise<{ campaign: Campaign; requeued: number; receivedElsewhere: number }> {
  const campaign = await findCampaign(stores, id);
  if (campaign.status === 'cancelled' || campaign.status === 'scheduled') throw new MailroomError('CONFLICT', `campaign ${campaign.id} is ${campaign.status}; there are no failed sends to retry`);
  const { requeued, receivedElsewhere } = await stores.campaigns.retryFailed(campaign.id, now.toISOString());
  return { campaign: await findCampaign(stores, id), requeued, receivedElsewhere };
}

export interface CampaignProgress {
  readonly campaign: Campaign;
  readonly counts: { sent: number; failed: number; skipped: number; deferred: number; pending: number; sending: number; remaining: number; total: number };
  readonly ratePerMinute: number | null;
  readonly etaSeconds: number | null;
}

export async function campaignProgress(stores: CampaignControlStores, id: number, now: Date): Promise<CampaignProgress> {
  const campaign = await findCampaign(stores, id);
  const c = await stores.campaigns.countSends(id);
  const remaining = c.pending + c.deferred + c.sending;
  const sentInWindow = await stores.campaigns.countSentSince(id, rateWindowStart(campaign.startedAt, now).toISOString());
  const rate = campaignRate({ status: campaign.status, startedAt: campaign.startedAt, finishedAt: campaign.finishedAt, sent: c.sent, remaining, sentInWindow, now });
  return {
    campaign,
    counts: { sent: c.sent, failed: c.failed, skipped: c.skipped, deferred: c.deferred, pending: c.pending, sending: c.sending, remaining, total: c.sent + c.failed + c.skipped + remaining },
    ratePerMinute: rate.kind === 'running' ? rate.perSecond * 60 : rate.kind === 'finished' && rate.averagePerSecond !== null ? rate.averagePerSecond * 60 : null,
    etaSeconds: rate.kind === 'running' && rate.etaMs !== null ? Math.round(rate.etaMs / 1000) : null,
  };
}
