/** The made-up reader a preview is personalized for when no subscriber is named, and how a preview names whom it shows. */
import type { RecipientContext } from './personalize.ts';

/** Not a subscriber: id 0 (its unsubscribe and preference links lead nowhere). */
export const SAMPLE_READER = { id: 0, email: 'reader@example.com', name: 'Sample Reader', firstName: 'Sample', lastName: 'Reader', attributes: {} } as const;

/**
 * Whom a preview shows, in the words the preview itself uses: the name and address, and the first name the greeting
 * ("Hi …,") uses, taken from the same context the message was personalized with.
 */
export function describePreviewRecipient(context: Pick<RecipientContext, 'email' | 'fullName' | 'firstName'>, sample: boolean): string {
  const who = context.fullName && context.fullName !== context.firstName ? `${context.fullName} <${context.email}>` : context.email;
  const greeted = `greeted as "${context.firstName}"`;
  return sample ? `the sample reader ${who} (not a subscriber; ${greeted}; --as EMAIL previews a real one)` : `${who} (${greeted})`;
}
