/**
 * Route53 faults moto cannot produce, injected in front of it: throttling, PriorRequestNotComplete,
 * a 5xx outage, throttling that outlasts the SDK's own retries, and a batch refused with
 * InvalidChangeBatch. In each case the records converge once Route53 recovers, nothing is lost, and
 * the proxy half is never involved (the registrar runs on its own).
 */

import { ChangeResourceRecordSetsCommand, DeleteHostedZoneCommand } from '@aws-sdk/client-route-53';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectedARecords, type Host, host, sameRecords, zoneARecords } from '../helpers/fleet.js';
import { AWS_TEST_ENV, createHostedZone, listRecords, type Moto, route53Client, startMoto } from '../helpers/moto.js';
import { type FaultProxy, startFaultProxy } from '../helpers/route53-faults.js';
import { waitFor } from '../helpers/wait-for.js';

let moto: Moto;
let proxy: FaultProxy;
let zoneId: string;
let h: Host | undefined;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
  for (const [key, value] of Object.entries({ ...AWS_TEST_ENV, AWS_ENDPOINT_URL_ROUTE_53: proxy.endpoint })) vi.stubEnv(key, value);
}, 120_000);
beforeEach(async () => {
  zoneId = await createHostedZone(moto.endpoint, 'example.com');
  proxy.resetStats();
});
afterEach(() => h?.registrar.stop());
afterAll(async () => {
  vi.unstubAllEnvs();
  await proxy?.close();
  await moto?.stop();
});

async function serve(domains: string[], options: { reconcileIntervalMs?: number } = {}): Promise<Host> {
  h = host(zoneId, 'host-a', '10.0.0.1', options);
  for (const d of domains) h.domains.add(d);
  h.registrar.setDomains(domains);
  h.registrar.start();
  return h;
}

const converged = (hosts: Host[], timeoutMs = 60_000) =>
  waitFor(async () => sameRecords(await zoneARecords(moto.endpoint, zoneId), expectedARecords(hosts)), {
    timeoutMs,
    intervalMs: 200,
    what: 'convergence',
  });

describe('Route53 faults', () => {
  it.each([
    ['Throttling', 3],
    ['PriorRequestNotComplete', 3],
    ['ServiceUnavailable', 2],
  ] as const)('retries through %s (x%i) and converges', async (fault, count) => {
    proxy.failNext(count, fault, { operation: 'ChangeResourceRecordSets' });
    const host = await serve(['login', 'publish']);
    await converged([host]);
    const stats = proxy.stats();
    expect(stats.rejected.ChangeResourceRecordSets).toBe(count);
    expect(host.registrar.lastSync).toMatchObject({ ok: true });
  });

  it('outlasts a throttling storm longer than the SDK’s own retries, then converges', async () => {
    // 12 = four whole SDK calls (3 attempts each) throttled: the registrar's own retry has to carry it.
    proxy.failNext(12, 'Throttling');
    const host = await serve(['login']);
    await converged([host], 120_000);
    expect(host.registrar.lastSync).toMatchObject({ ok: true });
    expect(
      proxy.stats().rejected.ChangeResourceRecordSets +
        proxy.stats().rejected.GetHostedZone +
        proxy.stats().rejected.ListResourceRecordSets,
    ).toBe(12);
  });

  it('keeps changes made during an outage and applies them all when it ends', async () => {
    const host = await serve(['login']);
    await converged([host]);
    proxy.outage(true);
    host.domains.delete('login');
    host.domains.add('publish');
    host.domains.add('api');
    host.registrar.setDomains([...host.domains]);
    await waitFor(() => host.registrar.lastSync?.ok === false, { what: 'the outage to be felt' });
    proxy.outage(false);
    await converged([host]);
  });

  it('reports a deleted zone on every retry, without giving up or taking anything else down', async () => {
    const host = await serve(['login']);
    await converged([host]);
    const client = route53Client(moto.endpoint);
    // Route53 deletes only an empty zone: someone removed the records first, then the zone.
    const records = (await listRecords(moto.endpoint, zoneId)).filter((r) => r.Type !== 'SOA' && r.Type !== 'NS');
    await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: records.map((r) => ({ Action: 'DELETE', ResourceRecordSet: r })) },
      }),
    );
    await client.send(new DeleteHostedZoneCommand({ Id: zoneId }));
    client.destroy();
    host.registrar.setDomains(['login', 'publish']);
    await waitFor(() => /NoSuchHostedZone|No hosted zone/i.test(host.registrar.lastSync?.error ?? ''), { what: 'the error to surface' });
    const requests = proxy.stats().requests.ListResourceRecordSets + proxy.stats().requests.ChangeResourceRecordSets;
    await waitFor(() => proxy.stats().requests.ListResourceRecordSets + proxy.stats().requests.ChangeResourceRecordSets > requests, {
      what: 'a retry',
    });
    expect(host.registrar.status().pendingChanges).toBe(-1);
  });

  it('registers every other name when Route53 refuses one, and the refused name at the next reconcile', async () => {
    // Refuse the whole batch, then its first half, then the first name alone: "a" is isolated.
    proxy.failNext(3, 'InvalidChangeBatch', { operation: 'ChangeResourceRecordSets', messages: ['injected conflict'] });
    const host = await serve(['a', 'b', 'c', 'd'], { reconcileIntervalMs: 3_000 });
    const withoutA = { ...host, domains: new Set(['b', 'c', 'd']) };
    await waitFor(async () => sameRecords(await zoneARecords(moto.endpoint, zoneId), expectedARecords([withoutA])), { what: 'b, c and d' });
    expect(proxy.stats().requests.ChangeResourceRecordSets).toBe(5);
    await converged([host]);
  });
});
