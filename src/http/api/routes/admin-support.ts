/**
 * Routes the web app (/admin) needs beyond the rest of the API: the recipient count a send must confirm, and an
 * issue's personalized HTML as a page the preview iframe can show (its own CSP: the email's inline styles and
 * remote images, no scripts; framed only by our own pages).
 */
import { z } from 'zod';
import { articleToMarkdown } from '../../../content/article-markdown.ts';
import { MailroomError, quote } from '../../../core/errors.ts';
import { countRecipientsFor } from '../../../services/campaign-recipients.ts';
import { previewIssueAs } from '../../../services/issue-preview.ts';
import { issueWarnings } from '../../../services/issue-warnings.ts';
import { resolveNewsletter } from '../../../store/lookups.ts';
import { signupFormOf } from '../../../subscribers/signup-form.ts';
import type { ApiDeps } from '../api-deps.ts';
import { defineRoute, idParam, type ApiRoute } from '../define-route.ts';

/** The email's own styles and images; nothing runs; only our pages may frame it. */
export const EMAIL_PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; font-src * data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

export function adminSupportRoutes(deps: ApiDeps): ApiRoute[] {
  const { stores } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/articles/:id/markdown',
      operationId: 'getArticleMarkdown',
      summary: 'An article as a Markdown file with front matter (title, slug, summary, author, published, lead_image, tags); POST /articles saves it back',
      tag: 'articles',
      role: 'viewer',
      params: z.object({ id: idParam }),
      response: { status: 200, schema: z.object({ id: z.number().int(), slug: z.string(), markdown: z.string() }) },
      handler: async ({ params }) => {
        const article = await stores.content.findArticle(params.id);
        if (!article) throw new MailroomError('NOT_FOUND', `article ${params.id} does not exist`);
        return { id: article.id, slug: article.slug, markdown: articleToMarkdown(article) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/lists/:name/form',
      operationId: 'signupForm',
      summary: "A list's embeddable sign-up form (plain HTML, no script, honeypot included), as `mailroom lists form` prints it",
      tag: 'lists',
      role: 'viewer',
      params: z.object({ name: z.string().min(1).max(64) }),
      query: z.object({ withName: z.stringbool().default(true) }),
      response: { status: 200, schema: z.object({ list: z.string(), action: z.string(), open: z.boolean(), html: z.string() }) },
      handler: async ({ params, query }) => signupFormOf(stores, deps.subscribers, { publicUrl: deps.publicUrl }, params.name, query.withName),
    }),
    defineRoute({
      method: 'GET',
      path: '/newsletters/:slug/issues/:number/recipients',
      operationId: 'countCampaignRecipients',
      summary: 'How many subscribers a campaign of this issue would mail now (the number POST /campaigns must confirm)',
      tag: 'issues',
      role: 'viewer',
      params: z.object({ slug: z.string().min(1).max(40), number: idParam }),
      query: z.object({ list: z.string().min(1).max(64).optional().describe("another list than the newsletter's own"), resend: z.stringbool().default(false) }),
      response: { status: 200, schema: z.object({ newsletter: z.string(), issue: z.number().int(), list: z.string(), recipients: z.number().int(), alreadyReceived: z.number().int() }).meta({ id: 'RecipientCount' }) },
      handler: async ({ params, query }) => countRecipientsFor(stores, { newsletter: params.slug, issue: params.number, list: query.list, resend: query.resend }, 'issue'),
    }),
    defineRoute({
      method: 'GET',
      path: '/newsletters/:slug/issues/:number/warnings',
      operationId: 'issueWarnings',
      summary: "Warnings before sending, on the email one subscriber (or a sample reader) gets: HTML size against Gmail's clipping, images without alt text, links and images on this server that fail (other hosts are listed, not requested)",
      tag: 'issues',
      role: 'viewer',
      params: z.object({ slug: z.string().min(1).max(40), number: idParam }),
      query: z.object({ as: z.string().max(320).optional().describe("a subscriber's email") }),
      response: {
        status: 200,
        schema: z
          .object({
            email: z.string(),
            html: z.object({ bytes: z.number().int(), limitBytes: z.number().int(), warnBytes: z.number().int(), verdict: z.enum(['ok', 'near', 'clipped']) }),
            imagesWithoutAlt: z.array(z.string()),
            failingUrls: z.array(z.object({ url: z.string(), kind: z.enum(['link', 'image']), status: z.number().int().nullable() })),
            checkedUrls: z.number().int(),
            otherHosts: z.array(z.string()),
            liveOnceSent: z.array(z.string()).describe('pages on this server that go public when the issue is sent (its web version, its articles)'),
          })
          .meta({ id: 'IssueWarnings' }),
      },
      handler: async ({ params, query }) => {
        const newsletter = await resolveNewsletter(stores.newsletters, params.slug);
        const issue = await stores.newsletters.findIssue(newsletter.id, params.number);
        if (!issue) throw new MailroomError('NOT_FOUND', `newsletter ${quote(params.slug)} has no issue #${params.number}`);
        return issueWarnings(stores, { publicUrl: deps.publicUrl, secret: deps.secret }, deps.ownServerGet, newsletter, issue, query.as, 'query.as');
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/newsletters/:slug/issues/:number/preview.html',
      operationId: 'previewIssueHtml',
      summary: 'The issue as one subscriber gets it (or a sample reader), as an HTML page for a preview frame',
      tag: 'issues',
      role: 'viewer',
      params: z.object({ slug: z.string().min(1).max(40), number: idParam }),
      query: z.object({ as: z.string().max(320).optional().describe("a subscriber's email") }),
      response: { status: 200, schema: z.string(), contentType: 'text/html; charset=utf-8' },
      handler: async ({ params, query, reply }) => {
        const newsletter = await resolveNewsletter(stores.newsletters, params.slug);
        const issue = await stores.newsletters.findIssue(newsletter.id, params.number);
        if (!issue) throw new MailroomError('NOT_FOUND', `newsletter ${quote(params.slug)} has no issue #${params.number}`);
        const preview = await previewIssueAs(stores, { publicUrl: deps.publicUrl, secret: deps.secret }, newsletter, issue, query.as, 'query.as');
        reply.header('content-security-policy', EMAIL_PREVIEW_CSP).header('x-frame-options', 'SAMEORIGIN').header('cache-control', 'no-store');
        return preview.html;
      },
    }),
  ];
}
