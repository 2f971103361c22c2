/**
 * #21 point 1: an owner keeps what it holds through its own redeploy. A squatter skipped while the owner
 * runs must not become the oldest claimant when the owner replaces its containers (`docker compose up -d`
 * removes the old one and creates a new one, younger than the squatter).
 */
import { describe, expect, it } from 'vitest';
import type { ContainerInfo } from '../../../src/model/container.js';
import { modelBuilder } from '../../../src/model/services.js';
import {
  currentTenures,
  MAX_GONE_TENURES,
  nextTenures,
  rememberedClaims,
  sameStoredTenures,
  type Tenure,
} from '../../../src/model/tenure.js';
import { container } from '../../helpers/containers.js';

const zone = 'example.com';
const graceMs = 300_000;

/** One route, `haproxy-companion.web.domain` and, unless `/`, its path. */
const at = (name: string, image: string, domain: string, path = '/') =>
  container({
    name,
    image,
    labels: { 'haproxy-companion.web.domain': domain, ...(path === '/' ? {} : { 'haproxy-companion.web.path': path }) },
  });

/** A pass loop with a clock the test moves, and the tenure files it would write. */
function loop(grace = graceMs, initial: Tenure[] = []) {
  let nowMs = 1_000_000;
  const written: Tenure[][] = [];
  const build = modelBuilder({
    zone,
    selfId: undefined,
    ownershipGraceMs: grace,
    now: () => nowMs,
    tenures: initial,
    onTenures: (t) => written.push(t),
  });
  const served = (containers: ContainerInfo[]) => {
    const { services, skipped } = build(containers);
    return {
      served: services.map((s) => `${s.key}: ${s.servers.map((v) => v.containerName).join(',')}`),
      skipped: skipped.map((s) => s.containerName),
      reasons: skipped.map((s) => s.reason),
    };
  };
  return { served, written, advance: (ms: number) => (nowMs += ms) };
}

describe('an owner keeps its keys through its own redeploy', () => {
  it.each([
    [
      'the whole domain',
      () => at('login-1', 'login:v1', 'login'),
      () => at('squatter', 'test/app', 'login'),
      () => at('login-2', 'login:v2', 'login'),
      'login',
    ],
    [
      'a path under its host',
      () => at('shop-1', 'shop:v1', 'shop'),
      () => at('squatter', 'test/app', 'shop', '/login'),
      () => at('shop-2', 'shop:v2', 'shop'),
      'shop',
    ],
    [
      'an exact name under the squatter’s newer wildcard',
      () => at('a-1', 'a:v1', 'a.preview'),
      () => at('squatter', 'test/app', '*.preview'),
      () => at('a-2', 'a:v2', 'a.preview'),
      'a.preview',
    ],
  ] as Array<[string, () => ContainerInfo, () => ContainerInfo, () => ContainerInfo, string]>)(
    'keeps %s when the old container goes before the new one comes',
    (_, first, squat, second, key) => {
      const { served } = loop();
      const owner = first();
      const squatter = squat();
      const before = served([owner, squatter]);
      expect(before.served.filter((s) => s.startsWith(`${key}:`))).toEqual([`${key}: ${owner.name}`]);
      const gap = served([squatter]);
      expect(gap.served.filter((s) => s.startsWith(`${key}:`))).toEqual([]);
      const next = second();
      const after = served([squatter, next]);
      expect(after.served.filter((s) => s.startsWith(`${key}:`))).toEqual([`${key}: ${next.name}`]);
    },
  );

  it('keeps nothing of a claim that was refused: a container refused under another’s wildcard blocks nobody once it left', () => {
    const { served } = loop();
    const wildcard = container({
      name: 'wild',
      image: 'x',
      labels: { 'haproxy-companion.web.domain': '*.preview', 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'web' },
    });
    const refused = at('refused', 'x', 'a.preview');
    served([wildcard]);
    expect(served([wildcard, refused]).skipped).toEqual(['refused']);
    served([wildcard]);
    const sibling = container({
      name: 'sibling',
      image: 'x',
      labels: { 'haproxy-companion.web.domain': 'a.preview', 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'web' },
    });
    expect(served([wildcard, sibling]).served).toEqual(['*.preview: wild', 'a.preview: sibling']);
  });

  it('without the memory (OWNERSHIP_GRACE_S=0), the squatter takes the domain at the redeploy, as before', () => {
    const { served } = loop(0);
    const owner = at('login-1', 'login:v1', 'login');
    const squatter = at('squatter', 'test/app', 'login');
    served([owner, squatter]);
    served([squatter]);
    expect(served([squatter, at('login-2', 'login:v2', 'login')]).served).toEqual(['login: squatter']);
  });

  it('names the owner’s container holding the key now, or says it has none right now and names its last one', () => {
    const { served } = loop();
    const owner = at('login-1', 'login:v1', 'login');
    const squatter = at('squatter', 'test/app', 'login');
    served([owner, squatter]);
    expect(served([squatter]).reasons[0]).toBe(
      'domain "login" belongs to image "login", which held it before this one (image "test/app") and has no container right now ' +
        '(its last: "login-1"; it keeps the key for OWNERSHIP_GRACE_S); to share it, give both the same label haproxy-companion.group',
    );
    expect(served([squatter, at('login-2', 'login:v2', 'login')]).reasons[0]).toBe(
      'domain "login" belongs to container "login-2" (image "login"), older than this one (image "test/app"); ' +
        'to share it, give both the same label haproxy-companion.group',
    );
  });

  it('hands the key over once the owner has been gone for the grace period', () => {
    const { served, advance } = loop();
    const owner = at('login-1', 'login:v1', 'login');
    const other = at('other', 'other/app', 'login');
    served([owner, other]);
    served([other]);
    advance(graceMs - 1);
    expect(served([other]).served).toEqual([]);
    advance(1);
    expect(served([other]).served).toEqual(['login: other']);
    // And the new owner's tenure now holds against the old owner coming back.
    expect(served([other, at('login-2', 'login:v2', 'login')]).served).toEqual(['login: other']);
  });

  it.each([
    ['the domain itself', 'login', '/', 'login', '/'],
    ['a path under its host', 'shop', '/', 'shop', '/admin'],
    ['an exact name under its wildcard', '*.preview', '/', 'a.preview', '/'],
    ['an exact name over its wildcard’s path', '*.preview', '/login', 'a.preview', '/'],
  ])(
    'lets a container created before the owner, started later, take nothing: %s, at any later pass',
    (_, ownerHost, ownerPath, earlyHost, earlyPath) => {
      const early = at('early', 'test/app', earlyHost, earlyPath);
      const owner = at('owner', 'owner/app', ownerHost, ownerPath);
      const { served } = loop();
      expect(served([owner]).served).toEqual([
        `${owner.labels['haproxy-companion.web.domain']}${ownerPath === '/' ? '' : ownerPath}: owner`,
      ]);
      for (let pass = 0; pass < 3; pass++) {
        const now = served([owner, early]);
        expect(
          now.served.every((s) => s.endsWith(': owner')),
          `pass ${pass}: ${now.served}`,
        ).toBe(true);
        expect(now.skipped).toEqual(['early']);
      }
    },
  );

  it('remembers at most MAX_GONE_TENURES keys of owners that left, the latest to leave kept', () => {
    const owner = { key: 'image:x', description: 'image "x"' };
    const many = Array.from({ length: MAX_GONE_TENURES + 5 }, (_, i) => ({
      key: `k${i}`,
      owner,
      since: 's',
      created: 'c',
      containerId: 'c',
      containerName: 'x',
      goneSinceMs: i,
    }));
    const next = nextTenures(
      many,
      many.map((t) => ({ key: t.key, owner, live: undefined })),
      100,
      1_000_000,
    );
    expect(next).toHaveLength(MAX_GONE_TENURES);
    expect(next.some((t) => t.key === 'k0')).toBe(false);
    expect(next.some((t) => t.key === `k${MAX_GONE_TENURES + 4}`)).toBe(true);
  });

  it('keeps the memory across a restart: what was written is what the next companion starts with', () => {
    const first = loop();
    const owner = at('login-1', 'login:v1', 'login');
    const squatter = at('squatter', 'test/app', 'login');
    first.served([owner, squatter]);
    first.served([squatter]);
    const next = at('login-2', 'login:v2', 'login');
    first.served([squatter, next]);
    const saved = first.written.at(-1) ?? [];
    expect(saved.map((t) => [t.key, t.owner.key, t.containerName])).toEqual([['login', 'image:login', 'login-2']]);
    // A new companion (restart, upgrade), with the owner's container now younger than the squatter.
    const second = loop(graceMs, saved);
    expect(second.served([squatter, next]).served).toEqual(['login: login-2']);
  });

  it('writes only when what a file keeps changes, not at every pass', () => {
    const { served, written, advance } = loop();
    const owner = at('login-1', 'login:v1', 'login');
    served([owner]);
    advance(1000);
    served([owner]);
    served([owner]);
    expect(written).toHaveLength(1);
  });
});

describe('nextTenures', () => {
  const owner = { key: 'image:login', description: 'image "login"' };
  const tenure = (over: Partial<Tenure> = {}): Tenure => ({
    key: 'login',
    owner,
    since: '2024-01-01T00:00:00.000000001Z',
    created: '2023-01-01T00:00:00.000000001Z',
    containerId: 'c1',
    containerName: 'login-1',
    ...over,
  });

  it('keeps the first hold of an owner, names its newest oldest live container, and forgets other owners', () => {
    const live = container({ name: 'login-2', created: '2025-01-01T00:00:00.000000000Z', labels: { 'com.docker.compose.project': 'p' } });
    expect(nextTenures([tenure()], [{ key: 'login', owner, live }], 10, 100)).toEqual([
      tenure({ containerId: live.id, containerName: 'login-2', project: 'p' }),
    ]);
    const other = { key: 'image:x', description: 'image "x"' };
    expect(nextTenures([tenure()], [{ key: 'login', owner: other, live }], 10, 100)[0]).toMatchObject({
      owner: other,
      since: '1970-01-01T00:00:00.010000000Z',
      created: live.created,
    });
  });

  it('drops a key no longer claimed at all, and one whose owner has been gone for the grace period', () => {
    expect(nextTenures([tenure()], [], 10, 100)).toEqual([]);
    const gone = [{ key: 'login', owner, live: undefined }];
    expect(nextTenures([tenure()], gone, 50, 100)).toEqual([tenure({ goneSinceMs: 50 })]);
    expect(nextTenures([tenure({ goneSinceMs: 0 })], gone, 99, 100)).toEqual([tenure({ goneSinceMs: 0 })]);
    expect(nextTenures([tenure({ goneSinceMs: 0 })], gone, 100, 100)).toEqual([]);
    expect(currentTenures([tenure({ goneSinceMs: 0 }), tenure({ key: 'x' })], 100, 100)).toEqual([tenure({ key: 'x' })]);
    expect(currentTenures([tenure({ goneSinceMs: 1 })], 100, 100)).toEqual([tenure({ goneSinceMs: 1 })]);
  });

  it('keeps a tenure that did not change as the same object, and the owner’s first hold when its container changes', () => {
    const live = container({ name: 'login-1' });
    const first = tenure({ containerId: live.id });
    expect(nextTenures([first], [{ key: 'login', owner, live }], 10, 100)[0]).toBe(first);
    const back = nextTenures([tenure({ goneSinceMs: 5 })], [{ key: 'login', owner, live }], 10, 100)[0];
    expect(back).toEqual(tenure({ containerId: live.id }));
  });

  it('stands in for each remembered holder with a claim no Docker id can collide with', () => {
    const [claim] = rememberedClaims([tenure({ project: 'p' })]);
    expect(claim?.container.id).toBe('remembered:c1/login');
    expect(claim?.container.labels).toEqual({ 'com.docker.compose.project': 'p' });
    expect(claim?.keys).toEqual(['login']);
  });

  it('compares what a file keeps, not when it was seen', () => {
    expect(sameStoredTenures([tenure()], [tenure({ goneSinceMs: 5 })])).toBe(true);
    expect(sameStoredTenures([tenure()], [tenure({ containerName: 'x' })])).toBe(false);
    expect(sameStoredTenures([tenure()], [])).toBe(false);
  });
});
