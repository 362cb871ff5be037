/** Finding a newsletter or a list by the name a user typed, with an error that lists the known ones. */
import type { MailingList, Newsletter } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import type { SqlStore } from './sql-store.ts';

export async function resolveNewsletter(store: SqlStore, slug: string): Promise<Newsletter> {
  const newsletter = await store.findNewsletter(slug);
  if (newsletter) return newsletter;
  const known = (await store.listNewsletters()).map((n) => n.slug);
  throw new MailroomError('NOT_FOUND', `newsletter ${quote(slug)} does not exist${known.length ? ` (known: ${known.join(', ')})` : ' (create one with: mailroom newsletter create)'}`);
}

export async function resolveList(store: SqlStore, name: string): Promise<MailingList> {
  const list = await store.findListByName(name);
  if (list) return list;
  const known = (await store.listLists()).map((l) => l.name);
  throw new MailroomError('NOT_FOUND', `list ${quote(name)} does not exist${known.length ? ` (known: ${known.join(', ')})` : ' (create one with: mailroom lists create NAME)'}`);
}

