import { describe, expect, it } from 'vitest';
import { fleetPeers, NO_PEERS, peerHosts, peerNetworks, samePeers } from '../../../src/dns/fleet-peers.js';
import { desiredRecords, markerValue, type RecordContext, type RecordSet } from '../../../src/dns/records.js';

const NOW = 1_900_000_000;
const me: RecordContext = {
  zone: 'example.com',
  hostId: 'i-me',
  hostIp: '10.0.0.1',
  ttl: 60,
  mode: 'multivalue',
  leaseExpiresS: NOW + 600,
};
const host = (id: string, ip: string, domains: string[], extra: Partial<RecordContext> = {}) =>
  desiredRecords(domains, { ...me, hostId: id, hostIp: ip, ...extra });

describe('fleetPeers', () => {
  it('gives, per name, the other hosts whose live marker vouches for their A record, by host id', () => {
    const zone = [
      ...host('i-me', '10.0.0.1', ['login', 'api']),
      ...host('i-c', '10.0.0.3', ['login']),
      ...host('i-b', '10.0.0.2', ['login', 'api'], { hostIpv6: '2001:db8::2' }),
      ...host('i-old', '10.0.0.4', ['login'], { leaseExpiresS: undefined }),
    ];
    const peers = fleetPeers(zone, me, NOW);
    expect(Object.fromEntries(peers)).toEqual({
      'login.example.com': [
        { hostId: 'i-b', address: '10.0.0.2' },
        { hostId: 'i-c', address: '10.0.0.3' },
        // A marker written before leases never lapses: its host counts.
        { hostId: 'i-old', address: '10.0.0.4' },
      ],
      'api.example.com': [{ hostId: 'i-b', address: '10.0.0.2' }],
    });
    expect(peerHosts(peers)).toEqual(['i-b', 'i-c', 'i-old']);
  });

  it('reads simple mode’s plain records the same way', () => {
    const simple = { ...me, mode: 'simple' as const };
    expect(Object.fromEntries(fleetPeers(host('i-b', '10.0.0.2', ['login'], { mode: 'simple' }), simple, NOW))).toEqual({
      'login.example.com': [{ hostId: 'i-b', address: '10.0.0.2' }],
    });
  });

  const b = host('i-b', '10.0.0.2', ['login']);
  const [bA, bMarker] = [b[0] as RecordSet, b[1] as RecordSet];
  it.each<[string, RecordSet[]]>([
    ['a host whose lease lapsed', host('i-b', '10.0.0.2', ['login'], { leaseExpiresS: NOW - 1 })],
    ['a hand-made A record with no marker', [{ ...bA, setIdentifier: 'manual' }]],
    ['an A record without its marker', [bA]],
    ['a marker without its A record', [bMarker]],
    ['a marker under another host’s SetIdentifier', [bA, { ...bMarker, values: [markerValue('i-x', NOW + 600)] }]],
    ['a marker holding a second value', [bA, { ...bMarker, values: [...bMarker.values, '"v=spf1 -all"'] }]],
    ['a marker that is not ours', [bA, { ...bMarker, values: ['"heritage=external-dns,owner=i-b"'] }]],
    ['an alias record', [{ ...bA, values: [], aliasTarget: 'lb.example.net' }, bMarker]],
    ['an A record with two addresses', [{ ...bA, values: ['10.0.0.2', '10.0.0.9'] }, bMarker]],
    ['an address that is not IPv4', [{ ...bA, values: ['localhost'] }, bMarker]],
    ['loopback', [{ ...bA, values: ['127.0.0.2'] }, bMarker]],
    ['instance metadata (link-local)', [{ ...bA, values: ['169.254.169.254'] }, bMarker]],
    ['"this network"', [{ ...bA, values: ['0.0.0.0'] }, bMarker]],
    ['multicast', [{ ...bA, values: ['239.1.1.1'] }, bMarker]],
    ['broadcast', [{ ...bA, values: ['255.255.255.255'] }, bMarker]],
    ['this host’s own address under another id (an old HOST_ID)', host('i-me-before', '10.0.0.1', ['login'])],
    ['this host itself', host('i-me', '10.0.0.1', ['login'])],
  ])('never counts %s', (_, zone) => {
    expect(fleetPeers(zone, me, NOW).size).toBe(0);
  });

  it('with FLEET_PEER_CIDRS, counts only hosts at those addresses', () => {
    const zone = [...host('i-b', '10.0.0.2', ['login']), ...host('i-c', '192.168.7.3', ['login']), ...host('i-d', '10.9.0.4', ['login'])];
    const peers = fleetPeers(zone, { ...me, peerNetworks: peerNetworks(['10.0.0.0/16', '10.9.0.4']) }, NOW);
    expect(peers.get('login.example.com')?.map((p) => p.hostId)).toEqual(['i-b', 'i-d']);
  });

  it('gives a host one address, its first name’s, whatever other names’ records say', () => {
    const zone = [...host('i-b', '10.0.0.2', ['api']), ...host('i-b', '10.0.0.9', ['login'])];
    expect(Object.fromEntries(fleetPeers(zone, me, NOW))).toEqual({
      'api.example.com': [{ hostId: 'i-b', address: '10.0.0.2' }],
      'login.example.com': [{ hostId: 'i-b', address: '10.0.0.2' }],
    });
  });

  describe('with this host’s owner of each name (issue #21)', () => {
    const A = { unit: 'aaaaaaaaaaaaaaaa' };
    const B = { unit: 'bbbbbbbbbbbbbbbb' };
    const SHOP = { unit: 'cccccccccccccccc', project: 'dddddddddddddddd' };
    const of = (id: string, ip: string, unit: { unit: string; project?: string }) =>
      desiredRecords(['login'], { ...me, hostId: id, hostIp: ip }, new Map([['login', { ...unit, sinceS: NOW - 60 }]]));
    const zone = [
      ...of('i-a', '10.0.0.2', A),
      ...of('i-b', '10.0.0.3', B),
      ...of('i-shop', '10.0.0.4', { unit: 'eeeeeeeeeeeeeeee', project: SHOP.project }),
      ...host('i-old', '10.0.0.5', ['login']),
    ];
    const peersFor = (unit: { unit: string; project?: string } | undefined) =>
      fleetPeers(zone, { ...me, unitOf: (name) => (name === 'login.example.com' ? unit : undefined) }, NOW)
        .get('login.example.com')
        ?.map((p) => p.hostId);

    it.each([
      ['image A', A, ['i-a']],
      ['image B', B, ['i-b']],
      ['another service of the compose project shop', SHOP, ['i-shop']],
      ['an owner no other host has', { unit: 'ffffffffffffffff' }, undefined],
    ])('counts only the hosts whose marker names the same owner: %s', (_, unit, expected) => {
      // Never a host of another owner, nor one whose marker names none (written before owners).
      expect(peersFor(unit)).toEqual(expected);
    });

    it('counts no host for a name it knows no owner of (a service covered by others still names its owner)', () => {
      expect(peersFor(undefined)).toBeUndefined();
    });

    it('counts every host when it knows no owners at all (as before owners)', () => {
      expect(
        fleetPeers(zone, me, NOW)
          .get('login.example.com')
          ?.map((p) => p.hostId),
      ).toEqual(['i-a', 'i-b', 'i-old', 'i-shop']);
    });
  });

  it('still counts a lease that lapses at this very second', () => {
    expect(fleetPeers(host('i-b', '10.0.0.2', ['login'], { leaseExpiresS: NOW }), me, NOW).size).toBe(1);
  });
});

describe('samePeers', () => {
  const one = fleetPeers(host('i-b', '10.0.0.2', ['login']), me, NOW);
  it('compares names, hosts and addresses', () => {
    expect(samePeers(one, fleetPeers(host('i-b', '10.0.0.2', ['login']), me, NOW))).toBe(true);
    expect(samePeers(one, NO_PEERS)).toBe(false);
    expect(samePeers(one, fleetPeers(host('i-b', '10.0.0.9', ['login']), me, NOW))).toBe(false);
    expect(samePeers(one, fleetPeers(host('i-b', '10.0.0.2', ['api']), me, NOW))).toBe(false);
  });
});
