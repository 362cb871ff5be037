/** Settings for fetching pages and feeds (FETCH_* and FEED_POLL_MINUTES), read from the environment or .env like every other setting. */
import { readEnvironment, type Config } from '../config.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { parsePrivateAccess, type PrivateAccess } from './address-policy.ts';
import type { FetchPolicy } from './safe-fetch.ts';

export interface FetchSettings {
  readonly access: PrivateAccess;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly userAgent: string;
  /** Minutes between two polls of a feed by `mailroom serve`; 0 turns scheduled polling off. */
  readonly feedPollMinutes: number;
}

export const DEFAULT_FETCH_TIMEOUT_SECONDS = 15;
export const DEFAULT_FETCH_MAX_MB = 5;
export const DEFAULT_FEED_POLL_MINUTES = 30;

/** "Mailroom/0.1 (+https://news.example.com)": who is asking, and where to find out more. */
export function makeUserAgent(publicUrl: string): string {
  return `Mailroom/0.1 (+${publicUrl})`;
}

export function loadFetchSettings(config: Pick<Config, 'publicUrl'>, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): FetchSettings {
  const { values, fromFile } = readEnvironment(env, cwd);
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const raw = values[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new MailroomError('CONFIG', `${name}=${quote(raw)} (from ${fromFile.has(name) ? '.env' : 'the environment'}): expected a number from ${min} to ${max}`);
    }
    return value;
  };
  let access: PrivateAccess;
  try {
    access = parsePrivateAccess(values.FETCH_ALLOW_PRIVATE);
  } catch (error) {
    const from = fromFile.has('FETCH_ALLOW_PRIVATE') ? '.env' : 'the environment';
    throw new MailroomError('CONFIG', `${(error as Error).message} (from ${from})`);
  }
  return {
    access,
    timeoutMs: Math.round(number('FETCH_TIMEOUT_SECONDS', DEFAULT_FETCH_TIMEOUT_SECONDS, 1, 300) * 1000),
    maxBytes: Math.round(number('FETCH_MAX_MB', DEFAULT_FETCH_MAX_MB, 0.1, 100) * 1024 * 1024),
    userAgent: makeUserAgent(config.publicUrl),
    feedPollMinutes: Math.round(number('FEED_POLL_MINUTES', DEFAULT_FEED_POLL_MINUTES, 0, 10080)),
  };
}

export function fetchPolicyFrom(settings: FetchSettings): FetchPolicy {
  return { userAgent: settings.userAgent, timeoutMs: settings.timeoutMs, maxBytes: settings.maxBytes, access: settings.access };
}
