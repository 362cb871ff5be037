/** Issue assembly: from a newsletter and its articles to the subject, preheader and template props of one edition. Pure. */
import type { EmailArticle, EmailBrand } from '../../emails/types.ts';
import type { Article, Newsletter } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { absoluteUrl, articleWebUrl } from '../core/links.ts';
import { compileIssue } from '../personalization/personalize.ts';
import { fillPattern, literalSource, type TemplateSource } from '../personalization/template-source.ts';
import type { IssueSources, TemplateInput } from '../rendering/render-issue.ts';

/** An issue's subject and preheader as Handlebars sources: the operator's patterns, with content as literal text. */
export interface IssueHeadline {
  readonly subject: TemplateSource;
  readonly preheader: TemplateSource;
}

/** The subject and preheader the operator gives for one issue (`issue build --subject/--preheader`): patterns too. */
export interface HeadlineOverrides {
  readonly subject?: string;
  readonly preheader?: string;
}

/** Longest lead title put into a subject line, and longest preheader taken from a summary. */
const TITLE_MAX = 150;
const PREHEADER_MAX = 140;

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const atWord = cut.lastIndexOf(' ');
  return `${(atWord > max / 2 ? cut.slice(0, atWord) : cut).replace(/[\s,.;:]+$/, '')}…`;
}

/**
 * The subject from the newsletter's pattern: `{title}` (the lead article), `{name}` (the newsletter), `{number}`
 * (the issue), filled as literal text: a title `{{email}}` shows `{{email}}`. Only the pattern itself may hold
 * Handlebars placeholders such as {{firstName}}, filled per recipient. An operator's own subject or preheader for
 * this issue is a pattern with the same tokens; the default preheader is the lead article's summary, as text.
 */
export function makeHeadline(
  newsletter: Pick<Newsletter, 'slug' | 'name' | 'subjectTemplate'>,
  articles: readonly Article[],
  number: number,
  overrides: HeadlineOverrides = {},
): IssueHeadline {
  const lead = articles[0];
  const values = { title: shorten(lead?.title ?? newsletter.name, TITLE_MAX), name: newsletter.name, number: String(number) };
  const subject =
    overrides.subject !== undefined
      ? fillPattern(overrides.subject, values, '--subject')
      : fillPattern(newsletter.subjectTemplate, values, `newsletter ${JSON.stringify(newsletter.slug)}: subject pattern`);
  const preheader = overrides.preheader !== undefined ? fillPattern(overrides.preheader, values, '--preheader') : literalSource(shorten(lead?.summary ?? '', PREHEADER_MAX));
  return { subject, preheader };
}

/**
 * Checks a subject pattern before it is saved: it parses, its tokens sit in the text, and its placeholders are
 * allowed (`where` names it in the error, e.g. `--subject`).
 */
export function checkSubjectPattern(pattern: string, where: string): void {
  const sample = fillPattern(pattern, { title: 'Title', name: 'Name', number: '1' }, where);
  try {
    compileIssue({ subject: sample, html: '', text: '' });
  } catch (error) {
    throw new MailroomError('INVALID_INPUT', `${where} ${quote(pattern)}: ${(error as Error).message}`, [], { cause: error });
  }
}

/** Root-relative links and images in an article's Markdown ("](/media/x.png)") point at this Mailroom server. */
function absolutizeMarkdownUrls(body: string, publicUrl: string): string {
  return body.replace(/\]\(\s*<?\/(?!\/)/g, (match) => `${match.slice(0, -1)}${publicUrl}/`);
}

export function toEmailArticle(article: Article, publicUrl: string): EmailArticle {
  const settings = { publicUrl };
  return {
    title: article.title,
    summary: article.summary,
    body: absolutizeMarkdownUrls(article.body, publicUrl),
    url: article.canonicalUrl || articleWebUrl(settings, article.slug),
    author: article.author,
    publishedAt: article.publishedAt,
    leadImage: article.leadImage ? { url: absoluteUrl(settings, article.leadImage.url), alt: article.leadImage.alt } : null,
    tags: article.tags,
  };
}

export function toEmailBrand(newsletter: Newsletter, publicUrl: string): EmailBrand {
  return {
    name: newsletter.name,
    logoUrl: absoluteUrl({ publicUrl }, newsletter.logoUrl),
    postalAddress: newsletter.postalAddress,
    websiteUrl: publicUrl,
    language: newsletter.language,
  };
}

/** The props the newsletter's template is rendered with (recipient placeholders are added by the renderer). */
export function assembleTemplateInput(
  newsletter: Newsletter,
  headline: IssueHeadline & { readonly number: number; readonly date: string },
  articles: readonly Article[],
  publicUrl: string,
): TemplateInput {
  const [lead, ...others] = articles;
  if (!lead) throw new Error('assembleTemplateInput: an issue needs at least one article');
  const brand = toEmailBrand(newsletter, publicUrl);
  const issue: IssueSources = { subject: headline.subject, preheader: headline.preheader, number: headline.number, date: headline.date };
  if (newsletter.template === 'article') return { template: 'article', props: { brand, issue, article: toEmailArticle(lead, publicUrl) } };
  return { template: 'digest', props: { brand, issue, lead: toEmailArticle(lead, publicUrl), others: others.map((a) => toEmailArticle(a, publicUrl)) } };
}
