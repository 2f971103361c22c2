import { describe, expect, it, vi } from 'vitest';
import { createJsonLogger } from '../../../src/log.js';
import { AcmeIssuer, type AcmeSettings, acmeNames } from '../../../src/tls/acme/acme-issuer.js';
import type { OrderResult } from '../../../src/tls/acme/acme-orderer.js';
import { type CertStore, parseStoreSetting, type StoreContents } from '../../../src/tls/acme/cert-store.js';
import { CHALLENGE_MARKER, ChallengeRecords } from '../../../src/tls/acme/challenge-records.js';
import { FleetLock, parseLock } from '../../../src/tls/acme/fleet-lock.js';
import { createTestCa } from '../../helpers/certs.js';
import { MemoryZone } from '../../helpers/memory-zone.js';

const log = createJsonLogger({ level: 'silent' });

describe('FleetLock', () => {
  const lock = (zone: MemoryZone, hostId: string, now: () => number) =>
    new FleetLock({ zone, zoneName: 'example.com', hostId, leaseMs: 60_000, settleMs: 0, now });

  it('goes to one host of those racing; the others get it once it is released or its lease has run out', async () => {
    const zone = new MemoryZone();
    let t = 1_000;
    const now = () => t;
    const [a, b, c] = ['a', 'b', 'c'].map((id) => lock(zone, id, now)) as [FleetLock, FleetLock, FleetLock];
    const won = await Promise.all([a.acquire(), b.acquire(), c.acquire()]);
    expect(won.filter(Boolean)).toHaveLength(1);
    const holder = (await a.holder())?.holder;
    const [winner, loser] = holder === 'a' ? [a, b] : holder === 'b' ? [b, a] : [c, a];
    expect(await loser.acquire()).toBe(false);
    // Released: free for the next.
    await winner.release();
    expect(await a.holder()).toBeUndefined();
    expect(await loser.acquire()).toBe(true);
    // A holder that dies keeps it until its lease ends.
    expect(await winner.acquire()).toBe(false);
    t += 60_001;
    expect(await winner.acquire()).toBe(true);
    // The one it was taken from can no longer renew or release it.
    expect(await loser.renew()).toBe(false);
    await loser.release();
    expect((await a.holder())?.holder).toBe(holder);
  });

  it('never touches the lock record when it is another’s, and writes a new value each time (a compare-and-swap needs it)', async () => {
    const zone = new MemoryZone();
    const t = 5;
    const a = lock(zone, 'a', () => t);
    expect(await a.acquire()).toBe(true);
    await a.release();
    expect(await a.acquire()).toBe(true);
    await a.release();
    // The clock stands still: values still differ.
    const values = zone.batches.flatMap((batch) => batch.filter((c) => c.action !== 'DELETE').map((c) => c.record.values[0]));
    expect(values).toHaveLength(5);
    expect(new Set(values).size).toBe(5);
    expect(parseLock('"holder=i-1 expires=99"')).toEqual({ holder: 'i-1', expiresAt: 99 });
    expect(parseLock('"free since=1 by=a"')).toBeUndefined();
  });
});

describe('ChallengeRecords', () => {
  it('pools the tokens of a wildcard and its base name in one marked record set, and removes it with the last', async () => {
    const zone = new MemoryZone();
    const records = new ChallengeRecords(zone);
    await Promise.all([records.add('*.example.com', 'token-wild'), records.add('example.com', 'token-apex')]);
    expect(zone.records).toEqual([
      { name: '_acme-challenge.example.com', type: 'TXT', ttl: 60, values: [CHALLENGE_MARKER, '"token-wild"', '"token-apex"'] },
    ]);
    await records.remove('*.example.com', 'token-wild');
    expect(zone.records[0]?.values).toEqual([CHALLENGE_MARKER, '"token-apex"']);
    await records.remove('example.com', 'token-apex');
    expect(zone.records).toEqual([]);
  });

  it('refuses to change a _acme-challenge record it did not write, and tokens that are not base64url', async () => {
    const zone = new MemoryZone();
    zone.records = [{ name: '_acme-challenge.example.com', type: 'TXT', ttl: 300, values: ['"someone-elses"'] }];
    await expect(new ChallengeRecords(zone).add('example.com', 'tok')).rejects.toThrow(/not written by haproxy-companion/);
    await expect(new ChallengeRecords(new MemoryZone()).add('a.example.com', 'x" "y')).rejects.toThrow(/not base64url/);
    expect(zone.batches).toEqual([]);
  });
});

describe('parseStoreSetting and acmeNames', () => {
  it.each([
    ['secretsmanager:haproxy-companion/tls', { kind: 'secretsmanager', name: 'haproxy-companion/tls' }],
    [
      'secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:tls-AbCdEf',
      { kind: 'secretsmanager', name: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tls-AbCdEf' },
    ],
    ['file:/data/acme.json', { kind: 'file', path: '/data/acme.json' }],
  ])('reads %s', (raw, expected) => expect(parseStoreSetting(raw)).toEqual(expected));

  it.each(['s3:bucket', 'file:relative.json', 'secretsmanager:', 'secretsmanager:a b'])('refuses %s', (raw) =>
    expect(typeof parseStoreSetting(raw)).toBe('string'),
  );

  it('orders the zone and its wildcard unless told which names', () => {
    expect(acmeNames('example.com', undefined)).toEqual(['*.example.com', 'example.com']);
    expect(acmeNames('example.com', ['www.example.com'])).toEqual(['www.example.com']);
  });
});

describe('AcmeIssuer', () => {
  const settings: AcmeSettings = {
    email: 'ops@example.com',
    directoryUrl: 'https://acme.test/dir',
    names: ['*.example.com', 'example.com'],
    hostId: 'i-1',
    renewBeforeMs: 30 * 86_400_000,
    checkIntervalMs: 3_600_000,
    retryMs: 1_000,
  };

  async function setup(contents: StoreContents = {}, { lockFree = true } = {}) {
    const ca = await createTestCa();
    const leaf = await ca.issue(['*.example.com', 'example.com'], { days: 90 });
    await ca.close();
    const store = { contents, writes: 0 };
    const ports = {
      store: {
        description: 'memory',
        read: async () => structuredClone(store.contents),
        write: async (c: StoreContents) => {
          store.writes++;
          store.contents = c;
        },
      } satisfies CertStore,
      lock: {
        acquire: vi.fn(async () => lockFree),
        release: vi.fn(async () => undefined),
        renew: vi.fn(async () => true),
        holder: vi.fn(async () => ({ holder: 'i-2', expiresAt: 0 })),
      },
      renewLockEveryMs: 20,
      challenges: { add: vi.fn(), remove: vi.fn() },
      order: vi.fn(
        async (): Promise<OrderResult> => ({ accountKey: 'ACCOUNT', certificate: `${leaf.cert}${leaf.chain}`, privateKey: leaf.key }),
      ),
      log,
    };
    const served: string[] = [];
    const issuer = new AcmeIssuer(settings, ports, (c) => served.push(c.certificate));
    return { issuer, ports, store, served, leaf };
  }

  const stored = (notAfterDays: number, names = settings.names) => ({
    certificate: 'CERT',
    privateKey: 'KEY',
    names,
    notAfter: new Date(Date.now() + notAfterDays * 86_400_000).toISOString(),
    issuedBy: 'i-9',
    issuedAt: new Date().toISOString(),
  });

  it('serves a current certificate from the store and orders nothing', async () => {
    const { issuer, ports, served } = await setup({ certificate: stored(60) });
    expect(await issuer.check()).toBe('current');
    expect(served).toEqual(['CERT']);
    expect(ports.lock.acquire).not.toHaveBeenCalled();
    expect(ports.order).not.toHaveBeenCalled();
  });

  it('orders when none is stored, within the renewal window, or for other names; stores it with the account key, releases the lock', async () => {
    for (const contents of [{}, { certificate: stored(10) }, { certificate: stored(60, ['www.example.com']) }]) {
      const { issuer, ports, store, served, leaf } = await setup(contents);
      expect(await issuer.check()).toBe('ordered');
      expect(ports.order).toHaveBeenCalledTimes(1);
      expect(store.contents.accountKey).toBe('ACCOUNT');
      expect(store.contents.certificate).toMatchObject({ names: settings.names, issuedBy: 'i-1', privateKey: leaf.key });
      expect(Date.parse(store.contents.certificate?.notAfter ?? '')).toBeGreaterThan(Date.now() + 89 * 86_400_000);
      expect(served.at(-1)).toBe(`${leaf.cert}${leaf.chain}`);
      expect(ports.lock.release).toHaveBeenCalledTimes(1);
    }
  });

  it('renews the lock’s lease while an order takes long', async () => {
    const { issuer, ports } = await setup({});
    const order = ports.order.getMockImplementation();
    ports.order.mockImplementationOnce(async () => {
      await new Promise((resolve) => setTimeout(resolve, 120));
      return (order as NonNullable<typeof order>)();
    });
    expect(await issuer.check()).toBe('ordered');
    expect(ports.lock.renew.mock.calls.length).toBeGreaterThanOrEqual(3);
    const renewals = ports.lock.renew.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(ports.lock.renew.mock.calls.length).toBe(renewals);
  });

  it('keeps serving the old certificate while renewal is due and another host holds the lock', async () => {
    const { issuer, ports, served } = await setup({ certificate: stored(10) }, { lockFree: false });
    expect(await issuer.check()).toBe('waiting');
    expect(served).toEqual(['CERT']);
    expect(ports.order).not.toHaveBeenCalled();
    expect(issuer.status()).toMatchObject({ state: 'waiting-for-issuer', issuer: 'i-2' });
  });

  it('a failed order throws (the timer retries with backoff), keeps the stored certificate and releases the lock', async () => {
    const { issuer, ports, store, served } = await setup({ certificate: stored(10) });
    ports.order.mockRejectedValueOnce(new Error('urn:ietf:params:acme:error:rateLimited: too many certificates'));
    await expect(issuer.check()).rejects.toThrow(/rateLimited/);
    expect(store.writes).toBe(0);
    expect(served).toEqual(['CERT']);
    expect(ports.lock.release).toHaveBeenCalledTimes(1);
  });
});
