/**
 * Owners across the fleet (issue #21, point 7): how a host names the owner of each of its names in its
 * markers (units), how FLEET_SHARED_OWNERS is read, and the rule that keeps a host out of a name the fleet
 * serves for another owner.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nameOwner, nameOwners, parseSharedOwner, sameUnit, unitHash, writtenOwner } from '../../../src/dns/fleet-owners.js';
import { type NameClaim, ownerConflicts } from '../../../src/dns/fleet-ownership.js';
import type { LiveMarker } from '../../../src/dns/live-markers.js';
import { ownerOf } from '../../../src/model/ownership.js';
import { buildServices } from '../../../src/model/services.js';
import { container } from '../../helpers/containers.js';

const NOW = 1_900_000_000;
const sha16 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

describe('units', () => {
  it('is the first 16 hex digits of sha256 of the owner as FLEET_SHARED_OWNERS writes it', () => {
    expect(unitHash('image:app-a')).toBe(sha16('image:app-a'));
    const compose = container({ labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' } });
    expect(writtenOwner(ownerOf(compose).key)).toBe('compose:shop/web');
    expect(writtenOwner(ownerOf(container({ image: 'docker.io/library/App-A:v2' })).key)).toBe('image:app-a');
    expect(writtenOwner(ownerOf(container({ labels: { 'haproxy-companion.group': 'payments' } })).key)).toBe('group:payments');
    // What a setting says and what a container is hash alike.
    for (const written of ['compose:shop/web', 'image:app-a', 'group:payments']) {
      const parsed = parseSharedOwner(written);
      expect(parsed.ok && parsed.owner).toBe(written);
    }
    expect(nameOwner({ key: 'compose:["shop","web"]', description: '', project: 'shop' })).toEqual({
      unit: sha16('compose:shop/web'),
      project: sha16('shop'),
      description: 'compose:shop/web',
    });
  });

  it('shares by unit, or by compose project', () => {
    expect(sameUnit({ unit: 'a' }, { unit: 'a' })).toBe(true);
    expect(sameUnit({ unit: 'a', project: 'p' }, { unit: 'b', project: 'p' })).toBe(true);
    expect(sameUnit({ unit: 'a', project: 'p' }, { unit: 'b', project: 'q' })).toBe(false);
    expect(sameUnit({ unit: 'a' }, { unit: 'b' })).toBe(false);
  });

  it('names a domain for the owner of its / service, else of its first path service, with the project', () => {
    const compose = (service: string, labels: Record<string, string>) =>
      container({ labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': service, ...labels } });
    const { services } = buildServices(
      [
        compose('api', { 'haproxy-companion.api.domain': 'shop', 'haproxy-companion.api.path': '/api' }),
        compose('web', { 'haproxy-companion.web.domain': 'shop' }),
        container({ image: 'docs:1', labels: { 'haproxy-companion.d.domain': 'docs', 'haproxy-companion.d.path': '/v2' } }),
      ],
      {},
      { zone: 'example.com' },
    );
    const owners = nameOwners(services);
    expect([...owners.keys()].sort()).toEqual(['docs', 'shop']);
    expect(owners.get('shop')).toEqual({ unit: sha16('compose:shop/web'), project: sha16('shop'), description: 'compose:shop/web' });
    expect(owners.get('docs')).toEqual({ unit: sha16('image:docs'), description: 'image:docs' });
  });
});

describe('parseSharedOwner', () => {
  it.each([
    ['image:registry.example.com:5000/team/app:v1.2@sha256:abc', 'image:registry.example.com:5000/team/app'],
    ['image:library/nginx', 'image:nginx'],
    ['group:pay-ments_1', 'group:pay-ments_1'],
  ])('reads %s as %s', (text, owner) => {
    expect(parseSharedOwner(text)).toEqual({ ok: true, owner });
  });

  it.each([
    'app-a',
    'image:',
    'image:a"b',
    'compose:shop',
    'compose:Shop/web',
    'compose:shop/web/x',
    'group:',
    'group:a,b',
    'container:0123',
  ])('refuses %j, naming it', (text) => {
    const parsed = parseSharedOwner(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain(JSON.stringify(text));
  });
});

describe('ownerConflicts', () => {
  const A = { unit: sha16('image:app-a'), description: 'image:app-a' };
  const B = { unit: sha16('image:app-b'), description: 'image:app-b' };
  const at = (hostId: string, unit: { unit: string; project?: string }, sinceS: number, extra: Partial<LiveMarker> = {}): LiveMarker => ({
    name: 'login.example.com',
    hostId,
    expiresS: NOW + 600,
    claim: { ...unit, sinceS },
    a: { name: 'login.example.com', type: 'A', ttl: 60, values: ['10.0.0.9'] },
    ...extra,
  });
  const judge = (markers: LiveMarker[], claim: NameClaim, shared: string[] = []) =>
    ownerConflicts(markers, new Map([['login.example.com', claim]]), { hostId: 'i-me', shared: new Set(shared), nowS: NOW }).get(
      'login.example.com',
    );

  it.each<[string, LiveMarker[], NameClaim, string[], boolean]>([
    ['a newcomer beside another owner', [at('i-b', A, NOW - 60)], { owner: B }, [], true],
    ['a newcomer beside another owner it shares with', [at('i-b', A, NOW - 60)], { owner: B }, [A.unit], false],
    ['a newcomer beside its own owner', [at('i-b', A, NOW - 60)], { owner: A }, [], false],
    ['a newcomer beside both owners, its own first', [at('i-b', A, NOW - 60), at('i-c', B, NOW - 30)], { owner: A }, [], false],
    ['a newcomer beside both owners, the other first', [at('i-b', B, NOW - 60), at('i-c', A, NOW - 30)], { owner: A }, [], true],
    ['a holder beside a newer owner', [at('i-b', A, NOW - 60)], { owner: B, heldSinceS: NOW - 90 }, [], false],
    ['a holder beside an older owner', [at('i-b', A, NOW - 60)], { owner: B, heldSinceS: NOW - 30 }, [], true],
    ['a holder tied with a larger host id', [at('i-z', A, NOW - 60)], { owner: B, heldSinceS: NOW - 60 }, [], false],
    ['a holder tied with a smaller host id', [at('i-a', A, NOW - 60)], { owner: B, heldSinceS: NOW - 60 }, [], true],
    ['beside a lapsed marker', [at('i-b', A, NOW - 60, { expiresS: NOW - 1 })], { owner: B }, [], false],
    ['beside a marker of no owner', [at('i-b', A, NOW - 60, { claim: undefined })], { owner: B }, [], false],
    ['beside a marker without its address records', [at('i-b', A, NOW - 60, { a: undefined })], { owner: B }, [], false],
  ])('%s: left out %s', (_, markers, claim, shared, leftOut) => {
    expect(judge(markers, claim, shared) !== undefined).toBe(leftOut);
  });

  it('names at most three other hosts, the earliest first, and how to share', () => {
    const reason = judge([at('i-5', A, NOW - 5), at('i-1', A, NOW - 50), at('i-3', A, NOW - 30), at('i-4', A, NOW - 20)], { owner: B });
    expect(reason).toMatch(/^the fleet serves it for another owner: host "i-1" \(owner unit [0-9a-f]{16}, since 2030-/);
    expect(reason).toContain(' and 1 more; this host serves it for image:app-b');
    expect(reason).toContain('FLEET_SHARED_OWNERS');
    expect(reason).not.toContain('"i-5"');
  });
});
