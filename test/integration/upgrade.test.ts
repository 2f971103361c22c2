/**
 * Upgrading the companion itself (issue #16), the documented way: the new companion started beside the
 * old one with the same settings (its HAProxy shares the HTTP port, SO_REUSEPORT; its status endpoint
 * waits for the port), then the old one stopped (SIGTERM: its HAProxy finishes what it has). Under
 * keep-alive load: no request fails, the new one's /healthz answers, and this host's Route53 records
 * (moto) are the same before and after, DEREGISTER_ON_EXIT on: the old one sees its successor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Companion, docker, TestRun } from '../helpers/docker.js';
import { get, keepAliveLoad } from '../helpers/http.js';
import { AWS_TEST_ENV, createHostedZone, listRecords, type Moto, startMoto } from '../helpers/moto.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18180;
let moto: Moto;
let zoneId: string;

const env = () => ({
  ...AWS_TEST_ENV,
  AWS_ENDPOINT_URL_ROUTE_53: moto.endpoint,
  HOSTED_ZONE_ID: zoneId,
  HOST_IP: '10.0.0.21',
  HOST_ID: 'host-upgrade',
  DNS_DEBOUNCE_MIN_MS: '500',
  // On: the old one must see its successor and leave the records; the last one to go removes them.
  DEREGISTER_ON_EXIT: 'true',
});

/** This host's records, as `name type value setIdentifier`, sorted. */
async function records(): Promise<string[]> {
  return (
    (await listRecords(moto.endpoint, zoneId))
      .filter((r) => r.SetIdentifier?.startsWith('host-upgrade'))
      .map((r) => `${r.Name} ${r.Type} ${r.ResourceRecords?.map((v) => v.Value).join(',')} ${r.SetIdentifier}`)
      // The marker's lease (DNS_LEASE_S) is renewed by whichever companion runs: the records are the same.
      .map((line) => line.replace(/,expires=\d+/, ''))
      .sort()
  );
}

let old: Companion;

beforeAll(async () => {
  moto = await startMoto();
  zoneId = await createHostedZone(moto.endpoint, 'example.com');
  await run.backend({ domain: 'web', text: 'web-1' });
  old = await run.companion({ port, env: env() });
  await waitFor(async () => (await get(port, 'web.example.com')).body === 'web-1', { what: 'web served by the old companion' });
  await waitFor(async () => (await records()).some((r) => r.startsWith('web.example.com. A 10.0.0.21 ')), {
    what: 'this host registered',
  });
}, 120_000);

afterAll(async () => {
  await run.cleanup();
  await moto?.stop();
});

describe('upgrading the companion', () => {
  it('new beside old, then the old stopped: no request fails, the new one is healthy, the records stay', async () => {
    const before = await records();
    const traffic = keepAliveLoad(port, 'web.example.com');
    await waitFor(() => traffic.result.ok > 200, { what: 'load flowing' });

    const next = await run.companion({ port, env: env() });
    await waitFor(async () => (await next.logs()).some((l) => l.msg === 'haproxy started'), { what: 'the new HAProxy started' });
    await docker('stop', old.name);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port + 1000}/healthz`).catch(() => undefined))?.status === 200, {
      what: 'the new companion healthy on the status port',
    });
    const after = traffic.result.ok;
    await waitFor(() => traffic.result.ok > after + 300, { what: 'load after the handover' });
    const result = await traffic.stop();

    expect(result.failed).toEqual([]);
    expect(await records()).toEqual(before);
    // The old one said it could not have the status port only in the new one's log: never dead for good.
    expect((await next.logs()).some((l) => l.msg.startsWith('status port in use'))).toBe(true);
    expect((await next.logs()).some((l) => l.msg === 'status endpoint listening')).toBe(true);
    expect((await old.logs()).some((l) => l.msg === 'another companion runs on this host: its records stay')).toBe(true);

    // The last companion of the host going: no successor, so its records go.
    await docker('stop', next.name);
    await waitFor(async () => (await records()).length === 0, { what: 'the records removed by the last companion' });
  }, 90_000);
});
