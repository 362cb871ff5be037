/** Email address normalization (the form every subscriber, suppression and send is keyed by) and a practical validity check. */

import { domainToASCII } from 'node:url';

/** RFC 5321: a forward-path is at most 256 octets including the angle brackets, so an address is at most 254. */
const MAX_ADDRESS_LENGTH = 254;
const MAX_LOCAL_LENGTH = 64;
const MAX_DOMAIN_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;

/** RFC 5322 atext (letters, digits and these symbols), plus dots between atoms. */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;
const ALL_DIGITS = /^[0-9]+$/;
const LINE_BREAK = /[\r\n\u0085\u2028\u2029]/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const WHITESPACE = /\s/;
const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * The canonical form of an address: trimmed, surrounding `<…>` removed, NFC, lowercased as a whole
 * (local part included: no mailbox provider we send to treats case as significant), and an internationalized
 * domain converted to punycode (`bücher.de` → `xn--bcher-kva.de`). Never throws; pass the result to `checkEmail`.
 */
export function normalizeEmail(raw: string): string {
  let address = raw.trim();
  if (address.startsWith('<') && address.endsWith('>')) address = address.slice(1, -1).trim();
  address = address.normalize('NFC').toLowerCase().normalize('NFC');
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  const domain = address.slice(at + 1);
  if (!NON_ASCII.test(domain)) return address;
  // domainToASCII returns '' for a domain it cannot convert; keep the original so checkEmail can say why.
  const ascii = domainToASCII(domain);
  return ascii === '' ? address : `${address.slice(0, at + 1)}${ascii}`;
}

/**
 * Null when `normalized` (the output of `normalizeEmail`) is an address we are willing to mail, else why not,
 * phrased to follow the quoted value: `"bob@" is not an email address`.
 *
 * Deliberately stricter than RFC 5322, like mature ESPs: no quoted local parts, no comments, no IP-literal
 * domains, no internationalized local parts (SMTPUTF8 support is too patchy to rely on).
 */
export function checkEmail(normalized: string): string | null {
  const address = normalized;
  if (address === '') return 'is empty';
  if (LINE_BREAK.test(address)) return 'contains a line break';
  if (CONTROL.test(address)) return 'contains control characters';
  if (WHITESPACE.test(address)) return 'contains spaces';
  if (address.length > MAX_ADDRESS_LENGTH) return `is longer than ${MAX_ADDRESS_LENGTH} characters`;
  if (address.includes(',') || address.includes(';')) return 'contains a comma or semicolon (more than one address?)';
  if (address.includes('<') || address.includes('>')) return 'contains < or > (only the address itself is accepted)';

  const at = address.lastIndexOf('@');
  if (at < 0) return 'is not an email address';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local === '' || domain === '') return 'is not an email address';
  if (local.startsWith('"')) return 'has a quoted local part, which is not accepted';
  if (local.includes('@')) return 'has more than one @';

  if (local.length > MAX_LOCAL_LENGTH) return `has more than ${MAX_LOCAL_LENGTH} characters before the @`;
  if (NON_ASCII.test(local)) return 'has non-ASCII characters before the @';
  if (!LOCAL_PART.test(local)) return 'has characters before the @ that are not allowed in an address';
  if (local.startsWith('.') || local.endsWith('.')) return 'starts or ends with a dot before the @';
  if (local.includes('..')) return 'has two dots in a row before the @';

  if (domain.startsWith('[')) return 'has an IP address instead of a domain';
  if (NON_ASCII.test(domain)) return 'has a domain that is not a valid internationalized domain name';
  if (domain.length > MAX_DOMAIN_LENGTH) return `has a domain longer than ${MAX_DOMAIN_LENGTH} characters`;
  const labels = domain.split('.');
  if (labels.length < 2) return 'domain has no dot';
  for (const label of labels) {
    if (label === '') return 'domain has an empty part (two dots in a row, or a dot at the start or end)';
    if (label.length > MAX_LABEL_LENGTH) return `domain has a part longer than ${MAX_LABEL_LENGTH} characters`;
    if (!DOMAIN_LABEL.test(label)) {
      return 'domain may only contain letters, digits and hyphens (not at the start or end of a part)';
    }
  }
  const tld = labels[labels.length - 1] ?? '';
  if (ALL_DIGITS.test(tld)) return 'domain ends in a number (an IP address is not accepted)';
  return null;
}
