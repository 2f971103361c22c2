/**
 * Issue 12: an event that names one container updates the picture from that container's inspect alone
 * (no list). The full pass (list + inspect everything) stays the safety net. Property: after any
 * sequence of container changes, each followed by the events Docker sends for it, the incremental
 * snapshots give the same containers, the same model and the same files as a full pass would.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContainerSnapshots, type ContainerSummary, type DockerApi } from '../../../src/docker/container-snapshots.js';
import type { InspectResponse } from '../../../src/model/container.js';
import { modelBuilder, modelOf, type ServiceModel } from '../../../src/model/services.js';
import { chooseCandidate } from '../../../src/render/candidate.js';
import { type Renderer, renderFiles } from '../../../src/render/render-config.js';
import { PROPERTY_TIMEOUT_MS, ZONE } from './arbitraries.js';

interface Fake {
  name: string;
  running: boolean;
  paused: boolean;
  labels: Record<string, string>;
  env: string[];
  networks: Record<string, string>;
  health?: string;
  created: string;
}

/** A Docker engine in memory: list and inspect read the same state, as the real one's do. */
function world() {
  const containers = new Map<string, Fake>();
  const summary = (id: string, c: Fake): ContainerSummary => ({
    Id: id,
    Names: [`/${c.name}`],
    State: c.paused ? 'paused' : 'running',
    Status: `Up 1 minute${c.health ? ` (${c.health === 'starting' ? 'health: starting' : c.health})` : ''}`,
    Labels: c.labels,
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Networks: Object.fromEntries(Object.entries(c.networks).map(([n, ip]) => [n, { IPAddress: ip }])) },
  });
  const inspect = (id: string, c: Fake): InspectResponse => ({
    Id: id,
    Name: `/${c.name}`,
    Created: c.created,
    Config: { Image: 'busybox:latest', Labels: c.labels, Env: c.env, ExposedPorts: { '8080/tcp': {} } },
    State: { Running: c.running, Paused: c.paused, Health: c.health ? { Status: c.health } : null },
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Networks: Object.fromEntries(Object.entries(c.networks).map(([n, ip]) => [n, { IPAddress: ip }])) },
  });
  const api = (filter?: string): DockerApi => ({
    listContainers: async () =>
      [...containers]
        .filter(([, c]) => c.running)
        .filter(([, c]) => filter === undefined || c.labels[filter.split('=')[0]!] === filter.split('=')[1])
        .map(([id, c]) => summary(id, c)),
    getImage: () => ({ inspect: async () => ({}) }),
    getContainer: (id) => ({
      inspect: async () => {
        const c = containers.get(id);
        if (!c) throw Object.assign(new Error('no such container'), { statusCode: 404 });
        return inspect(id, c);
      },
    }),
    getEvents: async () => {
      throw new Error('unused');
    },
  });
  return { containers, api };
}

const id = (n: number) => n.toString(16).padStart(64, '0');
const domain = fc.constantFrom('login', 'shop', 'api', 'web', '*.preview', 'a.preview');
/**
 * One change to the world, and the container Docker's events name for it. Containers of three owners (two
 * groups and the image), with paths and wildcards: who holds a key, and what is under it, is decided
 * across containers at every pass, so an increment must not keep a decision that another container changed.
 */
const change = fc.oneof(
  fc.record({
    op: fc.constant('start' as const),
    n: fc.nat(7),
    domain,
    path: fc.constantFrom(undefined, undefined, '/api', '/api/v2'),
    group: fc.constantFrom(undefined, 'a', 'b'),
    viaLabel: fc.boolean(),
    prod: fc.boolean(),
    ip: fc.nat(250),
  }),
  fc.record({
    op: fc.constantFrom('stop' as const, 'remove' as const, 'pause' as const, 'unpause' as const, 'rename' as const),
    n: fc.nat(7),
  }),
  fc.record({ op: fc.constant('health' as const), n: fc.nat(7), health: fc.constantFrom(undefined, 'starting', 'healthy', 'unhealthy') }),
  fc.record({ op: fc.constant('network' as const), n: fc.nat(7), ip: fc.nat(250), connect: fc.boolean() }),
);
type Change = typeof change extends fc.Arbitrary<infer T> ? T : never;

function apply(containers: Map<string, Fake>, c: Change, clock: number): string | undefined {
  const key = id(c.n);
  const current = containers.get(key);
  switch (c.op) {
    case 'start':
      containers.set(key, {
        name: current?.name ?? `c${c.n}`,
        running: true,
        paused: false,
        labels: {
          ...(c.path !== undefined
            ? { 'haproxy-companion.web.domain': c.domain, 'haproxy-companion.web.path': c.path }
            : c.viaLabel
              ? { 'haproxy-companion.domain': c.domain }
              : {}),
          ...(c.group !== undefined ? { 'haproxy-companion.group': c.group } : {}),
          ...(c.prod ? { env: 'prod' } : {}),
        },
        env: c.viaLabel || c.path !== undefined ? [] : [`DOMAIN=${c.domain}`],
        networks: { bridge: `172.17.0.${c.ip + 2}` },
        created: current?.created ?? `2026-01-01T00:00:${String(clock).padStart(2, '0')}.000000000Z`,
      });
      return key;
    case 'stop':
      if (current) current.running = false;
      return key;
    case 'remove':
      containers.delete(key);
      return key;
    case 'pause':
    case 'unpause':
      if (current?.running) current.paused = c.op === 'pause';
      return key;
    case 'rename':
      if (current) current.name = `${current.name}x`;
      return key;
    case 'health':
      if (current) current.health = c.health;
      return key;
    case 'network':
      if (current)
        current.networks = c.connect
          ? { ...current.networks, extra: `10.0.0.${c.ip + 2}` }
          : { bridge: current.networks.bridge ?? '172.17.0.2' };
      return key;
  }
}

const renderer: Renderer = {
  render: ({ backends }) =>
    backends.map((b) => [`backend ${b.name}`, ...b.servers.map((s) => `    server ${s.name} ${s.endpoint}`)].join('\n')).join('\n'),
};
const options = { selfId: undefined, zone: ZONE, allowHostNetwork: false, reservedPorts: [80, 8404], maxDomainsPerContainer: 100 };
const files = (model: ServiceModel) => {
  const candidate = chooseCandidate(model.services, undefined, (s, l) =>
    renderFiles(renderer, s, l, { zone: ZONE, httpPort: 80 }, { adminSocket: '/a', hostsMap: '/m', pathsMap: '/p' }),
  );
  return candidate.files;
};

describe('incremental snapshots', () => {
  it.each([undefined, 'env=prod'])(
    'give the same containers, model and files as a full pass after any sequence of changes (label filter %s)',
    async (filter) => {
      await fc.assert(
        fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 40 }), async (changes) => {
          const { containers, api } = world();
          const incremental = new ContainerSnapshots(api(filter), { labelFilter: filter });
          // The pass loop's builder, kept across passes: it judges again only containers whose facts changed.
          const build = modelBuilder(options);
          build(await incremental.snapshot());
          for (const [clock, c] of changes.entries()) {
            const named = apply(containers, c, clock);
            if (named) incremental.markDirty(named);
            const fresh = new ContainerSnapshots(api(filter), { labelFilter: filter });
            const [mine, full] = [await incremental.snapshot(), await fresh.snapshot()];
            expect(mine).toEqual(full);
            const [myModel, fullModel] = [build(mine), modelOf(full, options)];
            expect(myModel).toEqual(fullModel);
            expect(files(myModel)).toEqual(files(fullModel));
          }
          // Only the first snapshot listed: every other one inspected what its events named.
          expect(incremental.lists).toBe(1);
        }),
        { numRuns: 200 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
