/**
 * Trust boundary, point 4: a domain belongs to one owner, so that an unrelated container cannot silently
 * take a share of another service's traffic, while scaling, compose services and rolling deploys still share.
 */
import { describe, expect, it } from 'vitest';
import type { ContainerInfo } from '../../../src/model/container.js';
import { imageRepository, ownerOf } from '../../../src/model/ownership.js';
import { buildServices, modelBuilder } from '../../../src/model/services.js';
import { container } from '../../helpers/containers.js';

const zone = 'example.com';
const compose = (project: string, service: string) => ({ 'com.docker.compose.project': project, 'com.docker.compose.service': service });
const group = (name: string) => ({ 'haproxy-companion.group': name });

describe('imageRepository', () => {
  it.each([
    ['myapp', 'myapp'],
    ['myapp:v2', 'myapp'],
    ['myapp@sha256:0123abcd', 'myapp'],
    ['myapp:v2@sha256:0123abcd', 'myapp'],
    ['team/myapp:v2', 'team/myapp'],
    ['registry.local:5000/team/myapp:v2', 'registry.local:5000/team/myapp'],
    ['registry.local:5000/team/myapp', 'registry.local:5000/team/myapp'],
    ['docker.io/library/busybox:latest', 'busybox'],
    ['index.docker.io/library/busybox', 'busybox'],
    ['docker.io/team/myapp:1', 'team/myapp'],
    ['library/busybox', 'busybox'],
    ['MyApp:V2', 'myapp'],
    // Run by image id: the id itself, not a repository named "sha256".
    [`sha256:${'ab'.repeat(32)}`, `sha256:${'ab'.repeat(32)}`],
    ['', ''],
  ])('reads %j as %j', (image, repository) => {
    expect(imageRepository(image)).toBe(repository);
  });
});

describe('ownerOf', () => {
  it.each([
    ['the group label first', { labels: { ...group('team-a'), ...compose('shop', 'web') }, image: 'x:1' }, 'group:team-a'],
    ['then the compose project and service', { labels: compose('shop', 'web'), image: 'x:1' }, 'compose:["shop","web"]'],
    ['then the image repository', { labels: { 'com.docker.compose.project': 'shop' }, image: 'x:1' }, 'image:x'],
    ['an empty group label as unset', { labels: group(' '), image: 'x:1' }, 'image:x'],
  ] as Array<[string, Partial<ContainerInfo>, string]>)('takes %s', (_, overrides, key) => {
    expect(ownerOf(container(overrides)).key).toBe(key);
  });

  it('gives a container without an image reference an owner of its own', () => {
    const c = container({ image: '' });
    expect(ownerOf(c).key).toBe(`container:${c.id}`);
  });
});

describe('buildServices: one owner per domain', () => {
  const served = (containers: ContainerInfo[]) =>
    buildServices(containers, {}, { zone }).services.map((s) => [s.domain, s.servers.map((v) => v.containerName)]);

  it.each([
    ['several docker run of one image', [{ image: 'myapp:latest' }, { image: 'myapp:latest' }]],
    ['a rolling deploy of a new tag', [{ image: 'myapp:v1' }, { image: 'myapp:v2@sha256:0123' }]],
    [
      'compose --scale (same project and service)',
      [
        { labels: compose('p', 's'), image: 'a' },
        { labels: compose('p', 's'), image: 'b' },
      ],
    ],
    [
      'an explicit group across images',
      [
        { labels: group('g'), image: 'a' },
        { labels: group('g'), image: 'b' },
      ],
    ],
  ] as Array<[string, Partial<ContainerInfo>[]]>)('shares a domain between containers of %s', (_, overrides) => {
    const cs = overrides.map((o, i) => container({ name: `login-${i + 1}`, env: { DOMAIN: 'login' }, ...o }));
    expect(served(cs)).toEqual([['login', ['login-1', 'login-2']]]);
  });

  it('serves the oldest owner and skips a newer container of another, naming the domain, the owner and how to share', () => {
    const owner = container({ name: 'login-1', env: { DOMAIN: 'login' }, image: 'login:v1' });
    const intruder = container({ name: 'intruder', env: { DOMAIN: 'login' }, image: 'other' });
    for (const order of [
      [owner, intruder],
      [intruder, owner],
    ]) {
      const { services, skipped } = buildServices(order, {}, { zone });
      expect(services.map((s) => s.servers.map((v) => v.containerName))).toEqual([['login-1']]);
      expect(skipped).toEqual([
        {
          containerId: intruder.id,
          containerName: 'intruder',
          route: 'default',
          domain: 'login',
          reason:
            'domain "login" belongs to container "login-1" (image "login"), older than this one (image "other"); ' +
            'to share it, give both the same label haproxy-companion.group',
          ownedBy: { containerId: owner.id, containerName: 'login-1' },
        },
      ]);
    }
  });

  it('breaks a tie of creation times by container id, so the choice is stable', () => {
    const created = '2024-01-01T00:00:00.000000000Z';
    const a = container({ id: `b${'0'.repeat(63)}`, name: 'b', env: { DOMAIN: 'x' }, image: 'one', created });
    const b = container({ id: `a${'0'.repeat(63)}`, name: 'a', env: { DOMAIN: 'x' }, image: 'two', created });
    expect(served([a, b])).toEqual([['x', ['a']]]);
  });

  it('counts a container with an unknown creation time as the newest', () => {
    const unknown = container({ name: 'unknown', env: { DOMAIN: 'x' }, image: 'one', created: '' });
    const known = container({ name: 'known', env: { DOMAIN: 'x' }, image: 'two' });
    expect(served([unknown, known])).toEqual([['x', ['known']]]);
  });

  it('keeps the domain with its owner while the owner’s oldest container is not routable (unhealthy)', () => {
    const sick = container({ name: 'login-1', env: { DOMAIN: 'login' }, image: 'login', health: 'unhealthy' });
    const intruder = container({ name: 'intruder', env: { DOMAIN: 'login' }, image: 'other' });
    const sibling = container({ name: 'login-2', env: { DOMAIN: 'login' }, image: 'login' });
    const { services, skipped } = buildServices([sick, intruder, sibling], {}, { zone });
    expect(services.map((s) => s.servers.map((v) => v.containerName))).toEqual([['login-2']]);
    expect(skipped.map((s) => [s.containerName, s.reason.slice(0, 30)])).toEqual([
      ['intruder', 'domain "login" belongs to cont'],
      ['login-1', 'health check is unhealthy'],
    ]);
  });

  it('skips the whole of a container that loses one of its domains', () => {
    const owner = container({ name: 'login-1', env: { DOMAIN: 'login' }, image: 'login' });
    const greedy = container({ name: 'greedy', env: { DOMAIN: 'mine, login' }, image: 'other' });
    const { services, skipped } = buildServices([owner, greedy], {}, { zone });
    expect(services.map((s) => s.domain)).toEqual(['login']);
    expect(skipped).toEqual([
      expect.objectContaining({ containerName: 'greedy', domain: 'mine,login', reason: expect.stringMatching(/^domain "login" belongs/) }),
    ]);
  });

  it('keeps a group label and an image of the same name apart: sharing takes the label on both', () => {
    const byImage = container({ name: 'a', env: { DOMAIN: 'x' }, image: 'app' });
    const byLabel = container({ name: 'b', env: { DOMAIN: 'x' }, image: 'other', labels: group('app') });
    expect(served([byImage, byLabel])).toEqual([['x', ['a']]]);
  });

  it('quotes at most 64 characters of a long group label in the reason', () => {
    const owner = container({ name: 'a', env: { DOMAIN: 'x' }, image: 'app' });
    const other = container({ name: 'b', env: { DOMAIN: 'x' }, labels: group('g'.repeat(10_000)) });
    const reason = buildServices([owner, other], {}, { zone }).skipped[0]!.reason;
    expect(reason).toContain(`(group "${'g'.repeat(63)}…")`);
    expect(reason.length).toBeLessThanOrEqual(300);
  });
});

describe('buildServices: no part of another owner’s host or wildcard', () => {
  /** One route, `haproxy-companion.<name>.domain` and, unless `/`, its path. */
  const route = (domain: string, path = '/', name = 'web') => ({
    [`haproxy-companion.${name}.domain`]: domain,
    ...(path === '/' ? {} : { [`haproxy-companion.${name}.path`]: path }),
  });
  const at = (name: string, image: string, domain: string, path?: string, labels: Record<string, string> = {}) =>
    container({ name, image, labels: { ...route(domain, path), ...labels } });
  /** Each service's key and servers; each skipped route's container and reason (its first words). */
  const outcome = (containers: ContainerInfo[]) => {
    const { services, skipped } = buildServices(containers, {}, { zone });
    return {
      served: services.map((s) => `${s.key}: ${s.servers.map((v) => v.containerName).join(',')}`),
      skipped: skipped.map((s) => `${s.containerName}: ${s.reason.replace(/, which belongs to .*/, '')}`),
    };
  };

  it.each([
    [
      'a path under another owner’s host',
      () => [at('shop', 'shop', 'shop'), at('hostile', 'hostile/app', 'shop', '/login')],
      ['shop: shop'],
      ['hostile: host and path "shop/login" is under domain "shop"'],
    ],
    [
      'a deeper path under another owner’s path',
      () => [at('account', 'account', 'shop', '/account'), at('hostile', 'hostile/app', 'shop', '/account/login')],
      ['shop/account: account'],
      ['hostile: host and path "shop/account/login" is under host and path "shop/account"'],
    ],
    [
      'an exact name under another owner’s wildcard',
      () => [at('previews', 'preview', '*.preview'), at('hostile', 'hostile/app', 'a.preview')],
      ['*.preview: previews'],
      ['hostile: domain "a.preview" is under wildcard "*.preview"'],
    ],
    [
      'a path of an exact name under another owner’s wildcard',
      () => [at('previews', 'preview', '*.preview'), at('hostile', 'hostile/app', 'a.preview', '/x')],
      ['*.preview: previews'],
      ['hostile: host and path "a.preview/x" is under wildcard "*.preview"'],
    ],
    [
      'a path of a wildcard under another owner’s wildcard',
      () => [at('previews', 'preview', '*.preview'), at('hostile', 'hostile/app', '*.preview', '/x')],
      ['*.preview: previews'],
      ['hostile: host and path "*.preview/x" is under wildcard "*.preview"'],
    ],
    [
      'an exact name whose requests under a path were another owner’s wildcard’s (exact names win)',
      () => [at('previews', 'preview', '*.preview', '/login'), at('hostile', 'hostile/app', 'a.preview')],
      ['*.preview/login: previews'],
      ['hostile: domain "a.preview" would take this name\'s requests from wildcard and path "*.preview/login"'],
    ],
  ] as Array<[string, () => ContainerInfo[], string[], string[]]>)('skips %s, when the other is older', (_, make, served, skipped) => {
    const containers = make();
    expect(outcome(containers)).toEqual({ served, skipped });
    expect(outcome([...containers].reverse())).toEqual({ served, skipped });
  });

  it.each([
    ['a sibling path that only starts alike', () => [at('api', 'api', 'shop', '/api'), at('apix', 'other', 'shop', '/apix')]],
    ['a name two labels under a wildcard (not its)', () => [at('previews', 'preview', '*.preview'), at('deep', 'other', 'a.b.preview')]],
    [
      'a wildcard under the parent of another’s wildcard',
      () => [at('previews', 'preview', '*.preview'), at('deeper', 'other', '*.b.preview')],
    ],
    [
      'services of one compose project (web at /, api at /api): the main use of paths, with no extra label',
      () => [
        at('web', 'web', 'shop', '/', compose('shop', 'web')),
        at('api', 'api', 'shop', '/api', compose('shop', 'api')),
        at('v2', 'v2', 'shop', '/api/v2', compose('shop', 'v2')),
      ],
    ],
    [
      'containers of one group, whatever their images and projects',
      () => [at('web', 'web', 'shop', '/', { ...group('g'), ...compose('one', 'web') }), at('api', 'api', 'shop', '/api', group('g'))],
    ],
    ['an exact name of the same owner as the wildcard', () => [at('previews', 'preview', '*.preview'), at('a', 'preview:2', 'a.preview')]],
    [
      'a newer, less specific claim: the older path keeps its part, the newer host takes the rest',
      () => [at('login', 'login', 'shop', '/login'), at('shop', 'shop', 'shop')],
    ],
    ['a newer wildcard over an older exact name', () => [at('a', 'a', 'a.preview'), at('previews', 'preview', '*.preview')]],
    [
      'a path of an exact name under its own owner’s older wildcard path, whatever holds the wildcard',
      () => [at('x', 'x', '*.preview', '/x'), at('previews', 'preview', '*.preview'), at('a', 'x:2', 'a.preview', '/x/y')],
    ],
  ] as Array<[string, () => ContainerInfo[]]>)('serves %s', (_, make) => {
    const containers = make();
    const { served, skipped } = outcome(containers);
    expect(skipped).toEqual([]);
    expect(served).toHaveLength(containers.length);
  });

  it('keeps the older, more specific container serving when a newer covering one arrives, also when the model is built incrementally', () => {
    const build = modelBuilder({ zone, selfId: undefined });
    const login = at('login', 'login', 'shop', '/login');
    const before = build([login]);
    const shop = at('shop', 'shop', 'shop');
    const after = build([login, shop]);
    expect(after.services.find((s) => s.key === 'shop/login')).toEqual(before.services[0]);
    expect(outcome([login, shop])).toEqual({ served: ['shop: shop', 'shop/login: login'], skipped: [] });
    expect(after).toEqual(buildServices([shop, login], {}, { zone }));
  });

  it('judges a key by its first container: a new container of its owner (a rolling deploy) keeps it after a covering owner arrived', () => {
    const api = at('api-1', 'api:v1', 'shop', '/api');
    const shop = at('shop', 'shop', 'shop');
    const next = at('api-2', 'api:v2', 'shop', '/api');
    expect(outcome([api, shop, next])).toEqual({ served: ['shop: shop', 'shop/api: api-1,api-2'], skipped: [] });
  });

  it('judges a key by what served its requests before it: the nearest key above it that is not refused', () => {
    const api = at('api', 'api', 'shop', '/api');
    const shop = at('shop', 'shop', 'shop');
    // The api owner's own /api served /api/v2 before: nothing of the shop's is taken.
    const v2 = at('v2', 'api:2', 'shop', '/api/v2');
    const hostile = at('hostile', 'hostile/app', 'shop', '/api/v3');
    expect(outcome([api, shop, v2, hostile])).toEqual({
      served: ['shop: shop', 'shop/api: api', 'shop/api/v2: v2'],
      skipped: ['hostile: host and path "shop/api/v3" is under host and path "shop/api"'],
    });
    // A refused key shields nothing: its owner's deeper paths are still under the host's owner.
    const first = at('first', 'hostile/app', 'shop', '/a');
    const deeper = at('deeper', 'hostile/app:2', 'shop', '/a/b');
    expect(outcome([shop, first, deeper]).skipped).toEqual([
      'deeper: host and path "shop/a/b" is under domain "shop"',
      'first: host and path "shop/a" is under domain "shop"',
    ]);
  });

  it('says who holds the host, and how to share it, in at most 300 characters', () => {
    const owner = at('shop-web-1', 'shop', 'shop', '/', compose('shop', 'web'));
    const hostile = at('x', 'hostile/app:1', 'shop', '/login');
    const [entry] = buildServices([owner, hostile], {}, { zone }).skipped;
    expect(entry).toEqual({
      containerId: hostile.id,
      containerName: 'x',
      route: 'web',
      domain: 'shop',
      reason:
        'host and path "shop/login" is under domain "shop", which belongs to container "shop-web-1" (compose service "shop/web"), ' +
        'older than this one (image "hostile/app"); to share it, give both the same label haproxy-companion.group',
      ownedBy: { containerId: owner.id, containerName: 'shop-web-1' },
    });
    const wide = at('z'.repeat(500), 'w'.repeat(500), '*.preview');
    const long = at('y'.repeat(500), 'h'.repeat(500), `${'a'.repeat(60)}.preview`, `/${'p'.repeat(100)}`, group('g'.repeat(500)));
    const reason = buildServices([wide, long], {}, { zone }).skipped[0]?.reason ?? '';
    expect(reason).toMatch(/^host and path ".*" is under wildcard "\*\.preview", which belongs to container "z+…"/);
    expect(reason.length).toBeLessThanOrEqual(300);
  });

  it('checks a host with many paths and a wildcard with many exact names in about linear time', () => {
    // 1,001 owners: one holds `big` and `*.big/a`, the others each a path of `big` and an exact name of `*.big`'s,
    // younger (all skipped) or older (all served).
    const many = (holderFirst: boolean) => {
      const holder = at('holder', 'holder', 'big', '/', { 'haproxy-companion.w.domain': '*.big', 'haproxy-companion.w.path': '/a' });
      const others = Array.from({ length: 1000 }, (_, i) =>
        container({
          name: `o${i}`,
          image: `o${i}`,
          labels: { ...route('big', `/p${i}/q`), ...route(`n${i}.big`, '/', 'n') },
        }),
      );
      return holderFirst ? [holder, ...others] : [...others.map((c) => ({ ...c, created: `2000-${c.created.slice(5)}` })), holder];
    };
    const started = performance.now();
    const refused = buildServices(many(true), {}, { zone });
    const kept = buildServices(many(false), {}, { zone });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(refused.services.map((s) => s.key)).toEqual(['*.big/a', 'big']);
    expect(kept.skipped).toEqual([]);
  });
});
