/** Campaigns: send now or at a time in a time zone, progress (also live, as Server-Sent Events), pause, resume, cancel, retry-failed, failed recipients. */
import { z } from 'zod';
import { CAMPAIGN_STATUSES, SEND_STATUSES, type Campaign } from '../../../core/domain.ts';
import { MailroomError } from '../../../core/errors.ts';
import { parseSendAt } from '../../../schedule/send-at.ts';
import { countRecipientsFor } from '../../../services/campaign-recipients.ts';
import { ProgressCache } from '../../../services/progress-cache.ts';
import { campaignProgress, cancelCampaign, pauseCampaign, resumeCampaignLater, retryFailedSends, type CampaignProgress } from '../../../services/campaign-control.ts';
import type { ApiDeps } from '../api-deps.ts';
import { defineRoute, idParam, limitQuery, type ApiRoute } from '../define-route.ts';
import { ApiProblem } from '../problem.ts';

const campaignSchema = z
  .object({
    id: z.number().int(),
    issueId: z.number().int(),
    newsletterId: z.number().int(),
    listId: z.number().int(),
    status: z.enum(CAMPAIGN_STATUSES),
    createdAt: z.string(),
    scheduledAt: z.string().nullable(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    lastError: z.string().nullable(),
    pauseReason: z.enum(['operator', 'smtp']).nullable(),
    relayFault: z.enum(['refusing-logins', 'unreachable', 'failing']).nullable().describe("With pauseReason 'smtp': what was wrong with the relay, as the transport knew it (null when not paused for SMTP)"),
    resumeAfter: z.string().nullable(),
    resend: z.boolean(),
  })
  .meta({ id: 'Campaign' });
const countsSchema = z.object({ sent: z.number().int(), failed: z.number().int(), skipped: z.number().int(), deferred: z.number().int(), pending: z.number().int(), sending: z.number().int(), remaining: z.number().int(), total: z.number().int() });
const progressSchema = z.object({ campaign: campaignSchema, counts: countsSchema, ratePerMinute: z.number().nullable(), etaSeconds: z.number().nullable() }).meta({ id: 'CampaignProgress' });
const sendSchema = z.object({ email: z.string(), status: z.enum(SEND_STATUSES), attempts: z.number().int(), smtpResponse: z.string().nullable(), error: z.string().nullable() });

const FINISHED = new Set(['sent', 'failed', 'cancelled']);

function campaignOut(c: Campaign): z.input<typeof campaignSchema> {
  return { ...c };
}

function progressOut(p: CampaignProgress): z.input<typeof progressSchema> {
  return { campaign: campaignOut(p.campaign), counts: p.counts, ratePerMinute: p.ratePerMinute, etaSeconds: p.etaSeconds };
}

export function campaignRoutes(deps: ApiDeps): ApiRoute[] {
  const { stores } = deps;
  // GET /campaigns/:id and every event stream share one count a second per campaign.
  const progress = new ProgressCache(stores, deps.clock, 1000);
  const idParams = z.object({ id: idParam });
  const control = (operationId: string, path: string, summary: string, act: (id: number) => Promise<unknown>) =>
    defineRoute({
      method: 'POST',
      path,
      operationId,
      summary,
      tag: 'campaigns',
      role: 'editor',
      params: idParams,
      response: { status: 200, schema: progressSchema },
      handler: async ({ params }) => {
        await act(params.id);
        deps.options.kickCampaigns?.();
        return progressOut(await campaignProgress(stores, params.id, deps.clock()));
      },
    });
  return [
    defineRoute({
      method: 'GET',
      path: '/campaigns',
      operationId: 'listCampaigns',
      summary: 'Recent campaigns, newest first',
      tag: 'campaigns',
      role: 'viewer',
      query: z.object({ status: z.enum(CAMPAIGN_STATUSES).optional(), limit: limitQuery }),
      response: { status: 200, schema: z.object({ items: z.array(campaignSchema) }) },
      handler: async ({ query }) => ({ items: (await stores.campaigns.listCampaigns({ limit: query.limit, ...(query.status ? { status: query.status } : {}) })).map(campaignOut) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/campaigns',
      operationId: 'sendCampaign',
      summary: 'Send an issue to a list now, or at a time in a time zone',
      description:
        'confirmRecipients must equal the number of recipients the campaign would have now (members of the list who can be mailed, less those who already received this issue unless resend): a script cannot mail the wrong list by mistake. A 409 names the right count.',
      tag: 'campaigns',
      role: 'editor',
      limits: { perMinute: 10 },
      body: z.object({
        newsletter: z.string().min(1).max(40),
        issue: z.number().int().positive().describe('the issue number (build one with POST /newsletters/{slug}/issues)'),
        list: z.string().min(1).max(64).optional().describe("another list than the newsletter's own"),
        confirmRecipients: z.number().int().min(0),
        at: z.string().max(40).optional().describe('"YYYY-MM-DD HH:MM" in timeZone, or an ISO time with an offset; omitted: now'),
        timeZone: z.string().max(64).optional(),
        resend: z.boolean().default(false),
        allowLarge: z.boolean().default(false),
      }),
      response: { status: 202, schema: z.object({ campaign: campaignSchema, recipients: z.number().int() }) },
      handler: async ({ body }) => {
        const sendDeps = deps.options.sendDeps;
        if (!sendDeps) throw new ApiProblem(503, 'NOT_CONFIGURED', 'sending is not set up on this server');
        if (body.timeZone && !body.at) throw new ApiProblem(422, 'INVALID_INPUT', 'body.timeZone goes with body.at', [{ field: 'body.timeZone', value: body.timeZone, message: 'only with at' }]);
        const at = body.at ? parseSendAt(body.at, body.timeZone, deps.clock(), 'body.at') : deps.clock();
        // The count the web app's confirmation shows (GET …/recipients): one service, one rule.
        const { newsletter, list, issue, recipients, alreadyReceived } = await countRecipientsFor(stores, { newsletter: body.newsletter, issue: body.issue, list: body.list, resend: body.resend }, 'body.issue');
        if (body.confirmRecipients !== recipients) {
          throw new ApiProblem(409, 'RECIPIENTS_MISMATCH', `body.confirmRecipients ${body.confirmRecipients}: list ${list} has ${recipients} recipient(s) for issue #${issue} now; nothing was sent`, [
            { field: 'body.confirmRecipients', value: body.confirmRecipients, message: `expected ${recipients}` },
          ]);
        }
        if (recipients === 0) throw new MailroomError('CONFLICT', `list ${list} has nobody to send issue #${issue} to${alreadyReceived > 0 ? ` (${alreadyReceived} already received it; resend mails them again)` : ''}`);
        const { sendNewsletter } = await import('../../../sending/send-newsletter.ts');
        // Always a scheduled campaign (at now, or later): the server's campaign runner sends it, the request returns at once.
        const report = await sendNewsletter(sendDeps(), { newsletter, list, issue, at, resend: body.resend, allowLarge: body.allowLarge });
        if (!report.campaign) throw new MailroomError('CONFLICT', 'no campaign was created');
        deps.options.kickCampaigns?.();
        return { campaign: campaignOut(report.campaign), recipients };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/campaigns/:id',
      operationId: 'getCampaign',
      summary: "A campaign's progress: counts, rate and ETA",
      tag: 'campaigns',
      role: 'viewer',
      params: idParams,
      response: { status: 200, schema: progressSchema },
      handler: async ({ params }) => progressOut(await progress.get(params.id)),
    }),
    defineRoute({
      method: 'GET',
      path: '/campaigns/:id/sends',
      operationId: 'listCampaignSends',
      summary: "A campaign's recipients by status, with the SMTP reply (status=failed: the failed recipients)",
      tag: 'campaigns',
      role: 'viewer',
      params: idParams,
      query: z.object({ status: z.enum(SEND_STATUSES).default('failed'), limit: limitQuery, offset: z.coerce.number().int().min(0).default(0) }),
      response: { status: 200, schema: z.object({ items: z.array(sendSchema) }) },
      handler: async ({ params, query }) => {
        const campaign = await stores.campaigns.getCampaign(params.id);
        if (!campaign) throw new MailroomError('NOT_FOUND', `campaign ${params.id} does not exist`);
        const rows = await stores.campaigns.listSends(params.id, { status: query.status, limit: query.limit, offset: query.offset });
        return { items: rows.map((r) => ({ email: r.email, status: r.status, attempts: r.attempts, smtpResponse: r.smtpResponse ?? null, error: r.error ?? null })) };
      },
    }),
    control('pauseCampaign', '/campaigns/:id/pause', 'Pause: messages in flight finish, nothing more goes out until resume', (id) => pauseCampaign(stores, id)),
    control('resumeCampaign', '/campaigns/:id/resume', 'Resume a paused campaign (the server sends it)', (id) => resumeCampaignLater(stores, id, deps.clock())),
    control('cancelCampaign', '/campaigns/:id/cancel', 'Cancel: recipients not yet mailed are skipped', (id) => cancelCampaign(stores, id, deps.clock())),
    control('retryFailedSends', '/campaigns/:id/retry-failed', 'Queue the failed recipients again (suppressed addresses never)', (id) => retryFailedSends(stores, id, deps.clock())),
    defineRoute({
      method: 'GET',
      path: '/campaigns/:id/events',
      operationId: 'campaignEvents',
      summary: "Live progress as Server-Sent Events: a `progress` event at once, then every second until the campaign finishes",
      tag: 'campaigns',
      role: 'viewer',
      params: idParams,
      response: { status: 200, schema: z.string().describe('event: progress\\ndata: {CampaignProgress as JSON}'), contentType: 'text/event-stream' },
      handler: async ({ params, reply, request }) => {
        const first = await progress.get(params.id);
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        let closed = false;
        let timer: NodeJS.Timeout | null = null;
        const stop = () => {
          closed = true;
          if (timer) clearTimeout(timer);
          if (!raw.writableEnded) raw.end();
        };
        request.raw.on('close', stop);
        const write = (p: CampaignProgress) => raw.write(`event: progress\nid: ${Date.now()}\ndata: ${JSON.stringify(progressOut(p))}\n\n`);
        const interval = deps.options.eventIntervalMs ?? 1000;
        const tick = async () => {
          if (closed) return;
          try {
            const p = await progress.get(params.id);
            write(p);
            if (FINISHED.has(p.campaign.status)) {
              raw.write('event: end\ndata: {}\n\n');
              stop();
              return;
            }
          } catch {
            stop();
            return;
          }
          timer = setTimeout(() => void tick(), interval);
        };
        write(first);
        if (FINISHED.has(first.campaign.status)) {
          raw.write('event: end\ndata: {}\n\n');
          stop();
        } else {
          timer = setTimeout(() => void tick(), interval);
        }
        return undefined;
      },
    }),
  ];
}
