/**
 * Trust boundary, point 4: a domain belongs to one owner, so that an unrelated container cannot silently
 * take a share of another service's traffic, while scaling, compose services and rolling deploys still share.
 */
import { describe, expect, it } from 'vitest';
import type { ContainerInfo } from '../../../src/model/container.js';
import { imageRepository, ownerOf } from '../../../src/model/ownership.js';
import { buildServices } from '../../../src/model/services.js';
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
