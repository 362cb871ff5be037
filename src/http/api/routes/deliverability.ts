/** Issue 13 in the API: a campaign's stats (the numbers `mailroom campaigns stats` prints, from the same service). */
import { z } from 'zod';
import { campaignStatsOf } from '../../../services/campaign-stats.ts';
import type { ApiDeps } from '../api-deps.ts';
import { defineRoute, idParam, type ApiRoute } from '../define-route.ts';

const hitCounts = z.object({
  human: z.number().int().describe('every hit that did not look like a machine'),
  machine: z.number().int().describe('Apple Mail Privacy Protection, link scanners, HEAD requests'),
  people: z.number().int().nullable().describe('the people behind the human hits; null while per-subscriber data is off'),
});
const trackingSchema = z.object({
  settings: z.object({ opens: z.boolean(), clicks: z.boolean(), people: z.boolean().describe('per-subscriber data kept (off by default)') }),
  opens: hitCounts,
  clicks: hitCounts,
  links: z.array(z.object({ url: z.string(), human: z.number().int(), machine: z.number().int() }).loose()),
});

export const campaignStatsSchema = z
  .object({
    campaign: z.number().int(),
    accepted: z.number().int().describe('the relay said 250'),
    delivered: z.number().int().describe('accepted and not bounced since'),
    deferred: z.number().int(),
    failedAtSend: z.number().int().describe('refused during the SMTP transaction'),
    hardBounces: z.number().int(),
    softBounces: z.number().int(),
    complaints: z.number().int(),
    unsubscribes: z.number().int(),
    tracking: trackingSchema.optional().describe('only when the newsletter tracks opens or clicks (off by default)'),
  })
  .meta({ id: 'CampaignStats' });

export function deliverabilityRoutes(deps: ApiDeps): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/campaigns/:id/stats',
      operationId: 'getCampaignStats',
      summary: "A campaign's numbers: delivered, deferred, bounces after the 250, complaints, unsubscribes, and opens and clicks where tracked; as `mailroom campaigns stats`",
      tag: 'campaigns',
      role: 'viewer',
      params: z.object({ id: idParam }),
      response: { status: 200, schema: campaignStatsSchema },
      handler: async ({ params }) => campaignStatsOf(deps.stores, params.id, 'campaign'),
    }),
  ];
}
