/**
 * Issue "Trust boundary", point 1: a name whose record this host did not write is left alone, in every
 * mode. The registrar runs against the in-memory zone, which refuses a CREATE over an existing record
 * set as Route53 does; every batch it sends is checked against the records it found there.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DnsRegistrar, type RegistrarOptions } from '../../../src/dns/dns-registrar.js';
import { desiredRecords, markerValue, type RecordMode, type RecordSet, recordKey, setIdentifierFor } from '../../../src/dns/records.js';
import { metrics } from '../../../src/metrics.js';
import { MemoryZone } from '../../helpers/memory-zone.js';
import { waitFor } from '../../helpers/wait-for.js';

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const registrars: DnsRegistrar[] = [];
afterEach(() => {
  for (const r of registrars.splice(0)) r.stop();
});

function registrar(zone: MemoryZone, options: Partial<RegistrarOptions> & { mode: RecordMode }) {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const r = new DnsRegistrar(
    zone,
    {
      zone: 'example.com',
      ttl: 60,
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

const WWW = 'www.example.com';
const plainA: RecordSet = { name: WWW, type: 'A', ttl: 300, values: ['203.0.113.10'] };
const cname: RecordSet = { name: WWW, type: 'CNAME', ttl: 300, values: ['shop.example.org'] };
const otherHost = (mode: RecordMode) =>
  desiredRecords(['www'], { zone: 'example.com', hostId: 'host-b', hostIp: '10.0.0.2', ttl: 60, mode });
const manualMultivalue: RecordSet = { ...plainA, setIdentifier: 'manual', multiValueAnswer: true };
/** A record set at this host's own SetIdentifier, but no marker of this host vouches for it. */
const unvouched: RecordSet = { ...plainA, setIdentifier: setIdentifierFor('host-a', WWW), multiValueAnswer: true };
const plainMarker: RecordSet = { name: `_hc-owner.${WWW}`, type: 'TXT', ttl: 60, values: [markerValue('host-b')] };
const IPV6 = '2001:db8::1';
const plainAaaa: RecordSet = { name: WWW, type: 'AAAA', ttl: 300, values: ['2001:db8::99'] };
const otherHost6 = (mode: RecordMode) =>
  desiredRecords(['www'], { zone: 'example.com', hostId: 'host-b', hostIp: '10.0.0.2', hostIpv6: '2001:db8::2', ttl: 60, mode });

/** `ipv6`: this host has that IPv6 address, and writes AAAA records. */
const cases: { desc: string; mode: RecordMode; ipv6?: string; handMade: RecordSet[]; conflict: RegExp | undefined }[] = [
  { desc: 'a hand-made plain A record', mode: 'simple', handMade: [plainA], conflict: /A record .*203\.0\.113\.10/ },
  { desc: 'a hand-made CNAME', mode: 'simple', handMade: [cname], conflict: /CNAME/ },
  { desc: 'another host’s simple records (first writer keeps the name)', mode: 'simple', handMade: otherHost('simple'), conflict: /./ },
  { desc: 'another host’s multivalue records', mode: 'simple', handMade: otherHost('multivalue'), conflict: /./ },
  { desc: 'a hand-made plain A record', mode: 'multivalue', handMade: [plainA], conflict: /plain A record/ },
  { desc: 'a hand-made CNAME', mode: 'multivalue', handMade: [cname], conflict: /CNAME/ },
  { desc: 'a simple-mode host’s plain marker', mode: 'multivalue', handMade: [plainMarker], conflict: /TXT/ },
  {
    desc: 'a record at this host’s SetIdentifier without its marker',
    mode: 'multivalue',
    handMade: [unvouched],
    conflict: /SetIdentifier/,
  },
  {
    desc: 'another host’s multivalue records (a fleet shares names)',
    mode: 'multivalue',
    handMade: otherHost('multivalue'),
    conflict: undefined,
  },
  { desc: 'a hand-made multivalue A record', mode: 'multivalue', handMade: [manualMultivalue], conflict: undefined },
  {
    desc: 'IPv6, a hand-made plain AAAA record',
    mode: 'simple',
    ipv6: IPV6,
    handMade: [plainAaaa],
    conflict: /AAAA record .*2001:db8::99/,
  },
  { desc: 'no IPv6, a hand-made plain AAAA record', mode: 'simple', handMade: [plainAaaa], conflict: /AAAA record .*2001:db8::99/ },
  { desc: 'IPv6, another host’s simple records with IPv6', mode: 'simple', ipv6: IPV6, handMade: otherHost6('simple'), conflict: /./ },
  { desc: 'IPv6, a hand-made plain AAAA record', mode: 'multivalue', ipv6: IPV6, handMade: [plainAaaa], conflict: /plain AAAA record/ },
  { desc: 'IPv6, a hand-made CNAME', mode: 'multivalue', ipv6: IPV6, handMade: [cname], conflict: /CNAME/ },
  { desc: 'no IPv6, a hand-made plain AAAA record (it coexists)', mode: 'multivalue', handMade: [plainAaaa], conflict: undefined },
  {
    desc: 'IPv6, another host’s multivalue records with IPv6 (a fleet shares names)',
    mode: 'multivalue',
    ipv6: IPV6,
    handMade: otherHost6('multivalue'),
    conflict: undefined,
  },
  {
    desc: 'IPv6, a hand-made multivalue AAAA record',
    mode: 'multivalue',
    ipv6: IPV6,
    handMade: [{ ...plainAaaa, setIdentifier: 'manual', multiValueAnswer: true }],
    conflict: undefined,
  },
];

const mineAt = (zone: MemoryZone, name: string) => zone.records.filter((r) => r.name === name && r.values.includes('10.0.0.1'));

describe('records this host did not write', () => {
  it.each(cases)('$mode mode, $desc: never changed or deleted', async ({ mode, ipv6, handMade, conflict }) => {
    const zone = new MemoryZone();
    zone.records = structuredClone(handMade);
    const { r } = registrar(zone, { mode, identity: { id: 'host-a', ip: '10.0.0.1', ipv6, source: 'env' } });
    r.setDomains(['other', 'www']);
    r.start();
    await waitFor(() => r.lastSync?.ok && mineAt(zone, 'other.example.com').length === 1, { what: 'other to be registered' });
    await r.idle();
    const foreign = (records: RecordSet[]) => records.filter((x) => handMade.some((h) => recordKey(h) === recordKey(x)));
    expect(foreign(zone.records)).toEqual(handMade);
    if (conflict) {
      expect(mineAt(zone, WWW)).toEqual([]);
      expect(r.status().conflicts).toEqual({ [WWW]: expect.stringMatching(conflict) });
    } else {
      expect(mineAt(zone, WWW)).toHaveLength(1);
      if (ipv6) expect(zone.records.filter((x) => x.name === WWW && x.values.includes(ipv6))).toHaveLength(1);
      expect(r.status().conflicts).toEqual({});
    }

    r.setDomains(['other']); // the container stopped
    await r.idle();
    await r.deregister();
    expect(zone.records).toEqual(handMade);
    // Not once did a batch name one of them, refused or not.
    const touched = zone.batches.flat().filter((c) => handMade.some((h) => recordKey(h) === recordKey(c.record)));
    expect(touched).toEqual([]);
  });

  it('logs a conflict once, not at every sync, and counts it in /metrics', async () => {
    const zone = new MemoryZone();
    zone.records = [plainA];
    const { r, lines } = registrar(zone, { mode: 'simple', reconcileIntervalMs: 30 });
    r.setDomains(['www']);
    r.start();
    await waitFor(() => zone.calls.listRecords >= 4, { what: 'a few reconciles' });
    r.setDomains(['www', 'x']);
    await r.idle();
    const warnings = lines.filter((l) => l.msg.startsWith('dns name left out of route53'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ name: WWW, reason: expect.stringContaining('203.0.113.10') });
    expect((await metrics.dnsConflicts.get()).values[0]?.value).toBe(1);
    expect(zone.records.filter((x) => x.name === WWW)).toEqual([plainA]);
  });

  it('registers the name once the hand-made record is gone, at the next full listing', async () => {
    const zone = new MemoryZone();
    zone.records = [plainA];
    const { r, lines } = registrar(zone, { mode: 'simple', reconcileIntervalMs: 30 });
    r.setDomains(['www']);
    r.start();
    await waitFor(() => r.status().conflicts?.[WWW]);
    zone.records = [];
    await waitFor(() => mineAt(zone, WWW).length === 1, { what: 'www to be registered' });
    await waitFor(() => r.status().conflicts !== undefined && Object.keys(r.status().conflicts ?? {}).length === 0);
    expect(lines.some((l) => l.msg === 'dns name free again; registering it' && l.name === WWW)).toBe(true);
  });

  it.each<RecordMode>(['simple', 'multivalue'])(
    '%s mode: a plain record made between the listing and the write is never overwritten; Route53 refuses the write and the name becomes a conflict',
    async (mode) => {
      const zone = new MemoryZone();
      // Simple mode writes with CREATE, refused over any record set; multivalue mode UPSERTs under its own
      // SetIdentifier, refused beside a plain record set of the same name and type.
      const handMade = plainA;
      zone.afterList = () => {
        zone.records.push(structuredClone(handMade));
        zone.afterList = undefined;
      };
      const { r, lines } = registrar(zone, { mode });
      r.setDomains(['other', 'www']);
      r.start();
      await waitFor(() => r.lastSync?.ok && mineAt(zone, 'other.example.com').length === 1, { what: 'other to be registered' });
      expect(zone.records.filter((x) => x.name === WWW)).toEqual([handMade]);
      expect(r.status().conflicts).toEqual({
        [WWW]: expect.stringMatching(mode === 'simple' ? /already exists/ : /non-multivalue set exists/),
      });
      expect(zone.batches.flat().find((c) => c.record.name === WWW && c.record.type === 'A')?.action).toBe(
        mode === 'simple' ? 'CREATE' : 'UPSERT',
      );
      expect(lines.filter((l) => l.msg.startsWith('route53 refused'))).toHaveLength(1);
    },
  );
});

describe('DNS_MAX_NAMES', () => {
  it('registers the first names in sorted order, leaves the rest out, logs it once with the count and shows them', async () => {
    const zone = new MemoryZone();
    const { r, lines } = registrar(zone, { mode: 'multivalue', maxNames: 3 });
    r.setDomains(['e', 'd', 'c', 'b', 'a']);
    r.start();
    await waitFor(() => r.lastSync?.ok);
    r.setDomains(['e', 'd', 'c', 'b', 'a', 'a']);
    r.setDomains(['f', 'e', 'd', 'c', 'b', 'a']);
    await r.idle();
    expect(
      zone.records
        .filter((x) => x.type === 'A')
        .map((x) => x.name)
        .sort(),
    ).toEqual(['a.example.com', 'b.example.com', 'c.example.com']);
    expect(r.status().overCap).toEqual({ limit: 3, names: ['d.example.com', 'e.example.com', 'f.example.com'] });
    const warnings = lines.filter((l) => l.msg.startsWith('more served names than DNS_MAX_NAMES'));
    expect(warnings.map((l) => l.count)).toEqual([2, 3]);
    expect((await metrics.dnsNamesOverCap.get()).values[0]?.value).toBe(3);
    expect(r.pendingChanges).toBe(0);
  });

  it('stays linear: 50,000 served names cost one listing and the requests of the first 1,000', async () => {
    const zone = new MemoryZone();
    const { r } = registrar(zone, { mode: 'multivalue' });
    const domains = Array.from({ length: 50_000 }, (_, i) => `s${String(i).padStart(5, '0')}`);
    r.setDomains(domains);
    r.start();
    await waitFor(() => r.lastSync?.ok, { intervalMs: 10 });
    await r.idle();
    expect(zone.records.filter((x) => x.type === 'A')).toHaveLength(1_000);
    expect(r.status().overCap?.names).toHaveLength(49_000);
    // 2,000 record sets, each UPSERT counting its value twice: 4,000 elements, and 134,000 characters (a
    // marker with its lease is 59): 5 requests of at most 32,000 characters.
    expect(zone.calls).toMatchObject({ listRecords: 1, applyChanges: 5 });
  });
});
