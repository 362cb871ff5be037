/** The SSRF guard's address rules: which resolved IP addresses Mailroom may connect to when it fetches a page or a feed. */
import ipaddr from 'ipaddr.js';
import { MailroomError, quote } from '../core/errors.ts';

/**
 * Which non-public addresses are allowed:
 * - `none` (the default): only public unicast addresses;
 * - `all`: also loopback, private, link-local, unique-local and CGNAT addresses (local development), but still never
 *   cloud metadata endpoints, unspecified, multicast or broadcast addresses;
 * - a list of addresses and CIDR ranges: exactly those, on top of the public ones.
 */
export type PrivateAccess = { readonly kind: 'none' } | { readonly kind: 'all' } | { readonly kind: 'list'; readonly ranges: readonly AllowedRange[] };

export interface AllowedRange {
  readonly text: string;
  readonly range: [ipaddr.IPv4 | ipaddr.IPv6, number];
}

export type AddressVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** Cloud instance metadata endpoints (AWS, GCP, Azure, ECS, Alibaba, Oracle): refused even when private addresses are allowed. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', '169.254.169.123', 'fd00:ec2::254', '100.100.100.200', '192.0.0.192']);

/** Ranges no setting short of an explicit list entry opens. */
const NEVER_WITH_ALL = new Set(['unspecified', 'multicast', 'broadcast']);

const RANGE_NAMES: Readonly<Record<string, string>> = {
  loopback: 'a loopback address',
  private: 'a private address',
  linkLocal: 'a link-local address',
  uniqueLocal: 'a unique-local (private IPv6) address',
  carrierGradeNat: 'a carrier-grade NAT (shared) address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
  benchmarking: 'a benchmarking address',
  rfc6052: 'a NAT64 address',
  rfc6145: 'an IPv4-translated address',
  '6to4': 'a 6to4 address',
  teredo: 'a Teredo address',
  discard: 'a discard-only address',
};

/** The address in canonical form; IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) become the IPv4 address they carry. */
export function normalizeAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return null;
  const parsed = ipaddr.parse(bare);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
}

/** Whether Mailroom may connect to this IP address under the given policy, and why not. */
export function checkAddress(address: string, access: PrivateAccess): AddressVerdict {
  const ip = normalizeAddress(address);
  if (!ip) return { allowed: false, reason: `${quote(address)} is not an IP address` };
  const text = ip.toString();
  if (access.kind === 'list' && access.ranges.some(({ range }) => range[0].kind() === ip.kind() && ip.match(range))) return { allowed: true };
  const range = ip.range();
  if (METADATA_ADDRESSES.has(text)) return { allowed: false, reason: `${text} is a cloud metadata address` };
  if (range === 'unicast') return { allowed: true };
  if (access.kind === 'all' && !NEVER_WITH_ALL.has(range)) return { allowed: true };
  return { allowed: false, reason: `${text} is ${RANGE_NAMES[range] ?? `not a public address (${range})`}` };
}

/** Parses FETCH_ALLOW_PRIVATE: empty/0/false/no → none; 1/true/yes/all → all; else a comma-separated list of IPs and CIDRs. */
export function parsePrivateAccess(value: string | undefined): PrivateAccess {
  const text = (value ?? '').trim();
  if (text === '' || /^(0|false|no|off|none)$/i.test(text)) return { kind: 'none' };
  if (/^(1|true|yes|on|all)$/i.test(text)) return { kind: 'all' };
  const ranges: AllowedRange[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    try {
      if (part.includes('/')) {
        ranges.push({ text: part, range: ipaddr.parseCIDR(part) });
      } else {
        const ip = normalizeAddress(part);
        if (!ip) throw new Error('not an address');
        ranges.push({ text: part, range: [ip, ip.kind() === 'ipv4' ? 32 : 128] });
      }
    } catch {
      throw new MailroomError('CONFIG', `FETCH_ALLOW_PRIVATE: ${quote(part)} is not an IP address or a CIDR range (expected 1, or a list like "127.0.0.1,10.0.0.0/8")`);
    }
  }
  return ranges.length === 0 ? { kind: 'none' } : { kind: 'list', ranges };
}

/** How to open the guard, for error messages. */
export function describeAccessHint(access: PrivateAccess): string {
  return access.kind === 'none'
    ? 'set FETCH_ALLOW_PRIVATE=1 (or a list of addresses) to allow private and local addresses for local development'
    : `not allowed by FETCH_ALLOW_PRIVATE=${access.kind === 'all' ? '1' : access.ranges.map((r) => r.text).join(',')}`;
}
