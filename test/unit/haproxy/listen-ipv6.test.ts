import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { canListenOnIpv6, listenOnIpv6 } from '../../../src/haproxy/listen-ipv6.js';

describe('listenOnIpv6', () => {
  it.each([
    // [LISTEN_IPV6, the host can listen on IPv6, HAProxy listens on IPv6]
    ['auto', true, true],
    ['auto', false, false],
    [true, true, true],
    [false, true, false],
    [false, false, false],
  ] as const)('LISTEN_IPV6=%s on a host with IPv6 %s: %s', async (setting, available, expected) => {
    expect(await listenOnIpv6(setting, async () => available)).toBe(expected);
  });

  it('does not ask the host when told false', async () => {
    let asked = false;
    await listenOnIpv6(false, async () => {
      asked = true;
      return true;
    });
    expect(asked).toBe(false);
  });

  it('refuses true on a host without IPv6 at startup, naming the setting, rather than leave HAProxy unable to start', async () => {
    const error = await listenOnIpv6(true, async () => false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^LISTEN_IPV6: .*auto or false/)]);
  });

  it('asks the host with a socket it lets go of at once', async () => {
    const first = await canListenOnIpv6();
    expect(typeof first).toBe('boolean');
    expect(await canListenOnIpv6()).toBe(first);
  });
});
