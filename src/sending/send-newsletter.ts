/** Sending a newsletter: pick or build the issue, check it, fix the recipients in a campaign, and run the engine. */
import type { Kysely } from 'kysely';
import type { Article, Campaign, CampaignStatus, MailingList, Newsletter, PauseReason, RelayFault, SendCounts, Subscriber } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { issueWebUrl, preferencesUrl, unsubscribeUrl, type LinkSettings } from '../core/links.ts';
import { composeIssue, unsavedIssue, type ComposedIssue, type IssueBuilderStores } from '../issues/build-issue.ts';
import { composeMessage, domainOf, makeMessageId, type MessageFrame } from '../mime/compose.ts';
import { buildRecipientContext, compileIssue, showTemplate, type CompiledIssue } from '../personalization/personalize.ts';
import { resolveList, resolveNewsletter, type ListLookup, type NewsletterLookup } from '../store/lookups.ts';
import type { FixedRecipients, IssueInput, StoredIssue } from '../store/store-types.ts';
import type { Database } from '../store/schema.ts';
import { prepareMessageBuilder } from './message-builder.ts';
import { verpSigner } from '../deliverability/verp.ts';
import { compileTrackedIssue, type CampaignTrackingStores } from '../tracking/campaign-tracking.ts';
import { personToken } from '../tracking/tracking.ts';
import { DEFAULT_ENGINE_OPTIONS, runCampaign, type CampaignResult, type CampaignRun, type EngineDeps, type EngineOptions } from './engine.ts';
import type { CampaignStore, MessageTransport } from './ports.ts';

import { HTML_LIMIT_BYTES, HTML_WARN_BYTES } from '../checks/gmail-clipping.ts';

/** Gmail clips messages whose HTML is over about 102 KB (the limits live with the email checks). */
export { HTML_LIMIT_BYTES, HTML_WARN_BYTES };

export interface SendSettings extends LinkSettings {
  readonly feedbackIdSender: string;
  /** BOUNCE_DOMAIN: campaign messages carry a signed per-recipient Return-Path there (VERP); null or absent: none. */
  readonly bounceDomain?: string | null;
}

export interface SendRequest {
  readonly newsletter: string;
  /** Another list than the newsletter's own. */
  readonly list?: string;
  /** Send this issue number again instead of the newest unsent one. */
  readonly issue?: number;
  readonly dryRun?: boolean;
  /** Send one copy to this address instead of to the list. */
  readonly test?: string;
  /** Also to members who already received this issue in an earlier campaign (by default they are left out). */
  readonly resend?: boolean;
  /** Send even when the HTML is over Gmail's clipping limit. */
  readonly allowLarge?: boolean;
  /** Every check overridden: `resend` and `allowLarge` both (what `--force` always meant: send, whatever). */
  readonly force?: boolean;
  /** Schedule the campaign for this instant instead of sending now; its recipients are fixed when it starts. */
  readonly at?: Date;
}

export interface SendReport {
  readonly newsletter: Newsletter;
  readonly list: MailingList;
  readonly issue: StoredIssue;
  readonly builtIssue: boolean;
  /** False for a dry run that built the next issue without storing it (its `id` is 0). */
  readonly issueStored: boolean;
  readonly htmlBytes: number;
  readonly warnings: readonly string[];
  /** 'nobody-left': every recipient already received the issue in an earlier campaign; nothing was created or sent. */
  readonly mode: 'campaign' | 'dry-run' | 'test' | 'scheduled' | 'nobody-left';
  readonly campaign: Campaign | null;
  readonly recipients: number;
  /** Members left out (or, for a dry run, who would be) because they already received the issue in an earlier campaign. */
  readonly alreadyReceived: number;
  readonly result: CampaignResult | null;
  readonly counts: SendCounts | null;
}

/**
 * What sending needs of the stores (the composition root passes app.stores): its own methods, building an issue's,
 * and the engine's port (CampaignStore); `db` for the campaign's link tracking.
 */
export type SendStores = IssueBuilderStores &
  CampaignTrackingStores & {
  readonly db: Kysely<Database>;
  readonly audience: ListLookup & {
    countRecipients(listId: number, issueId: number): Promise<{ eligible: number | null; alreadyReceived: number }>;
    findSubscriberByEmail(email: string): Promise<Subscriber | null>;
    getList(id: number): Promise<MailingList | null>;
    listRecipients(listId: number, afterSubscriberId: number, limit: number, options?: { notReceivedIssueId?: number }): Promise<Subscriber[]>;
  };
  readonly campaigns: CampaignStore & {
    createCampaign(input: { issueId: number; newsletterId: number; listId: number; resend?: boolean }): Promise<{ campaign: Campaign } & FixedRecipients>;
    getCampaign(id: number): Promise<Campaign | null>;
    leaseHolder(campaignId: number, now: string): Promise<{ owner: string; expiresAt: string | null } | null>;
    listCampaigns(options?: { status?: CampaignStatus; limit?: number }): Promise<Campaign[]>;
    listRunnableCampaigns(now: string): Promise<Campaign[]>;
    resumeCampaignStatus(campaignId: number, now: string): Promise<void>;
    scheduleCampaign(input: { issueId: number; newsletterId: number; listId: number; scheduledAt: string; resend?: boolean }): Promise<Campaign>;
    setCampaignStatus(campaignId: number, status: CampaignStatus, fields?: { error?: string | null; at?: string; pauseReason?: PauseReason | null; resumeAfter?: string | null; relayFault?: RelayFault | null }): Promise<void>;
    startScheduledCampaign(campaignId: number, now: string): Promise<FixedRecipients | null>;
  };
  readonly content: {
    getArticlesByIds(ids: readonly number[]): Promise<Article[]>;
  };
  readonly newsletters: NewsletterLookup & {
    createIssue(input: IssueInput): Promise<StoredIssue>;
    findIssue(newsletterId: number, number: number): Promise<StoredIssue | null>;
    findUnsentIssue(newsletterId: number): Promise<StoredIssue | null>;
    getIssue(id: number): Promise<StoredIssue | null>;
    getNewsletter(id: number): Promise<Newsletter | null>;
  };
};

export interface SendDeps {
  readonly stores: SendStores;
  /** Opened only when something is really sent. */
  readonly openTransport: () => MessageTransport;
  readonly settings: SendSettings;
  readonly engineOptions?: Partial<EngineOptions>;
  readonly log?: (line: string) => void;
  /** How far a running campaign is (see EngineDeps.onProgress). */
  readonly onProgress?: EngineDeps['onProgress'];
  readonly signal?: AbortSignal;
  readonly clock?: () => Date;
  /** Lease owner name for the engine (default: host, pid and a random part). */
  readonly owner?: string;
  /** Row-level claims for many workers on one campaign (Postgres); absent: one process runs a campaign at a time. */
  readonly claims?: EngineDeps['claims'];
}

export function makeFrame(newsletter: Newsletter, list: MailingList, campaignId: number, feedbackIdSender: string): MessageFrame {
  return {
    fromName: newsletter.fromName,
    fromEmail: newsletter.fromEmail,
    replyTo: newsletter.replyTo,
    listIdentifier: `${newsletter.slug}.${list.name.replace(/[^a-z0-9-]+/gi, '-').toLowerCase()}.${domainOf(newsletter.fromEmail)}`,
    listLabel: newsletter.name,
    feedbackId: feedbackIdSender ? `${campaignId}:${newsletter.slug}:${list.name}:${feedbackIdSender}` : '',
  };
}

/**
 * The issue to send: the one asked for, else the newest unsent one, else the next one, composed now and NOT stored
 * yet (`composed`): it is stored only once the send's checks passed, and never by a dry run.
 */
async function chooseIssue(deps: SendDeps, newsletter: Newsletter, request: SendRequest): Promise<{ issue: StoredIssue; composed: ComposedIssue | null }> {
  if (request.issue !== undefined) {
    const issue = await deps.stores.newsletters.findIssue(newsletter.id, request.issue);
    if (!issue) throw new MailroomError('NOT_FOUND', `newsletter ${quote(newsletter.slug)} has no issue #${request.issue} (see: mailroom issue list ${newsletter.slug})`);
    return { issue, composed: null };
  }
  const unsent = await deps.stores.newsletters.findUnsentIssue(newsletter.id);
  if (unsent) return { issue: unsent, composed: null };
  const now = deps.clock ? deps.clock() : new Date();
  const composed = await composeIssue(deps.stores, newsletter, { publicUrl: deps.settings.publicUrl, now });
  return { issue: unsavedIssue(composed, now), composed };
}

/** One line per article of an issue: its title and slug, lead first (what `issue build` and `send` print). */
export function describeArticles(articles: readonly Article[], adopted: ReadonlySet<number> = new Set()): string[] {
  return articles.map((a, i) => `  ${i + 1}. ${a.title} (${a.slug})${adopted.has(a.id) ? ' (named with --articles; it now belongs to this newsletter)' : ''}`);
}

export function compileStoredIssue(issue: StoredIssue): CompiledIssue {
  return compileIssue({ subject: issue.subject, html: issue.html, text: issue.text });
}

function linksFor(settings: SendSettings, newsletter: Newsletter, list: MailingList, issue: StoredIssue) {
  return {
    unsubscribeUrl: (subscriberId: number) => unsubscribeUrl(settings, subscriberId, list.id),
    preferencesUrl: (subscriberId: number) => preferencesUrl(settings, subscriberId, list.id),
    webVersionUrl: issueWebUrl(settings, newsletter.slug, issue.number),
    returnPath: verpSigner(settings),
    trackingToken: (campaignId: number, subscriberId: number) => personToken(settings.secret, campaignId, subscriberId),
  };
}

export async function sendNewsletter(deps: SendDeps, request: SendRequest): Promise<SendReport> {
  const { stores, settings } = deps;
  const log = deps.log ?? (() => undefined);
  const newsletter = await resolveNewsletter(stores.newsletters, request.newsletter);
  const list = request.list ? await resolveList(stores.audience, request.list) : await stores.audience.getList(newsletter.listId);
  if (!list) throw new MailroomError('NOT_FOUND', `newsletter ${quote(newsletter.slug)}: its list (id ${newsletter.listId}) no longer exists`);

  const chosen = await chooseIssue(deps, newsletter, request);
  let issue = chosen.issue;
  const articles = chosen.composed ? chosen.composed.articles : await stores.content.getArticlesByIds(issue.articleIds);
  const listArticles = (head: string, note: string) => {
    log(`${head} #${issue.number}: "${showTemplate(issue.subject)}" with ${articles.length} article(s)${note}:`);
    for (const line of describeArticles(articles)) log(line);
  };
  // A stored issue is listed now; a new one once it passed its checks (as built, or as the dry run's next issue).
  if (!chosen.composed) listArticles('issue', ` (built ${issue.createdAt})`);
  // Compiling checks every placeholder against the allow-list: a bad one stops here, before anything is sent.
  const compiled = compileStoredIssue(issue);
  let links = linksFor(settings, newsletter, list, issue);
  const sample = compiled.personalize(
    buildRecipientContext({ email: 'someone.with.a.long.address@example.com', name: 'Alexandria Montgomery-Smith', firstName: '', lastName: '', attributes: {} }, {
      unsubscribeUrl: links.unsubscribeUrl(2 ** 31),
      preferencesUrl: links.preferencesUrl(2 ** 31),
      webVersionUrl: links.webVersionUrl,
    }),
  );
  const htmlBytes = Buffer.byteLength(sample.html, 'utf8');
  const warnings: string[] = [];
  const resend = request.resend === true || request.force === true;
  if (htmlBytes > HTML_LIMIT_BYTES && !(request.allowLarge === true || request.force === true)) {
    throw new MailroomError(
      'MESSAGE_TOO_LARGE',
      `issue #${issue.number} of ${quote(newsletter.slug)}: the HTML is ${(htmlBytes / 1024).toFixed(1)} KB, over the ${HTML_LIMIT_BYTES / 1024} KB at which Gmail clips a message; use fewer articles (mailroom issue build ${newsletter.slug} --max N) or --allow-large`,
    );
  }
  if (htmlBytes > HTML_WARN_BYTES) warnings.push(`the HTML is ${(htmlBytes / 1024).toFixed(1)} KB; Gmail clips messages over about 102 KB`);
  // A new issue is stored once it passed the checks above (an issue too big to send is not kept); a dry run stores nothing.
  if (chosen.composed && !request.dryRun) {
    issue = await stores.newsletters.createIssue(chosen.composed.input);
    links = linksFor(settings, newsletter, list, issue);
    listArticles('built issue', '');
  } else if (chosen.composed) {
    listArticles('next issue', ' (dry run: not stored)');
  }
  const base = { newsletter, list, issue, builtIssue: chosen.composed !== null, issueStored: issue.id !== 0, htmlBytes, warnings };

  if (request.test) {
    const subscriber = await stores.audience.findSubscriberByEmail(request.test);
    const identity = subscriber ?? { email: request.test, name: '', firstName: '', lastName: '', attributes: {} };
    const subscriberId = subscriber?.id ?? 0;
    const context = buildRecipientContext(identity, {
      unsubscribeUrl: links.unsubscribeUrl(subscriberId),
      preferencesUrl: links.preferencesUrl(subscriberId),
      webVersionUrl: links.webVersionUrl,
    });
    const parts = compiled.personalize(context);
    const frame = makeFrame(newsletter, list, 0, settings.feedbackIdSender);
    const message = composeMessage(frame, { email: identity.email, name: identity.name }, { ...parts, subject: `[TEST] ${parts.subject}` }, context, {
      messageId: makeMessageId(newsletter.fromEmail, 0, subscriberId),
      date: (deps.clock ?? (() => new Date()))(),
    });
    const transport = deps.openTransport();
    try {
      await transport.verify();
      await transport.send(message);
    } finally {
      await transport.close();
    }
    return { ...base, mode: 'test', campaign: null, recipients: 1, alreadyReceived: 0, result: null, counts: null };
  }

  if (request.dryRun) {
    // Personalize and build every message with the campaign's own message builder, without a campaign or a connection.
    let recipients = 0;
    let after = 0;
    const { alreadyReceived } = resend ? { alreadyReceived: 0 } : await stores.audience.countRecipients(list.id, issue.id);
    const builder = await prepareMessageBuilder({ campaignId: 0, compiled, frame: makeFrame(newsletter, list, 0, settings.feedbackIdSender), links });
    for (;;) {
      const page = await stores.audience.listRecipients(list.id, after, 500, resend ? {} : { notReceivedIssueId: issue.id });
      if (page.length === 0) break;
      for (const subscriber of page) {
        const message = builder.build({ ...subscriber, subscriberId: subscriber.id, attempts: 0, firstAttemptAt: null, skipReason: null }, new Date());
        await builder.toBuffer(message);
        recipients += 1;
      }
      after = page[page.length - 1]?.id ?? after;
    }
    return { ...base, mode: 'dry-run', campaign: null, recipients, alreadyReceived, result: null, counts: null };
  }

  if (request.at) {
    const campaign = await stores.campaigns.scheduleCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id, scheduledAt: request.at.toISOString(), resend });
    log(`campaign ${campaign.id}: issue #${issue.number} scheduled for ${campaign.scheduledAt} to list ${list.name}`);
    return { ...base, mode: 'scheduled', campaign, recipients: 0, alreadyReceived: 0, result: null, counts: null };
  }

  if (!resend) {
    // Everyone already has this issue: no campaign, no connection (the campaign's own transaction applies the rule again).
    const { eligible, alreadyReceived } = await stores.audience.countRecipients(list.id, issue.id);
    if (alreadyReceived > 0 && alreadyReceived === eligible) return { ...base, mode: 'nobody-left', campaign: null, recipients: 0, alreadyReceived, result: null, counts: null };
  }

  const transport = deps.openTransport();
  try {
    // Refuse before a campaign exists when the server cannot be reached at all.
    await transport.verify();
    const { campaign, recipients, alreadyReceived } = await stores.campaigns.createCampaign({ issueId: issue.id, newsletterId: newsletter.id, listId: list.id, resend });
    log(`campaign ${campaign.id}: issue #${issue.number} "${showTemplate(issue.subject)}" to ${recipients} recipient(s) of list ${list.name}`);
    if (alreadyReceived > 0) log(`campaign ${campaign.id}: ${alreadyReceived} left out: they already received issue #${issue.number} in an earlier campaign (--resend mails them again)`);
    // Opens and clicks are tracked only where the newsletter turned them on (src/tracking/).
    const tracked = await compileTrackedIssue(stores, settings, newsletter.id, campaign.id, issue);
    const result = await runCampaign(
      { campaignId: campaign.id, compiled: tracked ?? compiled, frame: makeFrame(newsletter, list, campaign.id, settings.feedbackIdSender), links },
      engineDeps(deps, transport),
      { ...DEFAULT_ENGINE_OPTIONS, ...deps.engineOptions },
    );
    return { ...base, mode: 'campaign', campaign: await stores.campaigns.getCampaign(campaign.id), recipients, alreadyReceived, result, counts: result.counts };
  } finally {
    await transport.close();
  }
}

/** Everything the engine needs to run a stored campaign: its compiled issue, its frame and its links. */
export async function prepareCampaignRun(stores: SendStores, settings: SendSettings, campaignId: number): Promise<CampaignRun> {
  const campaign = await stores.campaigns.getCampaign(campaignId);
  if (!campaign) throw new MailroomError('NOT_FOUND', `campaign ${campaignId} does not exist (see: mailroom campaigns list)`);
  const newsletter = await stores.newsletters.getNewsletter(campaign.newsletterId);
  const list = await stores.audience.getList(campaign.listId);
  const issue = await stores.newsletters.getIssue(campaign.issueId);
  if (!newsletter || !list || !issue) throw new MailroomError('NOT_FOUND', `campaign ${campaignId}: its newsletter, list or issue no longer exists`);
  const tracked = await compileTrackedIssue(stores, settings, newsletter.id, campaignId, issue);
  return { campaignId, compiled: tracked ?? compileStoredIssue(issue), frame: makeFrame(newsletter, list, campaignId, settings.feedbackIdSender), links: linksFor(settings, newsletter, list, issue) };
}

/** Picks up a campaign that stopped (paused, interrupted mid-send, or scheduled and due) and runs it to the end. */
export async function resumeCampaign(deps: SendDeps, campaignId: number): Promise<CampaignResult> {
  const { stores } = deps;
  const now = (deps.clock ?? (() => new Date()))();
  const campaign = await stores.campaigns.getCampaign(campaignId);
  if (!campaign) throw new MailroomError('NOT_FOUND', `campaign ${campaignId} does not exist (see: mailroom campaigns list)`);
  if (campaign.status === 'sent' || campaign.status === 'cancelled') throw new MailroomError('CONFLICT', `campaign ${campaignId} is ${campaign.status}; there is nothing to resume`);
  if (campaign.status === 'paused' || campaign.status === 'failed') await stores.campaigns.resumeCampaignStatus(campaignId, now.toISOString());
  const fresh = await stores.campaigns.getCampaign(campaignId);
  if (fresh?.status === 'scheduled') {
    if (fresh.scheduledAt && fresh.scheduledAt > now.toISOString()) {
      throw new MailroomError('CONFLICT', `campaign ${campaignId} is scheduled for ${fresh.scheduledAt}; mailroom serve starts it then (or cancel it and send now)`);
    }
    await stores.campaigns.startScheduledCampaign(campaignId, now.toISOString());
  }
  return runStoredCampaign(deps, campaignId);
}

/** Runs a stored campaign through the engine on a transport of its own (the CLI's resume and the service's runner). */
export async function runStoredCampaign(deps: SendDeps, campaignId: number, options: Partial<EngineOptions> = {}): Promise<CampaignResult> {
  const run = await prepareCampaignRun(deps.stores, deps.settings, campaignId);
  const transport = deps.openTransport();
  try {
    return await runCampaign(run, engineDeps(deps, transport), { ...DEFAULT_ENGINE_OPTIONS, ...deps.engineOptions, ...options });
  } finally {
    await transport.close();
  }
}

function engineDeps(deps: SendDeps, transport: MessageTransport): EngineDeps {
  return {
    store: deps.stores.campaigns,
    transport,
    ...(deps.log ? { log: deps.log } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.owner ? { owner: deps.owner } : {}),
    ...(deps.claims ? { claims: deps.claims } : {}),
  };
}
