import { describe, expect, it } from 'vitest';
import {
  desiredRecords,
  diffRecords,
  markerValue,
  ownedRecords,
  type RecordContext,
  type RecordSet,
  setIdentifierFor,
  splitIntoBatches,
} from '../../../src/dns/records.js';

const ctx: RecordContext = { zone: 'example.com', hostId: 'i-host1', hostIp: '10.0.0.1', ttl: 60, mode: 'multivalue' };
const other: RecordContext = { ...ctx, hostId: 'i-host2', hostIp: '10.0.0.2' };

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

  it('in simple mode owns the plain A record its marker vouches for', () => {
    const simple = { ...ctx, mode: 'simple' as const };
    const records = desiredRecords(['login'], simple);
    expect(ownedRecords(records, simple)).toEqual(records);
    // Another host's UPSERT took the name over: its marker now names that host.
    const takenOver = desiredRecords(['login'], { ...other, mode: 'simple' });
    expect(ownedRecords(takenOver, simple)).toEqual([]);
  });
});

describe('diffRecords', () => {
  it('creates markers before A records, and deletes A records before markers', () => {
    const changes = diffRecords(desiredRecords(['new'], ctx), desiredRecords(['old'], ctx));
    expect(changes.map((c) => `${c.action} ${c.record.type} ${c.record.name}`)).toEqual([
      'UPSERT TXT _hc-owner.new.example.com',
      'UPSERT A new.example.com',
      'DELETE A old.example.com',
      'DELETE TXT _hc-owner.old.example.com',
    ]);
  });

  it('changes nothing when the zone already matches', () => {
    expect(diffRecords(desiredRecords(['a', 'b'], ctx), desiredRecords(['b', 'a'], ctx))).toEqual([]);
  });

  it('upserts a record whose value or TTL drifted', () => {
    const owned = desiredRecords(['a'], { ...ctx, hostIp: '10.9.9.9' });
    const changes = diffRecords(desiredRecords(['a'], ctx), owned);
    expect(changes.map((c) => `${c.action} ${c.record.type} ${c.record.values}`)).toEqual(['UPSERT A 10.0.0.1']);
  });
});

describe('splitIntoBatches', () => {
  it('keeps one request while within 1,000 elements (UPSERT counts twice)', () => {
    const changes = diffRecords(
      desiredRecords(
        Array.from({ length: 250 }, (_, i) => `s${i}`),
        ctx,
      ),
      [],
    );
    expect(changes).toHaveLength(500);
    expect(splitIntoBatches(changes)).toHaveLength(1);
  });

  it('splits beyond it, never separating a name from its marker', () => {
    const changes = diffRecords(
      desiredRecords(
        Array.from({ length: 600 }, (_, i) => `s${i}`),
        ctx,
      ),
      [],
    );
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
