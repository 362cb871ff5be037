/**
 * SMTP_URL, read once: one relay or several, each with Mailroom's options (weight, rate, caps, pool, name, TLS) taken
 * out of its query string and the rest left for nodemailer. No network and no nodemailer here, so the settings can
 * check it at start.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MailroomError, quote } from '../core/errors.ts';
import { isLoopbackAddress } from '../net/address-policy.ts';

/** How one relay's connection is secured (README, "SMTP and TLS"). */
export interface RelayTls {
  /** The URL carries a user name or a password: they are sent only over TLS (smtps://, or STARTTLS that must succeed). */
  readonly credentials: boolean;
  /** `insecure_auth=local`: a relay on this machine may take the credentials over a plain connection. */
  readonly plaintextAuth: boolean;
  /** `ca_file=`: the file of CA certificates (PEM) trusted for this relay, and its content; null: the system's CAs. */
  readonly caFile: string | null;
  readonly ca: string | null;
}

/** One relay from SMTP_URL. */
export interface RelaySpec {
  /** From `name=`, else host:port (with #2, #3… when two relays share one). Hourly and daily caps are counted by this name. */
  readonly name: string;
  /** The URL for nodemailer: the part of SMTP_URL without Mailroom's own options, otherwise exactly as written. */
  readonly url: string;
  /** Share of the messages relative to the other relays (`weight=`, default 1). */
  readonly weight: number;
  /** Messages per second (`rate=`); null: SMTP_RATE_PER_SECOND; 0: no limit. */
  readonly ratePerSecond: number | null;
  /** Messages in any hour (`hourly=`); null: no cap. */
  readonly hourly: number | null;
  /** Messages in any 24 hours (`daily=`); null: no cap. */
  readonly daily: number | null;
  /** Connections (`pool=`); null: SMTP_POOL_SIZE (also for nodemailer's `pool=true`). */
  readonly pool: number | null;
  readonly tls: RelayTls;
}

export interface ParseRelaysOptions {
  /** Where SMTP_URL came from, for messages ("the environment", ".env"). */
  readonly from?: string;
  /** Folder `ca_file=` paths are relative to (default: the working directory). */
  readonly cwd?: string;
}

const MAILROOM_PARAMS = ['weight', 'rate', 'hourly', 'daily', 'pool', 'name', 'insecure_auth', 'ca_file'] as const;
type MailroomParam = (typeof MAILROOM_PARAMS)[number];
const isMailroomParam = (key: string): key is MailroomParam => (MAILROOM_PARAMS as readonly string[]).includes(key);

/** nodemailer's own query parameters that would let credentials go out unencrypted, and the truth value that would. */
const PLAINTEXT_PARAMS: Readonly<Record<string, boolean>> = { requireTLS: false, ignoreTLS: true, opportunisticTLS: true };

/** A query value as nodemailer reads it: numbers and true/false converted, anything else a string. */
function nodemailerTruth(raw: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  return Number.isNaN(Number(raw)) ? raw !== '' : Number(raw) !== 0;
}

/** Separators between URLs: commas or whitespace, but only where the next URL starts, so a comma inside a password stays put. */
const SEPARATOR = /[\s,]+(?=[a-z][a-z0-9+.-]*:\/\/)/i;

/**
 * Hides every password in SMTP_URL (one URL or several) before it is printed, relay by relay: a password runs to the
 * last `@` of its own relay's URL, so one holding `@` or `,` is hidden whole and the next relay's host stays readable.
 */
export function redact(smtpUrlSetting: string): string {
  return smtpUrlSetting
    .split(new RegExp(`(${SEPARATOR.source})`, 'i'))
    .map((piece, i) => (i % 2 === 0 ? piece.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^\s]*@(?=[^@]*$)/is, '$1***@') : piece))
    .join('');
}

function decodeQueryPart(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** A host that is this machine: localhost, 127.0.0.0/8, ::1 (in any of its forms). */
export function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || isLoopbackAddress(host);
}

/**
 * Reads SMTP_URL: one URL as before, or several separated by commas or whitespace, each with
 * Mailroom's options in its query string (weight, rate, hourly, daily, pool, name, insecure_auth,
 * ca_file); every other query parameter is left in the URL for nodemailer.
 */
export function parseRelays(smtpUrlSetting: string, options: ParseRelaysOptions = {}): RelaySpec[] {
  const from = options.from ? ` (from ${options.from})` : '';
  const parts = smtpUrlSetting
    .trim()
    .replace(/^[\s,]+|[\s,]+$/g, '')
    .split(SEPARATOR)
    .filter((part) => part.length > 0);
  if (parts.length === 0) throw new MailroomError('CONFIG', `SMTP_URL${from} is empty (expected smtp://user:pass@host:587, or several such URLs separated by commas)`);

  const specs: (Omit<RelaySpec, 'name'> & { name: string | null; host: string })[] = [];
  parts.forEach((part, index) => {
    const where = parts.length === 1 ? `SMTP_URL=${quote(redact(part))}${from}` : `SMTP_URL, relay ${index + 1} of ${parts.length} (${quote(redact(part))})${from}`;
    const bad = (why: string): never => {
      throw new MailroomError('CONFIG', `${where}: ${why}`);
    };
    let parsed: URL;
    try {
      parsed = new URL(part);
    } catch {
      return bad('is not a URL (expected smtp://user:pass@host:587 or smtps://user:pass@host:465)');
    }
    if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') bad(`scheme ${quote(parsed.protocol)} is not smtp: or smtps:`);
    if (!parsed.hostname) bad('has no host');

    // Take Mailroom's parameters out of the raw query, keeping the others byte for byte.
    const queryStart = part.indexOf('?');
    const hashStart = part.indexOf('#', queryStart < 0 ? 0 : queryStart);
    const values = new Map<MailroomParam, string>();
    const others = new Map<string, string>();
    let url = part;
    if (queryStart >= 0) {
      const rawQuery = part.slice(queryStart + 1, hashStart < 0 ? undefined : hashStart);
      const kept: string[] = [];
      for (const piece of rawQuery.split('&')) {
        if (piece === '') continue;
        const eq = piece.indexOf('=');
        const key = decodeQueryPart(eq < 0 ? piece : piece.slice(0, eq));
        const value = decodeQueryPart(eq < 0 ? '' : piece.slice(eq + 1));
        if (!isMailroomParam(key)) {
          others.set(key, value);
          kept.push(piece);
          continue;
        }
        if (values.has(key)) bad(`${key} is given twice`);
        values.set(key, value);
      }
      if (values.size > 0) {
        url = part.slice(0, queryStart) + (kept.length > 0 ? `?${kept.join('&')}` : '') + (hashStart < 0 ? '' : part.slice(hashStart));
      }
    }

    const number = (key: MailroomParam, check: (n: number) => boolean, expected: string): number | null => {
      const raw = values.get(key);
      if (raw === undefined) return null;
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!check(n)) bad(`${key}=${quote(raw)} is not ${expected}`);
      return n;
    };
    const wholeFrom = (min: number, max: number) => (n: number) => Number.isInteger(n) && n >= min && n <= max;
    const weight = number('weight', wholeFrom(1, 1_000_000), 'a whole number of 1 or more') ?? 1;
    const ratePerSecond = number('rate', (n) => Number.isFinite(n) && n >= 0, 'a number of messages per second (0 for no limit)');
    const hourly = number('hourly', wholeFrom(1, Number.MAX_SAFE_INTEGER), 'a whole number of messages per hour, 1 or more');
    const daily = number('daily', wholeFrom(1, Number.MAX_SAFE_INTEGER), 'a whole number of messages per day, 1 or more');
    // nodemailer's own `pool=true` (a pool is always used) means the default size.
    if (values.get('pool') === 'true') values.delete('pool');
    const pool = number('pool', wholeFrom(1, 100), 'a number of connections from 1 to 100');
    const name = values.get('name');
    if (name !== undefined && !/^[\w.:@-]{1,64}$/.test(name)) bad(`name=${quote(name)} must be 1 to 64 letters, digits or . _ - : @`);

    // Credentials travel only encrypted; the one way around it is a relay on this machine, asked for by name.
    const credentials = parsed.username !== '' || parsed.password !== '';
    const insecure = values.get('insecure_auth');
    if (insecure !== undefined && insecure !== 'local') bad(`insecure_auth=${quote(insecure)}: the only value is "local" (credentials without TLS, for a relay on this machine)`);
    if (insecure === 'local' && !isLocalHost(parsed.hostname)) {
      bad(`insecure_auth=local is only allowed for a relay on this machine (localhost, 127.0.0.1, ::1), not ${parsed.hostname}: use smtps:// or STARTTLS`);
    }
    const plaintextAuth = insecure === 'local';
    if (credentials && !plaintextAuth) {
      for (const [key, unsafe] of Object.entries(PLAINTEXT_PARAMS)) {
        const raw = others.get(key);
        if (raw !== undefined && nodemailerTruth(raw) === unsafe) {
          bad(`${key}=${raw} would send the password without TLS; remove it (for a relay on this machine only, insecure_auth=local allows that)`);
        }
      }
    }
    const caPath = values.get('ca_file');
    let caFile: string | null = null;
    let ca: string | null = null;
    if (caPath !== undefined) {
      if (caPath.trim() === '') bad('ca_file is empty (expected the path of a PEM file of CA certificates)');
      caFile = resolve(options.cwd ?? process.cwd(), caPath);
      try {
        ca = readFileSync(caFile, 'utf8');
      } catch (error) {
        bad(`ca_file=${quote(caPath)} cannot be read: ${(error as Error).message}`);
      }
      if (!ca?.includes('-----BEGIN CERTIFICATE-----')) bad(`ca_file=${quote(caPath)} holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----")`);
    }

    const defaultPort = parsed.protocol === 'smtps:' ? '465' : '587';
    specs.push({ name: name ?? null, host: `${parsed.hostname}:${parsed.port || defaultPort}`, url, weight, ratePerSecond, hourly, daily, pool, tls: { credentials, plaintextAuth, caFile, ca } });
  });

  const named = new Set<string>();
  for (const spec of specs) {
    if (spec.name === null) continue;
    if (named.has(spec.name)) throw new MailroomError('CONFIG', `SMTP_URL${from}: two relays are named ${quote(spec.name)}; names must differ`);
    named.add(spec.name);
  }
  const used = new Set<string>(named);
  return specs.map(({ host, name, ...spec }) => {
    let chosen = name ?? host;
    for (let n = 2; name === null && used.has(chosen); n++) chosen = `${host}#${n}`;
    used.add(chosen);
    return { ...spec, name: chosen };
  });
}
