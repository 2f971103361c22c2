import { pino } from 'pino';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { DnsRegistrar } from '../../../src/dns/dns-registrar.js';
import { desiredRecords, type RecordSet } from '../../../src/dns/records.js';
import { awsError, MemoryZone } from '../../helpers/memory-zone.js';
import { waitFor } from '../../helpers/wait-for.js';

const log = pino({ level: 'silent' });
const registrars: DnsRegistrar[] = [];
afterEach(() => {
  for (const r of registrars.splice(0)) r.stop();
});

function registrar(zone: MemoryZone, hostId = 'i-host1', hostIp = '10.0.0.1', reconcileIntervalMs = 3_600_000, hostIpv6?: string) {
  const r = new DnsRegistrar(
    zone,
    {
      zone: 'example.com',
      ttl: 60,
      mode: 'multivalue',
      identity: { id: hostId, ip: hostIp, ...(hostIpv6 ? { ipv6: hostIpv6 } : {}), source: 'env' },
      reconcileIntervalMs,
      retryMinMs: 5,
      retryMaxMs: 20,
      debounce: { minMs: 5, maxMs: 50 },
    },
    log,
  );
  registrars.push(r);
  return r;
}

const aRecords = (zone: MemoryZone) =>
  zone.records
    .filter((r) => r.type === 'A')
    .map((r) => `${r.name} ${r.values.join(',')}`)
    .sort();

describe('DnsRegistrar', () => {
  it('registers the served domains, then follows changes with one request each', async () => {
    const zone = new MemoryZone();
    const r = registrar(zone);
    r.setDomains(['login', 'publish']);
    r.start();
    await waitFor(() => r.lastSync?.ok && aRecords(zone).length === 2);
    expect(aRecords(zone)).toEqual(['login.example.com 10.0.0.1', 'publish.example.com 10.0.0.1']);

    const before = { ...zone.calls };
    r.setDomains(['login']);
    await r.idle();
    expect(aRecords(zone)).toEqual(['login.example.com 10.0.0.1']);
    expect(zone.records.filter((x) => x.type === 'TXT')).toHaveLength(1);
    // The zone is not listed again for a change: what we wrote is known.
    expect({ list: zone.calls.listRecords - before.listRecords, change: zone.calls.applyChanges - before.applyChanges }).toEqual({
      list: 0,
      change: 1,
    });
  });

  it('learns from each listing which other hosts serve which names, and says when that changed (FLEET_FALLBACK)', async () => {
    const zone = new MemoryZone();
    const other = (hostId: string, hostIp: string, domains: string[]) =>
      desiredRecords(domains, { zone: 'example.com', hostId, hostIp, ttl: 60, mode: 'multivalue' });
    zone.records = other('i-b', '10.0.0.2', ['login', 'api']);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
    onTestFinished(() => void vi.useRealTimers());
    let changes = 0;
    const r = new DnsRegistrar(
      zone,
      {
        zone: 'example.com',
        ttl: 60,
        mode: 'multivalue',
        identity: { id: 'i-host1', ip: '10.0.0.1', source: 'env' },
        reconcileIntervalMs: 40,
        debounce: { minMs: 5, maxMs: 50 },
        onFleetChanged: () => changes++,
      },
      log,
    );
    registrars.push(r);
    r.setDomains(['login']);
    r.start();
    await waitFor(() => changes === 1);
    expect(r.fleetPeers().get('login.example.com')).toEqual([{ hostId: 'i-b', address: '10.0.0.2' }]);
    expect(r.status().fleet).toEqual({ hosts: ['i-b'], names: 2 });
    // A third host joins; the next reconcile shows it (a fleet's reconciles are seconds apart: the clock is
    // moved on). Listings that show nothing new say nothing.
    zone.records.push(...other('i-c', '10.0.0.3', ['login']));
    const listings = zone.calls.listRecords;
    for (let i = 0; i < 3; i++) {
      const before = zone.calls.listRecords;
      vi.advanceTimersByTime(10_000);
      await waitFor(() => zone.calls.listRecords > before);
    }
    expect(zone.calls.listRecords).toBeGreaterThanOrEqual(listings + 3);
    expect(changes).toBe(2);
    expect(
      r
        .fleetPeers()
        .get('login.example.com')
        ?.map((p) => p.hostId),
    ).toEqual(['i-b', 'i-c']);
  });

  it('never touches other hosts’ records or hand-made ones, even when it deregisters', async () => {
    const zone = new MemoryZone();
    const handMade: RecordSet = {
      name: 'login.example.com',
      type: 'A',
      ttl: 300,
      values: ['192.0.2.1'],
      setIdentifier: 'manual',
      multiValueAnswer: true,
    };
    zone.records = [
      ...desiredRecords(['login'], { zone: 'example.com', hostId: 'i-other', hostIp: '10.0.0.9', ttl: 60, mode: 'multivalue' }),
      handMade,
    ];
    const r = registrar(zone);
    r.setDomains(['login']);
    r.start();
    await waitFor(() => aRecords(zone).length === 3);
    await r.deregister();
    expect(aRecords(zone)).toEqual(['login.example.com 10.0.0.9', 'login.example.com 192.0.2.1']);
  });

  it('writes an AAAA record beside each A record with an IPv6 address; restarted without one, deletes them alone', async () => {
    const zone = new MemoryZone();
    const dualStack = registrar(zone, 'i-host1', '10.0.0.1', 3_600_000, '2001:db8::1');
    dualStack.setDomains(['login', 'publish']);
    dualStack.start();
    await waitFor(() => dualStack.lastSync?.ok && zone.records.length === 6);
    expect(zone.batches).toHaveLength(1);
    expect(dualStack.status().identity?.ipv6).toBe('2001:db8::1');
    const aaaa = () =>
      zone.records
        .filter((r) => r.type === 'AAAA')
        .map((r) => `${r.name} ${r.values.join(',')}`)
        .sort();
    expect(aaaa()).toEqual(['login.example.com 2001:db8::1', 'publish.example.com 2001:db8::1']);
    dualStack.stop();

    const v4Only = registrar(zone);
    v4Only.setDomains(['login', 'publish']);
    v4Only.start();
    await waitFor(() => v4Only.lastSync?.ok && zone.records.length === 4);
    // A new process takes a lease of its own: its markers are renewed in the same batch when the second
    // has turned since the first one wrote them (DNS_LEASE_S), and nothing else changes.
    expect(
      zone.batches
        .at(-1)
        ?.map((c) => `${c.action} ${c.record.type} ${c.record.name}`)
        .filter((c) => !c.startsWith('UPSERT TXT _hc-owner.')),
    ).toEqual(['DELETE AAAA login.example.com', 'DELETE AAAA publish.example.com']);
    expect(aaaa()).toEqual([]);
    expect(aRecords(zone)).toEqual(['login.example.com 10.0.0.1', 'publish.example.com 10.0.0.1']);
    expect(v4Only.pendingChanges).toBe(0);
  });

  it('retries through an outage and loses nothing', async () => {
    const zone = new MemoryZone();
    zone.failures = [awsError('ServiceUnavailable'), awsError('Throttling'), awsError('Throttling'), awsError('PriorRequestNotComplete')];
    const r = registrar(zone);
    r.setDomains(['a']);
    r.start();
    r.setDomains(['a', 'b']);
    await waitFor(() => aRecords(zone).length === 2, { what: 'convergence after the outage' });
    expect(zone.failures).toEqual([]);
    expect(r.lastSync?.ok).toBe(true);
  });

  it('sets aside a name Route53 refuses, and registers every other one', async () => {
    const zone = new MemoryZone();
    // Made after the listing, so only Route53 can tell: a plain record refuses our multivalue one beside it.
    zone.afterList = () => {
      zone.records = [{ name: 'clash.example.com', type: 'A', ttl: 300, values: ['192.0.2.7'] }];
      zone.afterList = undefined;
    };
    const r = registrar(zone);
    r.setDomains(['a', 'b', 'clash', 'd']);
    r.start();
    await waitFor(() => r.lastSync?.ok && aRecords(zone).length === 4);
    expect(aRecords(zone)).toEqual([
      'a.example.com 10.0.0.1',
      'b.example.com 10.0.0.1',
      'clash.example.com 192.0.2.7',
      'd.example.com 10.0.0.1',
    ]);
    // One batch, its halves, then the quarter that holds clash alone.
    expect(zone.batches.length).toBe(5);
    expect(r.status().conflicts).toEqual({ 'clash.example.com': expect.stringMatching(/non-multivalue set exists/) });
  });

  it('repairs drift at the periodic reconcile', async () => {
    const zone = new MemoryZone();
    const r = registrar(zone, 'i-host1', '10.0.0.1', 50);
    r.setDomains(['login']);
    r.start();
    await waitFor(() => aRecords(zone).length === 1);
    zone.records = zone.records.filter((x) => x.type !== 'A'); // deleted by hand
    await waitFor(() => aRecords(zone).length === 1, { what: 'the record to come back' });
  });

  it('refuses a zone whose name is not DOMAIN_NAME, saying what to set', async () => {
    const zone = new MemoryZone('other.org');
    const r = registrar(zone);
    r.setDomains(['login']);
    r.start();
    await waitFor(() => r.lastSync?.error);
    expect(r.lastSync?.error).toMatch(/hosted zone is other\.org, but DOMAIN_NAME is example\.com/);
    expect(zone.calls.applyChanges).toBe(0);
  });
});
