/**
 * The public archive: an index of each newsletter's sent issues, one page per issue (the "view in browser" link of
 * every email), an RSS 2.0 feed, and the web version of published articles. Pages carry no personal data: issues are
 * shown as their web copy (no greeting, no "View in browser", no subscription footer) filled in for a neutral reader. Everything here is served under a sandboxing CSP, so no script can run.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Article, MailingList, Newsletter } from '../core/domain.ts';
import { archiveFeedUrl, archiveUrl, articleWebUrl, issueWebUrl, signupUrl } from '../core/links.ts';
import { toEmailArticle, toEmailBrand } from '../issues/assemble.ts';
import { compileIssue, type RecipientContext } from '../personalization/personalize.ts';
import { literalSource } from '../personalization/template-source.ts';
import { renderIssue } from '../rendering/render-issue.ts';
import { toWebCopy } from '../rendering/web-copy.ts';
import type { ArchiveHeader, PublishedIssue, PublishedIssueWithBody } from '../store/subscriber-store.ts';
import { html, renderPage, type SafeHtml } from './html.ts';
import { PUBLIC_INDEXABLE_HEAD, formatDate, type PageSite } from './pages.ts';
import { buildRssFeed } from './rss.ts';

/** What the public archive needs of the stores (app.stores has it). */
export interface ArchiveStores {
  readonly audience: {
    getList(id: number): Promise<MailingList | null>;
  };
  readonly content: {
    findArticle(ref: string | number): Promise<Article | null>;
  };
  readonly newsletters: {
    findNewsletter(slug: string): Promise<Newsletter | null>;
    getNewsletter(id: number): Promise<Newsletter | null>;
    listNewsletters(): Promise<Newsletter[]>;
  };
}

/** What the public archive needs of the subscriber's side: published issues and articles, the archive and sign-up switches (app.stores.subscribers has it). */
export interface ArchiveRecords {
  archiveHeader(slug: string): Promise<ArchiveHeader | null>;
  articlePublisher(articleId: number): Promise<number | null>;
  isArchivePublic(newsletterId: number): Promise<boolean>;
  isSignupOpen(listId: number): Promise<boolean>;
  publishedIssue(newsletterId: number, number: number): Promise<PublishedIssueWithBody | null>;
  publishedIssues(newsletterId: number, limit?: number): Promise<PublishedIssue[]>;
}

export interface ArchiveRouteDeps {
  readonly stores: ArchiveStores;
  readonly subscribers: ArchiveRecords;
  readonly publicUrl: string;
}

/**
 * Archive pages are documents made from content: sandboxed (no script, no form, no plugin, an opaque origin), nothing
 * loaded but images, styles and fonts, and never framed.
 */
export const ARCHIVE_CONTENT_SECURITY_POLICY =
  "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src * data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

const LOCAL = { publicUrl: '' };
const FEED_ITEMS = 50;

/** The reader an archive page is personalized for: nobody in particular. */
export function neutralReader(publicUrl: string, webVersionUrl: string, firstName = 'there'): RecipientContext {
  return {
    firstName,
    lastName: '',
    fullName: firstName,
    email: 'you',
    unsubscribeUrl: `${publicUrl}/unsubscribe`,
    preferencesUrl: `${publicUrl}/unsubscribe`,
    webVersionUrl,
    attributes: {},
  };
}

/** A stored subject or preheader (Handlebars source) as a line of text for nobody in particular; the source itself if it does not compile. */
function fillForNobody(source: string): string {
  try {
    return compileIssue({ subject: source, html: '', text: '' }).personalize(neutralReader('', '', '')).subject;
  } catch {
    return source;
  }
}

/** Results of a pure function of a string, the newest `size` kept (compiling a template per archive request is the costly part). */
function memoized(fn: (source: string) => string, size = 1000): (source: string) => string {
  const cache = new Map<string, string>();
  return (source) => {
    const hit = cache.get(source);
    if (hit !== undefined) return hit;
    const value = fn(source);
    if (cache.size >= size) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(source, value);
    return value;
  };
}

/** An issue's subject for a public list: placeholders filled for nobody ("{{firstName}}, your digest" → "Your digest"). */
export const neutralSubject = memoized(neutralSubjectOf);

function neutralSubjectOf(subject: string): string {
  const filled = fillForNobody(subject);
  const tidy = filled.replace(/^[\s,;:!.\-–—]+/, '').replace(/\s+([,;:!.])/g, '$1').replace(/\s{2,}/g, ' ').trim();
  return tidy === '' ? subject : tidy.charAt(0).toUpperCase() + tidy.slice(1);
}

/** An issue's preheader for a public list, the same way (content in it prints as itself). */
export const neutralPreheader = memoized(fillForNobody);

function sendArchive(reply: FastifyReply, status: number, type: string, body: string, cacheSeconds = 0): FastifyReply {
  if (cacheSeconds > 0) reply.header('cache-control', `public, max-age=${cacheSeconds}`);
  return reply.code(status).header('content-security-policy', ARCHIVE_CONTENT_SECURITY_POLICY).header('x-content-type-options', 'nosniff').type(type).send(body);
}

function archivePage(reply: FastifyReply, status: number, title: string, body: SafeHtml, site: PageSite, head?: SafeHtml): FastifyReply {
  return sendArchive(reply, status, 'text/html; charset=utf-8', renderPage({ title, body, site, head: html`${PUBLIC_INDEXABLE_HEAD}${head}` }));
}

export function registerArchiveRoutes(app: FastifyInstance, deps: ArchiveRouteDeps): void {
  const { stores, subscribers, publicUrl } = deps;

  const notFound = (reply: FastifyReply, what: string) =>
    archivePage(reply, 404, 'Not found', html`<h1>${what}</h1><p><a href="/issues">All newsletters</a></p>`, { name: 'Archive', href: '/issues', links: [] });

  /** Sign-up link of the newsletter's list, when its sign-up is open. */
  const signupLinkOf = async (newsletter: Newsletter): Promise<string | null> => {
    const list = await stores.audience.getList(newsletter.listId);
    return list && (await subscribers.isSignupOpen(list.id)) ? signupUrl(LOCAL, list.name) : null;
  };

  const siteOf = async (newsletter: Newsletter): Promise<PageSite> => {
    const signup = await signupLinkOf(newsletter);
    return {
      name: newsletter.name,
      href: archiveUrl(LOCAL, newsletter.slug),
      links: [{ href: archiveUrl(LOCAL, newsletter.slug), label: 'Archive' }, ...(signup ? [{ href: signup, label: 'Subscribe' }] : [])],
    };
  };

  const publicNewsletter = async (slug: string): Promise<Newsletter | null> => {
    const newsletter = await stores.newsletters.findNewsletter(slug);
    return newsletter && (await subscribers.isArchivePublic(newsletter.id)) ? newsletter : null;
  };

  app.get('/issues', async (_request, reply) => {
    const newsletters = [];
    for (const n of await stores.newsletters.listNewsletters()) if (await subscribers.isArchivePublic(n.id)) newsletters.push({ newsletter: n, latest: (await subscribers.publishedIssues(n.id, 1))[0] });
    const items = newsletters.map(
      ({ newsletter, latest }) =>
        html`<li><a href="${archiveUrl(LOCAL, newsletter.slug)}"><strong>${newsletter.name}</strong></a><div class="meta">${latest ? html`Latest: #${latest.number} ${neutralSubject(latest.subject)} · ${formatDate(latest.sentAt, newsletter.language)}` : 'No issue yet'}</div></li>`,
    );
    return archivePage(
      reply,
      200,
      'Newsletters',
      html`<h1>Newsletters</h1>${items.length > 0 ? html`<ul class="issues">${items}</ul>` : html`<p class="muted">Nothing published yet.</p>`}`,
      { name: 'Archive', href: '/issues', links: [] },
    );
  });

  /**
   * Rendered archive indexes, by what they are made of: every request reads the newsletter and its published issues
   * (two queries), and renders only when those changed. Nothing is served that the database no longer says.
   */
  const renderedIndexes = new Map<string, string>();

  app.get<{ Params: { newsletter: string } }>('/issues/:newsletter', async (request, reply) => {
    const newsletter = await subscribers.archiveHeader(request.params.newsletter);
    if (!newsletter) return notFound(reply, 'No such archive');
    const issues = await subscribers.publishedIssues(newsletter.id);
    const key = JSON.stringify([newsletter, issues]);
    let page = renderedIndexes.get(key);
    if (page === undefined) {
      page = renderArchiveIndex(newsletter, issues);
      // One entry per newsletter is what is in use; a bound keeps old versions from piling up.
      if (renderedIndexes.size >= 100) renderedIndexes.clear();
      renderedIndexes.set(key, page);
    }
    return sendArchive(reply, 200, 'text/html; charset=utf-8', page);
  });

  const renderArchiveIndex = (newsletter: ArchiveHeader, issues: readonly PublishedIssue[]): string => {
    const signup = newsletter.signupList === null ? null : signupUrl(LOCAL, newsletter.signupList);
    const feed = archiveFeedUrl(LOCAL, newsletter.slug);
    const items = issues.map(
      (issue) =>
        html`<li><a href="${issueWebUrl(LOCAL, newsletter.slug, issue.number)}"><strong>${neutralSubject(issue.subject)}</strong></a><div class="meta">#${issue.number} · ${formatDate(issue.sentAt, newsletter.language)}</div>${issue.preheader ? html`<div>${neutralPreheader(issue.preheader)}</div>` : ''}</li>`,
    );
    const site: PageSite = {
      name: newsletter.name,
      href: archiveUrl(LOCAL, newsletter.slug),
      links: [{ href: archiveUrl(LOCAL, newsletter.slug), label: 'Archive' }, ...(signup ? [{ href: signup, label: 'Subscribe' }] : [])],
    };
    return renderPage({
      title: `${newsletter.name} archive`,
      body: html`<h1>${newsletter.name}</h1>
<p>${signup ? html`<a class="button primary" href="${signup}">Subscribe</a> ` : ''}<a class="button" href="${feed}">RSS feed</a></p>
${items.length > 0 ? html`<ul class="issues">${items}</ul>` : html`<p class="muted">No issue has been sent yet.</p>`}`,
      site,
      head: html`${PUBLIC_INDEXABLE_HEAD}<link rel="alternate" type="application/rss+xml" title="${newsletter.name}" href="${archiveFeedUrl(deps, newsletter.slug)}"><link rel="canonical" href="${archiveUrl(deps, newsletter.slug)}">`,
    });
  };

  app.get<{ Params: { newsletter: string } }>('/issues/:newsletter/feed.xml', async (request, reply) => {
    const newsletter = await publicNewsletter(request.params.newsletter);
    if (!newsletter) return sendArchive(reply, 404, 'text/plain; charset=utf-8', 'no such feed\n');
    const issues = await subscribers.publishedIssues(newsletter.id, FEED_ITEMS);
    const xml = buildRssFeed({
      title: newsletter.name,
      link: archiveUrl(deps, newsletter.slug),
      selfUrl: archiveFeedUrl(deps, newsletter.slug),
      description: `Every issue of ${newsletter.name}.`,
      language: newsletter.language,
      items: issues.map((issue) => ({
        title: neutralSubject(issue.subject),
        link: issueWebUrl(deps, newsletter.slug, issue.number),
        description: neutralPreheader(issue.preheader),
        publishedAt: new Date(issue.sentAt),
      })),
    });
    return sendArchive(reply, 200, 'application/rss+xml; charset=utf-8', xml, 300);
  });

  // The "view in browser" link of every email: the issue, for nobody in particular, with a bar to the archive.
  app.get<{ Params: { newsletter: string; number: string } }>('/issues/:newsletter/:number', async (request, reply) => {
    const newsletter = await stores.newsletters.findNewsletter(request.params.newsletter);
    const number = /^\d{1,9}$/.test(request.params.number) ? Number(request.params.number) : NaN;
    const issue = newsletter && Number.isSafeInteger(number) ? await subscribers.publishedIssue(newsletter.id, number) : null;
    if (!newsletter || !issue) return notFound(reply, 'No such issue');
    const archivePublic = await subscribers.isArchivePublic(newsletter.id);
    const webVersionUrl = issueWebUrl(deps, newsletter.slug, issue.number);
    // The web copy: the issue as emailed, without what only makes sense in an inbox (greeting, "View in browser", the subscription footer).
    const page = compileIssue({ subject: issue.subject, html: toWebCopy(issue.html), text: issue.text }).personalize(neutralReader(publicUrl, webVersionUrl)).html;

    const links: SafeHtml[] = [];
    if (archivePublic) {
      const all = await subscribers.publishedIssues(newsletter.id);
      const at = all.findIndex((i) => i.number === issue.number);
      const newer = at > 0 ? all[at - 1] : undefined;
      const older = at >= 0 ? all[at + 1] : undefined;
      links.push(html`<a href="${archiveUrl(LOCAL, newsletter.slug)}" style="color:#ffffff">All issues of ${newsletter.name}</a>`);
      if (older) links.push(html`<a href="${issueWebUrl(LOCAL, newsletter.slug, older.number)}" style="color:#ffffff" rel="prev">← #${older.number}</a>`);
      if (newer) links.push(html`<a href="${issueWebUrl(LOCAL, newsletter.slug, newer.number)}" style="color:#ffffff" rel="next">#${newer.number} →</a>`);
    }
    const signup = await signupLinkOf(newsletter);
    if (signup) links.push(html`<a href="${signup}" style="color:#ffffff">Subscribe</a>`);
    if (archivePublic) links.push(html`<a href="${archiveFeedUrl(LOCAL, newsletter.slug)}" style="color:#ffffff">RSS</a>`);
    const bar = links.length
      ? html`<div role="navigation" aria-label="Archive" style="background:#1c2430;color:#e8ebef;font:14px/1.6 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;padding:10px 16px;text-align:center">${links.map((l, i) => (i === 0 ? l : html` · ${l}`))}</div>`
      : html``;
    const head = html`<link rel="canonical" href="${webVersionUrl}">${archivePublic ? html`<link rel="alternate" type="application/rss+xml" title="${newsletter.name}" href="${archiveFeedUrl(deps, newsletter.slug)}">` : html`<meta name="robots" content="noindex">`}`;
    return sendArchive(reply, 200, 'text/html; charset=utf-8', injectIntoEmailPage(page, head, bar), 300);
  });

  // Articles without a canonical URL link here from the emails; only articles of a published issue are public.
  app.get<{ Params: { slug: string } }>('/articles/:slug', async (request, reply) => {
    const article = await stores.content.findArticle(request.params.slug);
    const newsletterId = article ? await subscribers.articlePublisher(article.id) : null;
    const newsletter = newsletterId === null ? null : await stores.newsletters.getNewsletter(newsletterId);
    if (!article || !newsletter) return notFound(reply, 'No such article');
    const rendered = await renderIssue({
      template: 'article',
      props: {
        brand: toEmailBrand(newsletter, publicUrl),
        issue: { subject: literalSource(article.title), preheader: literalSource(article.summary), number: 0, date: article.publishedAt },
        article: toEmailArticle(article, publicUrl),
      },
    });
    const url = articleWebUrl(deps, article.slug);
    const page = compileIssue({ subject: literalSource(article.title), html: toWebCopy(rendered.html), text: rendered.text }).personalize(neutralReader(publicUrl, url)).html;
    return sendArchive(reply, 200, 'text/html; charset=utf-8', injectIntoEmailPage(page, html`<link rel="canonical" href="${url}">`, html``));
  });
}

/** Puts Mailroom's own (escaped) markup into a rendered email document: `head` before </head>, `bar` right after <body>. */
export function injectIntoEmailPage(page: string, head: SafeHtml, bar: SafeHtml): string {
  let out = page;
  const headEnd = out.search(/<\/head>/i);
  if (headEnd >= 0) out = `${out.slice(0, headEnd)}${head.value}${out.slice(headEnd)}`;
  const body = /<body\b[^>]*>/i.exec(out);
  if (body) {
    const at = body.index + body[0].length;
    out = `${out.slice(0, at)}${bar.value}${out.slice(at)}`;
  } else {
    out = `${bar.value}${out}`;
  }
  return out;
}
