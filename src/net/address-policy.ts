/** The SSRF guard's address rules: which resolved IP addresses Mailroom may connect to when it fetches a page or a feed. */
import ipaddr from 'ipaddr.js';
import { MailroomError, quote } from '../core/errors.ts';

/**
 * Which non-public addresses are allowed:
 * - `none` (the default): only public unicast addresses;
 * - `all`: also loopback, private, link-local, unique-local and CGNAT addresses (local development), but still never
 *   cloud metadata endpoints, unspecified, multicast or broadcast addresses;
 * - a list of addresses and CIDR ranges: exactly those, on top of the public ones.
 * An IPv6 address that carries an IPv4 address (see embeddedIpv4) is judged by the IPv4 address, under the same access.
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

/** One IPv4 address carried inside an IPv6 address, and the form that carries it (for messages). */
export interface EmbeddedIpv4 {
  readonly form: string;
  readonly ipv4: ipaddr.IPv4;
}

const ipv4At = (bytes: readonly number[], offsets: readonly number[]): ipaddr.IPv4 => new ipaddr.IPv4(offsets.map((i) => bytes[i] ?? 0));

/** Where RFC 6052 puts the IPv4 address for each prefix length (byte 8, the "u" octet, is always skipped). */
const RFC6052_LAYOUTS: readonly (readonly number[])[] = [
  [12, 13, 14, 15], // /96
  [9, 10, 11, 12], // /64
  [7, 9, 10, 11], // /56
  [6, 7, 9, 10], // /48
];

/**
 * The IPv4 addresses an IPv6 address carries, by form: IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96, but not
 * :: and ::1), IPv4-translated (::ffff:0:0:0/96), NAT64 (64:ff9b::/96), local-use NAT64 (64:ff9b:1::/48, every RFC 6052
 * layout a prefix inside it may use), 6to4 (2002::/16, bits 16-47) and Teredo (2001::/32: the server in bits 32-63,
 * the client in the last 32 bits, inverted). Empty for any other address. Traffic to these addresses ends up at (or
 * is routed by) the IPv4 address they carry, so each one is judged by that address.
 */
export function embeddedIpv4(ip: ipaddr.IPv6): EmbeddedIpv4[] {
  const bytes = ip.toByteArray();
  const parts = ip.parts;
  const zeros = (from: number, to: number): boolean => parts.slice(from, to).every((p) => p === 0);
  const last32 = (form: string): EmbeddedIpv4[] => [{ form, ipv4: ipv4At(bytes, [12, 13, 14, 15]) }];
  if (zeros(0, 5) && parts[5] === 0xffff) return last32('IPv4-mapped');
  if (zeros(0, 4) && parts[4] === 0xffff && parts[5] === 0) return last32('IPv4-translated');
  if (zeros(0, 6) && ip.range() !== 'unspecified' && ip.range() !== 'loopback') return last32('IPv4-compatible');
  if (parts[0] === 0x64 && parts[1] === 0xff9b && zeros(2, 6)) return last32('NAT64');
  if (parts[0] === 0x64 && parts[1] === 0xff9b && parts[2] === 1) return RFC6052_LAYOUTS.map((layout) => ({ form: 'local-use NAT64', ipv4: ipv4At(bytes, layout) }));
  if (parts[0] === 0x2002) return [{ form: '6to4', ipv4: ipv4At(bytes, [2, 3, 4, 5]) }];
  if (parts[0] === 0x2001 && parts[1] === 0) {
    const client = new ipaddr.IPv4([12, 13, 14, 15].map((i) => (bytes[i] ?? 0) ^ 0xff));
    return [
      { form: 'Teredo server', ipv4: ipv4At(bytes, [4, 5, 6, 7]) },
      { form: 'Teredo client', ipv4: client },
    ];
  }
  return [];
}

/** Loopback: 127.0.0.0/8, ::1, and 127.x carried as IPv4-mapped or IPv4-compatible (which this host delivers to itself). */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return false;
  const ip = ipaddr.parse(bare);
  if (ip.range() === 'loopback') return true;
  if (ip.kind() !== 'ipv6') return false;
  return embeddedIpv4(ip as ipaddr.IPv6).some(({ form, ipv4 }) => (form === 'IPv4-mapped' || form === 'IPv4-compatible') && ipv4.range() === 'loopback');
}

/** Whether Mailroom may connect to this IP address under the given policy, and why not. */
export function checkAddress(address: string, access: PrivateAccess): AddressVerdict {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return { allowed: false, reason: `${quote(address)} is not an IP address` };
  const ip = ipaddr.parse(bare);
  if (ip.kind() === 'ipv6') {
    // An explicit list entry for the IPv6 address itself opens it, whatever it carries.
    if (access.kind === 'list' && matchesList(ip, access)) return { allowed: true };
    const embedded = embeddedIpv4(ip as ipaddr.IPv6);
    if (embedded.length > 0) {
      // Every IPv4 address it carries must pass, under the same rules as the address itself.
      for (const { form, ipv4 } of embedded) {
        const verdict = checkIp(ipv4, access);
        if (!verdict.allowed) return { allowed: false, reason: `${ip.toString()} embeds ${ipv4.toString()} (${form}): ${verdict.reason}` };
      }
      return { allowed: true };
    }
  }
  return checkIp(ip, access);
}

function matchesList(ip: ipaddr.IPv4 | ipaddr.IPv6, access: { readonly ranges: readonly AllowedRange[] }): boolean {
  return access.ranges.some(({ range }) => range[0].kind() === ip.kind() && ip.match(range));
}

/** The rules for one address, IPv4 or an IPv6 address that carries none. */
function checkIp(ip: ipaddr.IPv4 | ipaddr.IPv6, access: PrivateAccess): AddressVerdict {
  const text = ip.toString();
  if (access.kind === 'list' && matchesList(ip, access)) return { allowed: true };
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
        const [ip, bits] = ipaddr.parseCIDR(part);
        // An IPv4-mapped range (::ffff:10.0.0.0/104) is the IPv4 range it maps, which is how its addresses are judged.
        const mapped = ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96;
        ranges.push({ text: part, range: mapped ? [(ip as ipaddr.IPv6).toIPv4Address(), bits - 96] : [ip, bits] });
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
