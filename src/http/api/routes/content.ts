/** Newsletters, lists, articles, issues, schedules and feeds. */
import { z } from 'zod';
import { MailroomError, quote } from '../../../core/errors.ts';
import { readImportSource } from '../../../content/import-source.ts';
import { discoverFeed } from '../../../feeds/discover.ts';
import { pollFeeds } from '../../../feeds/poll-feed.ts';
import { parseHttpUrl } from '../../../net/safe-fetch.ts';
import { parseCron } from '../../../schedule/cron.ts';
import { nextRuns } from '../../../schedule/next-runs.ts';
import { checkSchedule } from '../../../schedule/scheduler.ts';
import { readUploadedArticle, saveImportedArticles } from '../../../services/article-service.ts';
import { previewIssueAs } from '../../../services/issue-preview.ts';
import { checkListName } from '../../../services/list-service.ts';
import { checkedTags, createNewsletterChecked } from '../../../services/newsletter-service.ts';
import { TEMPLATE_NAMES } from '../../../core/domain.ts';
import { FULL_CONTENT_MODES } from '../../../store/feed-store.ts';
import { resolveNewsletter } from '../../../store/lookups.ts';
import type { ApiDeps } from '../api-deps.ts';
import { defineRoute, idParam, limitQuery, type ApiRoute } from '../define-route.ts';
import { ApiProblem } from '../problem.ts';


const newsletterSchema = z
  .object({
    id: z.number().int(),
    slug: z.string(),
    name: z.string(),
    fromName: z.string(),
    fromEmail: z.string(),
    replyTo: z.string(),
    listId: z.number().int(),
    template: z.string(),
    subjectTemplate: z.string(),
    maxArticles: z.number().int(),
    language: z.string(),
    createdAt: z.string(),
    tags: z.array(z.string()),
    articles: z.object({ total: z.number().int(), unsent: z.number().int() }),
  })
  .meta({ id: 'Newsletter' });
const listSchema = z.object({ id: z.number().int(), name: z.string(), description: z.string(), createdAt: z.string(), subscribed: z.number().int(), unsubscribed: z.number().int(), pending: z.number().int() }).meta({ id: 'List' });
const articleSchema = z
  .object({ id: z.number().int(), slug: z.string(), title: z.string(), summary: z.string(), body: z.string().optional(), canonicalUrl: z.string(), author: z.string(), publishedAt: z.string(), tags: z.array(z.string()) })
  .meta({ id: 'Article' });
const issueSchema = z
  .object({ id: z.number().int(), number: z.number().int(), subject: z.string(), preheader: z.string(), articleIds: z.array(z.number().int()), createdAt: z.string(), campaigns: z.number().int().optional(), htmlBytes: z.number().int().optional() })
  .meta({ id: 'Issue' });
const savedArticlesSchema = z.object({
  saved: z.array(z.object({ outcome: z.enum(['added', 'updated', 'unchanged']), article: articleSchema, source: z.string(), cleaned: z.array(z.string()), warnings: z.array(z.string()) })),
  rejected: z.array(z.object({ message: z.string() })),
});
const scheduleSchema = z.object({ newsletter: z.string(), cron: z.string(), timezone: z.string(), emptyPolicy: z.enum(['skip', 'send']), nextRuns: z.array(z.string()) }).meta({ id: 'Schedule' });
const feedSchema = z
  .object({
    id: z.number().int(),
    newsletterId: z.number().int(),
    url: z.string(),
    title: z.string(),
    siteUrl: z.string(),
    fullContent: z.string(),
    lastPolledAt: z.string().nullable(),
    lastSuccessAt: z.string().nullable(),
    lastError: z.string().nullable().describe("The last poll's error; null once a poll works"),
    createdAt: z.string(),
    newsletterSlug: z.string().optional().describe('In the list of feeds'),
    items: z.number().int().optional().describe('In the list of feeds: articles made from its items'),
  })
  .passthrough()
  .meta({ id: 'Feed' });

const slugParams = z.object({ slug: z.string().min(1).max(40) });
const issueParams = z.object({ slug: z.string().min(1).max(40), number: idParam });

export function contentRoutes(deps: ApiDeps): ApiRoute[] {
  const { stores, feeds } = deps;
  const settings = { publicUrl: deps.publicUrl, secret: deps.secret };
  const describeNewsletter = async (slug: string) => {
    const n = await resolveNewsletter(stores.newsletters, slug);
    return { ...n, tags: await stores.content.newsletterTags(n.id), articles: await stores.content.countNewsletterArticles(n.id) };
  };
  const findIssue = async (slug: string, number: number) => {
    const newsletter = await resolveNewsletter(stores.newsletters, slug);
    const issue = await stores.newsletters.findIssue(newsletter.id, number);
    if (!issue) throw new MailroomError('NOT_FOUND', `newsletter ${quote(slug)} has no issue #${number}`);
    return { newsletter, issue };
  };
  const articleOut = (a: { id: number; slug: string; title: string; summary: string; body: string; canonicalUrl: string; author: string; publishedAt: string; tags: readonly string[] }, withBody: boolean) => ({
    id: a.id,
    slug: a.slug,
    title: a.title,
    summary: a.summary,
    ...(withBody ? { body: a.body } : {}),
    canonicalUrl: a.canonicalUrl,
    author: a.author,
    publishedAt: a.publishedAt,
    tags: [...a.tags],
  });
  const savedOut = (result: Awaited<ReturnType<typeof saveImportedArticles>>, errors: readonly MailroomError[]) => ({
    saved: result.saved.map((s) => ({ outcome: s.outcome, article: articleOut(s.article, false), source: s.imported.source, cleaned: [...s.imported.cleaned], warnings: [...(s.imported.extracted.warnings ?? [])] })),
    rejected: [...errors, ...result.errors].map((e) => ({ message: e.message })),
  });
  const optionalNewsletter = async (slug: string | undefined) => (slug ? resolveNewsletter(stores.newsletters, slug) : undefined);

  return [
    // ------------------------------------------------------------ newsletters
    defineRoute({
      method: 'GET',
      path: '/newsletters',
      operationId: 'listNewsletters',
      summary: 'List newsletters',
      tag: 'newsletters',
      role: 'viewer',
      response: { status: 200, schema: z.object({ items: z.array(newsletterSchema) }) },
      handler: async () => ({ items: await Promise.all((await stores.newsletters.listNewsletters()).map((n) => describeNewsletter(n.slug))) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/newsletters/:slug',
      operationId: 'getNewsletter',
      summary: 'One newsletter',
      tag: 'newsletters',
      role: 'viewer',
      params: slugParams,
      response: { status: 200, schema: newsletterSchema },
      handler: async ({ params }) => describeNewsletter(params.slug),
    }),
    defineRoute({
      method: 'POST',
      path: '/newsletters',
      operationId: 'createNewsletter',
      summary: 'Create a newsletter',
      tag: 'newsletters',
      role: 'editor',
      body: z.object({
        slug: z.string().min(1).max(40),
        name: z.string().min(1).max(200),
        from: z.string().min(3).max(400).describe('"Name <addr@example.com>" or an address'),
        list: z.string().min(1).max(64),
        postalAddress: z.string().min(1).max(500),
        replyTo: z.string().max(320).optional(),
        template: z.enum(TEMPLATE_NAMES).default('digest'),
        logo: z.string().max(2000).default(''),
        subject: z.string().min(1).max(300).default('{title}'),
        maxArticles: z.number().int().min(1).max(100).default(5),
        language: z.string().min(2).max(20).default('en'),
        tags: z.array(z.string().max(60)).max(50).default([]),
      }),
      response: { status: 201, schema: newsletterSchema },
      handler: async ({ body }) => {
        const { newsletter } = await createNewsletterChecked(stores, body, {
          slug: 'body.slug',
          from: 'body.from',
          replyTo: 'body.replyTo',
          template: 'body.template',
          postalAddress: 'body.postalAddress',
          maxArticles: 'body.maxArticles',
          subject: 'body.subject',
          tag: 'body.tags',
        });
        return describeNewsletter(newsletter.slug);
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/newsletters/:slug/tags',
      operationId: 'setNewsletterTags',
      summary: 'The tags a newsletter selects: articles carrying one of them belong to it ([] clears them)',
      tag: 'newsletters',
      role: 'editor',
      params: slugParams,
      body: z.object({ tags: z.array(z.string().max(60)).max(50) }),
      response: { status: 200, schema: newsletterSchema },
      handler: async ({ params, body }) => {
        const newsletter = await resolveNewsletter(stores.newsletters, params.slug);
        await stores.content.setNewsletterTags(newsletter.id, checkedTags(body.tags, 'body.tags'));
        return describeNewsletter(newsletter.slug);
      },
    }),
    // ------------------------------------------------------------------ lists
    defineRoute({
      method: 'GET',
      path: '/lists',
      operationId: 'listLists',
      summary: 'Lists with their member counts',
      tag: 'lists',
      role: 'viewer',
      response: { status: 200, schema: z.object({ items: z.array(listSchema) }) },
      handler: async () => ({ items: await stores.audience.listLists() }),
    }),
    defineRoute({
      method: 'POST',
      path: '/lists',
      operationId: 'createList',
      summary: 'Create a list',
      tag: 'lists',
      role: 'editor',
      body: z.object({ name: z.string(), description: z.string().max(500).default('') }),
      response: { status: 201, schema: listSchema },
      handler: async ({ body }) => {
        const list = await stores.audience.createList(checkListName(body.name, 'body.name'), body.description);
        return { ...list, subscribed: 0, unsubscribed: 0, pending: 0 };
      },
    }),
    // --------------------------------------------------------------- articles
    defineRoute({
      method: 'GET',
      path: '/articles',
      operationId: 'listArticles',
      summary: 'Articles, newest first',
      tag: 'articles',
      role: 'viewer',
      query: z.object({ newsletter: z.string().optional(), unassigned: z.stringbool().optional(), limit: limitQuery, offset: z.coerce.number().int().min(0).default(0) }),
      response: { status: 200, schema: z.object({ items: z.array(articleSchema) }) },
      handler: async ({ query }) => {
        const newsletter = await optionalNewsletter(query.newsletter);
        const rows = await stores.content.listArticles({ limit: query.limit, offset: query.offset, ...(newsletter ? { newsletterId: newsletter.id } : {}), ...(query.unassigned ? { unassigned: true } : {}) });
        return { items: rows.map((a) => articleOut(a, false)) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/articles/:id',
      operationId: 'getArticle',
      summary: 'One article with its Markdown body',
      tag: 'articles',
      role: 'viewer',
      params: z.object({ id: idParam }),
      response: { status: 200, schema: articleSchema },
      handler: async ({ params }) => {
        const article = await stores.content.findArticle(params.id);
        if (!article) throw new MailroomError('NOT_FOUND', `article ${params.id} does not exist`);
        return articleOut(article, true);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/articles',
      operationId: 'saveMarkdownArticle',
      summary: 'Create or update an article from Markdown with front matter (the same slug updates it)',
      tag: 'articles',
      role: 'editor',
      limits: { bodyBytes: 5 * 1024 * 1024 },
      query: z.object({ newsletter: z.string().optional() }),
      body: z.object({ markdown: z.string().min(1).describe('a Markdown document with YAML front matter: title, slug, summary, author, published_at, tags…') }),
      response: { status: 200, schema: savedArticlesSchema },
      handler: async ({ query, body }) => {
        const newsletter = await optionalNewsletter(query.newsletter);
        const read = readUploadedArticle(body.markdown, 'markdown', 'body.markdown');
        if (read.articles.length === 0) throw new ApiProblem(422, 'INVALID_INPUT', read.errors.map((e) => e.message).join('; '), [{ field: 'body.markdown', message: read.errors[0]?.message ?? 'not an article' }]);
        return savedOut(await saveImportedArticles(stores, feeds, read.articles, newsletter), read.errors);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/articles/upload',
      operationId: 'uploadArticle',
      summary: 'Upload a file: Markdown (text/markdown), a saved page (text/html) or page text (text/plain)',
      tag: 'articles',
      role: 'editor',
      bodyType: 'text/markdown',
      limits: { bodyBytes: 5 * 1024 * 1024, perMinute: 60 },
      query: z.object({ filename: z.string().max(200).default('upload'), url: z.url().optional().describe('for a page: the address it came from'), newsletter: z.string().optional() }),
      body: z.string().min(1),
      response: { status: 200, schema: savedArticlesSchema },
      handler: async ({ query, body, request }) => {
        const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
        const kind = type === 'text/html' ? 'html' : type === 'text/plain' ? 'text' : type === 'text/markdown' ? 'markdown' : null;
        if (kind === null) throw new ApiProblem(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type ${JSON.stringify(type)}: send text/markdown, text/html or text/plain`, [{ field: 'header.content-type', value: type, message: 'unsupported' }]);
        const newsletter = await optionalNewsletter(query.newsletter);
        const read = readUploadedArticle(body, kind, query.filename, { url: query.url, now: deps.clock() });
        return savedOut(await saveImportedArticles(stores, feeds, read.articles, newsletter), read.errors);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/articles/import',
      operationId: 'importArticleFromUrl',
      summary: 'Import an article from a web page',
      tag: 'articles',
      role: 'editor',
      limits: { perMinute: 30 },
      body: z.object({ url: z.url({ protocol: /^https?$/ }), newsletter: z.string().optional() }),
      response: { status: 200, schema: savedArticlesSchema },
      handler: async ({ body }) => {
        if (!deps.options.fetchPolicy) throw new ApiProblem(503, 'NOT_CONFIGURED', 'fetching web pages is not set up on this server');
        const newsletter = await optionalNewsletter(body.newsletter);
        const read = await readImportSource(body.url, { policy: deps.options.fetchPolicy, now: deps.clock() });
        return savedOut(await saveImportedArticles(stores, feeds, read.articles, newsletter), read.errors);
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/articles/:id',
      operationId: 'deleteArticle',
      summary: 'Delete an article that no issue contains',
      tag: 'articles',
      role: 'editor',
      params: z.object({ id: idParam }),
      response: { status: 204, schema: z.null() },
      handler: async ({ params }) => {
        const outcome = await deps.queries.deleteArticle(params.id);
        if (outcome === 'missing') throw new MailroomError('NOT_FOUND', `article ${params.id} does not exist`);
        if (outcome === 'in-issue') throw new MailroomError('CONFLICT', `article ${params.id} is in an issue; it stays so the issue keeps showing it`);
        return undefined;
      },
    }),
    // ----------------------------------------------------------------- issues
    defineRoute({
      method: 'GET',
      path: '/newsletters/:slug/issues',
      operationId: 'listIssues',
      summary: 'Issues of a newsletter, newest first',
      tag: 'issues',
      role: 'viewer',
      params: slugParams,
      response: { status: 200, schema: z.object({ items: z.array(issueSchema) }) },
      handler: async ({ params }) => {
        const newsletter = await resolveNewsletter(stores.newsletters, params.slug);
        return { items: (await stores.newsletters.listIssues(newsletter.id)).map((i) => ({ id: i.id, number: i.number, subject: i.subject, preheader: i.preheader, articleIds: [...i.articleIds], createdAt: i.createdAt, campaigns: i.campaigns })) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/newsletters/:slug/issues',
      operationId: 'buildIssue',
      summary: 'Build the next issue: chosen articles in this order (or the newest unsent), subject and preheader',
      tag: 'issues',
      role: 'editor',
      limits: { perMinute: 30 },
      params: slugParams,
      body: z.object({
        articles: z.array(z.union([z.string().min(1), z.number().int().positive()])).max(100).optional().describe('slugs, ids or canonical URLs, in the order they appear'),
        max: z.number().int().min(1).max(100).optional(),
        subject: z.string().min(1).max(300).optional(),
        preheader: z.string().max(300).optional(),
      }),
      response: { status: 201, schema: issueSchema },
      handler: async ({ params, body }) => {
        const { buildIssue } = await import('../../../issues/build-issue.ts');
        const newsletter = await resolveNewsletter(stores.newsletters, params.slug);
        const { issue } = await buildIssue(stores, newsletter, {
          publicUrl: deps.publicUrl,
          ...(body.articles ? { articles: body.articles.map(String) } : {}),
          ...(body.max ? { max: body.max } : {}),
          ...(body.subject !== undefined ? { subject: body.subject } : {}),
          ...(body.preheader !== undefined ? { preheader: body.preheader } : {}),
        });
        return { id: issue.id, number: issue.number, subject: issue.subject, preheader: issue.preheader, articleIds: [...issue.articleIds], createdAt: issue.createdAt, htmlBytes: Buffer.byteLength(issue.html) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/newsletters/:slug/issues/:number',
      operationId: 'getIssue',
      summary: 'One issue with its rendered HTML and text (placeholders not filled in)',
      tag: 'issues',
      role: 'viewer',
      params: issueParams,
      response: { status: 200, schema: issueSchema.extend({ html: z.string(), text: z.string() }) },
      handler: async ({ params }) => {
        const { issue } = await findIssue(params.slug, params.number);
        return { id: issue.id, number: issue.number, subject: issue.subject, preheader: issue.preheader, articleIds: [...issue.articleIds], createdAt: issue.createdAt, html: issue.html, text: issue.text, htmlBytes: Buffer.byteLength(issue.html) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/newsletters/:slug/issues/:number/preview',
      operationId: 'previewIssue',
      summary: 'The issue as one subscriber gets it (or a sample reader): subject, HTML and text',
      tag: 'issues',
      role: 'viewer',
      limits: { perMinute: 60 },
      params: issueParams,
      body: z.object({ as: z.string().max(320).optional().describe("a subscriber's email") }),
      response: { status: 200, schema: z.object({ email: z.string(), subject: z.string(), html: z.string(), text: z.string() }) },
      handler: async ({ params, body }) => {
        const { newsletter, issue } = await findIssue(params.slug, params.number);
        return previewIssueAs(stores, settings, newsletter, issue, body.as, 'body.as');
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/newsletters/:slug/issues/:number/test',
      operationId: 'testSendIssue',
      summary: 'Send one test copy of the issue to an address',
      tag: 'issues',
      role: 'editor',
      limits: { perMinute: 10 },
      params: issueParams,
      body: z.object({ email: z.string().min(3).max(320) }),
      response: { status: 200, schema: z.object({ sentTo: z.string(), issue: z.number().int() }) },
      handler: async ({ params, body }) => {
        const sendDeps = deps.options.sendDeps;
        if (!sendDeps) throw new ApiProblem(503, 'NOT_CONFIGURED', 'sending is not set up on this server');
        const { sendNewsletter } = await import('../../../sending/send-newsletter.ts');
        const { checkEmail, normalizeEmail } = await import('../../../core/email-address.ts');
        const email = normalizeEmail(body.email);
        const problem = checkEmail(email);
        if (problem) throw new ApiProblem(422, 'INVALID_INPUT', `body.email ${JSON.stringify(body.email)} ${problem}`, [{ field: 'body.email', value: body.email, message: problem }]);
        await findIssue(params.slug, params.number);
        const report = await sendNewsletter(sendDeps(), { newsletter: params.slug, issue: params.number, test: email });
        return { sentTo: email, issue: report.issue.number };
      },
    }),
    // -------------------------------------------------------------- schedules
    defineRoute({
      method: 'GET',
      path: '/schedules',
      operationId: 'listSchedules',
      summary: 'Schedules with their next runs',
      tag: 'schedules',
      role: 'viewer',
      response: { status: 200, schema: z.object({ items: z.array(scheduleSchema) }) },
      handler: async () => {
        const items = await Promise.all(
          (await stores.schedules.listSchedules()).map(async (s) => ({
            newsletter: (await stores.newsletters.getNewsletter(s.newsletterId))?.slug ?? '?',
            cron: s.cron,
            timezone: s.timezone,
            emptyPolicy: s.emptyPolicy,
            nextRuns: nextRuns(parseCron(s.cron), s.timezone, deps.clock(), 5).map((d) => d.toISOString()),
          })),
        );
        return { items };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/newsletters/:slug/schedule',
      operationId: 'setSchedule',
      summary: 'Send a newsletter on a cron schedule in a time zone',
      tag: 'schedules',
      role: 'editor',
      params: slugParams,
      body: z.object({ cron: z.string().min(1).max(100), timezone: z.string().min(1).max(64), emptyPolicy: z.enum(['skip', 'send']).default('skip') }),
      response: { status: 200, schema: scheduleSchema },
      handler: async ({ params, body }) => {
        const newsletter = await resolveNewsletter(stores.newsletters, params.slug);
        const checked = checkSchedule(body.cron, body.timezone, deps.options.scheduleMinIntervalMinutes ?? 60, deps.clock());
        const s = await stores.schedules.saveSchedule(newsletter.id, { cron: checked.cron, timezone: checked.timezone, emptyPolicy: body.emptyPolicy });
        return { newsletter: newsletter.slug, cron: s.cron, timezone: s.timezone, emptyPolicy: s.emptyPolicy, nextRuns: nextRuns(parseCron(s.cron), s.timezone, deps.clock(), 5).map((d) => d.toISOString()) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/newsletters/:slug/schedule',
      operationId: 'removeSchedule',
      summary: "Remove a newsletter's schedule",
      tag: 'schedules',
      role: 'editor',
      params: slugParams,
      response: { status: 204, schema: z.null() },
      handler: async ({ params }) => {
        const newsletter = await resolveNewsletter(stores.newsletters, params.slug);
        if (!(await stores.schedules.removeSchedule(newsletter.id))) throw new MailroomError('NOT_FOUND', `newsletter ${quote(params.slug)} has no schedule`);
        return undefined;
      },
    }),
    // ------------------------------------------------------------------ feeds
    defineRoute({
      method: 'GET',
      path: '/feeds',
      operationId: 'listFeeds',
      summary: 'Feeds and their last poll',
      tag: 'feeds',
      role: 'viewer',
      query: z.object({ newsletter: z.string().optional() }),
      response: { status: 200, schema: z.object({ items: z.array(feedSchema) }) },
      handler: async ({ query }) => {
        const newsletter = await optionalNewsletter(query.newsletter);
        return { items: await feeds.listFeeds(newsletter ? { newsletterId: newsletter.id } : {}) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/feeds',
      operationId: 'addFeed',
      summary: 'Add an RSS or Atom feed (or a page that links to one) to a newsletter',
      tag: 'feeds',
      role: 'editor',
      limits: { perMinute: 30 },
      body: z.object({ newsletter: z.string().min(1), url: z.string().min(1), fullContent: z.enum(FULL_CONTENT_MODES).default('auto') }),
      response: { status: 201, schema: feedSchema },
      handler: async ({ body }) => {
        if (!deps.options.fetchPolicy) throw new ApiProblem(503, 'NOT_CONFIGURED', 'fetching feeds is not set up on this server');
        const newsletter = await resolveNewsletter(stores.newsletters, body.newsletter);
        parseHttpUrl(body.url, 'body.url');
        const discovered = await discoverFeed(body.url, deps.options.fetchPolicy);
        return feeds.addFeed({ newsletterId: newsletter.id, url: discovered.url, title: discovered.feed.title, siteUrl: discovered.feed.siteUrl, fullContent: body.fullContent });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/feeds/:id/poll',
      operationId: 'pollFeed',
      summary: 'Poll a feed now',
      tag: 'feeds',
      role: 'editor',
      limits: { perMinute: 30 },
      params: z.object({ id: idParam }),
      response: { status: 200, schema: z.object({ result: z.looseObject({}) }) },
      handler: async ({ params }) => {
        if (!deps.options.fetchPolicy) throw new ApiProblem(503, 'NOT_CONFIGURED', 'fetching feeds is not set up on this server');
        const feed = await feeds.getFeed(params.id);
        if (!feed) throw new MailroomError('NOT_FOUND', `feed ${params.id} does not exist`);
        const [result] = await pollFeeds([feed], { stores, feeds, policy: deps.options.fetchPolicy });
        return { result: JSON.parse(JSON.stringify(result ?? {})) as Record<string, unknown> };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/feeds/:id',
      operationId: 'removeFeed',
      summary: 'Remove a feed (its articles stay)',
      tag: 'feeds',
      role: 'editor',
      params: z.object({ id: idParam }),
      response: { status: 204, schema: z.null() },
      handler: async ({ params }) => {
        if (!(await feeds.removeFeed(params.id))) throw new MailroomError('NOT_FOUND', `feed ${params.id} does not exist`);
        return undefined;
      },
    }),
  ];
}
