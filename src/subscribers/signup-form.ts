/** The embeddable sign-up form of a list: plain HTML (no script) posting to the hosted sign-up endpoint; `mailroom lists form` and the web app show it. */
import type { Newsletter } from '../core/domain.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { signupUrl, type LinkSettings } from '../core/links.ts';
import { escapeHtml } from '../http/html.ts';
import { resolveList, type ListLookup } from '../store/lookups.ts';
import { HONEYPOT_FIELD, NAME_MAX_LENGTH } from './signup.ts';

/** What the sign-up form needs of the stores (app.stores has it). */
/** Whether a list's sign-up is open (app.stores.subscribers has it). */
export interface SignupSwitch {
  isSignupOpen(listId: number): Promise<boolean>;
}

export interface SignupFormStores {
  readonly audience: ListLookup;
  readonly newsletters: {
    listNewsletters(): Promise<Newsletter[]>;
  };
}

/** The embeddable form: plain HTML (no script), posting to the hosted sign-up endpoint, with the honeypot hidden off-screen. */
export function renderSignupForm(options: { action: string; listName: string; label: string; withName: boolean }): string {
  const id = options.listName.replace(/[^A-Za-z0-9_-]/g, '-');
  const e = escapeHtml;
  const lines = [
    `<!-- Sign-up form for ${e(options.label)} (Mailroom list "${e(options.listName)}"). Double opt-in: a confirmation email is sent first. -->`,
    `<form method="post" action="${e(options.action)}" accept-charset="utf-8" class="mailroom-signup">`,
    `  <label for="mailroom-email-${e(id)}">Email address</label>`,
    `  <input id="mailroom-email-${e(id)}" type="email" name="email" required maxlength="254" autocomplete="email">`,
    ...(options.withName
      ? [`  <label for="mailroom-name-${e(id)}">Name (optional)</label>`, `  <input id="mailroom-name-${e(id)}" type="text" name="name" maxlength="${NAME_MAX_LENGTH}" autocomplete="name">`]
      : []),
    `  <!-- Leave this hidden field in place and empty: bots fill it, and their sign-ups are dropped. -->`,
    `  <div aria-hidden="true" style="position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden">`,
    `    <label for="mailroom-${HONEYPOT_FIELD}-${e(id)}">Leave this field empty</label>`,
    `    <input id="mailroom-${HONEYPOT_FIELD}-${e(id)}" type="text" name="${HONEYPOT_FIELD}" tabindex="-1" autocomplete="off" value="">`,
    `  </div>`,
    `  <button type="submit">Subscribe</button>`,
    `</form>`,
  ];
  return lines.join('\n');
}

export interface SignupForm {
  readonly list: string;
  readonly action: string;
  /** Sign-up is open: the form works. Closed: it answers 404 until `mailroom lists signup LIST on`. */
  readonly open: boolean;
  readonly html: string;
}

/** The form of list `name`; the list must have a newsletter (its sender signs the confirmation email). */
export async function signupFormOf(stores: SignupFormStores, subscribers: SignupSwitch, settings: Pick<LinkSettings, 'publicUrl'>, name: string, withName: boolean): Promise<SignupForm> {
  const list = await resolveList(stores.audience, name);
  const newsletters = (await stores.newsletters.listNewsletters()).filter((n) => n.listId === list.id).sort((a, b) => a.id - b.id);
  if (newsletters.length === 0) {
    throw new MailroomError('NOT_FOUND', `list ${quote(list.name)} has no newsletter, and sign-up needs one (its sender signs the confirmation email): mailroom newsletter create SLUG --list ${list.name} …`);
  }
  const action = signupUrl(settings, list.name);
  return { list: list.name, action, open: await subscribers.isSignupOpen(list.id), html: renderSignupForm({ action, listName: list.name, label: newsletters.map((n) => n.name).join(', '), withName }) };
}

/** The same, for printing: a closed sign-up is an error that says how to open it. */
export async function signupFormFor(stores: SignupFormStores, subscribers: SignupSwitch, settings: Pick<LinkSettings, 'publicUrl'>, name: string, withName: boolean): Promise<SignupForm> {
  const form = await signupFormOf(stores, subscribers, settings, name, withName);
  if (!form.open) throw new MailroomError('CONFLICT', `sign-up for list ${quote(form.list)} is closed; open it with: mailroom lists signup ${form.list} on`);
  return form;
}
