/**
 * The registrar against moto behind the fault proxy with Route53's CREATE rule switched on: a record
 * made by hand between the registrar's listing and its write is never overwritten. Moto alone would
 * accept the write (it enforces none of Route53's CREATE rules), so this is the proxy's emulation at work.
 */
import { ChangeResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DnsRegistrar } from '../../../src/dns/dns-registrar.js';
import { createZoneApi } from '../../../src/dns/route53-zone.js';
import { AWS_TEST_ENV, createHostedZone, listRecords, type Moto, route53Client, startMoto } from '../../helpers/moto.js';
import { type FaultProxy, startFaultProxy } from '../../helpers/route53-faults.js';
import { waitFor } from '../../helpers/wait-for.js';

for (const [name, value] of Object.entries(AWS_TEST_ENV)) vi.stubEnv(name, value);

let moto: Moto;
let proxy: FaultProxy;
beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint, { refuseCreateOverExisting: true });
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});

const handMade: ResourceRecordSet = { Name: 'www.example.com.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '203.0.113.10' }] };

/** A registrar for host-a on a fresh zone, talking to moto through the proxy. */
async function setUp(mode: 'simple' | 'multivalue', reconcileIntervalMs = 3_600_000) {
  const zoneId = await createHostedZone(moto.endpoint, 'example.com');
  const client = route53Client(proxy.endpoint, { maxAttempts: 1 });
  const registrar = new DnsRegistrar(
    createZoneApi(client, zoneId),
    {
      zone: 'example.com',
      ttl: 60,
      mode,
      identity: { id: 'host-a', ip: '10.0.0.1', source: 'env' },
      reconcileIntervalMs,
      debounce: { minMs: 0, maxMs: 0 },
    },
    pino({ level: 'silent' }),
  );
  cleanups.push(() => {
    registrar.stop();
    client.destroy();
  });
  registrar.setDomains(['other']);
  registrar.start();
  await waitFor(() => registrar.lastSync?.ok, { what: 'the first sync' });
  // Someone adds www by hand after the registrar listed the zone.
  const direct = route53Client(moto.endpoint);
  await direct.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: handMade }] },
    }),
  );
  direct.destroy();
  const www = async () => (await listRecords(moto.endpoint, zoneId)).filter((r) => r.Name === 'www.example.com.' && r.Type === 'A');
  return { registrar, www };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('a record made by hand after the registrar listed the zone', () => {
  // moto answers in milliseconds, but CI runs this beside the integration suite (and its Docker daemon
  // restart): the waits below allow 20 s each, and so must the test.
  it('simple mode: the CREATE is refused (Route53’s rule), the record stays, the name becomes a conflict', {
    timeout: 60_000,
  }, async () => {
    const { registrar, www } = await setUp('simple');
    registrar.setDomains(['other', 'www']);
    await registrar.idle();
    expect(await www()).toEqual([handMade]);
    expect(registrar.status().conflicts).toEqual({ 'www.example.com': expect.stringMatching(/already exists/) });
    expect(proxy.stats().log.some((entry) => entry.rejected?.by === 'create-conflict')).toBe(true);

    registrar.setDomains(['other']);
    await registrar.idle();
    expect(await www()).toEqual([handMade]);
  });

  it('multivalue mode, where moto accepts our record beside the plain one: the next listing makes it a conflict and takes ours out', {
    timeout: 60_000,
  }, async () => {
    const { registrar, www } = await setUp('multivalue', 300);
    registrar.setDomains(['other', 'www']);
    await waitFor(async () => (await www()).length === 2, { what: 'our record beside the hand-made one' });
    await waitFor(() => registrar.status().conflicts?.['www.example.com'], { what: 'the reconcile to see the conflict' });
    await waitFor(async () => (await www()).length === 1, { what: 'our record taken out' });
    expect(await www()).toEqual([handMade]);
  });
});
