import { describe, expect, it } from 'vitest';
import { withLingering } from '../../../src/model/linger.js';
import type { Service } from '../../../src/model/services.js';

const service = (domain: string, servers = 1): Service => ({
  domain,
  hostnames: [`${domain}.example.com`, domain],
  backend: `be_${domain}`,
  servers: Array.from({ length: servers }, (_, i) => ({ name: `${domain}-${i}`, containerId: `${domain}${i}`, containerName: `${domain}-${i}`, address: `10.0.0.${i + 1}`, port: 80, endpoint: `10.0.0.${i + 1}:80` })),
});
const start = { rendered: [] as Service[], lingering: new Map() };

describe('withLingering', () => {
  it('keeps an empty backend for a service whose last container left, until the linger time passes', () => {
    const first = withLingering([service('a'), service('b')], start, 0, 1000);
    const second = withLingering([service('a')], first, 100, 1000);
    expect(second.rendered.map((s) => [s.domain, s.servers.length])).toEqual([['a', 1], ['b', 0]]);
    expect(second.nextExpiry).toBe(1100);
    expect(withLingering([service('a')], second, 500, 1000).rendered.map((s) => s.domain)).toEqual(['a', 'b']);
    expect(withLingering([service('a')], second, 1100, 1000).rendered.map((s) => s.domain)).toEqual(['a']);
  });

  it('renders the same backends through a restart cycle, so only servers change', () => {
    const up = withLingering([service('a')], start, 0, 1000);
    const down = withLingering([], up, 10, 1000);
    const upAgain = withLingering([service('a')], down, 20, 1000);
    expect([up, down, upAgain].map((r) => r.rendered.map((s) => s.backend))).toEqual([['be_a'], ['be_a'], ['be_a']]);
    expect(upAgain.lingering.size).toBe(0);
  });

  it('keeps nothing when lingering is off', () => {
    const first = withLingering([service('a')], start, 0, 0);
    expect(withLingering([], first, 1, 0).rendered).toEqual([]);
  });
});
