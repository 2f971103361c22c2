/**
 * Issue 21: HAProxy health-checks every server of every backend, and a container is a server in a backend
 * for each of its names. Two names with `check.interval=1ms` made ~1,000 connections a second to one
 * container; 100 names (MAX_DOMAINS_PER_CONTAINER) at the default 2 s, 50. What the built-in template
 * renders must keep each container within MAX_CHECKS_PER_SECOND, however its labels are written.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshLayout } from '../../../src/model/backend-pool.js';
import { MAX_CHECKS_PER_SECOND } from '../../../src/model/check-budget.js';
import type { ContainerInfo } from '../../../src/model/container.js';
import { buildServices } from '../../../src/model/services.js';
import { type Candidate, chooseCandidate } from '../../../src/render/candidate.js';
import { loadTemplate, type Renderer, renderFiles } from '../../../src/render/render-config.js';
import { container } from '../../helpers/containers.js';

const zone = 'example.com';
const templatePath = fileURLToPath(new URL('../../../templates/haproxy.cfg.njk', import.meta.url));
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(',');

let renderer: Renderer;
beforeAll(async () => {
  renderer = await loadTemplate(templatePath);
});

function render(containers: ContainerInfo[]): string {
  const { services } = buildServices(containers, {}, { zone, tcpPorts: [[5000, 5999]] });
  return renderFiles(
    renderer,
    services,
    freshLayout(services),
    { zone, httpPort: 80 },
    { adminSocket: '/run/admin.sock', hostsMap: '/run/hosts.map', pathsMap: '/run/paths.map' },
  ).files.config;
}

/** Each server name's health checks a second, from the `check inter` of its `server` lines, and the intervals seen. */
function checksPerSecond(config: string): Map<string, { rate: number; intervals: Set<number> }> {
  const rates = new Map<string, { rate: number; intervals: Set<number> }>();
  for (const [, name = '', value = '', unit = ''] of config.matchAll(/^ {4}server (\S+) \S+ check inter ([0-9]+)(ms|s)\b/gm)) {
    const ms = Number(value) * (unit === 's' ? 1000 : 1);
    const entry = rates.get(name) ?? { rate: 0, intervals: new Set<number>() };
    entry.rate += 1000 / ms;
    entry.intervals.add(ms);
    rates.set(name, entry);
  }
  return rates;
}

describe('health checks a container gets', () => {
  it(`stay within ${MAX_CHECKS_PER_SECOND} a second for a container with 100 names (the cap), at the default interval`, () => {
    const rates = checksPerSecond(render([container({ name: 'many', labels: { 'haproxy-companion.web.domain': names('n', 100) } })]));
    expect(rates.get('many')?.rate).toBeLessThanOrEqual(MAX_CHECKS_PER_SECOND);
    // Stretched evenly, and no further than needed: 100 checks at 10 s each.
    expect([...(rates.get('many')?.intervals ?? [])]).toEqual([10_000]);
  });

  it('stay within the cap across routes of every kind: TCP checks, HTTP checks (check.path) at the floor, a TCP route', () => {
    const config = render([
      container({
        name: 'mixed',
        exposedPorts: ['8080/tcp'],
        labels: {
          'haproxy-companion.web.domain': names('w', 49),
          'haproxy-companion.api.domain': names('a', 50),
          'haproxy-companion.api.check.path': '/healthz',
          'haproxy-companion.api.check.interval': '1s',
          'haproxy-companion.db.tcp-port': '5432',
          'haproxy-companion.db.port': '8080',
        },
      }),
      container({ name: 'neighbour', env: { DOMAIN: 'quiet' } }),
    ]);
    expect(config).toContain('option httpchk');
    const rates = checksPerSecond(config);
    expect(rates.get('mixed')?.rate).toBeLessThanOrEqual(MAX_CHECKS_PER_SECOND);
    // In proportion: the HTTP checks asked for twice the rate of the others, and keep twice it.
    const [fast, slow] = [...(rates.get('mixed')?.intervals ?? [])].sort((a, b) => a - b);
    expect((slow ?? 0) / (fast ?? 1)).toBeCloseTo(2, 2);
    // Another container's checks are its own business.
    expect([...(rates.get('neighbour')?.intervals ?? [])]).toEqual([2000]);
  });

  it('leave a container within the cap as it asked: 20 names at the default 2 s are 10 a second', () => {
    const rates = checksPerSecond(render([container({ name: 'twenty', labels: { 'haproxy-companion.web.domain': names('t', 20) } })]));
    expect([...(rates.get('twenty')?.intervals ?? [])]).toEqual([2000]);
  });
});

describe("a change of a container's intervals on the running HAProxy", () => {
  const pass = (containers: ContainerInfo[], running?: Candidate): Candidate => {
    const { services } = buildServices(containers, {}, { zone });
    return chooseCandidate(services, running, (list, layout) =>
      renderFiles(
        renderer,
        list,
        layout,
        { zone, httpPort: 80 },
        { adminSocket: '/run/admin.sock', hostsMap: '/run/hosts.map', pathsMap: '/run/paths.map' },
      ),
    );
  };
  const ip = [{ name: 'bridge', ip: '172.17.0.50' }];

  it('goes through the runtime API: a container replaced with more names has its servers in its other backends re-added at the new interval', () => {
    const before = pass([
      container({ id: 'a'.repeat(64), name: 'app', networks: ip, labels: { 'haproxy-companion.web.domain': names('w', 20) } }),
    ]);
    // Labels cannot change on a running container: more names is a new container (compose recreates it under its name).
    const after = pass(
      [container({ id: 'b'.repeat(64), name: 'app', networks: ip, labels: { 'haproxy-companion.web.domain': names('w', 30) } })],
      before,
    );
    const plan = after.runtimePlan;
    expect(plan).toBeDefined();
    expect(plan?.remove).toHaveLength(20);
    expect(plan?.remove.every((s) => s.name === 'app' && s.args === '172.17.0.50:8080 check inter 2s fall 2 rise 2')).toBe(true);
    // 30 names at 2 s would be 15 a second: every one of them, old backends and spares alike, at 3 s.
    expect(plan?.add).toHaveLength(30);
    expect(plan?.add.every((s) => s.name === 'app' && s.args === '172.17.0.50:8080 check inter 3s fall 2 rise 2')).toBe(true);
    expect(plan?.hosts.add).toHaveLength(20);
  });

  it('never changes for what other containers do: a name it gains from another owner adds one server, the others stay as they run', () => {
    const app = container({
      name: 'app',
      networks: ip,
      labels: { 'haproxy-companion.web.domain': names('w', 29), 'haproxy-companion.x.domain': 'x' },
    });
    // An older container of another owner holds x, so app serves 29 names; its intervals count all 30 it declares.
    const holder = container({ name: 'holder', image: 'other:1', env: { DOMAIN: 'x' }, created: '2000-01-01T00:00:00.000000000Z' });
    const before = pass([holder, app]);
    const after = pass([app], before);
    expect(after.runtimePlan?.remove.map((s) => `${s.backend}/${s.name}`)).toEqual(['be_x/holder']);
    expect(after.runtimePlan?.add.map((s) => `${s.backend}/${s.name} ${s.args}`)).toEqual([
      'be_x/app 172.17.0.50:8080 check inter 3s fall 2 rise 2',
    ]);
  });
});
