/**
 * The fleet covers for a host (issue #15, FLEET_FALLBACK): two companions, each in a network namespace of
 * its own (a Docker network, an address each: two hosts), each serving `login` from a container of its
 * own, both registered in one zone (moto), both with HTTPS on (a test CA's certificate for the name). Host
 * A's container stopped under keep-alive load: every request to A still gets a 200, from B's container
 * (over TLS between the hosts, B's certificate verified against FLEET_CA_FILE), until A's is back; a
 * request B receives from A is never sent on again; and B showing a certificate another CA issued is never
 * sent a request.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../helpers/certs.js';
import { type Companion, docker, TestRun } from '../helpers/docker.js';
import { get, keepAliveLoad, request } from '../helpers/http.js';
import { AWS_TEST_ENV, createHostedZone, type Moto, startMoto } from '../helpers/moto.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const PORT = 18185;
const SUBNET = '172.31.185';
const networkName = `hc-${run.id}-fleet`;
const hostLabel = `hc-fleet-${run.id}`;
let moto: Moto;
let relay: net.Server;
let zoneId: string;
let hostA: Companion;
let hostB: Companion;
let ca: TestCa;
/** Each host's TLS_CERTS_DIR. */
const certsDirs: Record<'a' | 'b', string> = { a: '', b: '' };

/** moto listens on the host's loopback, which a container on a network of its own cannot reach: relay it from the network's gateway. */
async function relayFromGateway(target: string): Promise<{ server: net.Server; endpoint: string }> {
  const { hostname, port } = new URL(target);
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, `${SUBNET}.1`, resolve));
  return { server, endpoint: `http://${SUBNET}.1:${(server.address() as net.AddressInfo).port}` };
}

const host = (letter: 'a' | 'b', last: number, endpoint: string) =>
  run.companion({
    port: PORT,
    network: { name: networkName, ip: `${SUBNET}.${last}`, published: letter === 'a' ? PORT : PORT + 1 },
    env: {
      ...AWS_TEST_ENV,
      AWS_ENDPOINT_URL_ROUTE_53: endpoint,
      HOSTED_ZONE_ID: zoneId,
      HOST_IP: `${SUBNET}.${last}`,
      HOST_ID: `host-${letter}`,
      CONTAINER_LABEL_FILTER: `${hostLabel}=${letter}`,
      DNS_DEBOUNCE_MIN_MS: '200',
      // The other host is known from the zone's listing: list often, so the test does not wait minutes.
      DNS_RECONCILE_INTERVAL_S: '10',
      // A short hold, so that the test sees the fleet cover for the service well past it.
      HOLD_REQUESTS_S: '2',
      TLS_CERTS_DIR: '/certs',
      HTTPS_PORT: String(PORT + 2),
      FLEET_CA_FILE: '/fleet-ca.pem',
      // The fleet's network, as a VPC's subnet would be.
      FLEET_PEER_CIDRS: `${SUBNET}.0/24`,
    },
    args: ['-v', `${certsDirs[letter]}:/certs:ro`, '-v', `${ca.certFile}:/fleet-ca.pem:ro`],
  });

const login = (letter: 'a' | 'b') =>
  run.backend({
    name: `hc-${run.id}-login-${letter}`,
    text: `login-${letter}`,
    // Plain HTTP served too (the load is plain HTTP); between the hosts it goes over TLS all the same.
    labels: { [hostLabel]: letter, 'haproxy-companion.web.domain': 'login', 'haproxy-companion.web.https': 'both' },
    args: ['--network', networkName],
  });

/** Host `letter`'s certificate for login.example.com, issued by `issuer`; returns its fingerprint as /status shows it. */
async function writeCertificate(letter: 'a' | 'b', issuer: TestCa): Promise<string> {
  const leaf = await issuer.issue(['login.example.com']);
  const file = path.join(certsDirs[letter], 'login.pem');
  await writeFile(`${file}.tmp`, `${leaf.cert}${leaf.chain}${leaf.key}`);
  await rename(`${file}.tmp`, file);
  return new X509Certificate(leaf.cert).fingerprint256.replaceAll(':', '');
}

interface FleetStatus {
  dns: { fleet?: { hosts: string[] } };
  services: { domain: string; fleet?: { hostId: string; haproxy?: string }[] }[];
}

beforeAll(async () => {
  ca = await createTestCa();
  for (const letter of ['a', 'b'] as const) {
    certsDirs[letter] = await mkdtemp(path.join(tmpdir(), `hc-fleet-${letter}-`));
    await writeCertificate(letter, ca);
  }
  await docker('network', 'create', '--subnet', `${SUBNET}.0/24`, networkName);
  moto = await startMoto();
  zoneId = await createHostedZone(moto.endpoint, 'example.com');
  const gateway = await relayFromGateway(moto.endpoint);
  relay = gateway.server;
  await Promise.all([login('a'), login('b')]);
  [hostA, hostB] = await Promise.all([host('a', 10, gateway.endpoint), host('b', 11, gateway.endpoint)]);
  for (const [companion, letter] of [
    [hostA, 'a'],
    [hostB, 'b'],
  ] as const) {
    await waitFor(async () => (await get(companion.port, 'login.example.com')).body === `login-${letter}`, {
      what: `host ${letter} serving its own login`,
    });
  }
  // Each learns the other from a listing made after the other registered (a reconcile, ~10 s).
  await waitFor(
    async () => {
      const status = (await (await fetch(`http://127.0.0.1:${PORT + 1000}/status`)).json()) as FleetStatus;
      return status.dns.fleet?.hosts.includes('host-b') ?? false;
    },
    { what: 'host a knowing host b from the zone', timeoutMs: 40_000 },
  );
  await waitFor(
    async () =>
      (await hostA.config()).includes(`server fleet:host-b ${SUBNET}.11:${PORT + 2} backup track fleet_hosts/host-b ssl verify required`),
    {
      what: 'host b a backup server of login on host a',
    },
  );
  // What an operator sees: on /status, login's other host, up in HAProxy's eyes.
  await waitFor(
    async () => {
      const status = (await (await fetch(`http://127.0.0.1:${PORT + 1000}/status`)).json()) as FleetStatus;
      const fleet = status.services.find((s) => s.domain === 'login')?.fleet;
      return fleet?.length === 1 && fleet[0]?.hostId === 'host-b' && fleet[0]?.haproxy?.startsWith('UP') === true;
    },
    { what: 'host b up as login’s other host on host a’s /status' },
  );
}, 120_000);

afterAll(async () => {
  await run.cleanup();
  relay?.close();
  await moto?.stop();
  await docker('network', 'rm', networkName).catch(() => undefined);
  await ca?.close();
  for (const dir of Object.values(certsDirs)) if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the fleet covers for a host (FLEET_FALLBACK)', () => {
  it('never sends a request to a host whose certificate the fleet’s CA does not vouch for', async () => {
    const statusOfB = async () =>
      (await (await fetch(`http://127.0.0.1:${PORT + 1 + 1000}/status`)).json()) as { tls?: { certificates: { fingerprint: string }[] } };
    // First, before host a ever connected to host b (a TLS session from then would be resumed, not
    // verified again). Host b now shows a certificate for the name from a CA of its own, as a host
    // impersonating it would.
    const other = await createTestCa();
    try {
      const fingerprint = await writeCertificate('b', other);
      await waitFor(async () => (await statusOfB()).tls?.certificates.some((c) => c.fingerprint === fingerprint) ?? false, {
        what: 'host b serving the other certificate',
      });
      await docker('stop', '-t', '1', `hc-${run.id}-login-a`);
      try {
        // Past the hold: host a has no server of its own and will not trust host b's answer.
        const reply = await request(hostA.port, 'login.example.com');
        expect(reply.status).toBe(503);
        expect(reply.body.toString()).not.toContain('login-b');
      } finally {
        await docker('start', `hc-${run.id}-login-a`);
      }
    } finally {
      await writeCertificate('b', ca);
      await other.close();
    }
  }, 60_000);

  it('host a’s only login container stopped under load: every request still gets a 200, from host b, until a serves again', async () => {
    const traffic = keepAliveLoad(hostA.port, 'login.example.com');
    await waitFor(() => traffic.result.ok > 200, { what: 'load flowing' });

    const stopped = Date.now();
    // busybox's httpd ignores SIGTERM (PID 1): `-t 2` is the time it gets before SIGKILL.
    await docker('stop', '-t', '2', `hc-${run.id}-login-a`);
    const servedByB = () => traffic.result.by.get('login-b\n') ?? 0;
    // Past the hold, when the service leaves this host's DNS records but clients still arrive.
    await waitFor(() => servedByB() > 300 && Date.now() - stopped > 5_000, { what: 'host b answering for host a' });
    await docker('start', `hc-${run.id}-login-a`);
    const byA = traffic.result.by.get('login-a\n') ?? 0;
    await waitFor(() => (traffic.result.by.get('login-a\n') ?? 0) > byA + 300, { what: 'host a serving again' });
    const result = await traffic.stop();

    expect(result.failed).toEqual([]);
    expect(servedByB()).toBeGreaterThan(300);
  }, 90_000);

  it('passes a request on once at most: with login gone on both hosts, a client gets a 503, not a loop', async () => {
    await Promise.all([docker('stop', '-t', '1', `hc-${run.id}-login-a`), docker('stop', '-t', '1', `hc-${run.id}-login-b`)]);
    try {
      // Past the hold (HOLD_REQUESTS_S): both lingering services wait for a server before answering.
      const reply = await request(hostA.port, 'login.example.com');
      expect(reply.status).toBe(503);
      // B answered A's forwarded request itself, 503, without sending it back to A.
      expect(reply.body.toString()).toContain('No service is');
    } finally {
      await Promise.all([docker('start', `hc-${run.id}-login-a`), docker('start', `hc-${run.id}-login-b`)]);
    }
  }, 60_000);

  it('a client’s own hop marker only takes the fallback away from its own request', async () => {
    await docker('stop', '-t', '1', `hc-${run.id}-login-a`);
    try {
      // After the test before restarted both hosts' login, host a learns of host b again at a listing: poll longer.
      await waitFor(async () => (await get(hostA.port, 'login.example.com')).body === 'login-b', {
        what: 'host b answering for host a',
        timeoutMs: 60_000,
      });
      const forged = await request(hostA.port, 'login.example.com', '/', { 'X-Companion-Server': 'fleet:anyone' });
      expect(forged.status).toBe(503);
      // Two hops said already: no third host takes it, whoever says so.
      const looped = await request(hostA.port, 'login.example.com', '/', { 'X-Companion-Server': 'fleet:anyone', 'X-Companion-Hops': '1' });
      expect(looped.status).toBe(508);
    } finally {
      await docker('start', `hc-${run.id}-login-a`);
    }
  }, 120_000);
});
