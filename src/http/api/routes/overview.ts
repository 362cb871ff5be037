/** The overview's own reads: list growth per day, and the problems that need attention (with the SMTP relay's state). */
import { z } from 'zod';
import { listGrowth, problemsOf } from '../../../services/overview.ts';
import { OverviewQueries } from '../../../store/overview-queries.ts';
import type { ApiDeps } from '../api-deps.ts';
import { defineRoute, type ApiRoute } from '../define-route.ts';

const relayStateSchema = z.enum(['ok', 'refusing-logins', 'unreachable', 'failing']);
const relaySchema = z
  .object({ state: relayStateSchema, lastError: z.string().nullable(), campaignId: z.number().int().nullable(), retryAt: z.string().nullable() })
  .meta({ id: 'RelayStatus' });
const problemSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('relay'), state: relayStateSchema.exclude(['ok']), message: z.string(), campaignId: z.number().int().nullable(), retryAt: z.string().nullable() }),
  z.object({ kind: z.literal('campaign-paused'), campaignId: z.number().int(), newsletterId: z.number().int(), reason: z.enum(['operator', 'smtp']), message: z.string() }),
  z.object({ kind: z.literal('feed-failing'), feedId: z.number().int(), url: z.string(), title: z.string(), newsletter: z.string(), message: z.string(), lastSuccessAt: z.string().nullable() }),
]);

export function overviewRoutes(deps: ApiDeps): ApiRoute[] {
  const { stores, feeds } = deps;
  const queries = new OverviewQueries(stores.db);
  return [
    defineRoute({
      method: 'GET',
      path: '/growth',
      operationId: 'listGrowth',
      summary: "Each list's new subscribers and unsubscribes per day (UTC) over the last `days` days, today included",
      tag: 'lists',
      role: 'viewer',
      query: z.object({ days: z.coerce.number().int().min(1).max(366).default(30) }),
      response: {
        status: 200,
        schema: z
          .object({
            days: z.array(z.string()),
            lists: z.array(z.object({ list: z.string(), joined: z.array(z.number().int()), left: z.array(z.number().int()), totalJoined: z.number().int(), totalLeft: z.number().int() })),
          })
          .meta({ id: 'ListGrowth' }),
      },
      handler: async ({ query }) => listGrowth(queries, await stores.audience.listLists(), deps.clock(), query.days),
    }),
    defineRoute({
      method: 'GET',
      path: '/problems',
      operationId: 'listProblems',
      summary: 'What needs attention: the SMTP relay refusing logins or unreachable (its last error), paused campaigns, feeds that fail',
      tag: 'campaigns',
      role: 'viewer',
      response: { status: 200, schema: z.object({ relay: relaySchema, items: z.array(problemSchema) }).meta({ id: 'Problems' }) },
      handler: async () => problemsOf(await stores.campaigns.listCampaigns({ status: 'paused', limit: 100 }), await feeds.listFeeds()),
    }),
  ];
}
