/** Every API route, in the order the reference lists them. */
import type { ApiDeps } from '../api-deps.ts';
import type { ApiRoute } from '../define-route.ts';
import { accountRoutes } from './accounts.ts';
import { adminSupportRoutes } from './admin-support.ts';
import { authRoutes } from './auth.ts';
import { campaignRoutes } from './campaigns.ts';
import { contentRoutes } from './content.ts';
import { overviewRoutes } from './overview.ts';
import { deliverabilityRoutes } from './deliverability.ts';
import { subscriberRoutes } from './subscribers.ts';
import { suppressionRoutes } from './suppressions.ts';

export function allRoutes(deps: ApiDeps): ApiRoute[] {
  return [...authRoutes(deps), ...contentRoutes(deps), ...subscriberRoutes(deps), ...suppressionRoutes(deps), ...campaignRoutes(deps), ...deliverabilityRoutes(deps), ...accountRoutes(deps), ...adminSupportRoutes(deps), ...overviewRoutes(deps)];
}
