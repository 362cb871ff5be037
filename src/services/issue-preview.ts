/** An issue as one reader would get it (subject, HTML, text with their links), shared by `mailroom preview --as` and the API's preview. */
import type { Newsletter, Subscriber } from '../core/domain.ts';
import { normalizeEmail } from '../core/email-address.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { issueWebUrl, preferencesUrl, unsubscribeUrl } from '../core/links.ts';
import { buildRecipientContext } from '../personalization/personalize.ts';
import { describePreviewRecipient, SAMPLE_READER } from '../personalization/sample-reader.ts';
import { compileStoredIssue } from '../sending/send-newsletter.ts';
import type { StoredIssue } from '../store/store-types.ts';

/** What previewing an issue needs of the stores (app.stores has it). */
export interface IssuePreviewStores {
  readonly audience: {
    findSubscriberByEmail(email: string): Promise<Subscriber | null>;
  };
}

export interface PersonalizedIssue {
  readonly email: string;
  /** Whom it shows, in the words the message itself uses (name, address, the first name of the greeting). */
  readonly recipient: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** `as`: a subscriber's email (an unknown one is an error naming `label`); without it, a sample reader. */
export async function previewIssueAs(
  stores: IssuePreviewStores,
  settings: { readonly publicUrl: string; readonly secret: string },
  newsletter: Newsletter,
  issue: StoredIssue,
  as: string | undefined,
  label: string,
): Promise<PersonalizedIssue> {
  const compiled = compileStoredIssue(issue);
  const subscriber = as ? await stores.audience.findSubscriberByEmail(normalizeEmail(as)) : null;
  if (as && !subscriber) throw new MailroomError('NOT_FOUND', `${label} ${quote(as)}: no such subscriber`);
  const identity = subscriber ?? SAMPLE_READER;
  const context = buildRecipientContext(identity, {
    unsubscribeUrl: unsubscribeUrl(settings, identity.id, newsletter.listId),
    preferencesUrl: preferencesUrl(settings, identity.id, newsletter.listId),
    webVersionUrl: issueWebUrl(settings, newsletter.slug, issue.number),
  });
  const parts = compiled.personalize(context);
  return { email: identity.email, recipient: describePreviewRecipient(context, subscriber === null), subject: parts.subject, html: parts.html, text: parts.text };
}
