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
