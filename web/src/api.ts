/** The web app's one way to the REST API (/api/v1): JSON in and out, the session's CSRF token on every change, problems as ApiError. */

export type Role = 'viewer' | 'editor' | 'owner';

export interface FieldProblem {
  readonly field: string;
  readonly value?: unknown;
  readonly message: string;
}

/** A problem+json answer from the API, or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: readonly FieldProblem[];
  constructor(status: number, code: string, message: string, errors: readonly FieldProblem[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

let csrfToken: string | null = null;
let expiredListener: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a request answers 401 after a login: the session expired or was ended elsewhere. */
export function onSessionExpired(listener: (() => void) | null): void {
  expiredListener = listener;
}

export interface RequestOptions {
  /** A body that is not JSON (CSV, Markdown, a page): sent as is with this media type. */
  readonly contentType?: string;
  /** Do not treat a 401 as an expired session (the login and session probes). */
  readonly quiet401?: boolean;
}

export async function api<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let payload: string | undefined;
  if (body !== undefined) {
    if (options.contentType) {
      headers['content-type'] = options.contentType;
      payload = String(body);
    } else {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `the server did not answer (${(error as Error).message})`);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text === '' ? null : JSON.parse(text);
  } catch {
    data = null;
  }
  if (!response.ok) {
    const problem = (data ?? {}) as { detail?: string; code?: string; errors?: FieldProblem[] };
    const error = new ApiError(response.status, problem.code ?? 'HTTP', problem.detail ?? `${method} ${path}: HTTP ${response.status}`, problem.errors ?? []);
    if (response.status === 401 && !options.quiet401) expiredListener?.();
    throw error;
  }
  return data as T;
}

// ------------------------------------------------------------------ shapes the pages read (see /api/openapi.json)

export interface Session {
  readonly kind: 'session' | 'token';
  readonly name: string;
  readonly role: Role;
  readonly csrfToken: string | null;
}
export interface User {
  readonly id: number;
  readonly email: string;
  readonly role: Role;
  readonly disabled: boolean;
  readonly hasPassword: boolean;
  readonly createdAt: string;
}
export interface LoginAnswer {
  readonly user: User;
  readonly csrfToken: string;
  readonly expiresAt: string;
}
export interface Newsletter {
  readonly id: number;
  readonly slug: string;
  readonly name: string;
  readonly fromName: string;
  readonly fromEmail: string;
  readonly listId: number;
  readonly subjectTemplate: string;
  readonly maxArticles: number;
  readonly articles: { readonly total: number; readonly unsent: number };
}
export interface MailingList {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly subscribed: number;
  readonly unsubscribed: number;
  readonly pending: number;
}
export interface Article {
  readonly id: number;
  readonly slug: string;
  readonly title: string;
  readonly summary: string;
  readonly body?: string;
  readonly canonicalUrl: string;
  readonly author: string;
  readonly publishedAt: string;
  readonly tags: readonly string[];
}
export interface SavedArticles {
  readonly saved: readonly { readonly outcome: 'added' | 'updated' | 'unchanged'; readonly article: Article; readonly source: string; readonly warnings: readonly string[] }[];
  readonly rejected: readonly { readonly message: string }[];
}
export interface Issue {
  readonly id: number;
  readonly number: number;
  readonly subject: string;
  readonly preheader: string;
  readonly articleIds: readonly number[];
  readonly createdAt: string;
  readonly campaigns?: number;
  readonly htmlBytes?: number;
}
export interface Preview {
  readonly email: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}
export interface IssueWarnings {
  readonly email: string;
  readonly html: { readonly bytes: number; readonly limitBytes: number; readonly warnBytes: number; readonly verdict: 'ok' | 'near' | 'clipped' };
  readonly imagesWithoutAlt: readonly string[];
  readonly failingUrls: readonly { readonly url: string; readonly kind: 'link' | 'image'; readonly status: number | null }[];
  readonly checkedUrls: number;
  readonly otherHosts: readonly string[];
  readonly liveOnceSent: readonly string[];
}
export interface ListGrowth {
  readonly days: readonly string[];
  readonly lists: readonly { readonly list: string; readonly joined: readonly number[]; readonly left: readonly number[]; readonly totalJoined: number; readonly totalLeft: number }[];
}
/** Why the relay stopped a campaign, as the transport knew it (the API's relayFault / relay.state). */
export type RelayFault = 'refusing-logins' | 'unreachable' | 'failing';
export type RelayState = 'ok' | RelayFault;
export type Problem =
  | { readonly kind: 'relay'; readonly state: Exclude<RelayState, 'ok'>; readonly message: string; readonly campaignId: number | null; readonly retryAt: string | null }
  | { readonly kind: 'campaign-paused'; readonly campaignId: number; readonly newsletterId: number; readonly reason: 'operator' | 'smtp'; readonly message: string }
  | { readonly kind: 'feed-failing'; readonly feedId: number; readonly url: string; readonly title: string; readonly newsletter: string; readonly message: string; readonly lastSuccessAt: string | null };
export interface Problems {
  readonly relay: { readonly state: RelayState; readonly lastError: string | null; readonly campaignId: number | null; readonly retryAt: string | null };
  readonly items: readonly Problem[];
}
export type CampaignStatus = 'scheduled' | 'sending' | 'paused' | 'sent' | 'failed' | 'cancelled';
export interface Campaign {
  readonly id: number;
  readonly issueId: number;
  readonly newsletterId: number;
  readonly listId: number;
  readonly status: CampaignStatus;
  readonly createdAt: string;
  readonly scheduledAt: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly lastError: string | null;
  readonly pauseReason: 'operator' | 'smtp' | null;
  /** With pauseReason 'smtp': what was wrong with the relay. */
  readonly relayFault: RelayFault | null;
  readonly resumeAfter: string | null;
}
export interface Counts {
  readonly sent: number;
  readonly failed: number;
  readonly skipped: number;
  readonly deferred: number;
  readonly pending: number;
  readonly sending: number;
  readonly remaining: number;
  readonly total: number;
}
export interface Progress {
  readonly campaign: Campaign;
  readonly counts: Counts;
  readonly ratePerMinute: number | null;
  readonly etaSeconds: number | null;
}
export interface SendRow {
  readonly email: string;
  readonly status: string;
  readonly attempts: number;
  readonly smtpResponse: string | null;
  readonly error: string | null;
}
export interface Subscriber {
  readonly id: number;
  readonly email: string;
  readonly name: string;
  readonly status: string;
  readonly createdAt: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly lists: readonly { readonly name: string; readonly status: string }[];
}
export interface ImportJob {
  readonly id: string;
  readonly list: string;
  readonly source: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly linesRead: number;
  readonly report: { readonly addedToList: number; readonly newPeople: number; readonly alreadyKnown: number; readonly alreadyOnList: number; readonly profilesChanged: number; readonly unchanged: number; readonly keptOut: number; readonly rejected: number; readonly applied: boolean } | null;
  readonly lines: readonly string[];
  readonly error: string | null;
}
export interface Schedule {
  readonly newsletter: string;
  readonly cron: string;
  readonly timezone: string;
  readonly nextRuns: readonly string[];
}
export interface Feed {
  readonly id: number;
  readonly newsletterId: number;
  readonly url: string;
  readonly title: string;
  readonly fullContent: string;
  readonly lastError?: string | null;
  readonly lastPolledAt?: string | null;
  readonly newsletterSlug?: string;
  /** Articles made from its items. */
  readonly items?: number;
}
export interface Token {
  readonly id: number;
  readonly name: string;
  readonly role: Role;
  readonly prefix: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}
export interface Items<T> {
  readonly items: readonly T[];
}
