import { describe, expect, it } from 'vitest';
import { isLoopback, isUnspecified } from '../../../src/lib/addresses.js';

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
});
