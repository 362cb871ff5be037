/** Settings from the environment (and an optional .env file), validated once; every other module receives a Config. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { MailroomError, quote } from './core/errors.ts';
import { isLoopbackAddress } from './net/address-policy.ts';
import { parseRelays, redact } from './smtp/smtp-url.ts';
import { loadDeliverabilityConfig, type DeliverabilityConfig } from './deliverability/settings.ts';

export { redact } from './smtp/smtp-url.ts';

export interface DkimConfig {
  readonly domainName: string;
  readonly keySelector: string;
  readonly privateKey: string;
}

export interface Config {
  /** SQLite file path (default data/mailroom.db), or postgres://user:password@host:port/database. */
  readonly databaseUrl: string;
  /** MIGRATE_ON_START (default true): commands and `serve` apply missing migrations when they open the database; false: only `mailroom migrate` does. */
  readonly migrateOnStart: boolean;
  /** Folder for the local inbox, the generated secret and demo media. */
  readonly dataDir: string;
  /** null: use the built-in local inbox. */
  readonly smtpUrl: string | null;
  readonly port: number;
  readonly host: string;
  /** Base of every link in an email, without a trailing slash. */
  readonly publicUrl: string;
  readonly secret: string;
  /** NODE_ENV as given ('' when unset). */
  readonly nodeEnv: string;
  /** NODE_ENV is not "production" and PUBLIC_URL is unset or points at this machine: `serve` may run on defaults. */
  readonly localDevelopment: boolean;
  /** Which proxies' X-Forwarded-For to believe for the client IP: none (false), this many hops, or these addresses / CIDRs. */
  readonly trustProxy: TrustProxySetting;
  /** Record the client IP with a sign-up's consent (and its confirmation). */
  readonly signupRecordIp: boolean;
  /** Sign-up requests one client IP may make per minute; the next gets 429. */
  readonly signupRatePerMinute: number;
  /** Port of the built-in SMTP inbox (when SMTP_URL is unset). */
  readonly inboxSmtpPort: number;
  /** The built-in inbox keeps at most this many messages, dropping the oldest; 0 keeps every message. */
  readonly inboxMaxMessages: number;
  /** Off a terminal, a progress line for long work at most every this many seconds (PROGRESS_INTERVAL_SECONDS). */
  readonly progressIntervalSeconds: number;
  readonly smtpPoolSize: number;
  readonly smtpRatePerSecond: number | null;
  readonly maxAttempts: number;
  readonly retryBaseSeconds: number;
  /** A 4xx retried for longer than this (since the first attempt) becomes a failure. */
  readonly maxRetryHours: number;
  /** After a crash, rows that were in flight are sent again ('resend') or held as failed for review ('hold'). */
  readonly inFlightPolicy: 'resend' | 'hold';
  /** A runner's lease on a campaign; a crashed runner's campaign is taken over after this. */
  readonly campaignLeaseSeconds: number;
  /** After the SMTP server was unreachable, the campaign is tried again this much later. */
  readonly smtpRetrySeconds: number;
  /** A schedule may not run more often than this. */
  readonly scheduleMinIntervalMinutes: number;
  /** A slot missed while the service was down is still sent on start when it is younger than this; else skipped. */
  readonly scheduleCatchUpHours: number;
  /** node-cron expression (6 fields allowed) for the service's tick that checks schedules and runnable campaigns. */
  readonly schedulerTick: string;
  readonly dkim: DkimConfig | null;
  /** Sender part of Feedback-ID (Gmail's feedback loop); '' to leave the header out. */
  readonly feedbackIdSender: string;
  /** Bounces, complaints and provider webhooks (src/deliverability/settings.ts). */
  readonly deliverability: DeliverabilityConfig;
  /** Where the settings came from, for messages. */
  readonly sources: Readonly<Record<string, 'environment' | '.env' | 'default' | 'generated'>>;
}

const portSchema = z.coerce.number().int().min(0).max(65535);

/** Reads `.env` in the working directory, if any; the real environment wins over it. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): { values: Record<string, string | undefined>; fromFile: Set<string> } {
  const file = join(cwd, '.env');
  const fromFile = new Set<string>();
  const values: Record<string, string | undefined> = {};
  if (existsSync(file)) {
    let parsed: Record<string, string>;
    try {
      parsed = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch (error) {
      throw new MailroomError('CONFIG', `.env: cannot be read: ${(error as Error).message}`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      values[k] = v;
      fromFile.add(k);
    }
  }
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && v !== '') {
      values[k] = v;
      fromFile.delete(k);
    }
  }
  return { values, fromFile };
}

function fail(name: string, value: string, source: string, why: string): never {
  const shown = name === 'SECRET' ? `(${Buffer.byteLength(value)} bytes, not shown)` : quote(name === 'SMTP_URL' ? redact(value) : value);
  throw new MailroomError('CONFIG', `${name}=${shown} (from ${source}): ${why}`);
}


export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const { values, fromFile } = readEnvironment(env, cwd);
  const sources: Record<string, 'environment' | '.env' | 'default' | 'generated'> = {};
  const get = (name: string): string | undefined => {
    const v = values[name];
    if (v !== undefined && v !== '') sources[name] = fromFile.has(name) ? '.env' : 'environment';
    else sources[name] = 'default';
    return v === '' ? undefined : v;
  };
  const sourceOf = (name: string): string => (sources[name] === '.env' ? '.env' : 'the environment');
  const number = (name: string, fallback: number, schema: z.ZodType<number>): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) fail(name, raw, sourceOf(name), parsed.error.issues[0]?.message ?? 'invalid');
    return parsed.data;
  };

  const dataDir = resolve(cwd, get('DATA_DIR') ?? 'data');
  const databaseUrl = get('DATABASE_URL') ?? join(dataDir, 'mailroom.db');
  const port = number('PORT', 3000, portSchema);
  const host = get('HOST') ?? '127.0.0.1';

  const smtpUrl = get('SMTP_URL') ?? null;
  // One relay, or several separated by commas or spaces (each with ?weight=&rate=… options, see README); checked here
  // with the same parser the transport uses, so a bad URL or TLS option stops every command at start.
  if (smtpUrl !== null) parseRelays(smtpUrl, { from: sourceOf('SMTP_URL'), cwd });

  const publicUrlRaw = get('PUBLIC_URL') ?? `http://localhost:${port}`;
  let publicUrl: string;
  try {
    const u = new URL(publicUrlRaw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    publicUrl = u.toString().replace(/\/+$/, '');
  } catch {
    fail('PUBLIC_URL', publicUrlRaw, sourceOf('PUBLIC_URL'), 'is not an absolute http(s) URL');
  }

  let secret = get('SECRET');
  if (secret !== undefined && Buffer.byteLength(secret) < 32) fail('SECRET', secret, sourceOf('SECRET'), 'must be at least 32 bytes (try: openssl rand -hex 32)');
  if (secret === undefined) {
    secret = readOrCreateLocalSecret(dataDir);
    sources.SECRET = 'generated';
  }

  const nodeEnv = get('NODE_ENV') ?? '';
  const localDevelopment = nodeEnv !== 'production' && (sources.PUBLIC_URL === 'default' || isLoopbackUrl(publicUrl));
  const trustProxy = parseTrustProxy(get('TRUST_PROXY'), sourceOf('TRUST_PROXY'));
  const migrateOnStart = parseSwitch('MIGRATE_ON_START', get('MIGRATE_ON_START'), sourceOf('MIGRATE_ON_START'), true);
  const signupRecordIp = parseSwitch('SIGNUP_RECORD_IP', get('SIGNUP_RECORD_IP'), sourceOf('SIGNUP_RECORD_IP'), false);
  const signupRatePerMinute = number('SIGNUP_RATE_PER_MINUTE', 5, z.coerce.number().int().min(1).max(10_000));

  const dkimDomain = get('DKIM_DOMAIN');
  const dkimSelector = get('DKIM_SELECTOR');
  const dkimKeyInline = get('DKIM_PRIVATE_KEY');
  const dkimKeyFile = get('DKIM_PRIVATE_KEY_FILE');
  let dkim: DkimConfig | null = null;
  if (dkimDomain || dkimSelector || dkimKeyInline || dkimKeyFile) {
    if (!dkimDomain || !dkimSelector || !(dkimKeyInline || dkimKeyFile)) {
      throw new MailroomError('CONFIG', 'DKIM signing needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY (or DKIM_PRIVATE_KEY_FILE) together');
    }
    let privateKey = dkimKeyInline?.replace(/\\n/g, '\n') ?? '';
    if (dkimKeyFile) {
      try {
        privateKey = readFileSync(resolve(cwd, dkimKeyFile), 'utf8');
      } catch (error) {
        fail('DKIM_PRIVATE_KEY_FILE', dkimKeyFile, sourceOf('DKIM_PRIVATE_KEY_FILE'), `cannot be read: ${(error as Error).message}`);
      }
    }
    if (!privateKey.includes('PRIVATE KEY')) throw new MailroomError('CONFIG', 'DKIM private key: not a PEM private key (expected "-----BEGIN PRIVATE KEY-----")');
    dkim = { domainName: dkimDomain, keySelector: dkimSelector, privateKey };
  }

  return {
    databaseUrl,
    dataDir,
    smtpUrl,
    port,
    host,
    publicUrl,
    secret,
    nodeEnv,
    localDevelopment,
    trustProxy,
    signupRecordIp,
    migrateOnStart,
    signupRatePerMinute,
    inboxSmtpPort: number('INBOX_SMTP_PORT', 2525, portSchema),
    inboxMaxMessages: number('INBOX_MAX_MESSAGES', 1000, z.coerce.number().int().min(0).max(1_000_000)),
    progressIntervalSeconds: number('PROGRESS_INTERVAL_SECONDS', 5, z.coerce.number().min(0).max(86_400)),
    smtpPoolSize: number('SMTP_POOL_SIZE', 5, z.coerce.number().int().min(1).max(100)),
    smtpRatePerSecond: (() => {
      const v = number('SMTP_RATE_PER_SECOND', 0, z.coerce.number().min(0));
      return v > 0 ? v : null;
    })(),
    maxAttempts: number('SEND_MAX_ATTEMPTS', 5, z.coerce.number().int().min(1).max(50)),
    retryBaseSeconds: number('SEND_RETRY_BASE_SECONDS', 30, z.coerce.number().min(0)),
    maxRetryHours: number('SEND_MAX_RETRY_HOURS', 24, z.coerce.number().min(0)),
    inFlightPolicy: (() => {
      const v = get('IN_FLIGHT_POLICY') ?? 'resend';
      if (v !== 'resend' && v !== 'hold') fail('IN_FLIGHT_POLICY', v, sourceOf('IN_FLIGHT_POLICY'), 'must be "resend" or "hold"');
      return v;
    })(),
    campaignLeaseSeconds: number('CAMPAIGN_LEASE_SECONDS', 30, z.coerce.number().min(0.1)),
    smtpRetrySeconds: number('SMTP_RETRY_SECONDS', 30, z.coerce.number().min(0)),
    scheduleMinIntervalMinutes: number('SCHEDULE_MIN_INTERVAL_MINUTES', 60, z.coerce.number().min(0)),
    scheduleCatchUpHours: number('SCHEDULE_CATCH_UP_HOURS', 6, z.coerce.number().min(0)),
    schedulerTick: get('SCHEDULER_TICK') ?? '*/20 * * * * *',
    dkim,
    feedbackIdSender: get('FEEDBACK_ID_SENDER') ?? 'mailroom',
    deliverability: loadDeliverabilityConfig(get, sourceOf),
    sources,
  };
}

/** A local install gets a random secret the first time, kept in data/.secret so links in sent mail keep working. */
function readOrCreateLocalSecret(dataDir: string): string {
  const file = join(dataDir, '.secret');
  if (existsSync(file)) {
    const value = readFileSync(file, 'utf8').trim();
    if (Buffer.byteLength(value) >= 32) return value;
  }
  mkdirSync(dataDir, { recursive: true });
  const value = randomBytes(32).toString('hex');
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

export type TrustProxySetting = false | number | readonly string[];

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * TRUST_PROXY: unset or "false" trusts no proxy (the client IP is the socket's); a number N trusts the last N hops of
 * X-Forwarded-For; a comma-separated list trusts those addresses, CIDR ranges or keywords (loopback, linklocal,
 * uniquelocal). "true" is refused: trusting every hop lets any client choose its own IP and dodge the rate limits.
 */
export function parseTrustProxy(raw: string | undefined, source = 'the environment'): TrustProxySetting {
  if (raw === undefined) return false;
  const value = raw.trim().toLowerCase();
  if (value === '' || value === 'false' || value === '0' || value === 'no' || value === 'off') return false;
  if (value === 'true') fail('TRUST_PROXY', raw, source, 'trusting every proxy lets any client pick its own IP; give the number of proxies in front of Mailroom (e.g. 1) or their addresses (e.g. 127.0.0.1,10.0.0.0/8)');
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 10) fail('TRUST_PROXY', raw, source, 'more than 10 proxies in a row is unlikely; give their addresses instead');
    return hops;
  }
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const entry of entries) {
    if (PROXY_KEYWORDS.has(entry)) continue;
    const valid = entry.includes('/') ? isValidCidr(entry) : ipaddr.isValid(entry);
    if (!valid) fail('TRUST_PROXY', raw, source, `${quote(entry)} is not an IP address, a CIDR range (10.0.0.0/8) or one of loopback, linklocal, uniquelocal`);
  }
  return entries;
}

function isValidCidr(entry: string): boolean {
  try {
    ipaddr.parseCIDR(entry);
    return true;
  } catch {
    return false;
  }
}

function parseSwitch(name: string, raw: string | undefined, source: string, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  fail(name, raw, source, 'expected true or false');
}

/** localhost, *.localhost, 127.0.0.0/8 and ::1 (also as ::ffff:127.0.0.1 or ::127.0.0.1): a PUBLIC_URL nobody else can open. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isLoopbackAddress(host);
}

/**
 * What a command does that readers depend on: `serve` (the web pages, sign-up confirmations, scheduled campaigns),
 * `send` (mail to readers, test copies and dry runs included) or `links` (links readers open: issues, previews, forms).
 */
export type SettingsUse = 'serve' | 'send' | 'links';

const USE_TEXT: Readonly<Record<SettingsUse, { verb: string; needs: string }>> = {
  serve: { verb: 'serve', needs: 'a SECRET, a PUBLIC_URL and an SMTP_URL' },
  send: { verb: 'send', needs: 'a SECRET, a PUBLIC_URL readers can open and an SMTP_URL' },
  links: { verb: 'build links for readers', needs: 'a SECRET and a PUBLIC_URL readers can open' },
};

/**
 * The one rule for running outside local development (NODE_ENV=production, or a PUBLIC_URL that is not this machine):
 * links in emails need a stable SECRET of at least 32 bytes and a PUBLIC_URL readers can open, and mail must go to a
 * real SMTP server. `serve` applies it on start; the CLI applies it before every command that sends or builds links,
 * so nothing goes out that `serve` would refuse. Each problem names the setting, its value and where it came from.
 */
export function checkSettingsFor(config: Config, use: SettingsUse): void {
  if (config.localDevelopment) return;
  const explicit = (name: string): boolean => config.sources[name] === 'environment' || config.sources[name] === '.env';
  const sourceOf = (name: string): string => (config.sources[name] === '.env' ? '.env' : 'the environment');
  const why =
    config.nodeEnv === 'production'
      ? `NODE_ENV=production${config.sources.NODE_ENV === '.env' ? ', from .env' : ''}`
      : `PUBLIC_URL=${config.publicUrl} is not on this machine`;
  const problems: string[] = [];
  if (!explicit('SECRET')) {
    problems.push(
      `SECRET is not set (a secret generated into ${join(config.dataDir, '.secret')} would sign the links): set it to at least 32 random bytes (openssl rand -hex 32) and keep it stable; it signs every unsubscribe, preferences and confirmation link`,
    );
  }
  if (!explicit('PUBLIC_URL')) {
    problems.push(`PUBLIC_URL is not set (links would start with the default ${config.publicUrl}): set it to the address readers open, e.g. https://news.example.com; every link in an email starts with it`);
  } else if (isLoopbackUrl(config.publicUrl)) {
    problems.push(
      `PUBLIC_URL=${quote(config.publicUrl)} (from ${sourceOf('PUBLIC_URL')}) points at this machine: readers could not open the links in their emails; set it to the address readers open, e.g. https://news.example.com`,
    );
  }
  if (config.smtpUrl === null && use !== 'links') {
    problems.push(
      use === 'serve'
        ? // The built-in inbox shows every captured message, personal links included, to whoever opens /inbox.
          'SMTP_URL is not set: outside local development mail must go to a real SMTP server (the built-in inbox would publish every message at /inbox)'
        : `SMTP_URL is not set (mail would go to the built-in inbox on 127.0.0.1:${config.inboxSmtpPort}, which runs only in local development): set it to your SMTP server, e.g. smtps://user:pass@smtp.example.com:465`,
    );
  }
  if (problems.length > 0) {
    const { verb, needs } = USE_TEXT[use];
    throw new MailroomError('CONFIG', `refusing to ${verb} outside local development (${why}) without ${needs}`, problems);
  }
}

/** `mailroom serve` outside local development refuses to start on defaults (see checkSettingsFor). */
export function checkServeSettings(config: Config): void {
  checkSettingsFor(config, 'serve');
}
