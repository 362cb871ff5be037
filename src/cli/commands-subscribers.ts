/** The subscriber's-side commands: the embeddable sign-up form, sign-up and archive switches, and privacy export and erasure. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createApp, type App } from '../app.ts';
import { loadConfig } from '../config.ts';
import { MailroomError, quote } from '../core/errors.ts';
import { signupUrl } from '../core/links.ts';
import { escapeHtml } from '../http/html.ts';
import { resolveList, resolveNewsletter } from '../store/lookups.ts';
import { signupFormFor, type SignupSwitch } from '../subscribers/signup-form.ts';
import { eraseSubscriber, exportSubscriber, isEmptyExport, type PersonalDataRecords } from '../subscribers/privacy.ts';
import { cli } from './context.ts';
import { print, printError } from './output.ts';

/** What these commands need of the subscriber records: the sign-up and archive switches, privacy requests (app.stores.subscribers has it). */
interface SubscriberCommandRecords extends SignupSwitch, PersonalDataRecords {
  setSignupOpen(listId: number, open: boolean): Promise<void>;
  setArchivePublic(newsletterId: number, on: boolean): Promise<void>;
}

async function withApp<T>(fn: (app: App, subscribers: SubscriberCommandRecords) => Promise<T>): Promise<T> {
  const app = await createApp(loadConfig(cli().env, cli().cwd));
  try {
    return await fn(app, app.stores.subscribers);
  } finally {
    await app.close();
  }
}

function parseSwitch(value: string, what: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'on' || v === 'open' || v === 'true' || v === 'yes') return true;
  if (v === 'off' || v === 'closed' || v === 'close' || v === 'false' || v === 'no') return false;
  throw new MailroomError('INVALID_INPUT', `${what} ${quote(value)}: expected on or off`);
}

export { renderSignupForm } from '../subscribers/signup-form.ts';

export async function listsFormCommand(name: string, options: { name: boolean }): Promise<number> {
  return withApp(async (app, subscribers) => {
    const { html, action } = await signupFormFor(app.stores, subscribers, app.config, name, options.name);
    print(html);
    printError(`hosted sign-up page: ${action}  (JSON: POST {"email": "…", "name": "…"} with Content-Type: application/json)`);
    return 0;
  });
}

export async function listsSignupCommand(name: string, state: string): Promise<number> {
  const open = parseSwitch(state, 'state');
  return withApp(async (app, subscribers) => {
    const list = await resolveList(app.stores.audience, name);
    await subscribers.setSignupOpen(list.id, open);
    print(open ? `list ${list.name}: sign-up is open at ${signupUrl(app.config, list.name)}` : `list ${list.name}: sign-up is closed (its page and form answer 404)`);
    return 0;
  });
}

export async function newsletterArchiveCommand(slug: string, state: string): Promise<number> {
  const on = parseSwitch(state, 'state');
  return withApp(async (app, subscribers) => {
    const newsletter = await resolveNewsletter(app.stores.newsletters, slug);
    await subscribers.setArchivePublic(newsletter.id, on);
    print(
      on
        ? `newsletter ${newsletter.slug}: the archive and its RSS feed are public at ${app.config.publicUrl}/issues/${encodeURIComponent(newsletter.slug)}`
        : `newsletter ${newsletter.slug}: the archive index and feed are off; each sent issue stays reachable at its "view in browser" link`,
    );
    return 0;
  });
}

export async function subscribersExportCommand(email: string, options: { out?: string }): Promise<number> {
  return withApp(async (_app, subscribers) => {
    const data = await exportSubscriber(subscribers, email, new Date());
    const json = `${JSON.stringify(data, null, 2)}\n`;
    if (options.out) {
      // Personal data: readable by the owner only.
      await writeFile(resolve(options.out), json, { mode: 0o600 });
      printError(`wrote ${options.out}`);
    } else {
      cli().stdout.write(json);
    }
    if (isEmptyExport(data)) printError(`nothing is held about ${data.email}`);
    return 0;
  });
}

export async function subscribersEraseCommand(email: string): Promise<number> {
  return withApp(async (_app, subscribers) => {
    const report = await eraseSubscriber(subscribers, email, new Date());
    print(
      `${report.email}: erased: ${report.subscriber ? 'profile' : 'no profile'}, ${report.memberships} list membership(s), ${report.sends} send row(s), ${report.rateLimitHits} confirmation counter(s) deleted`,
    );
    print(
      report.suppression === 'added'
        ? 'kept: a suppression keyed by the sha256 of the address (no address), so no import or sign-up mails it again without a new confirmation'
        : `kept: the existing suppression (${report.suppression}), now without the address or its detail`,
    );
    return 0;
  });
}
