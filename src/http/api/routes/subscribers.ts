/** Subscribers: search and keyset pages, add, update, unsubscribe, suppress, export, erase, and CSV imports as jobs. */
import { z } from 'zod';
import { MEMBERSHIP_STATUSES, SUBSCRIBER_STATUSES } from '../../../core/domain.ts';
import { MailroomError, quote } from '../../../core/errors.ts';
import { deliveryHistoryOf } from '../../../store/deliverability-store.ts';
import { resolveList } from '../../../store/lookups.ts';
import { addSubscriberToList, checkSubscriber } from '../../../services/subscriber-service.ts';
import type { ImportJob } from '../../../services/import-jobs.ts';
import type { SearchCursor } from '../../../store/api-queries.ts';
import { eraseSubscriber, exportSubscriber } from '../../../subscribers/privacy.ts';
import type { ApiDeps } from '../api-deps.ts';
import { defineRoute, idParam, limitQuery, type ApiRoute } from '../define-route.ts';
import { ApiProblem } from '../problem.ts';

const subscriberSchema = z
  .object({
    id: z.number().int(),
    email: z.string(),
    name: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    status: z.enum(SUBSCRIBER_STATUSES),
    attributes: z.record(z.string(), z.string()),
    createdAt: z.string(),
    lists: z.array(z.object({ name: z.string(), status: z.enum(MEMBERSHIP_STATUSES) })),
  })
  .meta({ id: 'Subscriber' });

const subscriberDetailSchema = subscriberSchema
  .extend({
    suppression: z.object({ reason: z.string(), detail: z.string(), createdAt: z.string() }).nullable().describe('why the address is never mailed, if it is'),
    deliveryEvents: z
      .array(z.object({ campaignId: z.number().int().nullable(), kind: z.enum(['hard-bounce', 'soft-bounce', 'complaint']), status: z.string(), detail: z.string(), source: z.string(), action: z.string(), createdAt: z.string() }))
      .describe('bounces after the 250 and complaints about this address, oldest first'),
  })
  .meta({ id: 'SubscriberDetail' });

const importJobSchema = z
  .object({
    id: z.string(),
    list: z.string(),
    source: z.string(),
    state: z.enum(['running', 'done', 'failed']),
    linesRead: z.number().int(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    report: z
      .object({
        addedToList: z.number().int().describe('rows that became members of the list (newPeople of them new to Mailroom)'),
        newPeople: z.number().int(),
        alreadyKnown: z.number().int(),
        alreadyOnList: z.number().int(),
        profilesChanged: z.number().int().describe('known people whose name or attributes changed'),
        unchanged: z.number().int(),
        keptOut: z.number().int().describe('suppressed, unsubscribed, bounced or unconfirmed people: left as they are'),
        rejected: z.number().int(),
        applied: z.boolean(),
      })
      .nullable(),
    lines: z.array(z.string()).describe('one line per rejected row: "FILE line N: reason"'),
    error: z.string().nullable(),
  })
  .meta({ id: 'ImportJob' });

function jobOut(job: ImportJob): z.input<typeof importJobSchema> {
  const r = job.report;
  return {
    id: job.id,
    list: job.list,
    source: job.source,
    state: job.state,
    linesRead: job.linesRead,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    report: r
      ? { addedToList: r.addedToList, newPeople: r.newPeople, alreadyKnown: r.alreadyKnown, alreadyOnList: r.alreadyOnList, profilesChanged: r.profilesChanged, unchanged: r.unchanged, keptOut: r.keptOut, rejected: r.rejected.length, applied: r.applied }
      : null,
    lines: job.lines,
    error: job.error,
  };
}

const subscriberFields = {
  name: z.string().max(200).optional(),
  firstName: z.string().max(100).optional(),
  lastName: z.string().max(100).optional(),
  attributes: z.record(z.string().max(64), z.string().max(1000)).optional(),
};

function decodeCursor(raw: string): SearchCursor {
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { value?: unknown; id?: unknown };
    if (typeof parsed.value === 'string' && typeof parsed.id === 'number' && Number.isSafeInteger(parsed.id)) return { value: parsed.value, id: parsed.id };
  } catch {
    // answered below
  }
  throw new ApiProblem(422, 'INVALID_INPUT', `query.cursor ${JSON.stringify(raw.slice(0, 80))}: not a cursor this API returned`, [{ field: 'query.cursor', value: raw.slice(0, 80), message: 'not a cursor' }]);
}

export function subscriberRoutes(deps: ApiDeps): ApiRoute[] {
  const { stores, subscribers, queries } = deps;
  const findOne = async (id: number) => {
    const found = await stores.audience.getSubscriber(id);
    if (!found) throw new MailroomError('NOT_FOUND', `subscriber ${id} does not exist`);
    return found;
  };
  const describe = async (id: number) => {
    const page = await queries.searchSubscribers({ cursor: { value: '', id: id - 1 }, limit: 1 });
    const hit = page.items[0];
    if (!hit || hit.id !== id) throw new MailroomError('NOT_FOUND', `subscriber ${id} does not exist`);
    return hit;
  };
  return [
    defineRoute({
      method: 'GET',
      path: '/subscribers',
      operationId: 'searchSubscribers',
      summary: 'Search by email prefix or name start, filter by list and status; keyset pages (pass nextCursor as cursor)',
      tag: 'subscribers',
      role: 'viewer',
      query: z.object({
        email: z.string().min(1).max(320).optional().describe('addresses that start with this, in address order'),
        name: z.string().min(1).max(200).optional().describe('names that start with this (any case), in name order'),
        list: z.string().max(64).optional(),
        status: z.enum(SUBSCRIBER_STATUSES).optional(),
        cursor: z.string().max(1000).optional().describe("the previous page's nextCursor"),
        limit: limitQuery,
      }),
      response: { status: 200, schema: z.object({ items: z.array(subscriberSchema), nextCursor: z.string().nullable() }) },
      handler: async ({ query }) => {
        if (query.email && query.name) throw new ApiProblem(422, 'INVALID_INPUT', 'query.email and query.name: search by one of them', [{ field: 'query.name', value: query.name, message: 'not together with email' }]);
        const list = query.list ? await resolveList(stores.audience, query.list) : undefined;
        const page = await queries.searchSubscribers({ email: query.email, name: query.name, listId: list?.id, status: query.status, cursor: query.cursor === undefined ? undefined : decodeCursor(query.cursor), limit: query.limit });
        return { items: page.items, nextCursor: page.nextCursor ? Buffer.from(JSON.stringify(page.nextCursor)).toString('base64url') : null };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/subscribers/:id',
      operationId: 'getSubscriber',
      summary: 'One subscriber with their lists, their suppression if any, and their bounces and complaints',
      tag: 'subscribers',
      role: 'viewer',
      params: z.object({ id: idParam }),
      response: { status: 200, schema: subscriberDetailSchema },
      handler: async ({ params }) => {
        const subscriber = await describe(params.id);
        return { ...subscriber, ...(await deliveryHistoryOf(stores.db, subscriber.email)) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/subscribers',
      operationId: 'addSubscriber',
      summary: 'Add a subscriber to a list (or update them), with the rules of an import row',
      tag: 'subscribers',
      role: 'editor',
      body: z.object({ email: z.string().min(1).max(320), list: z.string().min(1).max(64), ...subscriberFields }),
      response: { status: 200, schema: z.object({ outcome: z.enum(['added', 'updated', 'unchanged', 'kept-out']), subscriber: subscriberSchema.nullable() }) },
      handler: async ({ body }) => {
        const checked = checkSubscriber(body, { email: 'body.email', name: 'body.name', firstName: 'body.firstName', lastName: 'body.lastName', attributes: 'body.attributes' });
        const { outcome } = await addSubscriberToList(stores, body.list, checked, 'api');
        const found = await stores.audience.findSubscriberByEmail(checked.email);
        return { outcome, subscriber: found ? await describe(found.id) : null };
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/subscribers/:id',
      operationId: 'updateSubscriber',
      summary: "Change a subscriber's name",
      tag: 'subscribers',
      role: 'editor',
      params: z.object({ id: idParam }),
      body: z.object({ name: subscriberFields.name, firstName: subscriberFields.firstName, lastName: subscriberFields.lastName }),
      response: { status: 200, schema: subscriberSchema },
      handler: async ({ params, body }) => {
        const current = await findOne(params.id);
        const names = body.name !== undefined && body.firstName === undefined && body.lastName === undefined ? { name: body.name } : { name: body.name, firstName: body.firstName ?? current.firstName, lastName: body.lastName ?? current.lastName };
        const checked = checkSubscriber({ email: current.email, ...names }, { email: 'email', name: 'body.name', firstName: 'body.firstName', lastName: 'body.lastName', attributes: 'body.attributes' });
        await subscribers.updateName(params.id, { name: checked.name, firstName: checked.firstName, lastName: checked.lastName }, deps.clock());
        return describe(params.id);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/subscribers/:id/unsubscribe',
      operationId: 'unsubscribeSubscriber',
      summary: 'Unsubscribe from one list, or from every list when none is named',
      tag: 'subscribers',
      role: 'editor',
      params: z.object({ id: idParam }),
      body: z.object({ list: z.string().min(1).max(64).optional() }),
      response: { status: 200, schema: subscriberSchema },
      handler: async ({ params, body }) => {
        await findOne(params.id);
        if (body.list) {
          const list = await resolveList(stores.audience, body.list);
          await subscribers.unsubscribe(params.id, list.id, deps.clock());
        } else {
          await subscribers.unsubscribeAll(params.id, deps.clock());
        }
        return describe(params.id);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/subscribers/:id/export',
      operationId: 'exportSubscriber',
      summary: 'Everything held about a subscriber (GDPR access)',
      tag: 'subscribers',
      role: 'editor',
      params: z.object({ id: idParam }),
      response: { status: 200, schema: z.looseObject({ email: z.string() }) },
      handler: async ({ params }) => {
        const subscriber = await findOne(params.id);
        return JSON.parse(JSON.stringify(await exportSubscriber(subscribers, subscriber.email, deps.clock()))) as { email: string };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/subscribers/:id',
      operationId: 'eraseSubscriber',
      summary: 'Erase everything held about a subscriber but a hashed suppression',
      tag: 'subscribers',
      role: 'editor',
      params: z.object({ id: idParam }),
      response: { status: 200, schema: z.object({ email: z.string(), subscriber: z.boolean(), memberships: z.number().int(), sends: z.number().int(), rateLimitHits: z.number().int(), suppression: z.string() }) },
      handler: async ({ params }) => {
        const subscriber = await findOne(params.id);
        return eraseSubscriber(subscribers, subscriber.email, deps.clock());
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/lists/:name/imports',
      operationId: 'importSubscribers',
      summary: 'Import a CSV file of subscribers into a list, as a job (poll GET /imports/{id})',
      tag: 'subscribers',
      role: 'editor',
      bodyType: 'text/csv',
      limits: { bodyBytes: 50 * 1024 * 1024, perMinute: 10 },
      params: z.object({ name: z.string().min(1).max(64) }),
      query: z.object({ createList: z.stringbool().default(false), strict: z.stringbool().default(false), filename: z.string().max(200).default('import.csv') }),
      body: z.string().min(1, 'an empty body: send the CSV file as text/csv'),
      response: { status: 202, schema: importJobSchema },
      handler: async ({ params, query, body }) => {
        if (!query.createList) await resolveList(stores.audience, params.name);
        return jobOut(deps.jobs.start(body, { list: params.name, source: query.filename, createList: query.createList, strict: query.strict }));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/imports/:id',
      operationId: 'getImport',
      summary: "An import's progress, and once done its report with one line per rejected row",
      tag: 'subscribers',
      role: 'viewer',
      params: z.object({ id: z.string().min(1).max(64) }),
      response: { status: 200, schema: importJobSchema },
      handler: async ({ params }) => {
        const job = deps.jobs.get(params.id);
        if (!job) throw new ApiProblem(404, 'NOT_FOUND', `import ${quote(params.id)} does not exist (imports are kept in memory until the server restarts)`);
        return jobOut(job);
      },
    }),
  ];
}
