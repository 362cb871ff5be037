/** The composition root: the one place that builds concrete adapters (store, SMTP) from the Config. */
import type { Config } from './config.ts';
import type { EngineOptions } from './sending/engine.ts';
import type { MessageTransport } from './sending/ports.ts';
import type { SendDeps } from './sending/send-newsletter.ts';
import { installFastDotStuffing } from './smtp/dot-stuffing.ts';
import { createRelayLimiters, createRelayTransport, parseRelays } from './smtp/relays.ts';
import { openStores, type Stores } from './store/open-store.ts';
import { SqlRelayQuotaStore } from './store/relay-quota-store.ts';
import { isPostgres } from './store/dialect.ts';
import { SqlSendClaims } from './store/send-claims-store.ts';
import { SqlRelayRateStore } from './store/relay-rate-store.ts';

/** Every store by aggregate, on one database handle (`db`: the handle itself, for queries outside the aggregates). */
export type AppStores = Stores;

export interface App {
  readonly config: Config;
  /** The stores; consumers take the part they need through interfaces of their own (see tests/architecture.test.ts). */
  readonly stores: AppStores;
  /** The SMTP URL messages go to: SMTP_URL, or the built-in local inbox. */
  readonly smtpUrl: string;
  readonly usesLocalInbox: boolean;
  /** The store's clock (tests inject one). */
  readonly clock: () => Date;
  openTransport(): MessageTransport;
  sendDeps(extra?: Partial<Pick<SendDeps, 'log' | 'signal' | 'onProgress'>>): SendDeps;
  close(): Promise<void>;
}

export function engineOptionsFrom(config: Config): Partial<EngineOptions> {
  return {
    maxAttempts: config.maxAttempts,
    retryBaseMs: config.retryBaseSeconds * 1000,
    maxRetryAgeMs: config.maxRetryHours * 3600_000,
    inFlightPolicy: config.inFlightPolicy,
    leaseMs: config.campaignLeaseSeconds * 1000,
    smtpRetryMs: config.smtpRetrySeconds * 1000,
  };
}

/** `migrate`: apply missing migrations on open (default: MIGRATE_ON_START); false: fail if the schema is behind. */
export async function createApp(config: Config, options: { clock?: () => Date; migrate?: boolean } = {}): Promise<App> {
  // nodemailer's SMTP client dot-stuffs every message byte by byte in JavaScript; this puts a native one in its
  // DataStream (process-wide), only after checking it writes the same bytes (nodemailer is pinned in package.json).
  installFastDotStuffing();
  const base = await openStores(config.databaseUrl, { ...(options.clock ? { clock: options.clock } : {}), migrate: options.migrate ?? config.migrateOnStart });
  const usesLocalInbox = config.smtpUrl === null;
  const smtpUrl = config.smtpUrl ?? `smtp://127.0.0.1:${config.inboxSmtpPort}`;
  // SMTP_URL may name several relays; their per-second rate limiters live as long as the app, shared by its campaigns.
  const relayLimiters = createRelayLimiters();
  const relays = parseRelays(smtpUrl);
  // Hourly and daily caps are counted in the database: they hold across restarts and every process sending through it.
  const quotas = new SqlRelayQuotaStore(base.db);
  // Postgres: every process sends every campaign together, claiming rows in small batches (send-claims-store.ts);
  // SQLite (one writer): one process runs a campaign at a time, under the campaign's lease.
  const claims = isPostgres(base.db) ? new SqlSendClaims(base.db) : null;
  // Postgres: a relay's per-second rate is reserved in the database, so it holds for all workers together
  // (relay-rate-store.ts). SQLite: this process's limiter (one sending process per campaign).
  const sharedRate = isPostgres(base.db) ? new SqlRelayRateStore(base.db) : undefined;
  const openTransport = (): MessageTransport =>
    createRelayTransport(relays, { poolSize: config.smtpPoolSize, dkim: config.dkim, defaultRatePerSecond: config.smtpRatePerSecond, limiters: relayLimiters, quotas, ...(sharedRate ? { sharedRate } : {}), ...(usesLocalInbox ? { timeoutSeconds: 5 } : {}) });
  const stores: AppStores = base;
  return {
    config,
    stores,
    smtpUrl,
    usesLocalInbox,
    clock: options.clock ?? (() => new Date()),
    openTransport,
    sendDeps: (extra = {}) => ({
      stores,
      openTransport,
      settings: { publicUrl: config.publicUrl, secret: config.secret, feedbackIdSender: config.feedbackIdSender, bounceDomain: config.deliverability.bounceDomain },
      engineOptions: engineOptionsFrom(config),
      ...(claims ? { claims } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...extra,
    }),
    close: () => base.close(),
  };
}
