/** A campaign's issue as its messages carry it: with click redirects and the open pixel when its newsletter turned them on. */
import type { Kysely } from 'kysely';
import type { LinkSettings } from '../core/links.ts';
import { compileIssue, type CompiledIssue } from '../personalization/personalize.ts';
import type { Database } from '../store/schema.ts';
import type { StoredIssue } from '../store/store-types.ts';
import { TrackingStore } from '../store/tracking-store.ts';
import { addTracking } from './tracking.ts';

/** Null when the newsletter tracks nothing (the issue is sent exactly as stored). */
export async function compileTrackedIssue(db: Kysely<Database>, settings: LinkSettings, newsletterId: number, campaignId: number, issue: StoredIssue): Promise<CompiledIssue | null> {
  const store = new TrackingStore(db);
  const tracking = await store.settings(newsletterId);
  if (!tracking.opens && !tracking.clicks) return null;
  const { html, links } = addTracking(issue.html, { publicUrl: settings.publicUrl, secret: settings.secret, campaignId, clicks: tracking.clicks, opens: tracking.opens, people: tracking.people });
  await store.saveLinks(campaignId, links);
  return compileIssue({ subject: issue.subject, html, text: issue.text }, { trackingToken: tracking.people });
}
