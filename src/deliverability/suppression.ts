/**
 * The suppression list as the operator manages it: addresses and whole domains, each with a reason. One copy of the
 * rules for the CLI (and any API): what a target may be, and an import that checks every line before it adds any.
 */
import { checkEmail, normalizeEmail } from '../core/email-address.ts';
import { MailroomError, quote } from '../core/errors.ts';
import type { DeliverabilityStore } from '../store/deliverability-store.ts';

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
export async function importSuppressions(store: DeliverabilityStore, text: string, source: string, defaultReason: string): Promise<SuppressionImport> {
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
