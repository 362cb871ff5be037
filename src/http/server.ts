/** The HTTP adapter: Fastify with the home page, unsubscribe and preferences links, web versions of issues, media and the local inbox. */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { verifyToken } from '../core/tokens.ts';
import { articleWebUrl, issueWebUrl } from '../core/links.ts';
import { compileIssue } from '../personalization/personalize.ts';
import { renderIssue } from '../rendering/render-issue.ts';
import { toEmailArticle, toEmailBrand } from '../issues/assemble.ts';
import type { SqlStore } from '../store/sql-store.ts';
import type { InboxReader } from '../smtp/local-inbox.ts';
import { html, renderPage, type SafeHtml } from './html.ts';
import { registerInboxRoutes } from './inbox-routes.ts';
import { registerSecurityHeaders } from './security-headers.ts';

export interface HttpDeps {
  readonly store: SqlStore;
  readonly publicUrl: string;
  readonly secret: string;
  /** Folder served at /media (demo images, logos). */
  readonly mediaDir: string;
  /** The local inbox, when Mailroom runs its own SMTP server. */
  readonly inbox: InboxReader | null;
  readonly logger?: boolean;
}

/** Email pages (web versions) are documents from elsewhere: no script, no form, no plugin may run in them. */
const EMAIL_PAGE_CSP = "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src * data:; frame-ancestors 'none'";

const MEDIA_TYPES: Readonly<Record<string, string>> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' };

function sendPage(reply: FastifyReply, status: number, title: string, body: SafeHtml, currentPath?: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(renderPage({ title, body, ...(currentPath ? { currentPath } : {}) }));
}

function invalidLink(reply: FastifyReply): FastifyReply {
  // The same answer for a tampered, foreign, expired or unknown token: nothing tells them apart.
  return sendPage(
    reply,
    404,
    'Link not valid',
    html`<h1>This link is not valid</h1><p>It may have been copied incompletely. Use the unsubscribe link at the bottom of the most recent email you received.</p>`,
  );
}

export async function buildHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false, trustProxy: true, bodyLimit: 64 * 1024 });
  registerSecurityHeaders(app);

  // Forms post url-encoded bodies; mail providers' one-click unsubscribe may post multipart or anything else.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, String(body)));

  const { store } = deps;

  app.get('/', async (_request, reply) => {
    const newsletters = await store.listNewsletters();
    const campaigns = await store.listCampaigns({ limit: 10 });
    const campaignRows = await Promise.all(
      campaigns.map(async (c) => {
        const counts = await store.countSends(c.id);
        const issue = await store.getIssue(c.issueId);
        const newsletter = newsletters.find((n) => n.id === c.newsletterId);
        return html`<tr><td>${c.id}</td><td>${newsletter?.name ?? '?'}</td><td>${issue ? html`<a href="${issueWebUrl({ publicUrl: '' }, newsletter?.slug ?? '', issue.number)}">#${issue.number} ${issue.subject}</a>` : '?'}</td><td>${c.status}</td><td>${counts.sent}</td><td>${counts.failed}</td><td>${counts.skipped}</td><td>${counts.pending + counts.deferred + counts.sending}</td></tr>`;
      }),
    );
    const newsletterItems = await Promise.all(
      newsletters.map(async (n) => {
        const issues = await store.listIssues(n.id);
        return html`<li><strong>${n.name}</strong> <code>${n.slug}</code> — ${issues.length} issue(s)${issues[0] ? html`, latest: <a href="${issueWebUrl({ publicUrl: '' }, n.slug, issues[0].number)}">#${issues[0].number} ${issues[0].subject}</a>` : ''}</li>`;
      }),
    );
    const body = html`<h1>Mailroom</h1>
<div class="card">
<h2>Newsletters</h2>
${newsletters.length ? html`<ul>${newsletterItems}</ul>` : html`<p class="muted">No newsletter yet. Create one with <code>npx mailroom newsletter create</code>.</p>`}
<p>Send the next issue: <code>npx mailroom send ${newsletters[0]?.slug ?? 'weekly'}</code>${deps.inbox ? html` — messages land in the <a href="/inbox">local inbox</a>.` : ''}</p>
</div>
<h2>Recent campaigns</h2>
${campaigns.length ? html`<table><thead><tr><th>#</th><th>Newsletter</th><th>Issue</th><th>Status</th><th>Sent</th><th>Failed</th><th>Skipped</th><th>Left</th></tr></thead><tbody>${campaignRows}</tbody></table>` : html`<p class="muted">No campaign yet.</p>`}`;
    return sendPage(reply, 200, 'Home', body, '/');
  });

  // ------------------------------------------------------------ unsubscribe

  const unsubscribeSubject = async (token: string) => {
    const subject = verifyToken(deps.secret, 'unsubscribe', token);
    if (!subject) return null;
    const subscriber = await store.getSubscriber(subject.subscriberId);
    const list = await store.getList(subject.listId);
    return subscriber && list ? { subscriber, list } : null;
  };

  // GET never changes anything: link scanners and previews follow GETs.
  app.get<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const found = await unsubscribeSubject(request.params.token);
    if (!found) return invalidLink(reply);
    const status = await store.membershipStatus(found.subscriber.id, found.list.id);
    reply.header('cache-control', 'no-store');
    if (status === 'unsubscribed') {
      return sendPage(reply, 200, 'Unsubscribed', html`<h1>You are unsubscribed</h1><p><strong>${found.subscriber.email}</strong> gets no more email from the list <strong>${found.list.name}</strong>.</p>`);
    }
    return sendPage(
      reply,
      200,
      'Unsubscribe',
      html`<h1>Unsubscribe?</h1>
<p>Stop sending <strong>${found.list.name}</strong> to <strong>${found.subscriber.email}</strong>.</p>
<form method="post" action="/u/${request.params.token}"><button class="primary" type="submit">Unsubscribe</button></form>`,
    );
  });

  // POST unsubscribes at once: the button above, and RFC 8058 one-click from mail providers (no cookies, any body).
  app.post<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const found = await unsubscribeSubject(request.params.token);
    if (!found) return invalidLink(reply);
    await store.unsubscribeFromList(found.subscriber.id, found.list.id);
    reply.header('cache-control', 'no-store');
    return sendPage(
      reply,
      200,
      'Unsubscribed',
      html`<h1>You are unsubscribed</h1><p><strong>${found.subscriber.email}</strong> gets no more email from the list <strong>${found.list.name}</strong>, starting now.</p>`,
    );
  });

  // -------------------------------------------------------------- preferences

  app.get<{ Params: { token: string } }>('/p/:token', async (request, reply) => {
    const subject = verifyToken(deps.secret, 'preferences', request.params.token);
    const subscriber = subject ? await store.getSubscriber(subject.subscriberId) : null;
    if (!subject || !subscriber) return invalidLink(reply);
    const lists = await store.membershipsOf(subscriber.id);
    reply.header('cache-control', 'no-store');
    return sendPage(
      reply,
      200,
      'Preferences',
      html`<h1>Your subscription</h1>
<p>Email: <strong>${subscriber.email}</strong>${subscriber.name ? html` · Name: <strong>${subscriber.name}</strong>` : ''}</p>
<table><thead><tr><th>List</th><th>Status</th></tr></thead><tbody>${lists.map((l) => html`<tr><td>${l.name}</td><td>${l.status}</td></tr>`)}</tbody></table>
<p></p>
<form method="post" action="/p/${request.params.token}"><input type="hidden" name="action" value="unsubscribe"><button type="submit">Unsubscribe from this list</button></form>`,
    );
  });

  app.post<{ Params: { token: string }; Body: unknown }>('/p/:token', async (request, reply) => {
    const subject = verifyToken(deps.secret, 'preferences', request.params.token);
    if (!subject) return invalidLink(reply);
    const result = await store.unsubscribeFromList(subject.subscriberId, subject.listId);
    if (!result) return invalidLink(reply);
    return sendPage(reply, 200, 'Unsubscribed', html`<h1>You are unsubscribed</h1><p><strong>${result.email}</strong> gets no more email from the list <strong>${result.listName}</strong>.</p>`);
  });

  app.get('/unsubscribe', async (_request, reply) =>
    sendPage(reply, 200, 'Unsubscribe', html`<h1>Unsubscribe</h1><p>Every email we send has a personal unsubscribe link at the bottom. Use the one in the most recent email you received: it works in one click.</p>`),
  );

  // ------------------------------------------------------- web versions

  const archiveContext = {
    firstName: 'there',
    lastName: '',
    fullName: 'there',
    email: '',
    unsubscribeUrl: `${deps.publicUrl}/unsubscribe`,
    preferencesUrl: `${deps.publicUrl}/unsubscribe`,
    attributes: {},
  };

  app.get<{ Params: { newsletter: string; number: string } }>('/issues/:newsletter/:number', async (request, reply) => {
    const newsletter = await store.findNewsletter(request.params.newsletter);
    const number = Number(request.params.number);
    const issue = newsletter && Number.isSafeInteger(number) ? await store.findIssue(newsletter.id, number) : null;
    if (!newsletter || !issue) return sendPage(reply, 404, 'Not found', html`<h1>No such issue</h1>`);
    const compiled = compileIssue({ subject: issue.subject, html: issue.html, text: issue.text });
    const page = compiled.personalize({ ...archiveContext, webVersionUrl: issueWebUrl(deps, newsletter.slug, issue.number) });
    return reply.header('content-security-policy', EMAIL_PAGE_CSP).type('text/html; charset=utf-8').send(page.html);
  });

  app.get<{ Params: { slug: string } }>('/articles/:slug', async (request, reply) => {
    const article = await store.findArticle(request.params.slug);
    const newsletter = (await store.listNewsletters())[0];
    if (!article || !newsletter) return sendPage(reply, 404, 'Not found', html`<h1>No such article</h1>`);
    const rendered = await renderIssue({
      template: 'article',
      props: {
        brand: toEmailBrand(newsletter, deps.publicUrl),
        issue: { subject: article.title, preheader: article.summary, number: 0, date: article.publishedAt },
        article: toEmailArticle(article, deps.publicUrl),
      },
    });
    const compiled = compileIssue({ subject: article.title, html: rendered.html, text: rendered.text });
    const page = compiled.personalize({ ...archiveContext, webVersionUrl: articleWebUrl(deps, article.slug) });
    return reply.header('content-security-policy', EMAIL_PAGE_CSP).type('text/html; charset=utf-8').send(page.html);
  });

  // ------------------------------------------------------------------ media

  const mediaRoot = resolve(deps.mediaDir);
  app.get<{ Params: { file: string } }>('/media/:file', async (request, reply) => {
    const name = request.params.file;
    const type = MEDIA_TYPES[extname(name).toLowerCase()];
    const path = resolve(join(mediaRoot, name));
    if (!type || !/^[\w.-]+$/.test(name) || !path.startsWith(mediaRoot + sep) || !existsSync(path) || !statSync(path).isFile()) {
      return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    }
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(createReadStream(path));
  });

  if (deps.inbox) registerInboxRoutes(app, deps.inbox);
  else {
    app.get('/inbox', async (_request, reply) =>
      sendPage(reply, 200, 'Inbox', html`<h1>Inbox</h1><p>Mail goes to the SMTP server in <code>SMTP_URL</code>, so there is no local inbox. Unset <code>SMTP_URL</code> to capture mail here.</p>`, '/inbox'),
    );
  }
  return app;
}
