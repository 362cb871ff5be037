/** The deliverability commands (issue 13): `bounces poll`, `suppress …`, `subscribers show`, `campaigns stats`, and the bounces shown by `campaigns show`. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createApp, type App } from '../app.ts';
import { loadConfig } from '../config.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { normalizeEmail } from '../core/email-address.ts';
import { pollBounceMailbox, redactImapUrl } from '../deliverability/imap-poller.ts';
import { bounceServiceDeps } from '../deliverability/runtime.ts';
import { addSuppression, checkReason, importSuppressions, removeSuppression, type SuppressionWriter } from '../services/suppression-service.ts';
import type { DeliveryEvent, SuppressionEntry } from '../store/deliverability-store.ts';
import { cli } from './context.ts';
import { formatTable, print } from './output.ts';

/** What these commands need of the deliverability store (app.stores.deliverability has it), besides the suppression writes. */
export interface DeliverabilityRecords extends SuppressionWriter {
  listSuppressions(options?: { reason?: string; limit?: number }): Promise<SuppressionEntry[]>;
  eventsForEmail(email: string, limit?: number): Promise<DeliveryEvent[]>;
  eventsForCampaign(campaignId: number, limit?: number): Promise<DeliveryEvent[]>;
}

async function withApp<T>(fn: (app: App, store: DeliverabilityRecords) => Promise<T>): Promise<T> {
  const app = await createApp(loadConfig(cli().env, cli().cwd));
  try {
    return await fn(app, app.stores.deliverability);
  } finally {
    await app.close();
  }
}

function eventRows(events: readonly DeliveryEvent[]): (string | number)[][] {
  return events.map((e) => [e.createdAt, e.email, e.kind, e.status, e.source, e.action, e.detail.slice(0, 60)]);
}
const EVENT_HEADER = ['WHEN', 'EMAIL', 'KIND', 'STATUS', 'SOURCE', 'ACTION', 'DETAIL'];

export async function bouncesPollCommand(): Promise<number> {
  return withApp(async (app) => {
    const url = app.config.deliverability.bounceImapUrl;
    if (!url) throw new MailroomError('CONFIG', 'BOUNCE_IMAP_URL is not set: set it to the bounce mailbox, e.g. imaps://bounces%40example.com:PASSWORD@imap.example.com/INBOX');
    const summary = await pollBounceMailbox(bounceServiceDeps(app, { log: print }), url);
    print(`${redactImapUrl(url)}: read ${summary.read} new message(s): ${summary.applied} bounce(s)/complaint(s) applied, ${summary.ignored} not bounces (left alone), ${summary.unmatched} naming no send of ours (left alone)`);
    return 0;
  });
}

export async function suppressAddCommand(target: string, options: { reason: string }): Promise<number> {
  return withApp(async (_app, store) => {
    const t = await addSuppression(store, { target, reason: options.reason }, { target: 'suppress add', reason: '--reason' });
    print(t.added ? `suppressed ${t.kind === 'domain' ? `every address at ${t.target}` : t.target} (${t.reason}); no campaign, import or sign-up mails ${t.kind === 'domain' ? 'them' : 'it'} again` : `${t.target} was already suppressed`);
    return 0;
  });
}

export async function suppressRemoveCommand(target: string): Promise<number> {
  return withApp(async (_app, store) => {
    const t = await removeSuppression(store, target, 'suppress remove');
    print(`${t.value} is no longer suppressed${t.kind === 'address' ? '; their list memberships are as they were (an unsubscribed person stays unsubscribed)' : ''}`);
    return 0;
  });
}

export async function suppressListCommand(options: { reason?: string; json?: boolean; limit: string }): Promise<number> {
  return withApp(async (_app, store) => {
    const limit = Number(options.limit);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new MailroomError('INVALID_INPUT', `--limit ${quote(options.limit)}: not a whole number above 0`);
    const entries = await store.listSuppressions({ ...(options.reason ? { reason: options.reason } : {}), limit });
    if (options.json) print(JSON.stringify(entries, null, 2));
    else if (entries.length === 0) print('nothing is suppressed');
    else print(formatTable(['ADDRESS OR DOMAIN', 'REASON', 'SINCE', 'DETAIL'], entries.map((e) => [e.target, e.reason, e.createdAt, e.detail.slice(0, 60)])));
    return 0;
  });
}

export async function suppressImportCommand(file: string, options: { reason: string }): Promise<number> {
  return withApp(async (_app, store) => {
    let text: string;
    try {
      text = await readFile(resolve(file), 'utf8');
    } catch (error) {
      throw new MailroomError('INVALID_INPUT', `suppress import ${quote(file)}: cannot be read: ${(error as Error).message}`);
    }
    const result = await importSuppressions(store, text, file, checkReason(options.reason, '--reason'));
    print(`${file}: ${result.added} added, ${result.already} already suppressed`);
    return 0;
  });
}

export async function subscribersShowCommand(email: string): Promise<number> {
  return withApp(async (app, store) => {
    const address = normalizeEmail(email);
    const subscriber = await app.stores.audience.findSubscriberByEmail(address);
    const suppressions = (await store.listSuppressions({ limit: 100_000 })).filter((s) => s.target === address || address.endsWith(s.target));
    if (!subscriber && suppressions.length === 0) throw new MailroomError('NOT_FOUND', `no subscriber ${quote(address)} (see: mailroom subscribers list)`);
    if (subscriber) {
      print(`${subscriber.email}${subscriber.name ? ` (${subscriber.name})` : ''}: ${subscriber.status}, since ${subscriber.createdAt}`);
      const memberships = await app.stores.db
        .selectFrom('list_memberships')
        .innerJoin('lists', 'lists.id', 'list_memberships.list_id')
        .select(['lists.name', 'list_memberships.status', 'list_memberships.updated_at'])
        .where('list_memberships.subscriber_id', '=', subscriber.id)
        .execute();
      if (memberships.length > 0) print(`lists:      ${memberships.map((m) => `${m.name} (${m.status})`).join(', ')}`);
    } else {
      print(`${address}: not a subscriber`);
    }
    for (const s of suppressions) print(`suppressed: ${s.target} (${s.reason}) since ${s.createdAt}${s.detail ? `: ${s.detail}` : ''}`);
    const history = await app.stores.deliveryReports.sendHistory(address);
    if (history.length > 0) {
      print('\nsends:');
      print(formatTable(['CAMPAIGN', 'NEWSLETTER', 'ISSUE', 'STATUS', 'WHEN', 'SMTP REPLY'], history.map((h) => [h.campaignId, h.newsletter, `#${h.issueNumber}`, h.status, h.at, (h.smtpResponse ?? h.error ?? '').slice(0, 50)])));
    }
    const events = await store.eventsForEmail(address);
    if (events.length > 0) {
      print('\nbounces and complaints:');
      print(formatTable(['WHEN', 'CAMPAIGN', 'KIND', 'STATUS', 'SOURCE', 'ACTION', 'DETAIL'], events.map((e) => [e.createdAt, e.campaignId ?? '', e.kind, e.status, e.source, e.action, e.detail.slice(0, 60)])));
    }
    return 0;
  });
}

export async function campaignsStatsCommand(id: string, options: { json?: boolean }): Promise<number> {
  return withApp(async (app) => {
    const { campaignStatsOf } = await import('../services/campaign-stats.ts');
    const stats = await campaignStatsOf(app.stores, Number(id), 'campaigns stats');
    if (options.json) {
      print(JSON.stringify(stats, null, 2));
      return 0;
    }
    const campaign = await app.stores.campaigns.getCampaign(stats.campaign);
    print(`campaign ${stats.campaign}: ${campaign?.status ?? ''}`);
    print(`accepted:     ${stats.accepted} (the relay said 250)`);
    print(`delivered:    ${stats.delivered} (accepted and not bounced since)`);
    print(`deferred:     ${stats.deferred}`);
    print(`failed:       ${stats.failedAtSend} (refused during the SMTP transaction)`);
    print(`bounced:      ${stats.hardBounces} hard, ${stats.softBounces} soft (after the 250)`);
    print(`complaints:   ${stats.complaints}`);
    print(`unsubscribes: ${stats.unsubscribes}`);
    const tracking = stats.tracking;
    if (!tracking) {
      print('opens and clicks: not tracked (off by default; mailroom newsletter tracking SLUG --opens on --clicks on)');
      return 0;
    }
    const by = (n: number | null) => (n === null ? '' : ` by ${n} people`);
    print(`opens:        ${tracking.opens.human}${by(tracking.opens.people)} (and ${tracking.opens.machine} by machines: Apple Mail Privacy Protection, scanners)`);
    print(`clicks:       ${tracking.clicks.human}${by(tracking.clicks.people)} (and ${tracking.clicks.machine} by link scanners)`);
    if (!tracking.settings.people) print('unique people: not counted (per-subscriber data is off; mailroom newsletter tracking SLUG --people on)');
    if (tracking.links.length > 0) print(formatTable(['CLICKS', 'BY MACHINES', 'LINK'], tracking.links.map((l) => [l.human, l.machine, l.url])));
    return 0;
  });
}

/** The bounces and complaints linked to a campaign's sends, for `campaigns show`. */
export async function printCampaignDeliveryEvents(app: App, campaignId: number): Promise<void> {
  const events = await app.stores.deliverability.eventsForCampaign(campaignId, 50);
  if (events.length === 0) return;
  print(`\nbounces and complaints after the 250${events.length === 50 ? ' (first 50)' : ''}:`);
  print(formatTable(EVENT_HEADER, eventRows(events)));
}

// ---------------------------------------------------------------- outbound webhooks

async function webhookPolicy(app: App) {
  const { fetchPolicyFrom, loadFetchSettings } = await import('../net/fetch-settings.ts');
  return fetchPolicyFrom(loadFetchSettings(app.config));
}

function endpointId(raw: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id < 1) throw new MailroomError('INVALID_INPUT', `webhook id ${quote(raw)}: not a whole number (see: mailroom webhooks list)`);
  return id;
}

export async function webhooksAddCommand(url: string, options: { events: string[] }): Promise<number> {
  return withApp(async (app) => {
    const { addWebhookEndpoint, parseEvents } = await import('../webhooks/outbound.ts');
    const events = parseEvents(options.events, '--events');
    const endpoint = await addWebhookEndpoint(app.stores.webhooks, await webhookPolicy(app), url, events);
    print(`webhook ${endpoint.id}: ${endpoint.url} gets ${events.join(', ')}`);
    print(`signing secret (shown once; verify the webhook-signature header with it, Standard Webhooks): ${endpoint.secret}`);
    print('mailroom serve delivers them (retried with backoff for about a day)');
    return 0;
  });
}

export async function webhooksListCommand(): Promise<number> {
  return withApp(async (app) => {
    const store = app.stores.webhooks;
    const endpoints = await store.listEndpoints();
    if (endpoints.length === 0) {
      print('no webhook yet: mailroom webhooks add URL --events subscriber.created,campaign.finished');
      return 0;
    }
    const rows: (string | number)[][] = [];
    for (const e of endpoints) {
      const c = await store.counts(e.id);
      rows.push([e.id, e.url, e.events.join(','), c.delivered, c.pending, c.failed]);
    }
    print(formatTable(['ID', 'URL', 'EVENTS', 'DELIVERED', 'PENDING', 'FAILED'], rows));
    return 0;
  });
}

export async function webhooksRemoveCommand(id: string): Promise<number> {
  return withApp(async (app) => {
    if (!(await app.stores.webhooks.removeEndpoint(endpointId(id)))) throw new MailroomError('NOT_FOUND', `webhook ${quote(id)} does not exist (see: mailroom webhooks list)`);
    print(`webhook ${id} removed, with its delivery log`);
    return 0;
  });
}

export async function webhooksDeliveriesCommand(id: string, options: { limit: string }): Promise<number> {
  return withApp(async (app) => {
    const store = app.stores.webhooks;
    const endpoint = await store.getEndpoint(endpointId(id));
    if (!endpoint) throw new MailroomError('NOT_FOUND', `webhook ${quote(id)} does not exist (see: mailroom webhooks list)`);
    const limit = Number(options.limit);
    const deliveries = await store.deliveries(endpoint.id, Number.isSafeInteger(limit) && limit > 0 ? limit : 50);
    print(`webhook ${endpoint.id}: ${endpoint.url}`);
    if (deliveries.length === 0) print('no delivery yet');
    else
      print(
        formatTable(
          ['EVENT', 'CREATED', 'STATUS', 'ATTEMPTS', 'LAST ANSWER', 'NEXT TRY'],
          deliveries.map((d) => [d.eventType, d.createdAt, d.status, d.attempts, d.lastError ?? (d.lastStatus ? `HTTP ${d.lastStatus}` : ''), d.status === 'pending' ? d.nextAttemptAt : '']),
        ),
      );
    return 0;
  });
}

// ---------------------------------------------------------------- welcome emails

export async function listsWelcomeCommand(name: string, state: string, options: { subject?: string; message?: string; messageFile?: string }): Promise<number> {
  return withApp(async (app) => {
    const { resolveList } = await import('../store/lookups.ts');
    const list = await resolveList(app.stores.audience, name);
    const v = state.trim().toLowerCase();
    if (v !== 'on' && v !== 'off') throw new MailroomError('INVALID_INPUT', `lists welcome ${list.name} ${quote(state)}: expected on or off`);
    if (options.message !== undefined && options.messageFile !== undefined) throw new MailroomError('INVALID_INPUT', '--message and --message-file: give one of them');
    let message = options.message;
    if (options.messageFile !== undefined) {
      try {
        message = await readFile(resolve(options.messageFile), 'utf8');
      } catch (error) {
        throw new MailroomError('INVALID_INPUT', `--message-file ${quote(options.messageFile)}: cannot be read: ${(error as Error).message}`);
      }
    }
    if (options.subject !== undefined && (/[\r\n]/.test(options.subject) || options.subject.length > 200)) throw new MailroomError('INVALID_INPUT', `--subject ${quote(options.subject)}: one line of at most 200 characters`);
    if (message !== undefined && message.length > 10_000) throw new MailroomError('INVALID_INPUT', `the welcome message is ${message.length} characters; at most 10000`);
    const newsletters = (await app.stores.newsletters.listNewsletters()).filter((n) => n.listId === list.id);
    if (v === 'on' && newsletters.length === 0) throw new MailroomError('NOT_FOUND', `list ${quote(list.name)} has no newsletter, and the welcome email is sent from one (mailroom newsletter create SLUG --list ${list.name} …)`);
    await app.stores.welcomes.set(list.id, v === 'on', { ...(options.subject !== undefined ? { subject: options.subject } : {}), ...(message !== undefined ? { message } : {}) });
    print(v === 'on' ? `list ${list.name}: people who confirm from now on get a welcome email (sent by mailroom serve within WEBHOOK_TICK_SECONDS)` : `list ${list.name}: no welcome email`);
    return 0;
  });
}

// ---------------------------------------------------------------- tracking switches

export async function newsletterTrackingCommand(slug: string, options: { opens?: string; clicks?: string; people?: string }): Promise<number> {
  return withApp(async (app) => {
    const { resolveNewsletter } = await import('../store/lookups.ts');
    const newsletter = await resolveNewsletter(app.stores.newsletters, slug);
    const onOff = (value: string | undefined, option: string): boolean | undefined => {
      if (value === undefined) return undefined;
      const v = value.trim().toLowerCase();
      if (v === 'on') return true;
      if (v === 'off') return false;
      throw new MailroomError('INVALID_INPUT', `${option} ${quote(value)}: expected on or off`);
    };
    const opens = onOff(options.opens, '--opens');
    const clicks = onOff(options.clicks, '--clicks');
    const people = onOff(options.people, '--people');
    const store = app.stores.tracking;
    const next =
      opens === undefined && clicks === undefined && people === undefined
        ? await store.settings(newsletter.id)
        : await store.setSettings(newsletter.id, { ...(opens !== undefined ? { opens } : {}), ...(clicks !== undefined ? { clicks } : {}), ...(people !== undefined ? { people } : {}) });
    print(
      `newsletter ${newsletter.slug}: opens ${next.opens ? 'tracked' : 'not tracked'}, clicks ${next.clicks ? 'tracked' : 'not tracked'}; per subscriber: ${next.people ? 'yes (who opened and clicked is kept with each hit, for campaigns sent from now on; subscribers export shows it, subscribers erase removes it)' : 'no (aggregate counts per campaign only)'}; the archive and web versions never track`,
    );
    return 0;
  });
}
