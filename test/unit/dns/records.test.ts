import { describe, expect, it } from 'vitest';
import {
  applyChanges,
  type Change,
  desiredRecords,
  diffRecords,
  foreignConflicts,
  lapsedRecords,
  liveOwners,
  markerValue,
  normaliseName,
  ownedRecords,
  parseMarker,
  type RecordContext,
  type RecordSet,
  registrableDomains,
  setIdentifierFor,
  splitIntoBatches,
} from '../../../src/dns/records.js';

const ctx: RecordContext = { zone: 'example.com', hostId: 'i-host1', hostIp: '10.0.0.1', ttl: 60, mode: 'multivalue' };
const other: RecordContext = { ...ctx, hostId: 'i-host2', hostIp: '10.0.0.2' };
/** The same hosts with IPv6 addresses. */
const ctx6: RecordContext = { ...ctx, hostIpv6: '2001:db8::1' };
const other6: RecordContext = { ...other, hostIpv6: '2001:db8::2' };
const show = (changes: Change[]) => changes.map((c) => `${c.action} ${c.record.type} ${c.record.name}`);

describe('normaliseName', () => {
  it('reads names as Route53 lists them: trailing dot, any case, a wildcard as \\052', () => {
    expect(normaliseName('Login.Example.com.')).toBe('login.example.com');
    expect(normaliseName('\\052.preview.example.com.')).toBe('*.preview.example.com');
    expect(normaliseName('_hc-owner.\\052.preview.example.com.')).toBe('_hc-owner.*.preview.example.com');
  });
});

describe('desiredRecords', () => {
  it('gives each domain a multivalue A record and an ownership marker, both with per-name SetIdentifiers', () => {
    expect(desiredRecords(['login'], ctx)).toEqual([
      {
        name: 'login.example.com',
        type: 'A',
        ttl: 60,
        values: ['10.0.0.1'],
        setIdentifier: setIdentifierFor('i-host1', 'login.example.com'),
        multiValueAnswer: true,
      },
      {
        name: '_hc-owner.login.example.com',
        type: 'TXT',
        ttl: 60,
        values: ['"heritage=haproxy-companion,owner=i-host1"'],
        setIdentifier: setIdentifierFor('i-host1', '_hc-owner.login.example.com'),
        multiValueAnswer: true,
      },
    ]);
  });

  it('derives SetIdentifiers from the host id, distinct per name', () => {
    const a = setIdentifierFor('i-host1', 'a.example.com');
    expect(a).toMatch(/^i-host1-[0-9a-f]{10}$/);
    expect(a).not.toBe(setIdentifierFor('i-host1', 'b.example.com'));
    expect(a).toBe(setIdentifierFor('i-host1', 'A.example.com.'));
  });

  it('writes an AAAA record beside the A record when the host has an IPv6 address, under a SetIdentifier of its own', () => {
    const records = desiredRecords(['login'], ctx6);
    expect(records.map((r) => `${r.type} ${r.name} ${r.values}`)).toEqual([
      'A login.example.com 10.0.0.1',
      'AAAA login.example.com 2001:db8::1',
      'TXT _hc-owner.login.example.com "heritage=haproxy-companion,owner=i-host1"',
    ]);
    const [a, aaaa] = records;
    expect(aaaa).toEqual({
      ...a,
      type: 'AAAA',
      values: ['2001:db8::1'],
      setIdentifier: setIdentifierFor('i-host1', 'login.example.com', 'AAAA'),
    });
    // moto deletes by SetIdentifier alone: a shared one would take the A record with a stale AAAA record.
    expect(aaaa?.setIdentifier).toMatch(/^i-host1-[0-9a-f]{10}$/);
    expect(aaaa?.setIdentifier).not.toBe(a?.setIdentifier);
    expect(desiredRecords(['login'], { ...ctx6, mode: 'simple' })[1]).toEqual({
      name: 'login.example.com',
      type: 'AAAA',
      ttl: 60,
      values: ['2001:db8::1'],
    });
  });

  it('writes plain records in simple mode', () => {
    expect(desiredRecords(['login'], { ...ctx, mode: 'simple' })[0]).toEqual({
      name: 'login.example.com',
      type: 'A',
      ttl: 60,
      values: ['10.0.0.1'],
    });
  });
});

describe('ownedRecords', () => {
  const mine = desiredRecords(['login'], ctx);
  const theirs = desiredRecords(['login'], other);
  const handMade: RecordSet[] = [
    { name: 'login.example.com', type: 'A', ttl: 300, values: ['192.0.2.9'], setIdentifier: 'manual', multiValueAnswer: true },
    { name: 'login.example.com', type: 'TXT', ttl: 300, values: ['"v=spf1 -all"'] },
  ];

  it('finds only this host’s records among other hosts’ and hand-made ones', () => {
    expect(ownedRecords([...theirs, ...handMade, ...mine], ctx)).toEqual(mine);
  });

  it('does not own an A record whose marker is missing, even with its SetIdentifier', () => {
    expect(ownedRecords([mine[0]!], ctx)).toEqual([]);
  });

  it('does not own a marker naming another host, even with a copied SetIdentifier', () => {
    const forged = { ...mine[1]!, values: [markerValue('i-host2')] };
    expect(ownedRecords([mine[0]!, forged], ctx)).toEqual([]);
  });

  it('owns its AAAA records, also once it has no IPv6 address any more, but not another host’s', () => {
    const withV6 = desiredRecords(['login'], ctx6);
    expect(ownedRecords([...desiredRecords(['login'], other6), ...withV6], ctx)).toEqual([withV6[0], withV6[1], withV6[2]]);
    const aaaaAtTheASetIdentifier = { ...withV6[1]!, setIdentifier: setIdentifierFor('i-host1', 'login.example.com') };
    expect(ownedRecords([withV6[0]!, aaaaAtTheASetIdentifier, withV6[2]!], ctx)).toEqual([withV6[0], withV6[2]]);
  });

  it('in simple mode owns the plain A record its marker vouches for', () => {
    const simple = { ...ctx, mode: 'simple' as const };
    const records = desiredRecords(['login'], simple);
    expect(ownedRecords(records, simple)).toEqual(records);
    // Another host's UPSERT took the name over: its marker now names that host.
    const takenOver = desiredRecords(['login'], { ...other, mode: 'simple' });
    expect(ownedRecords(takenOver, simple)).toEqual([]);
  });
});

describe('foreignConflicts', () => {
  const simple = { ...ctx, mode: 'simple' as const };
  const www = 'www.example.com';
  const plainA: RecordSet = { name: www, type: 'A', ttl: 300, values: ['203.0.113.10'] };
  const cname: RecordSet = { name: www, type: 'CNAME', ttl: 300, values: ['shop.example.org'] };
  const alias: RecordSet = { name: www, type: 'A', ttl: 0, values: [], aliasTarget: 'd111111abcdef8.cloudfront.net.' };
  const spf: RecordSet = { name: www, type: 'TXT', ttl: 300, values: ['"v=spf1 -all"'] };
  const manual: RecordSet = { ...plainA, setIdentifier: 'manual', multiValueAnswer: true };
  const unvouched: RecordSet = { ...manual, setIdentifier: setIdentifierFor('i-host1', www) };
  const theirs = (mode: 'simple' | 'multivalue') => desiredRecords(['www'], { ...other, mode });
  const simple6 = { ...ctx6, mode: 'simple' as const };
  const plainAaaa: RecordSet = { name: www, type: 'AAAA', ttl: 300, values: ['2001:db8::99'] };

  it.each<[string, RecordContext, RecordSet[], RegExp | undefined]>([
    ['simple: a hand-made plain A record', simple, [plainA], /^an A record this host did not write: www\.example\.com A 203\.0\.113\.10$/],
    ['simple: a CNAME', simple, [cname], /^a CNAME record/],
    ['simple: an alias record', simple, [alias], /alias d111111abcdef8\.cloudfront\.net\.$/],
    ['simple: another host’s simple records (first writer keeps the name)', simple, theirs('simple'), /./],
    ['simple: another host’s multivalue records', simple, theirs('multivalue'), /./],
    ['simple: a TXT record beside the name (SPF) is none of ours', simple, [spf], undefined],
    ['simple: its own records', simple, desiredRecords(['www'], simple), undefined],
    ['multivalue: a hand-made plain A record', ctx, [plainA], /^a plain A record .*cannot coexist/],
    ['multivalue: a CNAME', ctx, [cname], /CNAME/],
    ['multivalue: an alias record', ctx, [alias], /^a plain A record/],
    ['multivalue: a simple-mode host’s plain marker', ctx, [theirs('simple')[1]!], /^a plain TXT record/],
    [
      'multivalue: a record at its own SetIdentifier, not vouched for',
      ctx,
      [unvouched],
      /SetIdentifier that its marker does not vouch for/,
    ],
    ['multivalue: other hosts’ multivalue records (a fleet shares names)', ctx, theirs('multivalue'), undefined],
    ['multivalue: a hand-made multivalue A record', ctx, [manual], undefined],
    ['multivalue: its own records', ctx, desiredRecords(['www'], ctx), undefined],
    [
      'simple, IPv6: a hand-made plain AAAA record',
      simple6,
      [plainAaaa],
      /^an AAAA record this host did not write: www\.example\.com AAAA 2001:db8::99$/,
    ],
    ['simple, no IPv6: a hand-made plain AAAA record holds the name as an A record would', simple, [plainAaaa], /^an AAAA record/],
    ['simple, IPv6: another host’s simple records with IPv6', simple6, desiredRecords(['www'], { ...other6, mode: 'simple' }), /./],
    ['simple, IPv6: a CNAME', simple6, [cname], /^a CNAME record/],
    ['simple, IPv6: its own records', simple6, desiredRecords(['www'], simple6), undefined],
    ['multivalue, IPv6: a hand-made plain AAAA record', ctx6, [plainAaaa], /^a plain AAAA record .*cannot coexist/],
    ['multivalue, IPv6: an AAAA alias record', ctx6, [{ ...alias, type: 'AAAA' }], /^a plain AAAA record/],
    ['multivalue, no IPv6: a plain AAAA record coexists with its A record', ctx, [plainAaaa], undefined],
    [
      'multivalue, no IPv6: an AAAA record at its own AAAA SetIdentifier, which its marker would vouch for',
      ctx,
      [{ ...plainAaaa, multiValueAnswer: true, setIdentifier: setIdentifierFor('i-host1', www, 'AAAA') }],
      /SetIdentifier that its marker does not vouch for/,
    ],
    ['multivalue, IPv6: a CNAME', ctx6, [cname], /CNAME/],
    [
      'multivalue, IPv6: an AAAA record at its own AAAA SetIdentifier, not vouched for',
      ctx6,
      [{ ...plainAaaa, multiValueAnswer: true, setIdentifier: setIdentifierFor('i-host1', www, 'AAAA') }],
      /SetIdentifier that its marker does not vouch for/,
    ],
    [
      'multivalue, IPv6: other hosts’ multivalue A and AAAA records (a fleet shares names)',
      ctx6,
      desiredRecords(['www'], other6),
      undefined,
    ],
    [
      'multivalue, IPv6: a hand-made multivalue AAAA record',
      ctx6,
      [{ ...plainAaaa, setIdentifier: 'manual', multiValueAnswer: true }],
      undefined,
    ],
    ['multivalue, IPv6: its own records', ctx6, desiredRecords(['www'], ctx6), undefined],
    ['multivalue, no IPv6: its own stale AAAA record', ctx, desiredRecords(['www'], ctx6), undefined],
  ])('%s', (_desc, context, zone, reason) => {
    const conflicts = foreignConflicts(zone, ownedRecords(zone, context), context);
    expect(Object.fromEntries(conflicts)).toEqual(reason ? { [www]: expect.stringMatching(reason) } : {});
  });
});

describe('registrableDomains', () => {
  it('keeps the first names in sorted order, then drops the ones in conflict', () => {
    const conflicts = new Map([['b.example.com', 'hand-made']]);
    expect(registrableDomains(['d', 'c', 'b', 'a', 'a'], conflicts, 'example.com', 3)).toEqual(['a', 'c']);
  });
});

describe('diffRecords', () => {
  it('writes markers before A records, and deletes A records before markers', () => {
    const changes = diffRecords(desiredRecords(['new'], ctx), desiredRecords(['old'], ctx));
    expect(changes.map((c) => `${c.action} ${c.record.type} ${c.record.name}`)).toEqual([
      'UPSERT TXT _hc-owner.new.example.com',
      'UPSERT A new.example.com',
      'DELETE A old.example.com',
      'DELETE TXT _hc-owner.old.example.com',
    ]);
  });

  it('writes a first plain record set (simple mode) with CREATE, which Route53 refuses over an existing one', () => {
    const simple = { ...ctx, mode: 'simple' as const };
    const changes = diffRecords(desiredRecords(['new'], simple), []);
    expect(changes.map((c) => `${c.action} ${c.record.type} ${c.record.name}`)).toEqual([
      'CREATE TXT _hc-owner.new.example.com',
      'CREATE A new.example.com',
    ]);
    const drifted = diffRecords(desiredRecords(['new'], simple), desiredRecords(['new'], { ...simple, ttl: 30 }));
    expect(drifted.map((c) => c.action)).toEqual(['UPSERT', 'UPSERT']);
  });

  it('changes nothing when the zone already matches', () => {
    expect(diffRecords(desiredRecords(['a', 'b'], ctx), desiredRecords(['b', 'a'], ctx))).toEqual([]);
  });

  it('writes the AAAA record after the marker, and deletes it before the marker', () => {
    expect(show(diffRecords(desiredRecords(['new'], ctx6), desiredRecords(['old'], ctx6)))).toEqual([
      'UPSERT TXT _hc-owner.new.example.com',
      'UPSERT A new.example.com',
      'UPSERT AAAA new.example.com',
      'DELETE AAAA old.example.com',
      'DELETE A old.example.com',
      'DELETE TXT _hc-owner.old.example.com',
    ]);
  });

  it.each<[string, RecordContext]>([
    ['multivalue', ctx],
    ['simple', { ...ctx, mode: 'simple' }],
  ])('%s: deletes only the stale AAAA record once the host has no IPv6 address, and adds one when it gets one', (_mode, host) => {
    const zone = desiredRecords(['a', 'b'], { ...host, hostIpv6: '2001:db8::1' });
    const owned = ownedRecords(zone, host);
    expect(owned).toHaveLength(6);
    expect(foreignConflicts(zone, owned, host).size).toBe(0);
    expect(show(diffRecords(desiredRecords(['a', 'b'], host), owned))).toEqual(['DELETE AAAA a.example.com', 'DELETE AAAA b.example.com']);
    const v4 = desiredRecords(['a'], host);
    expect(show(diffRecords(desiredRecords(['a'], { ...host, hostIpv6: '2001:db8::1' }), ownedRecords(v4, host)))).toEqual([
      host.mode === 'simple' ? 'CREATE AAAA a.example.com' : 'UPSERT AAAA a.example.com',
    ]);
  });

  it('upserts an AAAA record whose address changed, and not one that holds the same address written otherwise', () => {
    const owned = desiredRecords(['a'], { ...ctx, hostIpv6: '2001:db8::9' });
    expect(show(diffRecords(desiredRecords(['a'], ctx6), owned))).toEqual(['UPSERT AAAA a.example.com']);
    const longhand = owned.map((r) => (r.type === 'AAAA' ? { ...r, values: ['2001:0DB8:0:0:0:0:0:1'] } : r));
    expect(diffRecords(desiredRecords(['a'], ctx6), longhand)).toEqual([]);
  });

  it('upserts a record whose value or TTL drifted', () => {
    const owned = desiredRecords(['a'], { ...ctx, hostIp: '10.9.9.9' });
    const changes = diffRecords(desiredRecords(['a'], ctx), owned);
    expect(changes.map((c) => `${c.action} ${c.record.type} ${c.record.values}`)).toEqual(['UPSERT A 10.0.0.1']);
  });
});

describe('applyChanges', () => {
  it('gives what the zone holds after the changes went through', () => {
    const known = desiredRecords(['a', 'b'], ctx);
    const changes = diffRecords(desiredRecords(['b', 'c'], { ...ctx, ttl: 30 }), known);
    expect(applyChanges(known, changes)).toEqual(expect.arrayContaining(desiredRecords(['b', 'c'], { ...ctx, ttl: 30 })));
    expect(applyChanges(known, changes)).toHaveLength(4);
  });
});

describe('splitIntoBatches', () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);

  it('keeps one request while within 1,000 elements (UPSERT counts twice)', () => {
    const changes = diffRecords(desiredRecords(names(250), ctx), desiredRecords(names(250), { ...ctx, ttl: 30 }));
    expect(changes.map((c) => c.action)).toEqual(Array(500).fill('UPSERT'));
    expect(splitIntoBatches(changes)).toHaveLength(1);
  });

  it('counts a CREATE once', () => {
    const changes = diffRecords(desiredRecords(names(500), { ...ctx, mode: 'simple' }), []);
    expect(changes).toHaveLength(1000);
    expect(splitIntoBatches(changes)).toHaveLength(1);
  });

  it('splits beyond it, never separating a name from its marker', () => {
    const changes = diffRecords(desiredRecords(names(600), ctx), desiredRecords(names(600), { ...ctx, ttl: 30 }));
    const batches = splitIntoBatches(changes);
    expect(batches.length).toBe(3);
    for (const batch of batches) {
      expect(batch.reduce((n, c) => n + (c.action === 'UPSERT' ? 2 : 1), 0)).toBeLessThanOrEqual(1000);
      const names = new Set(batch.map((c) => c.record.name.replace('_hc-owner.', '')));
      expect(batch.length).toBe(names.size * 2);
    }
    expect(batches.flat()).toEqual(changes);
  });
});

describe('markers name the owner of the name (issue #21)', () => {
  const claim = { unit: '0123456789abcdef', project: 'fedcba9876543210', sinceS: 1_800_000_000 };

  it('writes unit, project and since after the host, and reads them back', () => {
    const value = markerValue('i-host1', 1_900_000_000, claim);
    expect(value).toBe(
      '"heritage=haproxy-companion,owner=i-host1,unit=0123456789abcdef,project=fedcba9876543210,since=1800000000,expires=1900000000"',
    );
    expect(parseMarker(value)).toEqual({ owner: 'i-host1', expiresS: 1_900_000_000, claim });
    const { project: _, ...noProject } = claim;
    expect(parseMarker(markerValue('i-host1', undefined, noProject))).toEqual({ owner: 'i-host1', claim: noProject });
    expect(desiredRecords(['login'], ctx, new Map([['login', claim]]))[1]?.values).toEqual([markerValue('i-host1', undefined, claim)]);
    // The longest value fits a TXT string (255 characters).
    expect(markerValue('h'.repeat(63), 999_999_999_999, { ...claim, sinceS: 999_999_999_999 }).length).toBeLessThanOrEqual(255);
  });

  it('reads a marker written before owners as an unknown owner, everywhere a marker is read', () => {
    expect(parseMarker('"heritage=haproxy-companion,owner=i-host1,expires=1900000000"')).toEqual({
      owner: 'i-host1',
      expiresS: 1_900_000_000,
    });
    const old = desiredRecords(['login'], { ...ctx, leaseExpiresS: 100 });
    expect(ownedRecords(old, ctx)).toEqual(old);
    expect(lapsedRecords(old, other, 200).get('i-host1')?.records).toHaveLength(2);
    expect(liveOwners(old, 50)).toEqual(new Set(['i-host1']));
    // Its owner named since: the changed value is rewritten.
    const named = desiredRecords(['login'], { ...ctx, leaseExpiresS: 100 }, new Map([['login', claim]]));
    expect(show(diffRecords(named, old))).toEqual(['UPSERT TXT _hc-owner.login.example.com']);
  });

  it('owns, reaps and counts markers that name an owner as any other', () => {
    const named = desiredRecords(['login'], { ...ctx, leaseExpiresS: 100 }, new Map([['login', claim]]));
    expect(ownedRecords(named, ctx)).toEqual(named);
    // `simple` mode: the host's own plain marker naming an owner is its own, and no conflict.
    const simple = { ...ctx, mode: 'simple' as const };
    const plain = desiredRecords(['login'], simple, new Map([['login', claim]]));
    expect(ownedRecords(plain, simple)).toEqual(plain);
    expect(foreignConflicts(plain, ownedRecords(plain, simple), simple).size).toBe(0);
    expect(foreignConflicts(plain, [], { ...simple, hostId: 'i-host2' }).size).toBe(1);
    expect(lapsedRecords(named, other, 200).get('i-host1')?.records).toHaveLength(2);
    expect(liveOwners(named, 50)).toEqual(new Set(['i-host1']));
  });

  it.each([
    ['a unit in capitals', '"heritage=haproxy-companion,owner=i-host1,unit=0123456789ABCDEF,since=1"'],
    ['a short unit', '"heritage=haproxy-companion,owner=i-host1,unit=0123,since=1"'],
    ['a unit without since', '"heritage=haproxy-companion,owner=i-host1,unit=0123456789abcdef"'],
    ['a project without unit', '"heritage=haproxy-companion,owner=i-host1,project=0123456789abcdef,since=1"'],
    ['since without unit', '"heritage=haproxy-companion,owner=i-host1,since=1"'],
    ['fields out of order', '"heritage=haproxy-companion,owner=i-host1,since=1,unit=0123456789abcdef"'],
    ['a second owner after the unit', '"heritage=haproxy-companion,owner=i-host1,unit=0123456789abcdef,since=1,owner=i-host2"'],
    ['a quote in the unit', '"heritage=haproxy-companion,owner=i-host1,unit=0123456789abcde",since=1"'],
    ['a comma in the project', '"heritage=haproxy-companion,owner=i-host1,unit=0123456789abcdef,project=0123456789,bcdef,since=1"'],
    ['a negative since', '"heritage=haproxy-companion,owner=i-host1,unit=0123456789abcdef,since=-1"'],
    ['a since of 13 digits', '"heritage=haproxy-companion,owner=i-host1,unit=0123456789abcdef,since=1234567890123"'],
  ])('reads %s as no marker', (_, value) => {
    expect(parseMarker(value)).toBeUndefined();
  });
});

describe('leases in markers', () => {
  it('writes the expiry into the marker, and reads owner and expiry back; a marker of before leases has none', () => {
    expect(markerValue('i-host1', 1_900_000_000)).toBe('"heritage=haproxy-companion,owner=i-host1,expires=1900000000"');
    expect(desiredRecords(['login'], { ...ctx, leaseExpiresS: 1_900_000_000 })[1]?.values).toEqual([markerValue('i-host1', 1_900_000_000)]);
    expect(parseMarker(markerValue('i-host1', 1_900_000_000))).toEqual({ owner: 'i-host1', expiresS: 1_900_000_000 });
    expect(parseMarker(markerValue('i-host1'))).toEqual({ owner: 'i-host1' });
  });

  it.each([
    '"heritage=haproxy-companion,owner=i-host1,expires=soon"',
    '"heritage=haproxy-companion,owner=i-host1,expires=1,extra=2"',
    '"heritage=haproxy-companion,owner=i-host1,i-host2"',
    '"heritage=haproxy-companion,owner="',
    'heritage=haproxy-companion,owner=i-host1',
    '"heritage=external-dns,external-dns/owner=default"',
    '"v=spf1 -all"',
  ])('reads %s as no marker', (value) => {
    expect(parseMarker(value)).toBeUndefined();
  });

  it('owns its records whatever the lease in its marker, lapsed or none', () => {
    const leased = desiredRecords(['login'], { ...ctx, leaseExpiresS: 100 });
    expect(ownedRecords(leased, ctx)).toEqual(leased);
  });
});

describe('lapsedRecords', () => {
  const NOW = 1_900_000_000;
  const lapsedHost = desiredRecords(['login', 'api'], { ...other6, leaseExpiresS: NOW - 1 });
  const liveHost = desiredRecords(['login'], { ...ctx, hostId: 'i-host3', hostIp: '10.0.0.3', leaseExpiresS: NOW + 600 });
  const oldHost = desiredRecords(['login'], { ...ctx, hostId: 'i-host4', hostIp: '10.0.0.4' });
  const mineLapsed = desiredRecords(['login'], { ...ctx, leaseExpiresS: NOW - 1 });
  const handMade: RecordSet = {
    name: 'login.example.com',
    type: 'A',
    ttl: 300,
    values: ['192.0.2.1'],
    setIdentifier: 'manual',
    multiValueAnswer: true,
  };
  const zone = [...lapsedHost, ...liveHost, ...oldHost, ...mineLapsed, handMade];

  it('gives a lapsed host’s markers and the A and AAAA records they vouch for, and nothing else', () => {
    const lapsed = lapsedRecords(zone, ctx, NOW);
    expect([...lapsed.keys()]).toEqual(['i-host2']);
    expect(lapsed.get('i-host2')?.records.sort((a, b) => `${a.name}${a.type}`.localeCompare(`${b.name}${b.type}`))).toEqual(
      [...lapsedHost].sort((a, b) => `${a.name}${a.type}`.localeCompare(`${b.name}${b.type}`)),
    );
    expect(lapsed.get('i-host2')?.expiresS).toBe(NOW - 1);
    // Deleted as that host would: address records first, then the marker.
    expect(show(diffRecords([], lapsed.get('i-host2')!.records))).toEqual([
      'DELETE AAAA api.example.com',
      'DELETE A api.example.com',
      'DELETE TXT _hc-owner.api.example.com',
      'DELETE AAAA login.example.com',
      'DELETE A login.example.com',
      'DELETE TXT _hc-owner.login.example.com',
    ]);
  });

  it('leaves a lease that lapses only at this second, and the host that asks, alone', () => {
    expect(lapsedRecords(zone, ctx, NOW - 1).size).toBe(0);
    // Its own lapsed records are its own to renew or delete: from another host's view they are lapsed.
    expect([...lapsedRecords(zone, other, NOW).keys()]).toEqual(['i-host1']);
  });

  it.each<[string, RecordSet[]]>([
    ['a marker that names another host than its SetIdentifier', [{ ...lapsedHost[2]!, values: [markerValue('i-host9', NOW - 1)] }]],
    ['a marker with a hand-made value beside it', [{ ...lapsedHost[2]!, values: [markerValue('i-host2', NOW - 1), '"v=spf1 -all"'] }]],
    [
      'a marker holding a lapsed and a live lease',
      [{ ...lapsedHost[2]!, values: [markerValue('i-host2', NOW - 1), markerValue('i-host2', NOW + 60)] }],
    ],
    [
      'a marker at a SetIdentifier of another host',
      [{ ...lapsedHost[2]!, setIdentifier: setIdentifierFor('i-host3', lapsedHost[2]!.name) }],
    ],
    ['a plain marker, in multivalue mode', [{ ...lapsedHost[2]!, setIdentifier: undefined, multiValueAnswer: undefined }]],
  ])('never takes %s for lapsed', (_, records) => {
    expect(lapsedRecords([lapsedHost[0]!, lapsedHost[1]!, ...records], ctx, NOW).size).toBe(0);
  });

  it('does not take an A record at the lapsed host’s SetIdentifier of another name, nor an alias record', () => {
    const marker = lapsedHost.find((r) => r.name === '_hc-owner.login.example.com')!;
    const elsewhere: RecordSet = { ...lapsedHost[0]!, name: 'other.example.com' };
    const alias: RecordSet = { ...lapsedHost[0]!, values: [], aliasTarget: 'lb.example.org' };
    expect(lapsedRecords([marker, elsewhere], ctx, NOW).get('i-host2')?.records).toEqual([marker]);
    expect(lapsedRecords([marker, alias], ctx, NOW).get('i-host2')?.records).toEqual([marker]);
  });

  it('in simple mode takes the plain A and AAAA records at the name of a lapsed plain marker', () => {
    const simple = desiredRecords(['login'], { ...other6, mode: 'simple', leaseExpiresS: NOW - 1 });
    expect(lapsedRecords(simple, { ...ctx, mode: 'simple' }, NOW).get('i-host2')?.records).toHaveLength(3);
    expect(lapsedRecords(simple, ctx, NOW).size).toBe(0);
  });
});

describe('liveOwners', () => {
  it('counts hosts with a live or an unexpiring marker, not lapsed ones nor values that are no marker', () => {
    const zone = [
      ...desiredRecords(['a', 'b'], { ...ctx, leaseExpiresS: 200 }),
      ...desiredRecords(['a'], { ...other, leaseExpiresS: 50 }),
      ...desiredRecords(['a'], { ...ctx, hostId: 'i-old' }),
      { name: '_hc-owner.c.example.com', type: 'TXT' as const, ttl: 60, values: ['"v=spf1 -all"'] },
    ];
    expect([...liveOwners(zone, 100)].sort()).toEqual(['i-host1', 'i-old']);
  });
});

describe('diffRecords, before any listing', () => {
  it('writes first writes with CREATE, which Route53 refuses over anything in the way, and changes to what it wrote with UPSERT', () => {
    const leased = { ...ctx, leaseExpiresS: 1_900_000_000 };
    expect(show(diffRecords(desiredRecords(['a'], leased), [], () => true))).toEqual([
      'CREATE TXT _hc-owner.a.example.com',
      'CREATE A a.example.com',
    ]);
    const renewed = { ...ctx, leaseExpiresS: 1_900_001_200 };
    expect(show(diffRecords(desiredRecords(['a'], renewed), desiredRecords(['a'], leased), () => true))).toEqual([
      'UPSERT TXT _hc-owner.a.example.com',
    ]);
  });
});
