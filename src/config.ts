/** Settings from the environment (and an optional .env file), validated once; every other module receives a Config. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { MailroomError, quote } from './core/errors.ts';

export interface DkimConfig {
  readonly domainName: string;
  readonly keySelector: string;
  readonly privateKey: string;
}

export interface Config {
  /** SQLite file path (default data/mailroom.db). */
  readonly databaseUrl: string;
  /** Folder for the local inbox, the generated secret and demo media. */
  readonly dataDir: string;
  /** null: use the built-in local inbox. */
  readonly smtpUrl: string | null;
  readonly port: number;
  readonly host: string;
  /** Base of every link in an email, without a trailing slash. */
  readonly publicUrl: string;
  readonly secret: string;
  /** Port of the built-in SMTP inbox (when SMTP_URL is unset). */
  readonly inboxSmtpPort: number;
  readonly smtpPoolSize: number;
  readonly smtpRatePerSecond: number | null;
  readonly maxAttempts: number;
  readonly retryBaseSeconds: number;
  readonly dkim: DkimConfig | null;
  /** Sender part of Feedback-ID (Gmail's feedback loop); '' to leave the header out. */
  readonly feedbackIdSender: string;
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

/** Hides a password in a URL before it is printed. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
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
  if (smtpUrl !== null) {
    let parsed: URL;
    try {
      parsed = new URL(smtpUrl);
    } catch {
      fail('SMTP_URL', smtpUrl, sourceOf('SMTP_URL'), 'is not a URL (expected smtp://user:pass@host:587 or smtps://user:pass@host:465)');
    }
    if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') fail('SMTP_URL', smtpUrl, sourceOf('SMTP_URL'), `scheme ${quote(parsed.protocol)} is not smtp: or smtps:`);
    if (!parsed.hostname) fail('SMTP_URL', smtpUrl, sourceOf('SMTP_URL'), 'has no host');
  }

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
    inboxSmtpPort: number('INBOX_SMTP_PORT', 2525, portSchema),
    smtpPoolSize: number('SMTP_POOL_SIZE', 5, z.coerce.number().int().min(1).max(100)),
    smtpRatePerSecond: (() => {
      const v = number('SMTP_RATE_PER_SECOND', 0, z.coerce.number().min(0));
      return v > 0 ? v : null;
    })(),
    maxAttempts: number('SEND_MAX_ATTEMPTS', 5, z.coerce.number().int().min(1).max(50)),
    retryBaseSeconds: number('SEND_RETRY_BASE_SECONDS', 30, z.coerce.number().min(0)),
    dkim,
    feedbackIdSender: get('FEEDBACK_ID_SENDER') ?? 'mailroom',
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
