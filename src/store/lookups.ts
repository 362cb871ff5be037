/** Finding a newsletter or a list by the name a user typed, with an error that lists the known ones. */
import type { MailingList, Newsletter } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';

/** What resolveNewsletter needs (the newsletter store has it). */
export interface NewsletterLookup {
  findNewsletter(slug: string): Promise<Newsletter | null>;
  listNewsletters(): Promise<Newsletter[]>;
}

/** What resolveList needs (the audience store has it). */
export interface ListLookup {
  findListByName(name: string): Promise<MailingList | null>;
  listLists(): Promise<readonly MailingList[]>;
}

export async function resolveNewsletter(store: NewsletterLookup, slug: string): Promise<Newsletter> {
  const newsletter = await store.findNewsletter(slug);
  if (newsletter) return newsletter;
  const known = (await store.listNewsletters()).map((n) => n.slug);
  throw new MailroomError('NOT_FOUND', `newsletter ${quote(slug)} does not exist${known.length ? ` (known: ${known.join(', ')})` : ' (create one with: mailroom newsletter create)'}`);
}

export async function resolveList(store: ListLookup, name: string): Promise<MailingList> {
  const list = await store.findListByName(name);
  if (list) return list;
  const known = (await store.listLists()).map((l) => l.name);
  throw new MailroomError('NOT_FOUND', `list ${quote(name)} does not exist${known.length ? ` (known: ${known.join(', ')})` : ' (create one with: mailroom lists create NAME)'}`);
}
