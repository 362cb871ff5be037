/**
 * The suppression list as the operator manages it: addresses and whole domains, each with a reason. One copy of the
 * rules for the CLI (`mailroom suppress …`) and the API (`/api/v1/suppressions`): what a target may be, adding and
 * lifting one, and an import that checks every line before it adds any.
 */
import { checkEmail, normalizeEmail } from '../core/email-address.ts';
import { MailroomError, quote } from '../core/errors.ts';

/** What the service needs of the store (DeliverabilityStore implements it). */
export interface SuppressionWriter {
  /** False: already suppressed. */
  addSuppression(target: string, reason: string, detail?: string): Promise<boolean>;
  /** False: was not suppressed. */
  removeSuppression(target: string): Promise<boolean>;
}

export interface SuppressionTarget {
  readonly kind: 'address' | 'domain';
  /** The address, or `@domain`. */
  readonly value: string;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** `someone@example.com`, or `@example.com` / `example.com` for every address at that domain. */
export function parseSuppressionTarget(raw: string, where: string): SuppressionTarget {
  const value = raw.trim().toLowerCase();
  if (value.startsWith('@') || !value.includes('@')) {
    const domain = value.replace(/^@/, '');
    if (!DOMAIN.test(domain)) throw new MailroomError('INVALID_INPUT', `${where} ${quote(raw)}: not an address or a domain (someone@example.com, or @example.com for the whole domain)`);
    return { kind: 'domain', value: `@${domain}` };
  }
  const email = normalizeEmail(value);
  const problem = checkEmail(email);
  if (problem) throw new MailroomError('INVALID_INPUT', `${where} ${quote(raw)} ${problem}`);
  return { kind: 'address', value: email };
}

export function checkReason(reason: string, where: string): string {
  const r = reason.trim();
  if (r === '' || r.length > 200 || /[\r\n]/.test(r)) throw new MailroomError('INVALID_INPUT', `${where} ${quote(reason)}: a reason is one line of 1 to 200 characters`);
  return r;
}

export interface SuppressionImport {
  readonly added: number;
  readonly already: number;
}

/**
 * Lines of `address-or-@domain[,reason]` (blank lines and # comments skipped). Every line is checked first: one bad
 * line names its file and line number, and nothing is added.
 */
export async function importSuppressions(store: SuppressionWriter, text: string, source: string, defaultReason: string): Promise<SuppressionImport> {
  const entries: { target: SuppressionTarget; reason: string }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const comma = trimmed.indexOf(',');
    const target = comma >= 0 ? trimmed.slice(0, comma) : trimmed;
    const reason = comma >= 0 ? trimmed.slice(comma + 1) : defaultReason;
    if (i === 0 && /^(email|address|target)$/i.test(target.trim())) return;
    const where = `${source} line ${i + 1}:`;
    entries.push({ target: parseSuppressionTarget(target, where), reason: checkReason(reason, `${where} reason`) });
  });
  let added = 0;
  for (const entry of entries) if (await store.addSuppression(entry.target.value, entry.reason)) added += 1;
  return { added, already: entries.length - added };
}

export interface SuppressionAdded {
  readonly target: string;
  readonly kind: 'address' | 'domain';
  readonly reason: string;
  /** False: it was already suppressed (nothing changed). */
  readonly added: boolean;
}

/** Suppresses an address or a whole domain. `where` names the input in errors (`suppress add`, `body.target`). */
export async function addSuppression(store: SuppressionWriter, raw: { target: string; reason: string; detail?: string }, where: { target: string; reason: string }): Promise<SuppressionAdded> {
  const target = parseSuppressionTarget(raw.target, where.target);
  const reason = checkReason(raw.reason, where.reason);
  const detail = (raw.detail ?? '').trim();
  if (detail.length > 500) throw new MailroomError('INVALID_INPUT', `detail: ${detail.length} characters; at most 500`);
  const added = await store.addSuppression(target.value, reason, detail);
  return { target: target.value, kind: target.kind, reason, added };
}

/** Lifts a suppression; NOT_FOUND when there was none. Memberships stay as they are (an unsubscribed person stays so). */
export async function removeSuppression(store: SuppressionWriter, raw: string, where: string): Promise<SuppressionTarget> {
  const target = parseSuppressionTarget(raw, where);
  if (!(await store.removeSuppression(target.value))) throw new MailroomError('NOT_FOUND', `${quote(target.value)} is not suppressed (see: mailroom suppress list, GET /api/v1/suppressions)`);
  return target;
}
