/**
 * The fleet simulation of issue 15, shared by test/integration/fleet.test.ts (CI: 20 hosts) and the
 * benchmark's `fleet` scenario (100 and 250): `hosts` companions' DNS halves (in-process registrars, real
 * SDK clients, distinct HOST_ID/HOST_IP) share one zone in moto, behind the fault proxy, which allows 5
 * requests a second for all of them together (Route53's account limit) and answers Throttling beyond it.
 * 10 names; each host serves each with probability 0.4; then 60 starts and stops of containers spread over
 * 3 s, with Route53 down for 1.5 s in the middle. Measured: from the last change until the zone holds
 * exactly the served records, and the requests by operation (and how many the proxy throttled).
 */
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { type NameOwner, unitHash } from '../../src/dns/fleet-owners.js';
import { expectedARecords, type Host, host, random, sameRecords, zoneARecords } from './fleet.js';
import { AWS_TEST_ENV, createHostedZone, route53Client } from './moto.js';
import { type Operation, type ProxyStats, startFaultProxy } from './route53-faults.js';
import { waitFor } from './wait-for.js';

export const FLEET_NAMES = Array.from({ length: 10 }, (_, i) => `svc${i}`);
/** One app serves every name on every host: its markers name it (issue #21), and no host is kept out. */
const FLEET_OWNER: NameOwner = { unit: unitHash('image:app'), description: 'image:app' };
const ownedByTheFleet = (domains: Iterable<string>) => new Map([...domains].map((d) => [d, FLEET_OWNER]));
/** The record a person made by hand before the fleet started: it must come out untouched. */
export const MANUAL_RECORD = '192.0.2.1 manual';

export interface FleetSimulationOptions {
  /** moto's own endpoint (the simulation puts its rate-limiting proxy in front). */
  motoEndpoint: string;
  hosts: number;
  seed: number;
  /** The registrars' retry backoff; default the simulation's 250 ms to 5 s (production: 1 s to 60 s). */
  retry?: { minMs: number; maxMs: number };
  /** How long to wait for convergence before reporting it missed. */
  timeoutMs?: number;
}

export interface FleetReport {
  hosts: number;
  seed: number;
  retry: { minMs: number; maxMs: number };
  /** Domain-list changes handed to the registrars: each host's first list, and the churn. */
  changes: number;
  converged: boolean;
  /** From the last change until the zone held exactly the served records (or until the wait gave up). */
  convergedAfterLastChangeMs: number;
  totalMs: number;
  /** A records in the zone at the end. */
  records: number;
  requests: Partial<Record<Operation, number>>;
  /** Of those, answered by the proxy itself: throttled (and, during the outage, unavailable). */
  rejected: Partial<Record<Operation, number>>;
}

export interface FleetRun {
  report: FleetReport;
  /** The zone's A records at the end (name -> "ip setIdentifier"), for the test's checks. */
  zone: Map<string, string[]>;
  hosts: Host[];
  stats: ProxyStats;
}

/**
 * Runs the simulation on a fresh zone. Sets the AWS SDK's environment (test credentials, the proxy as the
 * Route53 endpoint) for its duration, as the companion reads it; restores it before returning.
 */
export async function runFleetSimulation(options: FleetSimulationOptions): Promise<FleetRun> {
  const retry = options.retry ?? { minMs: 250, maxMs: 5_000 };
  const zoneId = await createHostedZone(options.motoEndpoint, 'example.com');
  const client = route53Client(options.motoEndpoint);
  await client.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: 'svc0.example.com',
              Type: 'A',
              TTL: 300,
              SetIdentifier: 'manual',
              MultiValueAnswer: true,
              ResourceRecords: [{ Value: '192.0.2.1' }],
            },
          },
        ],
      },
    }),
  );
  client.destroy();
  const proxy = await startFaultProxy(options.motoEndpoint, { ratePerSecond: 5 });
  const env = { ...AWS_TEST_ENV, AWS_ENDPOINT_URL_ROUTE_53: proxy.endpoint };
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  const hosts: Host[] = [];
  try {
    const rand = random(options.seed);
    const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
    for (let i = 0; i < options.hosts; i++) {
      const h = host(zoneId, `host-${String(i).padStart(3, '0')}`, `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, { retry });
      for (const name of FLEET_NAMES) if (rand() < 0.4) h.domains.add(name);
      hosts.push(h);
    }
    const started = performance.now();
    for (const h of hosts) {
      h.registrar.setDomains([...h.domains], ownedByTheFleet(h.domains));
      h.registrar.start();
    }

    // 60 container starts and stops spread over 3 s, with Route53 down for 1.5 s in the middle.
    let changes = 0;
    const churnEnd = performance.now() + 3_000;
    let outageDone = false;
    while (performance.now() < churnEnd) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (!outageDone && performance.now() > churnEnd - 2_000) {
        outageDone = true;
        proxy.outage(true);
        setTimeout(() => proxy.outage(false), 1_500);
      }
      const h = pick(hosts);
      const name = pick(FLEET_NAMES);
      if (h.domains.has(name)) h.domains.delete(name);
      else h.domains.add(name);
      h.registrar.setDomains([...h.domains], ownedByTheFleet(h.domains));
      changes++;
    }
    const lastChange = performance.now();

    const expected = expectedARecords(hosts, { 'svc0.example.com': [MANUAL_RECORD] });
    let converged = true;
    try {
      await waitFor(async () => sameRecords(await zoneARecords(options.motoEndpoint, zoneId), expected), {
        timeoutMs: options.timeoutMs ?? 600_000,
        intervalMs: 500,
        what: 'the zone to hold exactly the served records',
      });
    } catch {
      converged = false;
    }
    const end = performance.now();
    if (converged) await Promise.all(hosts.map((h) => h.registrar.idle()));
    const stats = proxy.stats();
    const zone = await zoneARecords(options.motoEndpoint, zoneId);
    const nonZero = (counts: Record<Operation, number>) => Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
    return {
      report: {
        hosts: options.hosts,
        seed: options.seed,
        retry,
        changes: changes + options.hosts,
        converged,
        convergedAfterLastChangeMs: Math.round(end - lastChange),
        totalMs: Math.round(end - started),
        records: [...zone.values()].flat().length,
        requests: nonZero(stats.requests),
        rejected: nonZero(stats.rejected),
      },
      zone,
      hosts,
      stats,
    };
  } finally {
    for (const h of hosts) h.registrar.stop();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await proxy.close();
  }
}
