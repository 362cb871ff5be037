/** Who a campaign of an issue would mail now: the count the sender confirms before sending ("Send issue #4 to 12,034 subscribers of Readers?"). */
import type { StoredIssue } from '../store/store-types.ts';
import type { MailingList } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { resolveList, resolveNewsletter, type ListLookup, type NewsletterLookup } from '../store/lookups.ts';

/** What counting a campaign's recipients needs of the stores (app.stores has it). */
export interface RecipientCountStores {
  readonly audience: ListLookup & {
    countCampaignRecipients(listId: number, issueId: number, resend: boolean): Promise<{ recipients: number; alreadyReceived: number }>;
    getList(id: number): Promise<MailingList | null>;
  };
  readonly newsletters: NewsletterLookup & {
    findIssue(newsletterId: number, number: number): Promise<StoredIssue | null>;
  };
}

export interface RecipientCount {
  readonly newsletter: string;
  readonly issue: number;
  readonly list: string;
  readonly recipients: number;
  readonly alreadyReceived: number;
}

/** `list`: another list than the newsletter's own. `where` names the inputs in errors (`query.issue`). */
export async function countRecipientsFor(stores: RecipientCountStores, input: { newsletter: string; issue: number; list?: string | undefined; resend: boolean }, where = 'issue'): Promise<RecipientCount> {
  const newsletter = await resolveNewsletter(stores.newsletters, input.newsletter);
  const list = input.list ? await resolveList(stores.audience, input.list) : await stores.audience.getList(newsletter.listId);
  if (!list) throw new MailroomError('NOT_FOUND', `newsletter ${quote(newsletter.slug)}: its list no longer exists`);
  const issue = await stores.newsletters.findIssue(newsletter.id, input.issue);
  if (!issue) throw new MailroomError('NOT_FOUND', `${where} ${input.issue}: newsletter ${quote(newsletter.slug)} has no issue #${input.issue}`);
  const { recipients, alreadyReceived } = await stores.audience.countCampaignRecipients(list.id, issue.id, input.resend);
  return { newsletter: newsletter.slug, issue: issue.number, list: list.name, recipients, alreadyReceived };
}
