/**
 * Fleet simulation: 20 companions (in-process DNS halves, distinct HOST_ID/HOST_IP) share one zone in
 * moto, behind a layer that allows 5 requests a second for all of them together (Route53's account
 * limit) and answers Throttling beyond it. Services start and stop on every host, with a Route53
 * outage in the middle; all must converge to exactly the right records, nothing lost or duplicated.
 */

import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectedARecords, type Host, host, random, sameRecords, zoneARecords } from '../helpers/fleet.js';
import { AWS_TEST_ENV, createHostedZone, type Moto, route53Client, startMoto } from '../helpers/moto.js';
import { type FaultProxy, startFaultProxy } from '../helpers/route53-faults.js';
import { waitFor } from '../helpers/wait-for.js';

const HOSTS = 20;
const NAMES = Array.from({ length: 10 }, (_, i) => `svc${i}`);
const SEED = Number(process.env.FLEET_SEED ?? 20261124);

let moto: Moto;
let proxy: FaultProxy;
let zoneId: string;
const hosts: Host[] = [];

beforeAll(async () => {
  moto = await startMoto();
  zoneId = await createHostedZone(moto.endpoint, 'example.com');
  const client = route53Client(moto.endpoint);
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
  proxy = await startFaultProxy(moto.endpoint, { ratePerSecond: 5 });
  for (const [key, value] of Object.entries({ ...AWS_TEST_ENV, AWS_ENDPOINT_URL_ROUTE_53: proxy.endpoint })) vi.stubEnv(key, value);
}, 120_000);
afterAll(async () => {
  for (const h of hosts) h.registrar.stop();
  vi.unstubAllEnvs();
  await proxy?.close();
  await moto?.stop();
});

describe('a fleet of 20 hosts on one zone, 5 requests/s for all', () => {
  it('converges to exactly the served records through churn, throttling and an outage', async () => {
    const rand = random(SEED);
    const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
    for (let i = 0; i < HOSTS; i++) {
      const h = host(zoneId, `host-${String(i).padStart(2, '0')}`, `10.1.0.${i + 1}`);
      for (const name of NAMES) if (rand() < 0.4) h.domains.add(name);
      hosts.push(h);
    }
    const started = performance.now();
    for (const h of hosts) {
      h.registrar.setDomains([...h.domains]);
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
      const name = pick(NAMES);
      if (h.domains.has(name)) h.domains.delete(name);
      else h.domains.add(name);
      h.registrar.setDomains([...h.domains]);
      changes++;
    }
    const lastChange = performance.now();

    const expected = expectedARecords(hosts, { 'svc0.example.com': ['192.0.2.1 manual'] });
    await waitFor(async () => sameRecords(await zoneARecords(moto.endpoint, zoneId), expected), {
      timeoutMs: 180_000,
      intervalMs: 500,
      what: 'the zone to hold exactly the served records',
    });
    const converged = performance.now();
    await Promise.all(hosts.map((h) => h.registrar.idle()));

    // Nothing duplicated: one A record per host and name, the hand-made one untouched.
    const actual = await zoneARecords(moto.endpoint, zoneId);
    for (const [name, entries] of actual) expect(new Set(entries).size, name).toBe(entries.length);
    expect(actual.get('svc0.example.com')).toContain('192.0.2.1 manual');

    const stats = proxy.stats();
    const report = {
      hosts: HOSTS,
      changes: changes + HOSTS,
      records: [...actual.values()].flat().length,
      convergedAfterLastChangeMs: Math.round(converged - lastChange),
      totalMs: Math.round(converged - started),
      requests: Object.fromEntries(Object.entries(stats.requests).filter(([, n]) => n > 0)),
      rejected: Object.fromEntries(Object.entries(stats.rejected).filter(([, n]) => n > 0)),
    };
    console.log(`fleet simulation (seed ${SEED}): ${JSON.stringify(report)}`);
    expect(stats.rejected.ChangeResourceRecordSets + stats.rejected.ListResourceRecordSets).toBeGreaterThan(0); // the limit did bite
  }, 240_000);
});
