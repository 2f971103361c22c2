/**
 * Ownership across the fleet (issue #21, point 7), with the real image and moto: two companions with
 * different HOST_IDs on one zone (each watching containers of its own, as two hosts would). Host A serves
 * `login` from image app-a; a container of another image on host B asks for `login` too. B serves it
 * locally, but its record never joins the name in the zone, and its /status, page and metrics say why; once
 * B lists app-a in FLEET_SHARED_OWNERS, it joins.
 */
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsStatus } from '../../src/dns/dns-half.js';
import { type Companion, docker, IMAGE, TestRun } from '../helpers/docker.js';
import { get } from '../helpers/http.js';
import { AWS_TEST_ENV, createHostedZone, listRecords, type Moto, startMoto } from '../helpers/moto.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const PORT_A = 18217;
const PORT_B = 18219;
const hostLabel = `hc-owners-${run.id}`;
const APP_A = `hc-${run.id}-app-a`;
const APP_B = `hc-${run.id}-app-b`;
let moto: Moto;
let zoneId: string;
let hostB: Companion;

const companion = (letter: 'a' | 'b', port: number, extra: Record<string, string> = {}) =>
  run.companion({
    port,
    env: {
      ...AWS_TEST_ENV,
      AWS_ENDPOINT_URL_ROUTE_53: moto.endpoint,
      HOSTED_ZONE_ID: zoneId,
      HOST_IP: letter === 'a' ? '10.0.0.1' : '10.0.0.2',
      HOST_ID: `host-${letter}`,
      CONTAINER_LABEL_FILTER: `${hostLabel}=${letter}`,
      DNS_DEBOUNCE_MIN_MS: '200',
      DNS_DEBOUNCE_MAX_MS: '1000',
      DNS_RECONCILE_INTERVAL_S: '10',
      FLEET_FALLBACK: 'false',
      ...extra,
    },
  });

/** The addresses of a name's A records in the zone, sorted. */
const addresses = async (name: string) =>
  (await listRecords(moto.endpoint, zoneId))
    .filter((r) => r.Name === `${name}.` && r.Type === 'A')
    .flatMap((r) => r.ResourceRecords?.map((v) => v.Value) ?? [])
    .sort();
const statusOf = async (port: number) => ((await (await fetch(`http://127.0.0.1:${port + 1000}/status`)).json()) as { dns: DnsStatus }).dns;

beforeAll(async () => {
  moto = await startMoto();
  zoneId = await createHostedZone(moto.endpoint, 'example.com');
  for (const tag of [APP_A, APP_B]) await docker('tag', process.env.BACKEND_IMAGE ?? 'busybox:latest', tag);
  await run.backend({ domain: 'login', text: 'login-a', image: APP_A, labels: { [hostLabel]: 'a' } });
  await companion('a', PORT_A);
  await waitFor(async () => (await addresses('login.example.com')).join() === '10.0.0.1', { what: 'host a registering login' });
}, 240_000);
afterAll(async () => {
  await run.cleanup();
  for (const tag of [APP_A, APP_B]) await docker('rmi', tag).catch(() => undefined);
  await moto?.stop();
});

describe('a container of another owner on another host asks for a name the fleet serves', () => {
  it('host a’s marker names its owner, hashed (no app name in the public zone)', async () => {
    const markers = (await listRecords(moto.endpoint, zoneId)).filter((r) => r.Name === '_hc-owner.login.example.com.');
    const unit = createHash('sha256').update(`image:${APP_A}`).digest('hex').slice(0, 16);
    expect(markers.map((r) => r.ResourceRecords?.[0]?.Value)).toEqual([
      expect.stringMatching(new RegExp(`^"heritage=haproxy-companion,owner=host-a,unit=${unit},since=\\d+,expires=\\d+"$`)),
    ]);
    expect(JSON.stringify(markers)).not.toContain('app-a');
  });

  it('host b serves it locally, never joins it in the zone, and says why in /status, on the page and in /metrics', async () => {
    await run.backend({ domain: 'login', text: 'login-b', image: APP_B, labels: { [hostLabel]: 'b' } });
    await run.backend({ domain: 'shop', text: 'shop-b', image: APP_B, labels: { [hostLabel]: 'b' } });
    hostB = await companion('b', PORT_B);
    // B's other name registered: it has synced, and left login out.
    await waitFor(async () => (await addresses('shop.example.com')).join() === '10.0.0.2', { what: 'host b registering shop' });
    const reason = await waitFor(async () => (await statusOf(PORT_B)).conflicts?.['login.example.com'], {
      what: 'the conflict in /status',
    });
    expect(reason).toMatch(/^the fleet serves it for another owner: host "host-a"/);
    expect(reason).toContain(`image:${APP_B}`);
    expect(reason).toContain('FLEET_SHARED_OWNERS');
    expect(await addresses('login.example.com')).toEqual(['10.0.0.1']);
    expect((await listRecords(moto.endpoint, zoneId)).filter((r) => r.Name === '_hc-owner.login.example.com.')).toHaveLength(1);
    expect((await get(PORT_B, 'login.example.com')).body).toBe('login-b');
    expect(await (await fetch(`http://127.0.0.1:${PORT_B + 1000}/`)).text()).toMatch(
      /<table id="dns-conflicts">[\s\S]*login\.example\.com/,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${PORT_B + 1000}/metrics`)).text();
    expect(metrics).toMatch(/^haproxy_companion_dns_owner_conflicts 1$/m);
    expect(metrics).toMatch(/^haproxy_companion_dns_conflicts 1$/m);
    expect(await hostB.count('dns name left out of route53: the fleet serves it for another owner')).toBe(1);

    // Through host b's next reconcile (a listing that sees host a again), it stays so.
    const synced = (await statusOf(PORT_B)).lastSync?.at;
    await waitFor(async () => (await statusOf(PORT_B)).lastSync?.at !== synced, { what: 'a reconcile of host b', timeoutMs: 40_000 });
    expect(await addresses('login.example.com')).toEqual(['10.0.0.1']);
    expect((await statusOf(PORT_B)).conflicts?.['login.example.com']).toBe(reason);
    expect((await statusOf(PORT_A)).conflicts).toEqual({});
  });

  it('host b’s dry run shows the same choice: login left out of its change batch, and why', async () => {
    const env = {
      ...AWS_TEST_ENV,
      AWS_ENDPOINT_URL_ROUTE_53: moto.endpoint,
      DOMAIN_NAME: 'example.com',
      HOSTED_ZONE_ID: zoneId,
      HOST_IP: '10.0.0.2',
      HOST_ID: 'host-b',
      CONTAINER_LABEL_FILTER: `${hostLabel}=b`,
    };
    const args = ['run', '--rm', '--network', 'host', '-v', '/var/run/docker.sock:/var/run/docker.sock:ro'];
    for (const [key, value] of Object.entries(env)) args.push('-e', `${key}=${value}`);
    const { stdout, stderr } = await execa('docker', [...args, IMAGE, 'dry-run'], { reject: false });
    expect(stderr).toContain('dns name left out of route53: the fleet serves it for another owner');
    expect(stdout).toContain('# ---- Route53 change batch');
    expect(stdout).not.toContain('"login.example.com"');
  });

  it('joins it once FLEET_SHARED_OWNERS on host b lists host a’s owner', async () => {
    await docker('rm', '-f', hostB.name);
    hostB = await companion('b', PORT_B, { FLEET_SHARED_OWNERS: `image:${APP_A}:latest` });
    await waitFor(async () => (await addresses('login.example.com')).join() === '10.0.0.1,10.0.0.2', { what: 'host b joining login' });
    expect((await statusOf(PORT_B)).conflicts).toEqual({});
    expect((await statusOf(PORT_A)).conflicts).toEqual({});
  });
});
