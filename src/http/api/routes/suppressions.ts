/**
 * The suppression list in the API: keyset pages of addresses and whole domains, add one (address or @domain, with a
 * reason), lift one, and import lines (one bad line adds nothing). The same service as `mailroom suppress …`.
 */
import { z } from 'zod';
import { MailroomError } from '../../../core/errors.ts';
import { addSuppression, checkReason, importSuppressions, removeSuppression, type SuppressionWriter } from '../../../services/suppression-service.ts';
import { SuppressionQueries } from '../../../store/suppression-queries.ts';
import type { ApiDeps } from '../api-deps.ts';
import { defineRoute, limitQuery, type ApiRoute } from '../define-route.ts';

const entrySchema = z
  .object({
    target: z.string().nullable().describe('the address, or @domain for every address at it; null once only the hash of an erased address is kept'),
    kind: z.enum(['address', 'domain']),
    email: z.string().nullable(),
    emailHash: z.string().describe("the address's hash (for a domain: @domain); the page key"),
    reason: z.string(),
    detail: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'Suppression' });

/** What the suppression routes write through (app.stores has it). */
export interface SuppressionRouteStores {
  readonly deliverability: SuppressionWriter;
}

export function suppressionRoutes(deps: ApiDeps): ApiRoute[] {
  const queries = new SuppressionQueries(deps.stores.db);
  const writer = (): SuppressionWriter => deps.stores.deliverability;
  return [
    defineRoute({
      method: 'GET',
      path: '/suppressions',
      operationId: 'listSuppressions',
      summary: 'The suppression list (addresses and whole domains), newest first (pass nextBefore as before for the next page); an erased address shows as null',
      tag: 'suppressions',
      role: 'viewer',
      query: z.object({
        q: z.string().max(320).optional().describe('targets starting with (an address, or @domain)'),
        kind: z.enum(['address', 'domain']).optional(),
        before: z.string().max(400).optional(),
        limit: limitQuery,
      }),
      response: { status: 200, schema: z.object({ items: z.array(entrySchema), nextBefore: z.string().nullable() }) },
      handler: async ({ query }) => queries.list({ limit: query.limit, before: query.before, q: query.q?.trim().toLowerCase(), kind: query.kind }),
    }),
    defineRoute({
      method: 'POST',
      path: '/suppressions',
      operationId: 'addSuppression',
      summary: 'Never mail an address, or any address at a domain (@example.com), again; as `mailroom suppress add`',
      tag: 'suppressions',
      role: 'editor',
      body: z
        .object({
          target: z.string().min(1).max(320).optional().describe('someone@example.com, or @example.com for the whole domain'),
          email: z.string().min(1).max(320).optional().describe('older name of target'),
          reason: z.string().max(400).default('manual'),
          detail: z.string().max(500).default(''),
        })
        .refine((b) => (b.target ?? b.email) !== undefined, { message: 'give target (an address or @domain)', path: ['target'] }),
      response: {
        status: 200,
        schema: z.object({ target: z.string(), kind: z.enum(['address', 'domain']), reason: z.string(), added: z.boolean().describe('false: it was already suppressed'), email: z.string(), suppressed: z.literal(true) }),
      },
      handler: async ({ body }) => {
        const where = body.target !== undefined ? 'body.target' : 'body.email';
        const result = await addSuppression(writer(), { target: body.target ?? body.email ?? '', reason: body.reason, detail: body.detail }, { target: where, reason: 'body.reason' });
        return { ...result, email: result.target, suppressed: true as const };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/suppressions/:target',
      operationId: 'removeSuppression',
      summary: 'Lift a suppression (an address, or @domain); list memberships stay as they are; as `mailroom suppress remove`',
      tag: 'suppressions',
      role: 'editor',
      params: z.object({ target: z.string().min(1).max(320) }),
      response: { status: 200, schema: z.object({ target: z.string(), kind: z.enum(['address', 'domain']), removed: z.literal(true) }) },
      handler: async ({ params }) => {
        const t = await removeSuppression(writer(), params.target, 'params.target');
        return { target: t.value, kind: t.kind, removed: true as const };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/suppressions/import',
      operationId: 'importSuppressions',
      summary: 'Suppress many: one `address-or-@domain[,reason]` a line (# comments and blank lines skipped); one bad line adds nothing; as `mailroom suppress import`',
      tag: 'suppressions',
      role: 'editor',
      bodyType: 'text/plain',
      limits: { bodyBytes: 10 * 1024 * 1024, perMinute: 10 },
      query: z.object({ reason: z.string().max(400).default('manual').describe('for lines that give none'), filename: z.string().max(200).default('body') }),
      body: z.string().min(1, 'an empty body: send the lines as text/plain'),
      response: { status: 200, schema: z.object({ added: z.number().int(), already: z.number().int() }) },
      handler: async ({ query, body }) => {
        if (typeof body !== 'string') throw new MailroomError('INVALID_INPUT', 'body: send the lines as text/plain');
        return importSuppressions(writer(), body, query.filename, checkReason(query.reason, 'query.reason'));
      },
    }),
  ];
}
