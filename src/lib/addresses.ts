/** What an address is, where more than one module needs to know. IPv4-mapped IPv6 forms count as their IPv4 address. */
import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const UNSPECIFIED = new BlockList();
UNSPECIFIED.addAddress('0.0.0.0', 'ipv4');
UNSPECIFIED.addAddress('::', 'ipv6');

const matches = (list: BlockList, address: string) => {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
};

/** The host's loopback: 127.0.0.0/8 or ::1. */
export const isLoopback = (address: string): boolean => matches(LOOPBACK, address);

/** `0.0.0.0` or `::`: every address of the host. */
export const isUnspecified = (address: string): boolean => matches(UNSPECIFIED, address);

/**
 * IPv4 addresses no other host has: this host itself (loopback), "this network", link-local (instance
 * metadata), multicast, reserved and broadcast.
 */
const NOT_ANOTHER_HOST_V4 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_ANOTHER_HOST_V4.addSubnet(network, prefix, 'ipv4');

/** Whether `address` (IPv4) could be another host's: none of the addresses above. */
export const couldBeAnotherHostIpv4 = (address: string): boolean => isIP(address) === 4 && !NOT_ANOTHER_HOST_V4.check(address, 'ipv4');

/**
 * An IPv6 address in the one text form this host writes (RFC 5952: lower case, no leading zeros, the
 * longest run of zero groups as `::`), or undefined for anything else, a zone index (`%eth0`) included.
 * Route53 keeps the text of an AAAA value as written, so the same address must always be written the same way.
 */
export function canonicalIpv6(text: string): string | undefined {
  if (isIP(text) !== 6 || text.includes('%')) return undefined;
  // The WHATWG URL serialiser is RFC 5952's form, and writes an embedded IPv4 part as two groups.
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/** The eight 16-bit groups of a canonical IPv6 address. */
function ipv6Groups(canonical: string): number[] {
  const [head = '', tail] = canonical.split('::');
  const parts = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const [before, after] = [parts(head), tail === undefined ? [] : parts(tail)];
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}

/**
 * Why other hosts could not reach this host at an IPv6 address, or undefined when they can: every
 * unicast address but the special ones below. Unique local addresses (fc00::/7) pass, as a private
 * IPv4 address does in an A record: they reach the host inside its network.
 */
export function unreachableIpv6(canonical: string): string | undefined {
  const g = ipv6Groups(canonical);
  const [g0 = 0, g5 = 0, g6 = 0, g7 = 0] = [g[0], g[5], g[6], g[7]];
  const leadingZeros = g.slice(0, 5).every((x) => x === 0);
  if (leadingZeros && g5 === 0 && g6 === 0 && g7 <= 1)
    return g7 === 0 ? 'the unspecified address :: names no host' : "the loopback address ::1 is every client's own machine";
  if (leadingZeros && g5 === 0xffff)
    return 'an IPv4-mapped address (::ffff:0:0/96) is an IPv4 address: set HOST_IP to it, and AAAA records need an IPv6 one';
  if (leadingZeros && g5 === 0) return 'an IPv4-compatible address (::/96) is deprecated (RFC 4291) and routed nowhere';
  if ((g0 & 0xffc0) === 0xfe80) return 'a link-local address (fe80::/10) is only reachable on its own network link';
  if ((g0 & 0xffc0) === 0xfec0) return 'a site-local address (fec0::/10) is deprecated (RFC 3879)';
  if ((g0 & 0xff00) === 0xff00) return 'a multicast address (ff00::/8) names a group of listeners, not one host';
  return undefined;
}
