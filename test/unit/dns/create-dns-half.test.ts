import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createDnsHalf } from '../../../src/dns/create-dns-half.js';
import { DnsPreview } from '../../../src/dns/dns-preview.js';
import { DnsRegistrar } from '../../../src/dns/dns-registrar.js';
import { MemoryZone } from '../../helpers/memory-zone.js';

// The Route53 edge (and with it the AWS SDK) must be imported only when a zone is configured: the
// factory runs on the module's first import, so it records whether that happened.
const edge = vi.hoisted(() => ({ loaded: false, zoneIds: [] as string[] }));
vi.mock('../../../src/dns/route53-zone.js', () => {
  edge.loaded = true;
  return {
    createRoute53Client: () => ({}),
    createZoneApi: (_client: unknown, zoneId: string) => {
      edge.zoneIds.push(zoneId);
      return new MemoryZone();
    },
  };
});

const log = pino({ level: 'silent' });
const config = (env: Record<string, string>) => loadConfig({ DOMAIN_NAME: 'example.com', ...env }, '/app/templates/haproxy.cfg.njk');

describe('createDnsHalf', () => {
  // In this order: the module registry keeps the edge once the second test loaded it.
  it('without HOSTED_ZONE_ID: a preview, and the Route53 edge is never loaded', async () => {
    const half = await createDnsHalf(config({}), log);
    expect(half).toBeInstanceOf(DnsPreview);
    expect(edge.loaded).toBe(false);
  });

  it('with HOSTED_ZONE_ID: the registrar, on the Route53 edge loaded then', async () => {
    const half = await createDnsHalf(config({ HOSTED_ZONE_ID: 'Z123', HOST_IP: '192.0.2.10', HOST_ID: 'host-a' }), log);
    expect(half).toBeInstanceOf(DnsRegistrar);
    expect(edge.loaded).toBe(true);
    expect(edge.zoneIds).toEqual(['Z123']);
  });

  it('gives the registrar HOST_IPV6, canonical, in its identity', async () => {
    const env = { HOSTED_ZONE_ID: 'Z123', HOST_IP: '192.0.2.10', HOST_IPV6: '2001:DB8:0::10', HOST_ID: 'host-a' };
    const half = await createDnsHalf(config(env), log);
    expect(half.status().identity).toStrictEqual({ ip: '192.0.2.10', ipv6: '2001:db8::10', id: 'host-a', source: 'env' });
    const without = await createDnsHalf(config({ ...env, HOST_IPV6: 'none' }), log);
    expect(without.status().identity).toStrictEqual({ ip: '192.0.2.10', id: 'host-a', source: 'env' });
  });
});
