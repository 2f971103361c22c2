/**
 * Issue 15 in the registrar, against the in-memory zone (Route53's refusals: CREATE over an existing set,
 * plain beside multivalue, CNAME beside anything, DELETE that does not match exactly): writing before
 * listing while Route53 is busy, a zone check put off rather than retried, requests of unknown outcome,
 * leases in the markers and the removal of records whose lease lapsed.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DnsRegistrar, type RegistrarOptions } from '../../../src/dns/dns-registrar.js';
import { desiredRecords, markerValue, type RecordContext, type RecordSet, recordKey, setIdentifierFor } from '../../../src/dns/records.js';
import { awsError, MemoryZone } from '../../helpers/memory-zone.js';
import { waitFor } from '../../helpers/wait-for.js';

interface LogLine {
  msg: string;
  [field: string]: unknown;
}

const registrars: DnsRegistrar[] = [];
afterEach(() => {
  for (const r of registrars.splice(0)) r.stop();
});

function registrar(zone: MemoryZone, options: Partial<RegistrarOptions> = {}) {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const r = new DnsRegistrar(
    zone,
    {
      zone: 'example.com',
      ttl: 60,
      mode: 'multivalue',
      identity: { id: 'host-a', ip: '10.0.0.1', source: 'env' },
      reconcileIntervalMs: 3_600_000,
      retryMinMs: 5,
      retryMaxMs: 20,
      debounce: { minMs: 5, maxMs: 50 },
      ...options,
    },
    log,
  );
  registrars.push(r);
  return { r, lines };
}

const nowS = () => Math.floor(Date.now() / 1000);
const host = (hostId: string, hostIp: string, extra: Partial<RecordContext> = {}): RecordContext => ({
  zone: 'example.com',
  hostId,
  hostIp,
  ttl: 60,
  mode: 'multivalue',
  ...extra,
});
const mine = (zone: MemoryZone) =>
  zone.records
    .filter((r) => r.type === 'A' && r.setIdentifier?.startsWith('host-a-'))
    .map((r) => `${r.name} ${r.values.join()}`)
    .sort();
const shown = (batch: { action: string; record: RecordSet }[] | undefined) =>
  batch?.map((c) => `${c.action} ${c.record.type} ${c.record.name}`);

describe('before the first write', () => {
  it('lists the zone first while Route53 has room, as a single host always finds it', async () => {
    const zone = new MemoryZone();
    const { r } = registrar(zone);
    r.setDomains(['a']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    expect(zone.calls).toEqual({ zoneName: 1, listRecords: 1, applyChanges: 1 });
    expect(shown(zone.batches[0])).toEqual(['UPSERT TXT _hc-owner.a.example.com', 'UPSERT A a.example.com']);
  });

  it('once Route53 throttled it, writes what it owns with CREATEs and lists nothing until the reconcile', async () => {
    const zone = new MemoryZone();
    zone.failures = [awsError('Throttling')];
    const { r, lines } = registrar(zone);
    r.setDomains(['a', 'b']);
    r.start();
    await waitFor(() => r.lastSync?.ok && mine(zone).length === 2);
    expect(zone.calls.listRecords).toBe(0);
    expect(shown(zone.batches[0])).toEqual([
      'CREATE TXT _hc-owner.a.example.com',
      'CREATE A a.example.com',
      'CREATE TXT _hc-owner.b.example.com',
      'CREATE A b.example.com',
    ]);
    expect(lines.some((l) => l.msg === 'hosted zone check put off to the next reconcile: route53 is busy')).toBe(true);
    expect(r.pendingChanges).toBe(0);

    // What it wrote it knows: a change is one request, a name it deleted itself comes back as an UPSERT.
    r.setDomains(['a']);
    await r.idle();
    r.setDomains(['a', 'b']);
    await r.idle();
    expect(shown(zone.batches.at(-1))).toEqual(['UPSERT TXT _hc-owner.b.example.com', 'UPSERT A b.example.com']);
    expect(zone.calls).toMatchObject({ zoneName: 1, listRecords: 0, applyChanges: 3 });
    expect(mine(zone)).toEqual(['a.example.com 10.0.0.1', 'b.example.com 10.0.0.1']);
  });

  it('lists once Route53 refuses a CREATE (its own records of an earlier run), and goes on by the listing', async () => {
    const zone = new MemoryZone();
    const earlier = desiredRecords(['a', 'old'], { ...host('host-a', '10.0.0.9'), leaseExpiresS: nowS() + 60 });
    const other = desiredRecords(['a'], host('host-b', '10.0.0.2'));
    zone.records = structuredClone([...earlier, ...other]);
    zone.failures = [awsError('Throttling')];
    const { r } = registrar(zone);
    r.setDomains(['a', 'b']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    await r.idle();
    expect(zone.calls.listRecords).toBe(1);
    expect(mine(zone)).toEqual(['a.example.com 10.0.0.1', 'b.example.com 10.0.0.1']);
    expect(zone.records.filter((x) => x.name === 'old.example.com')).toEqual([]);
    for (const record of other) expect(zone.records).toContainEqual(record);
    expect(r.status().conflicts).toEqual({});
  });

  it('does not adopt a record at its own AAAA SetIdentifier that was there before its marker, at any listing', async () => {
    // No IPv6 address: it writes no AAAA record that a CREATE could be refused for; its marker, once
    // written, vouches for the set at its AAAA SetIdentifier, which it must still not take for its own.
    const www = 'www.example.com';
    const planted: RecordSet = {
      name: www,
      type: 'AAAA',
      ttl: 300,
      values: ['2001:db8::66'],
      setIdentifier: setIdentifierFor('host-a', www, 'AAAA'),
      multiValueAnswer: true,
    };
    const zone = new MemoryZone();
    zone.records = [structuredClone(planted)];
    zone.failures = [awsError('Throttling')];
    const { r } = registrar(zone, { reconcileIntervalMs: 40 });
    r.setDomains(['other', 'www']);
    r.start();
    await waitFor(() => r.status().conflicts?.[www], { what: 'the reconcile to find it' });
    await waitFor(() => mine(zone).join() === 'other.example.com 10.0.0.1', { what: 'its own www records taken out' });
    expect(r.status().conflicts?.[www]).toMatch(/SetIdentifier/);
    await waitFor(() => zone.calls.listRecords >= 3, { what: 'more reconciles' });
    await r.deregister();
    expect(zone.records).toEqual([planted]);
    expect(zone.batches.flat().filter((c) => c.action !== 'CREATE' && recordKey(c.record) === recordKey(planted))).toEqual([]);
  });
});

describe('the zone check', () => {
  it('is put off to the reconcile when Route53 cannot answer it, not retried at every sync', async () => {
    const zone = new MemoryZone();
    // The zone check, then the first write, throttled: the write is retried, the check waits for the reconcile.
    zone.failures = [awsError('Throttling'), awsError('Throttling')];
    const { r, lines } = registrar(zone, { reconcileIntervalMs: 400 });
    r.setDomains(['a']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    expect(lines.filter((l) => l.msg === 'dns sync failed; will retry')).toHaveLength(1);
    expect(zone.calls.zoneName).toBe(1);
    await waitFor(() => zone.calls.zoneName === 2 && zone.calls.listRecords === 1, { what: 'the check again, with the reconcile' });
    await waitFor(() => zone.calls.listRecords >= 3, { what: 'two more reconciles' });
    expect(zone.calls.zoneName).toBe(2);
  });

  it('finding the zone is not DOMAIN_NAME after writing to it, deletes what it wrote there and writes nothing more', async () => {
    // HOSTED_ZONE_ID names the parent zone: Route53 took the names (they are inside it).
    const zone = new MemoryZone('com');
    zone.failures = [awsError('Throttling')];
    const { r, lines } = registrar(zone, { reconcileIntervalMs: 400 });
    r.setDomains(['a']);
    r.start();
    await waitFor(() => r.lastSync?.ok && mine(zone).length === 1);
    await waitFor(() => /hosted zone is com, but DOMAIN_NAME is example\.com/.test(r.lastSync?.error ?? ''), { what: 'the check' });
    expect(zone.records).toEqual([]);
    expect(lines.some((l) => l.msg === 'hosted zone is not DOMAIN_NAME: deleting what this host wrote there')).toBe(true);
    const sent = zone.calls.applyChanges;
    const failed = lines.filter((l) => l.msg === 'dns sync failed; will retry').length;
    r.setDomains(['a', 'b']);
    await waitFor(() => lines.filter((l) => l.msg === 'dns sync failed; will retry').length >= failed + 3, { what: 'more syncs' });
    expect(zone.calls).toMatchObject({ zoneName: 2, applyChanges: sent });
  });
});

describe('a request whose outcome is unknown', () => {
  it('is sent again as it was; a DELETE refused then (it went through) makes it list', async () => {
    const zone = new MemoryZone();
    const { r, lines } = registrar(zone);
    const failed = () => lines.filter((l) => l.msg === 'dns sync failed; will retry').length;
    r.setDomains(['a', 'b']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    zone.lostAnswers = 1;
    r.setDomains(['a']);
    await waitFor(() => failed() === 1);
    r.setDomains(['a', 'b']); // b is wanted again: the DELETE, sent again, is refused (it went through)
    await waitFor(() => r.lastSync?.ok && mine(zone).length === 2, { what: 'b back' });
    await r.idle();
    expect(zone.calls.listRecords).toBe(2);
    expect(r.pendingChanges).toBe(0);
    expect(mine(zone)).toEqual(['a.example.com 10.0.0.1', 'b.example.com 10.0.0.1']);
  });

  it('shows as -1 pending changes until it is settled', async () => {
    const zone = new MemoryZone();
    const { r } = registrar(zone, { retryMinMs: 60_000, retryMaxMs: 60_000 });
    r.setDomains(['a']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    zone.failures = [awsError('ServiceUnavailable')];
    r.setDomains(['a', 'b']);
    await waitFor(() => r.lastSync?.ok === false);
    expect(r.pendingChanges).toBe(-1);
    r.setDomains(['a', 'b', 'c']); // the next sync sends the uncertain batch as it was, then the rest
    await waitFor(() => r.lastSync?.ok && mine(zone).length === 3);
    expect(shown(zone.batches.at(-2))).toEqual(['UPSERT TXT _hc-owner.b.example.com', 'UPSERT A b.example.com']);
    expect(r.pendingChanges).toBe(0);
    expect(zone.calls.listRecords).toBe(1);
  });

  it('is not listed for when Route53 throttled it: nothing of it was applied', async () => {
    const zone = new MemoryZone();
    const { r } = registrar(zone);
    r.setDomains(['a']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    zone.failures = [awsError('Throttling'), awsError('PriorRequestNotComplete')];
    r.setDomains(['a', 'b']);
    await waitFor(() => r.lastSync?.ok && mine(zone).length === 2);
    expect(zone.calls.listRecords).toBe(1);
  });
});

describe('leases (DNS_LEASE_S)', () => {
  const markers = (zone: MemoryZone, owner = 'host-a') =>
    zone.records.filter((x) => x.type === 'TXT' && x.setIdentifier?.startsWith(`${owner}-`)).flatMap((x) => x.values);

  it('writes its lease into every marker, and renews them all a third of the way into it, in one request', async () => {
    const zone = new MemoryZone();
    const { r } = registrar(zone, { leaseMs: 3_000 });
    r.setDomains(['a', 'b']);
    const before = nowS();
    r.start();
    await waitFor(() => r.lastSync?.ok);
    const [first] = markers(zone);
    const expires = Number(/expires=(\d+)/.exec(first ?? '')?.[1]);
    expect(expires - before).toBeGreaterThanOrEqual(3);
    expect(expires - before).toBeLessThanOrEqual(4);
    expect(new Set(markers(zone))).toEqual(new Set([markerValue('host-a', expires)]));
    expect(r.status().leaseExpiresAt).toBe(new Date(expires * 1000).toISOString());

    await waitFor(() => zone.batches.length === 2, { timeoutMs: 3_000, what: 'the renewal' });
    expect(shown(zone.batches[1])).toEqual(['UPSERT TXT _hc-owner.a.example.com', 'UPSERT TXT _hc-owner.b.example.com']);
    const renewed = Number(/expires=(\d+)/.exec(markers(zone)[0] ?? '')?.[1]);
    expect(renewed).toBeGreaterThan(expires);
    expect(zone.calls.listRecords).toBe(1);
  });

  it('with DNS_LEASE_S=0 writes markers without an expiry, as before leases', async () => {
    const zone = new MemoryZone();
    const { r } = registrar(zone, { leaseMs: 0 });
    r.setDomains(['a']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    expect(markers(zone)).toEqual([markerValue('host-a')]);
    expect(r.status().leaseExpiresAt).toBeUndefined();
  });

  it('renews an old marker without an expiry at its first sync (an upgrade)', async () => {
    const zone = new MemoryZone();
    zone.records = desiredRecords(['a'], host('host-a', '10.0.0.1'));
    const { r } = registrar(zone);
    r.setDomains(['a']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    expect(shown(zone.batches[0])).toEqual(['UPSERT TXT _hc-owner.a.example.com']);
    expect(markers(zone)[0]).toMatch(/,expires=\d+"$/);
  });

  it('lists before writing once its own lease has lapsed, and puts back what another host removed meanwhile', async () => {
    let clock = Date.now();
    const zone = new MemoryZone();
    const { r } = registrar(zone, { leaseMs: 600_000, now: () => clock });
    r.setDomains(['a', 'b']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    // Out of reach for longer than its lease: another host took it for dead and removed its records.
    zone.records = [];
    clock += 601_000;
    r.setDomains(['a', 'b', 'c']);
    await waitFor(() => r.lastSync?.ok && mine(zone).length === 3, { what: 'all three back' });
    expect(zone.calls.listRecords).toBe(2);
  });
});

describe('records of hosts whose lease lapsed', () => {
  const NOW = () => nowS();
  function fleetZone() {
    const zone = new MemoryZone();
    const dead = desiredRecords(['a', 'b'], { ...host('host-b', '10.0.0.2', { hostIpv6: '2001:db8::2' }), leaseExpiresS: NOW() - 5 });
    const live = desiredRecords(['a'], { ...host('host-c', '10.0.0.3'), leaseExpiresS: NOW() + 600 });
    const legacy = desiredRecords(['a'], host('host-d', '10.0.0.4'));
    const handMade: RecordSet = {
      name: 'a.example.com',
      type: 'A',
      ttl: 300,
      values: ['192.0.2.1'],
      setIdentifier: 'manual',
      multiValueAnswer: true,
    };
    zone.records = structuredClone([...dead, ...live, ...legacy, handMade]);
    return { zone, dead, kept: [...live, ...legacy, handMade] };
  }

  it('are removed at this host’s listing, A and AAAA before the marker; nothing else is', async () => {
    const { zone, dead, kept } = fleetZone();
    const { r, lines } = registrar(zone);
    r.setDomains(['a']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    for (const record of dead) expect(zone.records).not.toContainEqual(record);
    for (const record of kept) expect(zone.records).toContainEqual(record);
    expect(mine(zone)).toEqual(['a.example.com 10.0.0.1']);
    expect(shown(zone.batches.at(-1))).toEqual([
      'DELETE AAAA a.example.com',
      'DELETE A a.example.com',
      'DELETE TXT _hc-owner.a.example.com',
      'DELETE AAAA b.example.com',
      'DELETE A b.example.com',
      'DELETE TXT _hc-owner.b.example.com',
    ]);
    expect(lines.find((l) => l.msg === 'dns lease of another host lapsed; removing its records')).toMatchObject({
      owner: 'host-b',
      names: 2,
    });
  });

  it('are kept when their host renewed its lease between the listing and the delete (Route53 refuses the DELETE)', async () => {
    const { zone, dead } = fleetZone();
    const renewed = structuredClone(dead);
    for (const record of renewed) if (record.type === 'TXT') record.values = [markerValue('host-b', NOW() + 3_600)];
    zone.afterList = () => {
      zone.records = [...zone.records.filter((x) => !dead.some((d) => recordKey(d) === recordKey(x))), ...structuredClone(renewed)];
      zone.afterList = undefined;
    };
    const { r, lines } = registrar(zone);
    r.setDomains(['a']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    for (const record of renewed) expect(zone.records).toContainEqual(record);
    expect(lines.filter((l) => l.msg === 'lapsed records not removed: they changed').map((l) => l.name)).toEqual([
      'a.example.com',
      'b.example.com',
    ]);
  });

  it('are not removed by a host that only deregisters', async () => {
    const { zone, dead } = fleetZone();
    const { r } = registrar(zone);
    await r.deregister();
    for (const record of dead) expect(zone.records).toContainEqual(record);
  });
});
