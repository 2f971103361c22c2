import { describe, expect, it } from 'vitest';
import { canonicalIpv6, couldBeAnotherHostIpv4, isLoopback, isUnspecified, unreachableIpv6 } from '../../../src/lib/addresses.js';

describe('addresses', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])('%s is loopback', (address) => {
    expect(isLoopback(address)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '10.0.0.1', '::2', 'localhost', '127.0.0.1x', ''])('%j is not loopback', (address) => {
    expect(isLoopback(address)).toBe(false);
  });

  it.each(['0.0.0.0', '::', '::ffff:0.0.0.0'])('%s is unspecified', (address) => {
    expect(isUnspecified(address)).toBe(true);
  });

  it.each(['127.0.0.1', '::1', '0.0.0.1', 'any'])('%j is not unspecified', (address) => {
    expect(isUnspecified(address)).toBe(false);
  });

  it.each([
    ['2001:DB8::A', '2001:db8::a'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:10.0.0.5', '::ffff:a00:5'],
  ])('writes %s as %s (RFC 5952)', (text, canonical) => {
    expect(canonicalIpv6(text)).toBe(canonical);
  });

  it.each(['10.0.0.5', 'fe80::1%eth0', '2001:db8::/64', '2001:db8:::1', ''])('%j is no IPv6 address to publish', (text) => {
    expect(canonicalIpv6(text)).toBeUndefined();
  });

  it.each(['2001:db8::10', '2600:1f18::1', 'fd00:ec2::10', '2a05:d018:1::5'])('%s is reachable by other hosts', (address) => {
    expect(unreachableIpv6(canonicalIpv6(address)!)).toBeUndefined();
  });
});

describe('couldBeAnotherHostIpv4', () => {
  it.each(['10.0.0.2', '172.31.185.11', '192.168.1.5', '203.0.113.7', '100.64.0.1'])('takes %s', (address) => {
    expect(couldBeAnotherHostIpv4(address)).toBe(true);
  });

  it.each([
    '127.0.0.1',
    '127.9.9.9',
    '0.0.0.0',
    '0.1.2.3',
    '169.254.169.254',
    '224.0.0.1',
    '239.1.1.1',
    '240.0.0.1',
    '255.255.255.255',
    '::1',
    '2001:db8::1',
    'localhost',
    '',
  ])('refuses %j', (address) => {
    expect(couldBeAnotherHostIpv4(address)).toBe(false);
  });
});
