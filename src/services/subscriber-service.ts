/** Subscriber rules shared by the CLI (`mailroom subscribers add|import`) and the API: checked fields, names, attributes, imports into a list. */
import { checkEmail, normalizeEmail } from '../core/email-address.ts';
import { MailroomError, quote } from '../core/errors.ts';
import type { MailingList } from '../core/domain.ts';
import type { ImportRowOutcome } from '../core/import-report.ts';
import { slugify } from '../content/slug.ts';
import { resolveList, type ListLookup } from '../store/lookups.ts';
import type { ImportReport, ImportRows, SubscriberFields } from '../store/store-types.ts';

/** What adding and importing subscribers needs of the stores (app.stores has it). */
export interface SubscriberServiceStores {
  readonly audience: ListLookup & {
    addSubscriber(listId: number, fields: SubscriberFields, consentSource: string): Promise<ImportRowOutcome>;
    createList(name: string, description?: string): Promise<MailingList>;
    deleteEmptyList(id: number): Promise<boolean>;
    findListByName(name: string): Promise<MailingList | null>;
    importSubscribers(listId: number, rows: ImportRows, options: { source: string; strict?: boolean; onRow?: (rowsRead: number) => void }): Promise<ImportReport>;
  };
}

export interface SubscriberInput {
  readonly email: string;
  readonly name?: string | undefined;
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  /** Keys become lowercase with underscores (`Company Name` → `company_name`). */
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface CheckedSubscriber {
  readonly email: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly attributes: Record<string, string>;
}

/** Labels name the fields where they came from: `--first-name` for the CLI, `firstName` for the API. */
export interface FieldLabels {
  readonly email: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly attributes: string;
}

export function checkSubscriber(input: SubscriberInput, labels: FieldLabels): CheckedSubscriber {
  const email = normalizeEmail(input.email);
  const problem = checkEmail(email);
  if (problem) throw new MailroomError('INVALID_INPUT', `${labels.email} ${quote(input.email)} ${problem}`);
  for (const [label, value] of [[labels.name, input.name], [labels.firstName, input.firstName], [labels.lastName, input.lastName]] as const) {
    if (value && /[\u0000-\u001f\u007f]/.test(value)) throw new MailroomError('INVALID_INPUT', `${label} ${quote(value)}: control characters and line breaks are not allowed`);
  }
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.attributes ?? {})) {
    const clean = slugify(key).replace(/-/g, '_');
    if (!clean) throw new MailroomError('INVALID_INPUT', `${labels.attributes} key ${quote(key)}: use letters or digits`);
    attributes[clean] = value;
  }
  const firstName = input.firstName ?? (input.name ? (input.name.trim().split(/\s+/)[0] ?? '') : '');
  const lastName = input.lastName ?? (input.name ? input.name.trim().split(/\s+/).slice(1).join(' ') : '');
  const name = input.name ?? [firstName, lastName].filter(Boolean).join(' ');
  return { email, name, firstName, lastName, attributes };
}

export async function addSubscriberToList(stores: SubscriberServiceStores, listName: string, subscriber: CheckedSubscriber, consentSource: string): Promise<{ list: MailingList; outcome: ImportRowOutcome }> {
  const list = await resolveList(stores.audience, listName);
  const outcome = await stores.audience.addSubscriber(list.id, subscriber, consentSource);
  return { list, outcome };
}

/** Imports rows into a list (made for the import with `createList`; removed again when the import writes nothing). */
export async function importIntoList(
  stores: SubscriberServiceStores,
  listName: string,
  rows: ImportRows,
  options: { createList?: boolean; strict?: boolean; source: string; onRow?: (rowsRead: number) => void },
): Promise<{ list: MailingList; report: ImportReport }> {
  const existing = await stores.audience.findListByName(listName);
  const list = existing ?? (options.createList ? await stores.audience.createList(listName) : await resolveList(stores.audience, listName));
  const dropNewList = async () => {
    if (!existing) await stores.audience.deleteEmptyList(list.id);
  };
  const report = await stores.audience.importSubscribers(list.id, rows, { source: options.source, strict: options.strict ?? false, ...(options.onRow ? { onRow: options.onRow } : {}) }).catch(async (error: unknown) => {
    await dropNewList();
    throw error;
  });
  if (!report.applied) await dropNewList();
  return { list, report };
}
