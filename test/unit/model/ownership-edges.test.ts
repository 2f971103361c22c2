/**
 * Edge cases of who may take which part of a host (src/model/ownership.ts), found by mutation testing
 * (`npm run mutate`): each is a change of the code that the other tests let through. A wildcard with
 * paths of several owners and projects, the trust unit of the exact name that asks, and empty compose labels.
 */
import { describe, expect, it } from 'vitest';
import type { ContainerInfo } from '../../../src/model/container.js';
import { imageRepository } from '../../../src/model/ownership.js';
import { buildServices } from '../../../src/model/services.js';
import { container } from '../../helpers/containers.js';

const zone = 'example.com';
const compose = (project: string, service: string) => ({ 'com.docker.compose.project': project, 'com.docker.compose.service': service });
const group = (name: string) => ({ 'haproxy-companion.group': name });

/** A container with one route, `haproxy-companion.web.domain` and, unless `/`, its path; each younger than the one before. */
const at = (name: string, image: string, domain: string, path = '/', labels: Record<string, string> = {}) =>
  container({
    name,
    image,
    labels: {
      'haproxy-companion.web.domain': domain,
      ...(path === '/' ? {} : { 'haproxy-companion.web.path': path }),
      ...labels,
    },
  });

/** Each service's key and servers; each skipped route's container and reason, up to the holder's name. */
const outcome = (containers: ContainerInfo[]) => {
  const { services, skipped } = buildServices(containers, {}, { zone });
  return {
    served: services.map((s) => `${s.key}: ${s.servers.map((v) => v.containerName).join(',')}`),
    skipped: skipped.map((s) => `${s.containerName}: ${s.reason.replace(/(, which belongs to container "[^"]*").*/, '$1')}`),
  };
};

describe('ownership edges: an exact name over a wildcard with paths of several owners', () => {
  it.each([
    [
      'a third owner’s older wildcard path, while its own owner holds an older one too',
      () => [at('own', 'x', '*.preview', '/a'), at('third', 'y', '*.preview', '/b'), at('name', 'x:2', 'a.preview')],
      'name: domain "a.preview" would take this name\'s requests from wildcard and path "*.preview/b", which belongs to container "third"',
    ],
    [
      'a third owner’s older wildcard path, while its owner and its compose project hold older ones',
      () => [
        at('own', 'x', '*.preview', '/a', group('g')),
        at('project', 'y', '*.preview', '/b', compose('p', 'api')),
        at('third', 'z', '*.preview', '/c'),
        at('name', 'w', 'a.preview', '/', { ...group('g'), ...compose('p', 'web') }),
      ],
      'name: domain "a.preview" would take this name\'s requests from wildcard and path "*.preview/c", which belongs to container "third"',
    ],
    [
      'a third owner’s older wildcard path, while its compose project and its owner hold older ones',
      () => [
        at('project', 'x', '*.preview', '/a', compose('p', 'web')),
        at('own', 'y', '*.preview', '/b', group('g')),
        at('third', 'z', '*.preview', '/c'),
        at('name', 'w', 'a.preview', '/', { ...group('g'), ...compose('p', 'api') }),
      ],
      'name: domain "a.preview" would take this name\'s requests from wildcard and path "*.preview/c", which belongs to container "third"',
    ],
  ] as Array<[string, () => ContainerInfo[], string]>)('refuses an exact name that would take %s', (_, make, reason) => {
    const containers = make();
    for (const order of [containers, [...containers].reverse()]) {
      const { served, skipped } = outcome(order);
      expect(skipped).toEqual([reason]);
      expect(served).toHaveLength(containers.length - 1);
    }
  });

  it.each([
    ['of its own owner’s older wildcard path', () => [at('own', 'x', '*.preview', '/login'), at('name', 'x:2', 'a.preview')]],
    [
      'of an older wildcard path of its compose project',
      () => [at('api', 'x', '*.preview', '/login', compose('p', 'api')), at('name', 'y', 'a.preview', '/', compose('p', 'web'))],
    ],
    [
      'of older wildcard paths of its owner and its compose project, none of a third',
      () => [
        at('own', 'x', '*.preview', '/a', group('g')),
        at('project', 'y', '*.preview', '/b', compose('p', 'api')),
        at('name', 'w', 'a.preview', '/', { ...group('g'), ...compose('p', 'web') }),
      ],
    ],
    ['of a newer wildcard path of another owner', () => [at('name', 'x', 'a.preview'), at('other', 'y', '*.preview', '/login')]],
  ] as Array<[string, () => ContainerInfo[]]>)('serves an exact name that takes the requests %s', (_, make) => {
    const containers = make();
    for (const order of [containers, [...containers].reverse()]) {
      const { served, skipped } = outcome(order);
      expect(skipped).toEqual([]);
      expect(served).toHaveLength(containers.length);
    }
  });
});

describe('ownership edges: which wildcard path a reason names', () => {
  it.each([
    [
      'the oldest of two other owners’ wildcard paths',
      () => [at('older', 'y', '*.preview', '/b'), at('newer', 'z', '*.preview', '/c'), at('name', 'x', 'a.preview')],
      'name: domain "a.preview" would take this name\'s requests from wildcard and path "*.preview/b", which belongs to container "older"',
    ],
    [
      'the first path of a container that holds two',
      () => [
        container({
          name: 'previews',
          image: 'y',
          labels: {
            'haproxy-companion.a.domain': '*.preview',
            'haproxy-companion.a.path': '/a',
            'haproxy-companion.b.domain': '*.preview',
            'haproxy-companion.b.path': '/b',
          },
        }),
        at('name', 'x', 'a.preview'),
      ],
      'name: domain "a.preview" would take this name\'s requests from wildcard and path "*.preview/a", which belongs to container "previews"',
    ],
  ] as Array<[string, () => ContainerInfo[], string]>)('names %s, whatever the listing order', (_, make, reason) => {
    const containers = make();
    for (const order of [containers, [...containers].reverse()]) expect(outcome(order).skipped).toEqual([reason]);
  });
});

describe('ownership edges: compose project labels', () => {
  it.each([
    ['an empty compose project label on both', compose('', 'web'), compose('', 'api')],
    ['no compose project label on either', {}, {}],
    ['two different compose projects', compose('p', 'web'), compose('q', 'api')],
  ] as Array<[string, Record<string, string>, Record<string, string>]>)(
    'keeps containers of %s apart: a newer one takes no path of the other’s host',
    (_, first, second) => {
      const containers = [at('shop', 'shop', 'shop', '/', first), at('hostile', 'hostile/app', 'shop', '/login', second)];
      expect(outcome(containers)).toEqual({
        served: ['shop: shop'],
        skipped: ['hostile: host and path "shop/login" is under domain "shop", which belongs to container "shop"'],
      });
    },
  );
});

describe('ownership edges: what a reason says', () => {
  const reason = (containers: ContainerInfo[]) =>
    buildServices(containers, {}, { zone, tcpPorts: [[5432, 5432]] as [number, number][] }).skipped.map((s) => s.reason);

  it.each([
    [
      'a TCP port, and an owner without an image reference',
      () => [
        container({ name: 'db', image: 'postgres', labels: { 'haproxy-companion.db.tcp-port': '5432' } }),
        container({ name: 'other', image: '', labels: { 'haproxy-companion.db.tcp-port': '5432' } }),
      ],
      'TCP port 5432 belongs to container "db" (image "postgres"), older than this one (no image reference); ' +
        'to share it, give both the same label haproxy-companion.group',
    ],
    [
      'a host and path, and a group',
      () => [at('api', 'api', 'shop', '/api'), at('other', 'other', 'shop', '/api', group('team'))],
      'host and path "shop/api" belongs to container "api" (image "api"), older than this one (group "team"); ' +
        'to share it, give both the same label haproxy-companion.group',
    ],
    [
      'a wildcard’s path held by a compose service',
      () => [at('previews', 'p', '*.preview', '/x', compose('shop', 'web')), at('other', 'other', 'a.preview', '/x/y')],
      'host and path "a.preview/x/y" is under wildcard and path "*.preview/x", which belongs to container "previews" ' +
        '(compose service "shop/web"), older than this one (image "other"); to share it, give both the same label haproxy-companion.group',
    ],
  ] as Array<[string, () => ContainerInfo[], string]>)('names %s', (_, make, expected) => {
    expect(reason(make())).toEqual([expected]);
  });
});

describe('ownership edges: image references and ages', () => {
  it.each([
    ['surrounding blanks', ' myapp:v2 ', 'myapp'],
    ['a name under a registry path that reads like Docker Hub', 'team/docker.io/app:1', 'team/docker.io/app'],
    ['a library path that is not at the start', 'team/library/app', 'team/library/app'],
    ['an id-like name with a tag', 'sha256:abcd:v1', 'sha256:abcd'],
  ])('reads an image reference with %s as its repository', (_, image, repository) => {
    expect(imageRepository(image)).toBe(repository);
  });

  it('breaks a tie of creation times by container id, in either listing order', () => {
    const created = '2024-01-01T00:00:00.000000000Z';
    const first = container({ id: `a${'0'.repeat(63)}`, name: 'first', env: { DOMAIN: 'x' }, image: 'one', created });
    const second = container({ id: `b${'0'.repeat(63)}`, name: 'second', env: { DOMAIN: 'x' }, image: 'two', created });
    for (const order of [
      [first, second],
      [second, first],
    ]) {
      expect(outcome(order)).toEqual({
        served: ['x: first'],
        skipped: [
          'second: domain "x" belongs to container "first" (image "one"), older than this one (image "two"); ' +
            'to share it, give both the same label haproxy-companion.group',
        ],
      });
    }
  });

  it('counts a container with an unknown creation time as the newest, in either listing order', () => {
    const unknown = container({ name: 'unknown', env: { DOMAIN: 'x' }, image: 'one', created: '' });
    const known = container({ name: 'known', env: { DOMAIN: 'x' }, image: 'two' });
    for (const order of [
      [unknown, known],
      [known, unknown],
    ]) {
      expect(outcome(order).served).toEqual(['x: known']);
    }
  });

  it('lets containers of one image share a TCP port', () => {
    const tcp = (name: string) => container({ name, image: 'postgres', labels: { 'haproxy-companion.db.tcp-port': '5432' } });
    const { services, skipped } = buildServices([tcp('db-1'), tcp('db-2')], {}, { zone, tcpPorts: [[5432, 5432]] });
    expect(skipped).toEqual([]);
    expect(services.map((s) => `${s.key}: ${s.servers.map((v) => v.containerName).join(',')}`)).toEqual(['tcp:5432: db-1,db-2']);
  });
});
