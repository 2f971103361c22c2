/**
 * Edge cases of what a host owns in the zone and how it sends its changes (src/dns/records.ts), found by
 * mutation testing (`npm run mutate`): each is a change of the code that the other tests let through.
 * SetIdentifiers that do not match the marker's host and mode, the exact second a lease lapses, and
 * Route53's 32,000-character limit on one request.
 */
import { describe, expect, it } from 'vitest';
import {
  type Change,
  desiredRecords,
  diffRecords,
  foreignConflicts,
  lapsedRecords,
  liveOwners,
  markerValue,
  ownedRecords,
  type RecordContext,
  type RecordSet,
  setIdentifierFor,
  splitIntoBatches,
} from '../../../src/dns/records.js';

const ctx: RecordContext = { zone: 'example.com', hostId: 'i-host1', hostIp: '10.0.0.1', ttl: 60, mode: 'multivalue' };
const simple: RecordContext = { ...ctx, mode: 'simple' };
const NAME = 'login.example.com';
const MARKER = `_hc-owner.${NAME}`;

describe('ownedRecords: a marker proves ownership only at the SetIdentifier its host writes', () => {
  const [a, marker] = desiredRecords(['login'], ctx) as [RecordSet, RecordSet];
  const [plainA, plainMarker] = desiredRecords(['login'], simple) as [RecordSet, RecordSet];

  it.each<[string, RecordContext, RecordSet[]]>([
    [
      'a marker under another host’s SetIdentifier is not this host’s',
      ctx,
      [a, { ...marker, setIdentifier: setIdentifierFor('i-host2', MARKER) }],
    ],
    ['a marker under a hand-made SetIdentifier is not this host’s', ctx, [a, { ...marker, setIdentifier: 'manual' }]],
    ['a marker under its A record’s SetIdentifier is not this host’s', ctx, [a, { ...marker, setIdentifier: a.setIdentifier }]],
    ['a plain marker naming this host is not its own in multivalue mode', ctx, [a, plainMarker]],
    ['a multivalue marker naming this host is not its own in simple mode', simple, [plainA, marker]],
    [
      'a marker value in a TXT record at the name itself, not at its marker name, is no marker',
      ctx,
      [a, { ...marker, name: NAME, setIdentifier: setIdentifierFor('i-host1', NAME, 'TXT') }],
    ],
  ])('%s, nor the A record beside it', (_, host, zone) => {
    expect(ownedRecords(zone, host)).toEqual([]);
  });

  it.each<[string, RecordContext, RecordSet[], RecordSet[]]>([
    ['multivalue: its marker and A record', ctx, [a, marker], [a, marker]],
    ['simple: its plain marker and A record', simple, [plainA, plainMarker], [plainA, plainMarker]],
    ['multivalue: its marker, but not a plain A record at the name', ctx, [plainA, a, marker], [a, marker]],
    [
      'simple: its plain marker, but not a multivalue A record at the name (not even at its own SetIdentifier)',
      simple,
      [a, plainA, plainMarker],
      [plainA, plainMarker],
    ],
    [
      'multivalue: its marker, but not an alias record at its own SetIdentifier',
      ctx,
      [{ ...a, values: [], aliasTarget: 'lb.example.org' }, marker],
      [marker],
    ],
    [
      'multivalue: its marker, but not a TXT record (SPF) at the name under its own SetIdentifier',
      ctx,
      [{ ...a, type: 'TXT', values: ['"v=spf1 -all"'] }, marker],
      [marker],
    ],
    [
      'multivalue: its marker when a hand-made value sits beside its own in it',
      ctx,
      [a, { ...marker, values: ['"v=spf1 -all"', marker.values[0]!] }],
      [a, { ...marker, values: ['"v=spf1 -all"', marker.values[0]!] }],
    ],
    ['multivalue: no record of another type than TXT at the marker name, whatever it holds', ctx, [a, { ...marker, type: 'A' }], []],
  ])('%s', (_, host, zone, owned) => {
    expect(ownedRecords(zone, host)).toEqual(owned);
  });
});

describe('foreignConflicts: the reason a name is left out', () => {
  const www = 'www.example.com';
  it.each<[string, RecordContext, RecordSet, string | undefined]>([
    [
      'simple: a marker this host did not write',
      simple,
      { name: `_hc-owner.${www}`, type: 'TXT', ttl: 60, values: [markerValue('i-host2')] },
      `an ownership marker this host did not write: _hc-owner.${www} TXT ${markerValue('i-host2')}`,
    ],
    [
      'simple: an A record at the marker name is none of ours',
      simple,
      { name: `_hc-owner.${www}`, type: 'A', ttl: 60, values: ['192.0.2.1'] },
      undefined,
    ],
    [
      'multivalue: an A record at the marker name is none of ours',
      ctx,
      { name: `_hc-owner.${www}`, type: 'A', ttl: 60, values: ['192.0.2.1'] },
      undefined,
    ],
    [
      'simple: a record with two values, both shown',
      simple,
      { name: www, type: 'A', ttl: 60, values: ['192.0.2.1', '192.0.2.2'] },
      `an A record this host did not write: ${www} A 192.0.2.1,192.0.2.2`,
    ],
  ])('%s', (_, host, record, reason) => {
    expect(foreignConflicts([record], [], host).get(www)).toEqual(reason);
  });

  it('names the first record set in the way at a name, with its SetIdentifier', () => {
    const atOwnId: RecordSet = {
      name: www,
      type: 'A',
      ttl: 60,
      values: ['192.0.2.1'],
      setIdentifier: setIdentifierFor('i-host1', www),
      multiValueAnswer: true,
    };
    const plain: RecordSet = { name: www, type: 'A', ttl: 60, values: ['192.0.2.2'] };
    expect(Object.fromEntries(foreignConflicts([atOwnId, plain], [], ctx))).toEqual({
      [www]: `a record at this host's SetIdentifier that its marker does not vouch for: www.example.com A 192.0.2.1 (SetIdentifier ${atOwnId.setIdentifier})`,
    });
    expect(Object.fromEntries(foreignConflicts([plain, atOwnId], [], ctx))).toEqual({
      [www]: 'a plain A record this host did not write (it cannot coexist with multivalue records): www.example.com A 192.0.2.2',
    });
  });
});

describe('desiredRecords and diffRecords: what counts as the same', () => {
  it('writes each name once, in name order, whatever order and repeats the services come in', () => {
    expect(desiredRecords(['b', 'a', 'b'], simple).map((r) => `${r.type} ${r.name}`)).toEqual([
      'A a.example.com',
      'TXT _hc-owner.a.example.com',
      'A b.example.com',
      'TXT _hc-owner.b.example.com',
    ]);
  });

  it('leaves a record set alone whose values Route53 lists in another order', () => {
    const two = (values: string[]): RecordSet => ({ name: NAME, type: 'TXT', ttl: 60, values });
    expect(diffRecords([two(['"a"', '"b"'])], [two(['"b"', '"a"'])])).toEqual([]);
  });

  it('rewrites a record set that lost its multivalue flag, and one whose TTL changed', () => {
    const [a] = desiredRecords(['login'], ctx) as [RecordSet];
    expect(diffRecords([a], [{ ...a, multiValueAnswer: undefined }]).map((c) => c.action)).toEqual(['UPSERT']);
    expect(diffRecords([a], [{ ...a, ttl: 300 }]).map((c) => c.action)).toEqual(['UPSERT']);
    expect(diffRecords([{ ...a, multiValueAnswer: undefined }], [{ ...a, multiValueAnswer: false }])).toEqual([]);
  });
});

describe('leases at the second they lapse', () => {
  const NOW = 1_900_000_000;
  const leased = (expiresS: number) =>
    desiredRecords(['login'], { ...ctx, hostId: 'i-host2', hostIp: '10.0.0.2', leaseExpiresS: expiresS });

  it.each<[string, number, boolean]>([
    ['a lease that expires a second from now has not lapsed', NOW + 1, false],
    ['a lease that expires this very second has not lapsed', NOW, false],
    ['a lease that expired a second ago has lapsed', NOW - 1, true],
  ])('%s: its host is live or not, and its records are taken for lapsed or not', (_, expiresS, lapsed) => {
    const zone = leased(expiresS);
    expect([...lapsedRecords(zone, ctx, NOW).keys()]).toEqual(lapsed ? ['i-host2'] : []);
    expect([...liveOwners(zone, NOW)]).toEqual(lapsed ? [] : ['i-host2']);
  });

  it('reports the latest expiry of a lapsed host’s markers, also when the latest comes first', () => {
    const zone = [
      ...desiredRecords(['b'], { ...ctx, hostId: 'i-host2', leaseExpiresS: NOW - 10 }),
      ...desiredRecords(['a'], { ...ctx, hostId: 'i-host2', leaseExpiresS: NOW - 20 }),
    ];
    expect(lapsedRecords(zone, ctx, NOW).get('i-host2')?.expiresS).toBe(NOW - 10);
    expect(lapsedRecords([...zone].reverse(), ctx, NOW).get('i-host2')?.expiresS).toBe(NOW - 10);
  });

  it('counts a host live when any of its markers is, and one marker value that is live is enough', () => {
    const zone = [
      ...desiredRecords(['a'], { ...ctx, hostId: 'i-host2', leaseExpiresS: NOW - 1 }),
      ...desiredRecords(['b'], { ...ctx, hostId: 'i-host2', leaseExpiresS: NOW + 60 }),
    ];
    expect([...liveOwners(zone, NOW)]).toEqual(['i-host2']);
    const twoValues: RecordSet = { ...zone[1]!, values: [markerValue('i-host3', NOW - 1), markerValue('i-host4', NOW + 1)] };
    expect([...liveOwners([twoValues], NOW)]).toEqual(['i-host4']);
  });

  it.each<[string, string[]]>([
    ['a hand-made TXT record at a marker name', ['"v=spf1 -all"']],
    ['a hand-made value before a lapsed marker value', ['"v=spf1 -all"', markerValue('i-host2', NOW - 1)]],
    ['a marker without an expiry', [markerValue('i-host2')]],
  ])('takes %s for no lapsed host', (_, values) => {
    const [a, marker] = leased(NOW - 1) as [RecordSet, RecordSet];
    expect(lapsedRecords([a, { ...marker, values }], ctx, NOW).size).toBe(0);
  });

  it('does not read a marker at a name outside the marker names, nor a record of another type, as a host', () => {
    const [a, marker] = desiredRecords(['login'], { ...ctx, hostId: 'i-host2' }) as [RecordSet, RecordSet];
    expect([
      ...liveOwners(
        [
          { ...marker, name: NAME },
          { ...a, values: [markerValue('i-host2')] },
        ],
        NOW,
      ),
    ]).toEqual([]);
    expect(lapsedRecords([{ ...marker, name: NAME, values: [markerValue('i-host2', NOW - 1)] }], ctx, NOW).size).toBe(0);
    expect(lapsedRecords([{ ...marker, type: 'A', values: [markerValue('i-host2', NOW - 1)] }], ctx, NOW).size).toBe(0);
    expect([...liveOwners([{ ...marker, type: 'A' }], NOW)]).toEqual([]);
  });
});

describe('splitIntoBatches: Route53’s 32,000 characters per request', () => {
  /** One name's A record with a value of `chars` characters (Route53 counts an UPSERT's twice). */
  const change = (name: string, chars: number, action: Change['action'] = 'CREATE'): Change => ({
    action,
    record: { name: `${name}.example.com`, type: 'A', ttl: 60, values: ['x'.repeat(chars)] },
  });
  const sizes = (batches: Change[][]) => batches.map((b) => b.length);

  it.each<[string, Change[], number[]]>([
    ['two names of 16,000 characters each fill one request exactly', [change('a', 16_000), change('b', 16_000)], [2]],
    ['one character more takes a second request', [change('a', 16_000), change('b', 16_001)], [1, 1]],
    ['an UPSERT counts its values twice', [change('a', 8_000, 'UPSERT'), change('b', 8_001, 'UPSERT')], [1, 1]],
    ['a name over the limit on its own still goes, alone', [change('a', 10), change('b', 40_000), change('c', 10)], [1, 1, 1]],
    ['a first name over the limit goes alone, with no empty request before it', [change('a', 40_000), change('b', 10)], [1, 1]],
    ['no changes make no request', [], []],
    [
      'a name with two values of 8,000 characters and one of 16,000 fill one request exactly',
      [{ ...change('a', 0), record: { ...change('a', 0).record, values: ['x'.repeat(8_000), 'y'.repeat(8_000)] } }, change('b', 16_000)],
      [2],
    ],
  ])('%s', (_, changes, batches) => {
    expect(sizes(splitIntoBatches(changes))).toEqual(batches);
    expect(splitIntoBatches(changes).flat()).toEqual(changes);
  });

  it('keeps every request of a host with a long id renewing its leases within 32,000 characters and 1,000 values', () => {
    // A 63-character host id makes each marker ~120 characters: the character limit binds long before the value limit.
    const host = { ...ctx, hostId: `i-${'a'.repeat(61)}`, leaseExpiresS: 1_900_000_000 };
    const names = Array.from({ length: 300 }, (_, i) => `s${i}`);
    const changes = diffRecords(desiredRecords(names, host), desiredRecords(names, { ...host, leaseExpiresS: 1_899_999_000 }));
    expect(changes).toHaveLength(300);
    const batches = splitIntoBatches(changes);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(batch.reduce((n, c) => n + c.record.values.join('').length * (c.action === 'UPSERT' ? 2 : 1), 0)).toBeLessThanOrEqual(32_000);
    }
    expect(batches.flat()).toEqual(changes);
  });
});
