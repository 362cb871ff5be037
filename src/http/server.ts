/**
 * The HTTP adapter: Fastify with the home page, the subscriber's pages (sign-up, confirmation, unsubscribe,
 * preferences), the public archive, media and the local inbox.
 */
import type { StoredIssue } from '../store/store-types.ts';
import type { Campaign, CampaignStatus, Issue, MailingList, Newsletter, SendCounts } from '../core/domain.ts';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TrustProxySetting } from '../config.ts';
import { archiveUrl, issueWebUrl, signupUrl } from '../core/links.ts';
import type { MessageTransport } from '../sending/ports.ts';
import type { InboxReader } from '../smtp/local-inbox.ts';
import { showTemplate } from '../personalization/personalize.ts';
import { SignupService, type SignupRecords, type SignupStores } from '../subscribers/signup.ts';
import { neutralSubject, registerArchiveRoutes, type ArchiveRecords, type ArchiveStores } from './archive-routes.ts';
import { closeSilentConnectionsOnClose } from './connections.ts';
import { OPERATOR_LINKS, html } from './html.ts';
import { registerInboxRoutes } from './inbox-routes.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { PUBLIC_INDEXABLE_HEAD, formatDate, sendPage, type PageSite } from './pages.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { registerSubscriberRoutes, type SubscriberPageRecords, type SubscriberPageStores } from './subscriber-routes.ts';
import { AccountService } from '../accounts/account-service.ts';
import { ImportJobs } from '../services/import-jobs.ts';
import { ApiQueries } from '../store/api-queries.ts';
import type { ApiFeeds, ApiOptions, ApiStores, ApiSubscriberRecords } from './api/api-deps.ts';
import { registerApi } from './api/register-api.ts';
import { registerLoginRoutes } from './login-routes.ts';

/** What the HTTP server needs of the stores: its pages', the API's, sign-up's and the archive's (app.stores has it). */
export type HttpStores = ApiStores &
  SignupStores &
  SubscriberPageStores &
  ArchiveStores & {
  readonly subscribers: SignupRecords & SubscriberPageRecords & ArchiveRecords & ApiSubscriberRecords;
  readonly feeds: ApiFeeds;
  /** The accounts' store, for the AccountService built here when none is given. */
  readonly accounts: ConstructorParameters<typeof AccountService>[0];
  readonly audience: {
    getList(id: number): Promise<MailingList | null>;
  };
  readonly campaigns: {
    countSends(campaignId: number): Promise<SendCounts>;
    listCampaigns(options?: { status?: CampaignStatus; limit?: number }): Promise<Campaign[]>;
  };
  readonly newsletters: {
    getIssue(id: number): Promise<StoredIssue | null>;
    listIssues(newsletterId: number): Promise<(Issue & { campaigns: number })[]>;
    listNewsletters(): Promise<Newsletter[]>;
  };
};

export interface HttpDeps {
  readonly stores: HttpStores;
  readonly publicUrl: string;
  readonly secret: string;
  /** Folder served at /media: the operator's images and logos (DATA_DIR/media). */
  readonly mediaDir: string;
  /**
   * Images shipped with Mailroom for its demo, served at /media when `mediaDir` has no file of that name and
   * `enabled()` says the demo is in use (so an operator's missing /media/logo.png never shows the demo's logo).
   */
  readonly demoMedia?: { readonly dir: string; readonly enabled: () => Promise<boolean> };
  /** The local inbox, when Mailroom runs its own SMTP server. */
  readonly inbox: InboxReader | null;
  readonly logger?: boolean;
  /** Where sign-up confirmation emails go (the app's SMTP transport); without it, sign-up answers 503. */
  readonly openTransport?: () => MessageTransport;
  /** TRUST_PROXY: whose X-Forwarded-For to believe for the client IP (default: nobody's). */
  readonly trustProxy?: TrustProxySetting;
  /** Sign-up settings; `minResponseMs` (default 100) is the least time an accepted sign-up takes to answer. */
  readonly signup?: { readonly recordIp?: boolean; readonly ratePerMinute?: number; readonly minResponseMs?: number };
  /** Local development: `/` is the operator's dashboard. Otherwise `/` is the public list of newsletters. */
  readonly localDevelopment?: boolean;
  /** For rate limits, token expiry and consent times (tests move it). */
  readonly clock?: () => Date;
  readonly log?: (line: string) => void;
  /** More routes, each registered in a scope of its own (provider webhooks, tracking: src/deliverability/). */
  readonly plugins?: readonly ((scope: FastifyInstance) => Promise<void>)[];
  /** The API under /api/v1: sending, settings and fetching for its routes (without them those routes answer 503). */
  readonly api?: ApiOptions;
  /** Accounts (sessions, tokens, logins); built on `stores.db` when not given. */
  readonly accounts?: AccountService;
}

/** The sign-up service of each server built here: its emails go out after the response. */
const signupServices = new WeakMap<FastifyInstance, SignupService>();

/** The sign-up service of a server from buildHttpServer (`await signupServiceOf(server).idle()` waits for queued emails). */
export function signupServiceOf(server: FastifyInstance): SignupService {
  const service = signupServices.get(server);
  if (!service) throw new Error('signupServiceOf: not a server built by buildHttpServer');
  return service;
}

/** Outside local development `/` and unknown paths are about the publications, not about Mailroom. */
const PUBLIC_SITE: PageSite = { name: 'Newsletters', href: '/', links: [{ href: '/issues', label: 'Archive' }] };

/** The file `name` in the operator's media folder, else in the demo's while the demo is in use. */
async function findMediaFile(name: string, root: string, demo: { readonly root: string; readonly enabled: () => Promise<boolean> } | null): Promise<string | null> {
  const own = fileIn(root, name);
  if (own !== null || demo === null) return own;
  const path = fileIn(demo.root, name);
  return path !== null && (await demo.enabled()) ? path : null;
}

function fileIn(root: string, name: string): string | null {
  const path = resolve(join(root, name));
  return path.startsWith(root + sep) && existsSync(path) && statSync(path).isFile() ? path : null;
}

const MEDIA_TYPES: Readonly<Record<string, string>> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' };

export async function buildHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  const trustProxy = deps.trustProxy ?? false;
  const app = Fastify({
    logger: deps.logger ?? false,
    // N hops: believe the N nearest proxies (proxy-addr counts hops from the socket), never the client's own claims.
    trustProxy: typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy === false ? false : [...trustProxy],
    bodyLimit: 64 * 1024,
    // Tokens are short; a long made-up one still reaches the handler and gets the same 404 as any other bad token.
    routerOptions: { maxParamLength: 1000 },
  });
  registerSecurityHeaders(app);
  closeSilentConnectionsOnClose(app);

  // Forms post url-encoded bodies; mail providers' one-click unsubscribe may post multipart or anything else.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, String(body)));

  const { stores } = deps;
  const clock = deps.clock ?? (() => new Date());
  const log = deps.log ?? (() => undefined);
  const subscribers = stores.subscribers;
  const settings = { publicUrl: deps.publicUrl, secret: deps.secret, recordIp: deps.signup?.recordIp ?? false, ratePerMinute: deps.signup?.ratePerMinute ?? 5 };
  const signup = new SignupService({ stores, subscribers, settings, openTransport: deps.openTransport ?? null, clock, log });
  signup.startMaintenance();
  app.addHook('onClose', async () => {
    await signup.close();
  });

  // The operator's pages link to the inbox only while it runs.
  const operatorSite: PageSite = { name: 'Mailroom', href: '/', links: deps.inbox ? OPERATOR_LINKS : OPERATOR_LINKS.filter((link) => link.href !== '/inbox') };

  app.get('/', async (_request, reply) => {
    const newsletters = await stores.newsletters.listNewsletters();
    const publicItems = await Promise.all(
      newsletters.map(async (n) => {
        const list = await stores.audience.getList(n.listId);
        const signupOpen = list !== null && (await subscribers.isSignupOpen(list.id));
        const archivePublic = await subscribers.isArchivePublic(n.id);
        const latest = archivePublic ? (await subscribers.publishedIssues(n.id, 1))[0] : undefined;
        if (!signupOpen && !archivePublic) return null;
        return html`<li><strong>${n.name}</strong>${latest ? html` — latest: <a href="${issueWebUrl({ publicUrl: '' }, n.slug, latest.number)}">#${latest.number} ${neutralSubject(latest.subject)}</a> (${formatDate(latest.sentAt, n.language)})` : ''}
<div>${signupOpen && list ? html`<a href="${signupUrl({ publicUrl: '' }, list.name)}">Subscribe</a>` : ''}${signupOpen && archivePublic ? ' · ' : ''}${archivePublic ? html`<a href="${archiveUrl({ publicUrl: '' }, n.slug)}">Archive</a>` : ''}</div></li>`;
      }),
    );
    const visible = publicItems.filter((item) => item !== null);
    if (!deps.localDevelopment) {
      // Outside local development this page is public: publications only, no campaign figures.
      return sendPage(
        reply,
        200,
        'Newsletters',
        html`<h1>Newsletters</h1>${visible.length ? html`<ul class="issues">${visible}</ul>` : html`<p class="muted">Nothing published yet.</p>`}`,
        { site: PUBLIC_SITE, head: PUBLIC_INDEXABLE_HEAD },
      );
    }
    const campaigns = await stores.campaigns.listCampaigns({ limit: 10 });
    const campaignRows = await Promise.all(
      campaigns.map(async (c) => {
        const counts = await stores.campaigns.countSends(c.id);
        const issue = await stores.newsletters.getIssue(c.issueId);
        const newsletter = newsletters.find((n) => n.id === c.newsletterId);
        return html`<tr><td>${c.id}</td><td>${newsletter?.name ?? '?'}</td><td>${issue ? html`<a href="${issueWebUrl({ publicUrl: '' }, newsletter?.slug ?? '', issue.number)}">#${issue.number} ${showTemplate(issue.subject)}</a>` : '?'}</td><td>${c.status}</td><td>${counts.sent}</td><td>${counts.failed}</td><td>${counts.skipped}</td><td>${counts.pending + counts.deferred + counts.sending}</td></tr>`;
      }),
    );
    const newsletterItems = await Promise.all(
      newsletters.map(async (n) => {
        const issues = await stores.newsletters.listIssues(n.id);
        return html`<li><strong>${n.name}</strong> <code>${n.slug}</code> — ${issues.length} issue(s)${issues[0] ? html`, latest: #${issues[0].number} ${issues[0].subject}` : ''}</li>`;
      }),
    );
    const body = html`<h1>Mailroom</h1>
<div class="card">
<h2>Newsletters</h2>
${newsletters.length ? html`<ul>${newsletterItems}</ul>` : html`<p class="muted">No newsletter yet. Create one with <code>npx mailroom newsletter create</code>.</p>`}
<p>Send the next issue: <code>npx mailroom send ${newsletters[0]?.slug ?? 'weekly'}</code>${deps.inbox ? html` — messages land in the <a href="/inbox">local inbox</a>.` : ''}</p>
</div>
${visible.length ? html`<h2>Public pages</h2><ul class="issues">${visible}</ul>` : ''}
<h2>Recent campaigns</h2>
${campaigns.length ? html`<table><thead><tr><th>#</th><th>Newsletter</th><th>Issue</th><th>Status</th><th>Sent</th><th>Failed</th><th>Skipped</th><th>Left</th></tr></thead><tbody>${campaignRows}</tbody></table>` : html`<p class="muted">No campaign yet.</p>`}`;
    return sendPage(reply, 200, 'Home', body, { currentPath: '/', head: PUBLIC_INDEXABLE_HEAD, site: operatorSite });
  });

  registerSubscriberRoutes(app, { stores, subscribers, signup, settings, clock, signupMinResponseMs: deps.signup?.minResponseMs ?? 100 });
  registerArchiveRoutes(app, { stores, subscribers, publicUrl: deps.publicUrl });

  // Accounts and the API: /login, /api/v1, /api/openapi.json, /api/docs.
  const accounts = deps.accounts ?? new AccountService(stores.accounts, { publicUrl: deps.publicUrl }, clock);
  const jobs = new ImportJobs(stores, clock);
  registerLoginRoutes(app, { accounts, publicUrl: deps.publicUrl, clock });
  registerApi(app, { stores, subscribers, feeds: stores.feeds, queries: new ApiQueries(stores.db), accounts, jobs, publicUrl: deps.publicUrl, secret: deps.secret, clock, log, options: deps.api ?? {}, ownServerGet: async (path) => (await app.inject({ method: 'GET', url: path })).statusCode });
  app.addHook('onClose', async () => {
    await jobs.idle();
  });

  // ------------------------------------------------------------------ media

  const mediaRoot = resolve(deps.mediaDir);
  const demoMedia = deps.demoMedia ? { ...deps.demoMedia, root: resolve(deps.demoMedia.dir) } : null;
  app.get<{ Params: { file: string } }>('/media/:file', async (request, reply) => {
    const name = request.params.file;
    const type = MEDIA_TYPES[extname(name).toLowerCase()];
    const path = type && /^[\w.-]+$/.test(name) ? await findMediaFile(name, mediaRoot, demoMedia) : null;
    if (!type || path === null) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(createReadStream(path));
  });

  // The inbox's pages and API exist only while the built-in inbox runs; otherwise /inbox is a 404 like any unknown path.
  if (deps.inbox) registerInboxRoutes(app, deps.inbox, { publicUrl: deps.publicUrl });
  // The marketer's web app (built into dist/admin by npm install).
  registerAdminRoutes(app, { inbox: deps.inbox !== null });

  for (const plugin of deps.plugins ?? []) await app.register(plugin);

  // Browsers ask for it on every page; a 204 keeps their consoles and the logs free of 404s.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());

  app.setNotFoundHandler(async (_request, reply) =>
    sendPage(reply, 404, 'Not found', html`<h1>Not found</h1><p>There is nothing at this address.</p>`, { site: deps.localDevelopment ? operatorSite : PUBLIC_SITE }),
  );
  signupServices.set(app, signup);
  return app;
}
