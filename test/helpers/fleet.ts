/**
 * In-process companions' DNS halves for fleet and fault tests: real SDK clients (configured by the
 * standard env chain, as in production) talking to moto through the fault-injecting proxy.
 */
import { pino } from 'pino';
import { DnsRegistrar } from '../../src/dns/dns-registrar.js';
import { createRoute53Client, createZoneApi } from '../../src/dns/route53-zone.js';
import { listRecords } from './moto.js';

export interface Host {
  id: string;
  ip: string;
  registrar: DnsRegistrar;
  domains: Set<string>;
}

/**
 * The SDK reads AWS_ENDPOINT_URL_ROUTE_53 and credentials from the env, as the companion does; the client
 * makes one attempt a request, as the companion's registrar's does.
 * `retry`: the registrar's backoff, by default 250 ms to 5 s (production: 1 s to 60 s); `leaseMs`: DNS_LEASE_S
 * (default the registrar's one hour).
 */
export function host(
  zoneId: string,
  id: string,
  ip: string,
  options: { reconcileIntervalMs?: number; leaseMs?: number; retry?: { minMs: number; maxMs: number } } = {},
): Host {
  // As createDnsHalf makes it: one attempt a request, the registrar retries.
  const api = createZoneApi(createRoute53Client({ maxAttempts: 1 }), zoneId);
  const registrar = new DnsRegistrar(
    api,
    {
      zone: 'example.com',
      ttl: 60,
      mode: 'multivalue',
      identity: { id, ip, source: 'env' },
      reconcileIntervalMs: options.reconcileIntervalMs ?? 3_600_000,
      retryMinMs: options.retry?.minMs ?? 250,
      retryMaxMs: options.retry?.maxMs ?? 5_000,
      ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    },
    pino({ level: process.env.FLEET_LOG_LEVEL ?? 'silent' }),
  );
  return { id, ip, registrar, domains: new Set() };
}

/** name -> sorted "ip setIdentifier" of every A record in the zone (read from moto directly, not through the proxy). */
export async function zoneARecords(endpoint: string, zoneId: string): Promise<Map<string, string[]>> {
  const byName = new Map<string, string[]>();
  for (const r of await listRecords(endpoint, zoneId, { pageSize: 1000 })) {
    if (r.Type !== 'A') continue;
    const name = r.Name!.replace(/\.$/, '');
    const entries = byName.get(name) ?? [];
    for (const v of r.ResourceRecords ?? []) entries.push(`${v.Value} ${r.SetIdentifier ?? '-'}`);
    byName.set(name, entries.sort());
  }
  return byName;
}

/** The owners named by the zone's ownership markers (read from moto directly). */
export async function zoneMarkerOwners(endpoint: string, zoneId: string): Promise<Set<string>> {
  const owners = new Set<string>();
  for (const r of await listRecords(endpoint, zoneId, { pageSize: 1000 })) {
    if (r.Type !== 'TXT' || !r.Name?.startsWith('_hc-owner.')) continue;
    for (const v of r.ResourceRecords ?? []) {
      const owner = /owner=([^,"]+)/.exec(v.Value ?? '')?.[1];
      if (owner) owners.add(owner);
    }
  }
  return owners;
}

/** What the zone must hold: every serving host's IP under its own SetIdentifier prefix, plus `extra`. */
export function expectedARecords(hosts: Host[], extra: Record<string, string[]> = {}): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const h of hosts) {
    for (const d of h.domains) {
      const name = `${d}.example.com`;
      byName.set(name, [...(byName.get(name) ?? []), `${h.ip} ${h.id}-`]);
    }
  }
  for (const [name, values] of Object.entries(extra)) byName.set(name, [...(byName.get(name) ?? []), ...values]);
  for (const values of byName.values()) values.sort();
  return byName;
}

/** Compares with SetIdentifiers cut to their host prefix (the hash part is the records module's business). */
export function sameRecords(actual: Map<string, string[]>, expected: Map<string, string[]>): boolean {
  const cut = (m: Map<string, string[]>) =>
    JSON.stringify(
      [...m.entries()]
        .filter(([, v]) => v.length > 0)
        .sort()
        .map(([k, v]) => [k, v.map((e) => e.replace(/^(\S+ \S+-)[0-9a-f]{10}$/, '$1')).sort()]),
    );
  return cut(actual) === cut(expected);
}

/** A small seeded PRNG, so a failing fleet run can be replayed with the same seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
