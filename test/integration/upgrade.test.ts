/**
 * Upgrading the companion itself (issue #16), the documented way: the new companion started beside the
 * old one with the same settings (its HAProxy shares the HTTP port, SO_REUSEPORT; its status endpoint
 * waits for the port), then the old one stopped (SIGTERM: its HAProxy finishes what it has). Under
 * keep-alive load: no request fails, the new one's /healthz answers, and this host's Route53 records
 * (moto) are the same before and after, DEREGISTER_ON_EXIT on: the old one sees its successor. The same
 * through the shipped command (`docker run ... IMAGE upgrade <container>`). And what the plain
 * stop-then-start (`docker compose up -d` with a new image) costs, reported.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Companion, docker, IMAGE, TestRun } from '../helpers/docker.js';
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

  it('the shipped command (`upgrade <container>`) does the same: no request fails, the new one takes the name', async () => {
    const current = await run.companion({ port, env: env() });
    await waitFor(async () => (await get(port, 'web.example.com')).body === 'web-1', { what: 'web served' });
    await waitFor(async () => (await records()).length > 0, { what: 'this host registered' });
    const before = await records();
    const oldId = await docker('inspect', '--format', '{{.Id}}', current.name);
    const traffic = keepAliveLoad(port, 'web.example.com');
    await waitFor(() => traffic.result.ok > 200, { what: 'load flowing' });

    const upgrade = await execa(
      'docker',
      ['run', '--rm', '-v', '/var/run/docker.sock:/var/run/docker.sock', IMAGE, 'upgrade', current.name],
      {
        reject: false,
      },
    );
    expect(upgrade.exitCode, upgrade.stderr + upgrade.stdout).toBe(0);
    const after = traffic.result.ok;
    await waitFor(() => traffic.result.ok > after + 300, { what: 'load after the upgrade' });
    const result = await traffic.stop();

    expect(result.failed).toEqual([]);
    // The new container, under the old name, running, healthy; the old one gone.
    expect(await docker('inspect', '--format', '{{.State.Running}}', current.name)).toBe('true');
    expect(await docker('inspect', '--format', '{{.Id}}', current.name)).not.toBe(oldId);
    await expect(docker('inspect', oldId)).rejects.toThrow();
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port + 1000}/healthz`).catch(() => undefined))?.status === 200, {
      what: 'the new companion healthy',
    });
    expect(await records()).toEqual(before);
  }, 120_000);

  it('reports what a plain stop-then-start costs (what `docker compose up -d` with a new image does)', async () => {
    const [current] = (await docker('ps', '-q', '--filter', `label=${run.label}-companion`)).split('\n');
    expect(current).toBeTruthy();
    const traffic = keepAliveLoad(port, 'web.example.com');
    await waitFor(() => traffic.result.ok > 200, { what: 'load flowing' });
    const stopped = Date.now();
    await docker('stop', current as string);
    await docker('start', current as string);
    await waitFor(async () => (await get(port, 'web.example.com')).body === 'web-1', { what: 'web served again' });
    const back = Date.now() - stopped;
    const result = await traffic.stop();
    console.info(
      `stop-then-start under keep-alive load (8 connections): ${result.failed.length} failed requests, serving again ${back} ms after the stop`,
    );
    // The cost is a gap, never a wrong answer: every failure is a refused or cut connection (or a 503 while HAProxy starts).
    expect(result.failed.every((f) => /ECONNREFUSED|ECONNRESET|socket hang up|^503 /.test(f))).toBe(true);
    // With DEREGISTER_ON_EXIT the records went with the old process, and come back with the new one.
    await waitFor(async () => (await records()).some((r) => r.startsWith('web.example.com. A 10.0.0.21 ')), { what: 're-registered' });
  }, 120_000);
});
