/** Creating a newsletter and choosing its tags: the checks `mailroom newsletter create|set` and the API share. */
import type { NewsletterInput } from '../store/store-types.ts';
import { TEMPLATE_NAMES, type MailingList, type Newsletter, type TemplateName } from '../core/domain.ts';
import { checkEmail, normalizeEmail } from '../core/email-address.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { checkSubjectPattern } from '../issues/assemble.ts';
import { resolveList, type ListLookup } from '../store/lookups.ts';

/** What creating a newsletter needs of the stores (app.stores has it). */
export interface NewsletterServiceStores {
  readonly audience: ListLookup;
  readonly content: {
    setNewsletterTags(newsletterId: number, tags: readonly string[]): Promise<string[]>;
  };
  readonly newsletters: {
    createNewsletter(input: NewsletterInput): Promise<Newsletter>;
  };
}

export function checkedEmail(raw: string, where: string): string {
  const email = normalizeEmail(raw);
  const problem = checkEmail(email);
  if (problem) throw new MailroomError('INVALID_INPUT', `${where} ${quote(raw)} ${problem}`);
  return email;
}

/** "Name <addr@example.com>" or "addr@example.com". */
export function parseAddress(raw: string, label: string): { name: string; email: string } {
  const match = /^\s*(?:"?([^"<]*?)"?\s*)?<([^<>]+)>\s*$/.exec(raw);
  const name = match ? (match[1] ?? '').trim() : '';
  const email = checkedEmail(match ? (match[2] ?? '') : raw, label);
  if (/[\r\n]/.test(name)) throw new MailroomError('INVALID_INPUT', `${label} ${quote(raw)}: a name cannot contain line breaks`);
  return { name, email };
}

/** Tags (each may be comma-separated): trimmed and lowercased like article tags. */
export function checkedTags(values: readonly string[], label: string): string[] {
  const tags = values.flatMap((v) => v.split(',')).map((t) => t.trim().toLowerCase());
  for (const tag of tags) {
    if (tag === '' || tag.length > 60 || /[\u0000-\u001f\u007f]/.test(tag)) throw new MailroomError('INVALID_INPUT', `${label} ${quote(tag)}: a tag is 1-60 characters without control characters`);
  }
  return [...new Set(tags)];
}

export interface NewsletterRequest {
  readonly slug: string;
  readonly name: string;
  readonly from: string;
  readonly list: string;
  readonly postalAddress: string;
  readonly replyTo?: string | undefined;
  readonly template: string;
  readonly logo: string;
  readonly subject: string;
  readonly maxArticles: number;
  readonly language: string;
  readonly tags: readonly string[];
}

/** How each field is named where it came from (`--from` on the command line, `body.from` in the API). */
export type NewsletterLabels = Readonly<Record<'slug' | 'from' | 'replyTo' | 'template' | 'postalAddress' | 'maxArticles' | 'subject' | 'tag', string>>;

export async function createNewsletterChecked(stores: NewsletterServiceStores, request: NewsletterRequest, labels: NewsletterLabels): Promise<{ newsletter: Newsletter; list: MailingList; tags: string[] }> {
  const tags = checkedTags(request.tags, labels.tag);
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(request.slug)) throw new MailroomError('INVALID_INPUT', `${labels.slug} ${quote(request.slug)}: use lowercase letters, digits and '-' (e.g. weekly)`);
  checkSubjectPattern(request.subject, labels.subject);
  const from = parseAddress(request.from, labels.from);
  const replyTo = request.replyTo ? parseAddress(request.replyTo, labels.replyTo).email : '';
  const list = await resolveList(stores.audience, request.list);
  if (!(TEMPLATE_NAMES as readonly string[]).includes(request.template)) throw new MailroomError('NOT_FOUND', `${labels.template} ${quote(request.template)}: no such template (known: ${TEMPLATE_NAMES.join(', ')})`);
  if (!request.postalAddress.trim()) throw new MailroomError('INVALID_INPUT', `${labels.postalAddress}: required (CAN-SPAM asks for a valid physical postal address in every message)`);
  if (!Number.isSafeInteger(request.maxArticles) || request.maxArticles < 1) throw new MailroomError('INVALID_INPUT', `${labels.maxArticles}: at least 1`);
  const newsletter = await stores.newsletters.createNewsletter({
    slug: request.slug,
    name: request.name.replace(/[\r\n]+/g, ' ').trim(),
    fromName: from.name || request.name,
    fromEmail: from.email,
    replyTo,
    listId: list.id,
    template: request.template as TemplateName,
    postalAddress: request.postalAddress.trim(),
    logoUrl: request.logo,
    subjectTemplate: request.subject,
    maxArticles: request.maxArticles,
    language: request.language,
  });
  if (tags.length > 0) await stores.content.setNewsletterTags(newsletter.id, tags);
  return { newsletter, list, tags };
}
