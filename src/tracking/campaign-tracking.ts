/** A campaign's issue as its messages carry it: with click redirects and the open pixel when its newsletter turned them on. */
import type { LinkSettings } from '../core/links.ts';
import { compileIssue, type CompiledIssue } from '../personalization/personalize.ts';
import type { StoredIssue } from '../store/store-types.ts';
import type { TrackingSettings } from '../store/tracking-store.ts';
import { addTracking } from './tracking.ts';

/** What compiling a tracked issue needs of the stores (app.stores has it): the newsletter's tracking settings, and the campaign's links kept. */
export interface CampaignTrackingStores {
  readonly tracking: {
    settings(newsletterId: number): Promise<TrackingSettings>;
    saveLinks(campaignId: number, urls: readonly string[]): Promise<void>;
  };
}

/** Null when the newsletter tracks nothing (the issue is sent exactly as stored). */
export async function compileTrackedIssue(stores: CampaignTrackingStores, settings: LinkSettings, newsletterId: number, campaignId: number, issue: StoredIssue): Promise<CompiledIssue | null> {
  const store = stores.tracking;
  const tracking = await store.settings(newsletterId);
  if (!tracking.opens && !tracking.clicks) return null;
  const { html, links } = addTracking(issue.html, { publicUrl: settings.publicUrl, secret: settings.secret, campaignId, clicks: tracking.clicks, opens: tracking.opens, people: tracking.people });
  await store.saveLinks(campaignId, links);
  return compileIssue({ subject: issue.subject, html, text: issue.text }, { trackingToken: tracking.people });
}
