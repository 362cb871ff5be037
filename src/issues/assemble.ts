/** Issue assembly: from a newsletter and its articles to the subject, preheader and template props of one edition. Pure. */
import type { ArticleEmailProps, DigestEmailProps, EmailArticle, EmailBrand } from '../../emails/types.ts';
import type { Article, Newsletter } from '../core/domain.ts';
import { absoluteUrl, articleWebUrl } from '../core/links.ts';
import type { TemplateInput } from '../rendering/render-issue.ts';

export interface IssueHeadline {
  readonly subject: string;
  readonly preheader: string;
}

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const atWord = cut.lastIndexOf(' ');
  return `${(atWord > max / 2 ? cut.slice(0, atWord) : cut).replace(/[\s,.;:]+$/, '')}…`;
}

/**
 * The subject from the newsletter's pattern: `{title}` (the lead article), `{name}` (the newsletter), `{number}`
 * (the issue). The result may still hold Handlebars placeholders such as {{firstName}}, filled per recipient.
 */
export function makeHeadline(newsletter: Pick<Newsletter, 'name' | 'subjectTemplate'>, articles: readonly Article[], number: number): IssueHeadline {
  const lead = articles[0];
  const subject = newsletter.subjectTemplate
    .replaceAll('{title}', lead?.title ?? newsletter.name)
    .replaceAll('{name}', newsletter.name)
    .replaceAll('{number}', String(number));
  const preheader = shorten(lead?.summary ?? '', 140);
  return { subject: shorten(subject, 200), preheader };
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
  const issue = { subject: headline.subject, preheader: headline.preheader, number: headline.number, date: headline.date };
  if (newsletter.template === 'article') {
    const props: Omit<ArticleEmailProps, 'recipient'> = { brand, issue, article: toEmailArticle(lead, publicUrl) };
    return { template: 'article', props };
  }
  const props: Omit<DigestEmailProps, 'recipient'> = { brand, issue, lead: toEmailArticle(lead, publicUrl), others: others.map((a) => toEmailArticle(a, publicUrl)) };
  return { template: 'digest', props };
}
