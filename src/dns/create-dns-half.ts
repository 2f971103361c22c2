/** Builds the DNS half from the configuration: the Route53 registrar, or a preview that only logs. */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { DnsHalf } from './dns-half.js';
import { DnsPreview } from './dns-preview.js';
import { DnsRegistrar } from './dns-registrar.js';
import { peerNetworks } from './fleet-peers.js';
import { type HostIdentity, resolveHostIdentity } from './host-identity.js';
import type { ZoneApi } from './route53-zone.js';

/** This host's identity: HOST_IP/HOST_IPV6/HOST_ID, else EC2 instance metadata. */
export function identityFor(config: Config): Promise<HostIdentity> {
  const { dns } = config;
  return resolveHostIdentity({
    imdsEndpoint: dns.imdsEndpoint,
    imdsDisabled: dns.imdsDisabled,
    hostIp: dns.hostIp,
    hostIpv6: dns.hostIpv6,
    hostId: dns.hostId,
  });
}

/**
 * The zone's API. The AWS SDK is loaded here, on first use: a host without HOSTED_ZONE_ID never loads
 * it, and it is a large share of the supervisor's memory (docs/benchmarks.md, memory notes).
 */
export async function zoneApiFor(
  config: Config & { dns: { hostedZoneId: string } },
  client: { maxAttempts?: number } = {},
): Promise<ZoneApi> {
  const { createRoute53Client, createZoneApi } = await import('./route53-zone.js');
  return createZoneApi(createRoute53Client({ region: config.dns.region, ...client }), config.dns.hostedZoneId);
}

/** The Route53 registrar when HOSTED_ZONE_ID is set; otherwise a preview that only logs. */
export async function createDnsHalf(config: Config, log: Logger, hooks: { onFleetChanged?: () => void } = {}): Promise<DnsHalf> {
  const dnsLog = log.child({ component: 'dns' });
  const { dns } = config;
  if (dns.hostedZoneId === undefined) return new DnsPreview(config.zone, dnsLog);
  // A wrong identity would publish wrong records for the whole fleet to see: no identity, no start.
  const identity = await identityFor(config);
  return new DnsRegistrar(
    // One attempt a request: the registrar retries itself, with full jitter, and sees every throttle. The SDK's
    // quick second and third attempts land in the second a fleet is throttled in (half the throttled
    // requests of the fleet simulation, docs/benchmarks.md).
    await zoneApiFor({ ...config, dns: { ...dns, hostedZoneId: dns.hostedZoneId } }, { maxAttempts: 1 }),
    {
      zone: config.zone,
      ttl: dns.ttl,
      mode: dns.mode,
      identity,
      reconcileIntervalMs: dns.reconcileIntervalMs,
      leaseMs: dns.leaseMs,
      debounce: dns.debounce,
      maxNames: dns.maxNames,
      sharedOwners: dns.sharedOwners,
      ...(config.fleet ? { onFleetChanged: hooks.onFleetChanged, peerNetworks: peerNetworks(config.fleet.peerCidrs) } : {}),
    },
    dnsLog,
  );
}
