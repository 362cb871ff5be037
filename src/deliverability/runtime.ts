/** Wires the deliverability loop from the App: the bounce service's dependencies, and what `serve` runs (IMAP polling, the SMTP listener). */
import type { App } from '../app.ts';
import type { BounceServiceDeps, DeliverabilityEvent } from './bounce-service.ts';
import { startBounceSmtpListener, type BounceSmtpListener } from './bounce-smtp.ts';
import { pollBounceMailbox, redactImapUrl, type ImapOptions } from './imap-poller.ts';
import { providerWebhookRoutes, type SnsFetcher } from './provider-webhooks.ts';
import type { FastifyInstance } from 'fastify';
import { dispatchWebhooks, type WebhookPolicy } from '../webhooks/outbound.ts';
import { trackingRoutes } from '../tracking/routes.ts';
import { sendDueWelcomes } from '../subscribers/welcome.ts';

/** The HTTP routes of the loop: tracking (click redirects, open pixel) and provider webhooks (each only when its setting is set). */
export function deliverabilityRoutes(app: App, options: { log?: (line: string) => void; sns?: SnsFetcher } = {}): ((scope: FastifyInstance) => Promise<void>)[] {
  return [
    trackingRoutes({ store: app.stores.tracking, secret: app.config.secret, ...(options.log ? { log: options.log } : {}) }),
    providerWebhookRoutes({
      bounces: bounceServiceDeps(app, options),
      settings: app.config.deliverability,
      clock: app.clock,
      ...(options.sns ? { sns: options.sns } : {}),
      ...(options.log ? { log: options.log } : {}),
    }),
  ];
}

export function bounceServiceDeps(app: App, options: { log?: (line: string) => void; onEvent?: (event: DeliverabilityEvent) => void | Promise<void> } = {}): BounceServiceDeps {
  const d = app.config.deliverability;
  return {
    store: app.stores.deliverability,
    secret: app.config.secret,
    policy: { limit: d.softBounceLimit, windowDays: d.softBounceWindowDays },
    ...(options.log ? { log: options.log } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  };
}

export interface DeliverabilityRuntime {
  readonly smtp: BounceSmtpListener | null;
  /** Polls the mailbox now (also what the timer does); resolves when done. */
  pollNow(): Promise<void>;
  /** Sends the due welcome emails, queues new events and delivers the due outbound webhooks now (also what the timer does). */
  dispatchNow(): Promise<void>;
  close(): Promise<void>;
}

export async function startDeliverability(
  app: App,
  options: { log: (line: string) => void; imap?: ImapOptions; onEvent?: (event: DeliverabilityEvent) => void | Promise<void>; webhookPolicy?: WebhookPolicy },
): Promise<DeliverabilityRuntime> {
  const d = app.config.deliverability;
  const deps = bounceServiceDeps(app, options);
  const { log } = options;
  const smtp = d.bounceSmtpPort !== null ? await startBounceSmtpListener(deps, { host: d.bounceSmtpHost, port: d.bounceSmtpPort, bounceDomain: d.bounceDomain }) : null;
  if (smtp) log(`Bounce receiver (SMTP) on ${d.bounceSmtpHost}:${smtp.port} for ${d.bounceDomain ?? 'any domain'} (BOUNCE_SMTP_PORT)`);
  let polling: Promise<void> | null = null;
  const imapUrl = d.bounceImapUrl;
  const pollNow = (): Promise<void> => {
    if (!imapUrl) return Promise.resolve();
    polling ??= pollBounceMailbox(deps, imapUrl, options.imap ?? {})
      .then((s) => {
        if (s.read > 0) log(`bounces: read ${s.read} message(s) from ${s.mailbox}: ${s.applied} applied, ${s.ignored} not bounces (left alone), ${s.unmatched} naming no send of ours`);
      })
      .catch((error: unknown) => log(`bounces: ${(error as Error).message}`))
      .finally(() => {
        polling = null;
      });
    return polling;
  };
  const timer = imapUrl ? setInterval(() => void pollNow(), d.bouncePollSeconds * 1000) : null;
  timer?.unref();
  if (imapUrl) {
    log(`Bounce mailbox ${redactImapUrl(imapUrl)} polled every ${d.bouncePollSeconds} s (BOUNCE_IMAP_URL)`);
    void pollNow();
  }
  // Every WEBHOOK_TICK_SECONDS: welcome emails that are due, then outbound webhooks (new events queued, due deliveries sent).
  const webhooks = app.stores.webhooks;
  const welcomes = app.stores.welcomes;
  const policy = options.webhookPolicy;
  let dispatching: Promise<void> | null = null;
  const dispatch = (): Promise<void> => {
    dispatching ??= (async () => {
      try {
        const w = await sendDueWelcomes({ stores: app.stores, welcomes, settings: { publicUrl: app.config.publicUrl, secret: app.config.secret }, openTransport: app.openTransport, clock: app.clock, log });
        if (w.sent + w.failed > 0) log(`welcome emails: ${w.sent} sent${w.failed ? `, ${w.failed} failed` : ''}`);
      } catch (error) {
        log(`welcome emails: ${(error as Error).message}`);
      }
      if (policy) await dispatchWebhooks(webhooks, policy, app.clock, { log }).catch((error: unknown) => log(`webhooks: ${(error as Error).message}`));
    })().finally(() => {
      dispatching = null;
    });
    return dispatching;
  };
  const webhookTimer = setInterval(() => void dispatch(), d.webhookTickSeconds * 1000);
  webhookTimer.unref();
  return {
    smtp,
    pollNow,
    dispatchNow: dispatch,
    async close() {
      if (timer) clearInterval(timer);
      clearInterval(webhookTimer);
      await polling;
      await dispatching;
      await smtp?.close();
    },
  };
}
