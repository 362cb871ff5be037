/** `mailroom serve`: the HTTP server, the built-in SMTP inbox when SMTP_URL is unset, and the demo workspace on a first start in local development. */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AccountService } from './accounts/account-service.ts';
import { createApp, type App } from './app.ts';
import { effectiveSettings } from './services/effective-settings.ts';
import { displayDatabaseUrl } from './store/database.ts';
import type { Config } from './config.ts';
import { checkServeSettings, redact } from './config.ts';
import cron from 'node-cron';
import { createFeedPoller, type FeedPoller } from './feeds/feed-poller.ts';
import { buildHttpServer } from './http/server.ts';
import { fetchPolicyFrom, loadFetchSettings } from './net/fetch-settings.ts';
import { runDueSlots } from './schedule/scheduler.ts';
import { createCampaignRunner } from './sending/campaign-runner.ts';
import { startLocalInbox, type LocalInbox } from './smtp/local-inbox.ts';
import { deliverabilityRoutes, startDeliverability, type DeliverabilityRuntime } from './deliverability/runtime.ts';

export interface Service {
  readonly app: App;
  readonly httpUrl: string;
  readonly inbox: LocalInbox | null;
  /** Polls feeds every FEED_POLL_MINUTES; null when that is 0. */
  readonly feedPoller: FeedPoller | null;
  /** Bounce mailbox polling, the bounce SMTP listener, welcome emails and outbound webhooks (issue 13). */
  readonly deliverability: DeliverabilityRuntime;
  close(): Promise<void>;
}

export interface ServiceOptions {
  readonly loadDemo: boolean;
  readonly log: (line: string) => void;
  /** false (`serve --no-migrate`): do not migrate at start, whatever MIGRATE_ON_START says. */
  readonly migrate?: boolean;
  /** false (`serve --no-send`): this process sends no campaign; `mailroom worker` processes do. */
  readonly send?: boolean;
}

export async function startService(config: Config, options: ServiceOptions): Promise<Service> {
  // Outside local development, refuse to run on a generated SECRET or a default PUBLIC_URL.
  checkServeSettings(config);
  const fetchSettings = loadFetchSettings(config);
  const app = await createApp(config, options.migrate === false ? { migrate: false } : {});
  const { log } = options;
  let inbox: LocalInbox | null = null;
  try {
    if (app.usesLocalInbox) {
      inbox = await startLocalInbox({ dir: join(config.dataDir, 'inbox'), host: '127.0.0.1', port: config.inboxSmtpPort, maxMessages: config.inboxMaxMessages });
    }
    // Demo content only where nobody reads it: on a first start in local development, or when asked for (`mailroom demo`).
    const { DEMO_ASSETS, isDemoWorkspaceLoaded, loadDemoWorkspace } = await import('./demo.ts');
    const empty = (await app.stores.newsletters.countNewsletters()) === 0;
    if (empty && options.loadDemo && config.localDevelopment) {
      const summary = await loadDemoWorkspace(app);
      log(`Loaded the demo workspace: newsletter "weekly", ${summary.articles} articles, ${summary.subscribers} subscribers on list "demo".`);
      for (const p of summary.problems) log(`warning: ${p}`);
    } else if (empty) {
      log(
        config.localDevelopment
          ? 'No newsletter yet: load the demo workspace with `npx mailroom demo`, or create one with `npx mailroom newsletter create`.'
          : 'No newsletter yet. Outside local development the demo workspace is not loaded by itself: create a newsletter with `npx mailroom newsletter create`, or load the demo with `npx mailroom demo`.',
      );
    }
    // The API makes campaigns the runner sends; it wakes the runner so they start now rather than at the next tick.
    let kick: () => void = () => undefined;
    const http = await buildHttpServer({
      stores: app.stores,
      publicUrl: config.publicUrl,
      secret: config.secret,
      mediaDir: join(config.dataDir, 'media'),
      demoMedia: { dir: DEMO_ASSETS.mediaDir, enabled: () => isDemoWorkspaceLoaded(app.stores) },
      inbox,
      openTransport: app.openTransport,
      trustProxy: config.trustProxy,
      signup: { recordIp: config.signupRecordIp, ratePerMinute: config.signupRatePerMinute },
      localDevelopment: config.localDevelopment,
      log,
      plugins: deliverabilityRoutes(app, { log }),
      api: {
        sendDeps: () => app.sendDeps({ log }),
        kickCampaigns: () => kick(),
        settings: () => effectiveSettings(config),
        fetchPolicy: fetchPolicyFrom(fetchSettings),
        scheduleMinIntervalMinutes: config.scheduleMinIntervalMinutes,
      },
    });
    const address = await http.listen({ port: config.port, host: config.host });
    log(`Mailroom is running at ${address} (links in emails use PUBLIC_URL=${config.publicUrl})`);
    log(`Database: ${displayDatabaseUrl(config.databaseUrl)}`);
    if (inbox) {
      log(`Built-in SMTP inbox on smtp://127.0.0.1:${inbox.port}; messages show at ${config.publicUrl}/inbox (the newest ${config.inboxMaxMessages > 0 ? config.inboxMaxMessages : 'all'} kept: INBOX_MAX_MESSAGES)`);
      if (!config.localDevelopment) log('warning: SMTP_URL is unset outside local development: no reader gets any mail, and /inbox shows every message (with its personal links) to anyone who can open this server');
    } else {
      log(`Sending through ${redact(app.smtpUrl)}`);
    }
    if (await isDemoWorkspaceLoaded(app.stores)) log('Next, in another terminal:  npx mailroom send weekly');
    // Bounces and complaints: the IMAP mailbox (BOUNCE_IMAP_URL) and the inbound SMTP listener (BOUNCE_SMTP_PORT).
    const deliverability = await startDeliverability(app, { log, webhookPolicy: fetchPolicyFrom(fetchSettings) });
    // Local development stays two commands: the demo's owner gets a one-time login link on every start.
    // Elsewhere no account exists until `mailroom users create`.
    if (config.localDevelopment && (await isDemoWorkspaceLoaded(app.stores))) {
      const owner = await new AccountService(app.stores.accounts, { publicUrl: config.publicUrl }).ensureLocalOwner();
      log(`Log in as ${owner.email} (owner${owner.created ? ', made for the demo workspace' : ''}) with this one-time link: ${owner.link}`);
    }

    // node-cron is only the tick: which slots are due, and which campaigns need running, is read from the database.
    const runner = createCampaignRunner(app.sendDeps({ log }));
    let ticking: Promise<void> | null = null;
    // One scheduler and one feed poller across every process on the database: a lease on the database's clock,
    // renewed each tick (SCHEDULER_TICK, 20 s by default); a dead holder is replaced once it runs out.
    const { leaders } = app.stores;
    const leaderId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const leaseMs = 90_000;
    const tick = (): Promise<void> => {
      ticking ??= (async () => {
        try {
          if (await leaders.claim('scheduler', leaderId, leaseMs))
            await runDueSlots({ stores: app.stores, publicUrl: config.publicUrl, catchUpMs: config.scheduleCatchUpHours * 3600_000, log });
        } catch (error) {
          log(`scheduler: ${(error as Error).message}`);
        }
        if (options.send !== false) void runner.tick();
      })().finally(() => {
        ticking = null;
      });
      return ticking;
    };
    const task = cron.schedule(config.schedulerTick, () => tick(), { name: 'mailroom-tick', noOverlap: true });
    kick = () => {
      if (options.send !== false) void runner.tick();
    };
    void tick();

    // Feeds are polled on their own every-minute tick; each feed is due FEED_POLL_MINUTES after its last poll.
    const feedPoller =
      fetchSettings.feedPollMinutes > 0
        ? createFeedPoller({
            stores: app.stores,
            feeds: app.stores.feeds,
            policy: fetchPolicyFrom(fetchSettings),
            intervalMinutes: fetchSettings.feedPollMinutes,
            log,
            leader: () => leaders.claim('feed-poller', leaderId, leaseMs),
          })
        : null;
    feedPoller?.start();
    log(feedPoller ? `Feeds are polled every ${fetchSettings.feedPollMinutes} minute(s) (FEED_POLL_MINUTES)` : 'Feed polling is off (FEED_POLL_MINUTES=0); poll with: npx mailroom feeds poll');
    return {
      app,
      httpUrl: address,
      inbox,
      feedPoller,
      deliverability,
      async close() {
        // Drain: stop ticking, let the campaign being sent record its messages in flight, then close the rest.
        await feedPoller?.stop();
        await task.stop();
        await task.destroy();
        await ticking;
        await runner.stop();
        await deliverability.close();
        await leaders.release('scheduler', leaderId).catch(() => undefined);
        await leaders.release('feed-poller', leaderId).catch(() => undefined);
        await http.close();
        await inbox?.close();
        await app.close();
      },
    };
  } catch (error) {
    await inbox?.close();
    await app.close();
    throw error;
  }
}
