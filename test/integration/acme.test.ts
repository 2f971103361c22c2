/**
 * Fleet ACME with real parts: ten companions' issuers in this process, one Route53 zone and one Secrets
 * Manager secret in moto, Debian's pebble as the ACME server, checking each DNS-01 challenge through a DNS
 * server that answers from moto's zone. Exactly one host orders; every host serves that one certificate;
 * an issuer that dies holding the lock is replaced once its lease has run out. Then the same through the
 * real image: a companion with ACME_EMAIL serves HTTPS with the certificate pebble issued.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRoute53Client, createZoneApi, type ZoneApi } from '../../src/dns/route53-zone.js';
import { createJsonLogger } from '../../src/log.js';
import { AcmeIssuer, type AcmeSettings, type CheckOutcome } from '../../src/tls/acme/acme-issuer.js';
import { type Orderer, orderCertificate } from '../../src/tls/acme/acme-orderer.js';
import { createSecretsApi, type StoredCertificate, secretsManagerStore } from '../../src/tls/acme/cert-store.js';
import { CHALLENGE_PREFIX, ChallengeRecords } from '../../src/tls/acme/challenge-records.js';
import { FleetLock, LOCK_PREFIX } from '../../src/tls/acme/fleet-lock.js';
import { TestRun } from '../helpers/docker.js';
import { AWS_TEST_ENV, createHostedZone, listRecords, type Moto, route53Client, startMoto } from '../helpers/moto.js';
import { type Pebble, startPebble } from '../helpers/pebble.js';
import { waitFor } from '../helpers/wait-for.js';
import { startZoneDns, type ZoneDns } from '../helpers/zone-dns.js';

const ZONE = 'example.com';
let moto: Moto;
let zoneId: string;
let dns: ZoneDns;
let pebble: Pebble;
const log = createJsonLogger({ level: 'warn' });

beforeAll(async () => {
  moto = await startMoto();
  for (const [key, value] of Object.entries({
    ...AWS_TEST_ENV,
    AWS_ENDPOINT_URL_ROUTE_53: moto.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
  }))
    vi.stubEnv(key, value);
  zoneId = await createHostedZone(moto.endpoint, ZONE);
  dns = await startZoneDns(route53Client(moto.endpoint), zoneId);
  pebble = await startPebble({ dnsServer: dns.address });
}, 60_000);

afterAll(async () => {
  await pebble?.stop();
  await dns?.close();
  await moto?.stop();
  vi.unstubAllEnvs();
});

interface Host {
  id: string;
  issuer: AcmeIssuer;
  served: StoredCertificate[];
}

/** One companion's issuer, as companion.ts makes it, with `order` in place of the real orderer when a test needs to see or stop it. */
async function host(id: string, secret: string, names: string[], order: Orderer, leaseMs = 4_000): Promise<Host> {
  const zone: ZoneApi = createZoneApi(createRoute53Client(), zoneId);
  const settings: AcmeSettings = {
    email: 'ops@example.com',
    directoryUrl: pebble.directoryUrl,
    names,
    hostId: id,
    renewBeforeMs: 30 * 86_400_000,
    checkIntervalMs: 3_600_000,
    retryMs: 500,
    ca: pebble.ca,
  };
  const served: StoredCertificate[] = [];
  const issuer = new AcmeIssuer(
    settings,
    {
      store: secretsManagerStore(await createSecretsApi('us-east-1'), secret),
      lock: new FleetLock({ zone, zoneName: ZONE, hostId: id, leaseMs, settleMs: 500 }),
      challenges: new ChallengeRecords(zone),
      order,
      log,
    },
    (certificate) => served.push(certificate),
  );
  return { id, issuer, served };
}

describe('fleet ACME (pebble, moto, DNS-01 through the zone)', () => {
  it('ten hosts at once: exactly one order, and every host serves its certificate', async () => {
    let orders = 0;
    const counted: Orderer = (request) => {
      orders++;
      return orderCertificate(request);
    };
    const names = [`*.${ZONE}`, ZONE];
    const hosts = await Promise.all(Array.from({ length: 10 }, (_, n) => host(`i-fleet${n}`, 'hc/fleet-tls', names, counted)));

    const outcomes: CheckOutcome[] = await Promise.all(hosts.map((h) => h.issuer.check()));
    expect(outcomes.filter((o) => o === 'ordered')).toHaveLength(1);
    expect(orders).toBe(1);
    // The others look again, as their timers would, and find it in the store.
    for (const h of hosts) if (h.served.length === 0) expect(await h.issuer.check()).toBe('current');
    const certificates = new Set(hosts.map((h) => h.served.at(-1)?.certificate));
    expect(certificates.size).toBe(1);
    const pem = [...certificates][0] as string;
    const leaf = new X509Certificate(pem);
    expect(leaf.subjectAltName).toBe(`DNS:*.${ZONE}, DNS:${ZONE}`);
    // Issued by pebble, which checked the challenges through the zone: both names were asked for.
    expect(leaf.verify(new X509Certificate(pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----', 10))).publicKey)).toBe(true);
    expect(dns.asked).toEqual(expect.arrayContaining([`${CHALLENGE_PREFIX}${ZONE}`]));
    // The challenge record is gone, the lock is free again.
    const records = await listRecords(moto.endpoint, zoneId);
    expect(records.filter((r) => r.Name?.startsWith(CHALLENGE_PREFIX))).toEqual([]);
    expect(records.find((r) => r.Name === `${LOCK_PREFIX}${ZONE}.`)?.ResourceRecords).toEqual([
      { Value: expect.stringMatching(/^"free since=\d+ by=i-fleet\d n=[0-9a-f]{8}"$/) },
    ]);
    // And nobody orders again while it is current.
    expect(await Promise.all(hosts.map((h) => h.issuer.check()))).toEqual(Array(10).fill('current'));
    expect(orders).toBe(1);
  }, 90_000);

  it('an issuer that dies holding the lock is replaced after its lease, and the fleet gets one certificate', async () => {
    const names = [`dead.${ZONE}`];
    let orders = 0;
    // The first host to order never finishes (its process died): it holds the lock until the lease ends.
    let died: string | undefined;
    const dying: Orderer = (request) => {
      orders++;
      if (died === undefined) {
        died = 'yes';
        return new Promise(() => undefined);
      }
      return orderCertificate(request);
    };
    const hosts = await Promise.all(Array.from({ length: 5 }, (_, n) => host(`i-lease${n}`, 'hc/lease-tls', names, dying, 3_000)));
    const first = hosts.map((h) => h.issuer.check().catch(() => 'failed'));
    // The others wait for it, then one takes over once the lease has run out.
    await waitFor(() => died, { what: 'the first issuer to start ordering' });
    const startedAt = Date.now();
    let outcome: string | undefined;
    const survivors = hosts.filter((h) => h.issuer.status().state !== 'ordering');
    expect(survivors).toHaveLength(4);
    await waitFor(
      async () => {
        const round = await Promise.all(survivors.map((h) => h.issuer.check()));
        outcome = round.find((o) => o === 'ordered');
        return survivors.every((h) => h.served.length > 0);
      },
      { what: 'a survivor to order and all to serve', timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(outcome ?? 'ordered before the last round').toBeDefined();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_000);
    expect(orders).toBe(2);
    expect(new Set(survivors.map((h) => h.served.at(-1)?.certificate)).size).toBe(1);
    void first;
  }, 90_000);
});

describe('ACME through the image', () => {
  const run = new TestRun();
  const port = 18165;
  const httpsPort = 18166;
  let caDir: string;

  beforeAll(async () => {
    caDir = await mkdtemp(path.join(tmpdir(), 'hc-acme-ca-'));
    await writeFile(path.join(caDir, 'pebble-ca.pem'), pebble.ca);
    await run.backend({ domain: 'app', text: 'app-over-acme' });
    await run.companion({
      port,
      env: {
        ...AWS_TEST_ENV,
        AWS_ENDPOINT_URL_ROUTE_53: moto.endpoint,
        HOSTED_ZONE_ID: zoneId,
        HOST_IP: '127.0.0.1',
        HOST_ID: 'i-image',
        HTTPS_PORT: String(httpsPort),
        ACME_EMAIL: 'ops@example.com',
        ACME_DIRECTORY_URL: pebble.directoryUrl,
        ACME_DOMAINS: 'app.example.com',
        TLS_STORE: 'file:/data/acme.json',
        // How an operator trusts a private ACME server: Node's own setting.
        NODE_EXTRA_CA_CERTS: '/ca/pebble-ca.pem',
      },
      args: ['-v', `${caDir}:/ca:ro`],
    });
  }, 120_000);

  afterAll(async () => {
    await run.cleanup();
    await rm(caDir, { recursive: true, force: true });
  });

  it('orders at start and serves the certificate pebble issued, which a client trusting pebble’s root accepts', async () => {
    const root = await pebble.issuingRoot();
    const names = await waitFor(
      () =>
        new Promise<string | undefined>((resolve) => {
          const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername: 'app.example.com', ca: root }, () => {
            resolve(socket.authorized ? socket.getPeerCertificate().subjectaltname : undefined);
            socket.end();
          });
          socket.on('error', () => resolve(undefined));
        }),
      { what: 'the ACME certificate on HTTPS', timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(names).toBe('DNS:app.example.com');
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port: httpsPort,
            servername: 'app.example.com',
            ca: root,
            headers: { Host: 'app.example.com' },
            agent: false,
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve(text.trim()));
          },
        )
        .on('error', reject);
    });
    expect(body).toBe('app-over-acme');
    const status = (await (await fetch(`http://127.0.0.1:${port + 1000}/status`)).json()) as any;
    expect(status.tls.acme).toMatchObject({ state: 'current', store: 'file:/data/acme.json', certificate: { issuedBy: 'i-image' } });
    expect(status.tls.certificates.map((c: { name: string }) => c.name)).toEqual(['_acme']);
  }, 90_000);
});
