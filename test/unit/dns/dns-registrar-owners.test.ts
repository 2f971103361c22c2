/**
 * Issue #21, point 7: ownership across the fleet, in the registrar against the in-memory zone. In
 * `multivalue` mode a host does not add itself to a name whose live markers (other hosts') name another
 * owner, unless FLEET_SHARED_OWNERS lists that owner; of two owners that took a name at once, the one that
 * took it first keeps it; and the fleet fallback only counts hosts of the same owner.
 */
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DnsRegistrar, type RegistrarOptions } from '../../../src/dns/dns-registrar.js';
import { desiredRecords, markerValue, type RecordContext } from '../../../src/dns/records.js';
import type { ZoneApi } from '../../../src/dns/route53-zone.js';
import { MemoryZone } from '../../helpers/memory-zone.js';
import { waitFor } from '../../helpers/wait-for.js';

interface LogLine {
  msg: string;
  [field: string]: unknown;
}

const NOW_S = 1_900_000_000;
/** The unit as the README documents it: `printf %s 'image:app-a' | sha256sum | cut -c1-16`. */
const unit = (owner: string) => createHash('sha256').update(owner).digest('hex').slice(0, 16);
const owner = (written: string, project?: string) => ({
  unit: unit(written),
  description: written,
  ...(project !== undefined && { project: unit(project) }),
});
const APP_A = owner('image:app-a');
const APP_B = owner('image:app-b');

const registrars: DnsRegistrar[] = [];
afterEach(() => {
  for (const r of registrars.splice(0)) r.stop();
});

const base = (hostId: string, ip: string, reconcileIntervalMs = 3_600_000): RegistrarOptions => ({
  zone: 'example.com',
  ttl: 60,
  mode: 'multivalue',
  identity: { id: hostId, ip, source: 'env' },
  reconcileIntervalMs,
  retryMinMs: 5,
  retryMaxMs: 20,
  debounce: { minMs: 5, maxMs: 50 },
  now: () => NOW_S * 1000,
});

function registrar(zone: MemoryZone, options: Partial<RegistrarOptions> = {}, hostId = 'host-a', ip = '10.0.0.1') {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const r = new DnsRegistrar(zone, { ...base(hostId, ip), ...options }, log);
  registrars.push(r);
  return { r, lines };
}

const ctxOf = (hostId: string, hostIp: string, extra: Partial<RecordContext> = {}): RecordContext => ({
  zone: 'example.com',
  hostId,
  hostIp,
  ttl: 60,
  mode: 'multivalue',
  leaseExpiresS: NOW_S + 3_600,
  ...extra,
});
/** Another host's records for `domain`, its marker naming `of` as the owner since `sinceS`. */
const serving = (hostId: string, hostIp: string, domain: string, of: { unit: string; project?: string }, sinceS: number, extra = {}) =>
  desiredRecords([domain], ctxOf(hostId, hostIp, extra), new Map([[domain, { unit: of.unit, project: of.project, sinceS }]]));

const aRecords = (zone: MemoryZone, name: string) =>
  zone.records
    .filter((r) => r.type === 'A' && r.name === name)
    .map((r) => r.values.join())
    .sort();
const markerOf = (zone: MemoryZone, hostId: string, name: string) =>
  zone.records.find((r) => r.type === 'TXT' && r.name === `_hc-owner.${name}` && r.setIdentifier?.startsWith(`${hostId}-`))?.values[0];

async function synced(r: DnsRegistrar) {
  r.start();
  await waitFor(() => r.lastSync?.ok);
  await r.idle();
}

describe('a name the fleet serves for another owner', () => {
  it('is left out of Route53, with a reason that names the other host and the setting; the other names are registered', async () => {
    const zone = new MemoryZone();
    zone.records = serving('host-b', '10.0.0.2', 'login', APP_A, NOW_S - 600);
    const { r, lines } = registrar(zone);
    r.setDomains(
      ['api', 'login'],
      new Map([
        ['api', APP_B],
        ['login', APP_B],
      ]),
    );
    await synced(r);
    expect(aRecords(zone, 'login.example.com')).toEqual(['10.0.0.2']);
    expect(markerOf(zone, 'host-a', 'login.example.com')).toBeUndefined();
    expect(aRecords(zone, 'api.example.com')).toEqual(['10.0.0.1']);
    const reason = r.status().conflicts?.['login.example.com'];
    expect(reason).toMatch(/host "host-b"/);
    expect(reason).toContain(APP_A.unit);
    expect(reason).toContain('image:app-b');
    expect(reason).toMatch(/FLEET_SHARED_OWNERS/);
    expect(lines.filter((l) => l.msg === 'dns name left out of route53: the fleet serves it for another owner')).toHaveLength(1);
    expect(r.pendingChanges).toBe(0);
  });

  it('leaves out an exact name under a wildcard the fleet serves for another owner, which it would take requests from', async () => {
    // Route53 answers an existing name, never the wildcard over it: `a.preview` would take all its requests.
    const zone = new MemoryZone();
    zone.records = serving('host-b', '10.0.0.2', '*.preview', APP_A, NOW_S - 600);
    const { r } = registrar(zone);
    r.setDomains(
      ['a.preview', 'a.b.preview'],
      new Map([
        ['a.preview', APP_B],
        ['a.b.preview', APP_B],
      ]),
    );
    await synced(r);
    expect(aRecords(zone, 'a.preview.example.com')).toEqual([]);
    expect(r.status().conflicts?.['a.preview.example.com']).toMatch(/host "host-b"/);
    // Two labels under it: never the wildcard's.
    expect(aRecords(zone, 'a.b.preview.example.com')).toEqual(['10.0.0.1']);
  });

  it('keeps an exact name it held before another owner’s wildcard came', async () => {
    const zone = new MemoryZone();
    const { r } = registrar(zone, { reconcileIntervalMs: 50 });
    r.setDomains(['a.preview'], new Map([['a.preview', APP_B]]));
    await synced(r);
    zone.records.push(...serving('host-b', '10.0.0.2', '*.preview', APP_A, NOW_S + 600));
    const listed = zone.calls.listRecords;
    await waitFor(() => zone.calls.listRecords > listed + 1);
    expect(r.status().conflicts?.['a.preview.example.com']).toBeUndefined();
    expect(aRecords(zone, 'a.preview.example.com')).toEqual(['10.0.0.1']);
  });

  it('joins it when FLEET_SHARED_OWNERS lists that owner (as users write it)', async () => {
    const zone = new MemoryZone();
    zone.records = serving('host-b', '10.0.0.2', 'login', APP_A, NOW_S - 600);
    const { r } = registrar(zone, { sharedOwners: ['image:app-a'] });
    r.setDomains(['login'], new Map([['login', APP_B]]));
    await synced(r);
    expect(aRecords(zone, 'login.example.com')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(r.status().conflicts).toEqual({});
  });

  it.each([
    ['the same owner', APP_A, APP_A],
    ['the same compose project (one project split by path)', owner('compose:shop/api', 'shop'), owner('compose:shop/web', 'shop')],
  ])('joins it for %s', async (_, theirs, ours) => {
    const zone = new MemoryZone();
    zone.records = serving('host-b', '10.0.0.2', 'login', theirs, NOW_S - 600);
    const { r } = registrar(zone);
    r.setDomains(['login'], new Map([['login', ours]]));
    await synced(r);
    expect(aRecords(zone, 'login.example.com')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(r.status().conflicts).toEqual({});
  });

  it.each([
    ['a lapsed marker', serving('host-b', '10.0.0.2', 'login', APP_A, NOW_S - 600, { leaseExpiresS: NOW_S - 1 })],
    ['a marker written before owners (no unit: unknown owner)', desiredRecords(['login'], ctxOf('host-b', '10.0.0.2'))],
    ['a marker without its A record', serving('host-b', '10.0.0.2', 'login', APP_A, NOW_S - 600).filter((x) => x.type === 'TXT')],
    [
      'a marker under another host’s SetIdentifier',
      serving('host-b', '10.0.0.2', 'login', APP_A, NOW_S - 600).map((x) =>
        x.type === 'TXT' ? { ...x, setIdentifier: 'host-c-0123456789' } : x,
      ),
    ],
  ])('does not block: %s', async (_, records) => {
    const zone = new MemoryZone();
    zone.records = structuredClone(records);
    const { r } = registrar(zone);
    r.setDomains(['login'], new Map([['login', APP_B]]));
    await synced(r);
    expect(aRecords(zone, 'login.example.com')).toContain('10.0.0.1');
    expect(r.status().conflicts).toEqual({});
  });
});

describe('markers name the owner', () => {
  it('writes the owner’s unit, project and since into the marker, and rewrites a marker of before owners at its next sync', async () => {
    const zone = new MemoryZone();
    zone.records = desiredRecords(['login'], ctxOf('host-a', '10.0.0.1'));
    const { r } = registrar(zone);
    const shop = owner('compose:shop/web', 'shop');
    r.setDomains(['login'], new Map([['login', shop]]));
    await synced(r);
    expect(markerOf(zone, 'host-a', 'login.example.com')).toBe(
      markerValue('host-a', NOW_S + 3_600, { unit: shop.unit, project: shop.project, sinceS: NOW_S }),
    );
    expect(zone.batches.at(-1)?.map((c) => `${c.action} ${c.record.type}`)).toEqual(['UPSERT TXT']);
  });

  it('keeps the since of its own marker across lease renewals and restarts', async () => {
    const zone = new MemoryZone();
    zone.records = serving('host-a', '10.0.0.1', 'login', APP_A, NOW_S - 86_400);
    const { r } = registrar(zone);
    r.setDomains(['login'], new Map([['login', APP_A]]));
    await synced(r);
    expect(markerOf(zone, 'host-a', 'login.example.com')).toContain(`since=${NOW_S - 86_400}`);
  });
});

describe('two owners on one name (a race: each wrote before it saw the other)', () => {
  const both = () => [
    ...serving('host-a', '10.0.0.1', 'login', APP_A, NOW_S - 10),
    ...serving('host-b', '10.0.0.2', 'login', APP_B, NOW_S - 5),
  ];

  it('the host that took it later removes its records at its next listing, and says why', async () => {
    const zone = new MemoryZone();
    zone.records = both();
    const { r } = registrar(zone, {}, 'host-b', '10.0.0.2');
    r.setDomains(['login'], new Map([['login', APP_B]]));
    await synced(r);
    expect(aRecords(zone, 'login.example.com')).toEqual(['10.0.0.1']);
    expect(markerOf(zone, 'host-b', 'login.example.com')).toBeUndefined();
    expect(r.status().conflicts?.['login.example.com']).toMatch(/host "host-a"/);
  });

  it('the host that took it first is never removed by the newer claimant', async () => {
    const zone = new MemoryZone();
    zone.records = both();
    const { r } = registrar(zone);
    r.setDomains(['login'], new Map([['login', APP_A]]));
    await synced(r);
    expect(aRecords(zone, 'login.example.com')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(r.status().conflicts).toEqual({});
  });

  it('at the same second, the smaller host id keeps it', async () => {
    const tie = [...serving('host-a', '10.0.0.1', 'login', APP_A, NOW_S - 5), ...serving('host-b', '10.0.0.2', 'login', APP_B, NOW_S - 5)];
    for (const [hostId, ip, of, kept] of [
      ['host-a', '10.0.0.1', APP_A, true],
      ['host-b', '10.0.0.2', APP_B, false],
    ] as const) {
      const zone = new MemoryZone();
      zone.records = structuredClone(tie);
      const { r } = registrar(zone, {}, hostId, ip);
      r.setDomains(['login'], new Map([['login', of]]));
      await synced(r);
      expect(aRecords(zone, 'login.example.com').includes(ip), hostId).toBe(kept);
    }
  });

  it('converges to one owner when both hosts write the name before either lists it', async () => {
    const zone = new MemoryZone();
    // Each one's first listing is the empty zone, as when both listed before either wrote.
    const firstListingEmpty = (): ZoneApi => {
      let listings = 0;
      return {
        zoneName: () => zone.zoneName(),
        listRecords: async () => (listings++ === 0 ? [] : zone.listRecords()),
        recordsAt: (name) => zone.recordsAt(name),
        applyChanges: (changes) => zone.applyChanges(changes),
        waitForChange: async () => {},
      };
    };
    const a = new DnsRegistrar(
      firstListingEmpty(),
      { ...base('host-a', '10.0.0.1', 40), now: () => NOW_S * 1000 },
      pino({ level: 'silent' }),
    );
    const b = new DnsRegistrar(
      firstListingEmpty(),
      { ...base('host-b', '10.0.0.2', 40), now: () => (NOW_S + 3) * 1000 },
      pino({ level: 'silent' }),
    );
    registrars.push(a, b);
    a.setDomains(['login'], new Map([['login', APP_A]]));
    b.setDomains(['login'], new Map([['login', APP_B]]));
    a.start();
    b.start();
    await waitFor(() => a.lastSync?.ok && b.lastSync?.ok);
    await waitFor(() => aRecords(zone, 'login.example.com').join() === '10.0.0.1' && b.status().conflicts?.['login.example.com']);
    // And it stays so through more reconciles (stretched for a fleet of two: seconds apart).
    const listings = zone.calls.listRecords;
    await waitFor(() => zone.calls.listRecords >= listings + 2);
    expect(aRecords(zone, 'login.example.com')).toEqual(['10.0.0.1']);
    expect(a.status().conflicts).toEqual({});
  }, 20_000);
});

describe('a host whose owner of a name changed', () => {
  it('is a newcomer for its new owner: it leaves a name another owner’s host holds', async () => {
    const zone = new MemoryZone();
    zone.records = [
      ...serving('host-a', '10.0.0.1', 'login', APP_A, NOW_S - 100),
      ...serving('host-b', '10.0.0.2', 'login', APP_B, NOW_S - 50),
    ];
    const { r } = registrar(zone);
    r.setDomains(['login'], new Map([['login', owner('image:app-c')]]));
    await synced(r);
    expect(aRecords(zone, 'login.example.com')).toEqual(['10.0.0.2']);
    expect(r.status().conflicts?.['login.example.com']).toMatch(/host "host-b"/);
  });
});

describe('the fleet fallback (FLEET_FALLBACK)', () => {
  it('counts only the hosts whose marker names this host’s owner of the name; follows a change of owner', async () => {
    const zone = new MemoryZone();
    zone.records = [
      ...serving('host-b', '10.0.0.2', 'login', APP_A, NOW_S - 100),
      ...serving('host-c', '10.0.0.3', 'login', APP_B, NOW_S - 50),
      ...desiredRecords(['login'], ctxOf('host-d', '10.0.0.4')),
    ];
    let changed = 0;
    const { r } = registrar(zone, { onFleetChanged: () => changed++, sharedOwners: ['image:app-b'] });
    r.setDomains(['login'], new Map([['login', APP_A]]));
    await synced(r);
    // host-c's owner may share the name (FLEET_SHARED_OWNERS), but requests only go to the same owner; host-d names none.
    expect(r.fleetPeers().get('login.example.com')).toEqual([{ hostId: 'host-b', address: '10.0.0.2' }]);
    const before = changed;
    r.setDomains(['login'], new Map([['login', APP_B]]));
    expect(r.fleetPeers().get('login.example.com')).toEqual([{ hostId: 'host-c', address: '10.0.0.3' }]);
    expect(changed).toBe(before + 1);
  });
});
