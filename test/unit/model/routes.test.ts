import { describe, expect, it } from 'vitest';
import { freshLayout, homeBackend, hostsMapText, pathsMapText, placeServices } from '../../../src/model/backend-pool.js';
import type { ContainerInfo } from '../../../src/model/container.js';
import { declaredRoutes, MAX_HEADERS_PER_ROUTE, MAX_ROUTES_PER_CONTAINER } from '../../../src/model/route-labels.js';
import { buildServices, type ServiceModel, withoutBusyTcpPorts } from '../../../src/model/services.js';
import { container } from '../../helpers/containers.js';

const zone = 'example.com';
const model = (list: ContainerInfo[], reservedPorts: number[] = [80, 8404]): ServiceModel =>
  buildServices(list, {}, { zone, reservedPorts, tcpPorts: [[1, 65535]] });
const routes = (labels: Record<string, string>, env: Record<string, string> = {}) => declaredRoutes(container({ labels, env }), zone, 100);
const summary = (m: ServiceModel) => m.services.map((s) => `${s.key} ${s.servers.map((v) => v.endpoint).join(' ')}`);

describe('declaredRoutes: the label grammar', () => {
  it('reads the forms before routes as the route "default", unchanged', () => {
    expect(routes({}, { DOMAIN: 'login' }).routes).toEqual([{ name: 'default', domains: ['login'], path: '/', policy: {} }]);
    expect(routes({ 'haproxy-companion.domain': 'a,b', 'haproxy-companion.port': '9000' }).routes).toEqual([
      { name: 'default', domains: ['a', 'b'], path: '/', port: 9000, policy: {} },
    ]);
  });

  it('reads several named routes, each with its port, path and policy', () => {
    const { routes: list, refused } = routes({
      'haproxy-companion.web.domain': 'shop',
      'haproxy-companion.web.port': '8080',
      'haproxy-companion.api.domain': 'shop',
      'haproxy-companion.api.port': '9090',
      'haproxy-companion.api.path': '/v1/',
      'haproxy-companion.api.strip-path': 'true',
      'haproxy-companion.api.check.path': '/healthz',
      'haproxy-companion.api.check.interval': '5s',
      'haproxy-companion.api.timeout.server': '120s',
      'haproxy-companion.api.sticky': 'cookie',
      'haproxy-companion.api.maxconn': '200',
      'haproxy-companion.api.headers.response.X-Frame-Options': 'DENY',
      'haproxy-companion.api.headers.response.Server': '',
      'haproxy-companion.db.tcp-port': '5432',
      'haproxy-companion.db.port': '5432',
    });
    expect(refused).toEqual([]);
    expect(list).toEqual([
      {
        name: 'api',
        domains: ['shop'],
        path: '/v1',
        port: 9090,
        policy: {
          stripPath: true,
          checkPath: '/healthz',
          checkIntervalMs: 5000,
          timeoutServerMs: 120_000,
          sticky: true,
          maxconn: 200,
          responseHeaders: [
            { name: 'Server', value: null },
            { name: 'X-Frame-Options', value: 'DENY' },
          ],
        },
      },
      { name: 'db', domains: [], path: '/', port: 5432, tcpPort: 5432, policy: {} },
      { name: 'web', domains: ['shop'], path: '/', port: 8080, policy: {} },
    ]);
  });

  it.each([
    [
      { 'haproxy-companion.api.domain': 'x', 'haproxy-companion.api.timout.server': '5s' },
      /label haproxy-companion\.api\.timout\.server is not a route label/,
    ],
    [{ 'haproxy-companion.api.domain': 'x', 'haproxy-companion.api.port': '99999' }, /label haproxy-companion\.api\.port="99999"/],
    [{ 'haproxy-companion.api.domain': 'x', 'haproxy-companion.api.sticky': 'ip' }, /the only kind is "cookie"/],
    [{ 'haproxy-companion.api.path': '/v1' }, /has no haproxy-companion\.api\.domain/],
    [{ 'haproxy-companion.api.domain': 'x', 'haproxy-companion.api.tcp-port': '5432' }, /either HTTP .* or TCP/],
    [
      { 'haproxy-companion.api.tcp-port': '5432', 'haproxy-companion.api.auth.users': `a:$6$${'s'.repeat(16)}$${'h'.repeat(86)}` },
      /takes no HTTP policy/,
    ],
    [{ 'haproxy-companion.api.domain': 'x', 'haproxy-companion.api.strip-path': 'true' }, /needs a haproxy-companion\.api\.path/],
    [
      { 'haproxy-companion.api.domain': 'www.google.com' },
      /^label haproxy-companion\.api\.domain="www\.google\.com" ends in the top-level domain/,
    ],
    [{ 'haproxy-companion.api.domain': 'a, b c' }, /^label haproxy-companion\.api\.domain="a, b c": domain "b c" may contain only/],
    [{ 'haproxy-companion.api.domain': 'x', 'haproxy-companion.api.headers.request.Host': 'evil' }, /names a header that/],
    [{ 'haproxy-companion.API.domain': 'x' }, /a route name is lower-case/],
  ])('refuses %j with a reason naming the label', (labels, reason) => {
    const { routes: list, refused } = routes(labels);
    expect(list).toEqual([]);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.reason).toMatch(reason);
  });

  it.each(['__proto__', 'constructor', 'hasOwnProperty', 'toString'])(
    'refuses the key %s as no route label (it once threw out of the model)',
    (key) => {
      const { routes: list, refused } = routes({
        'haproxy-companion.api.domain': 'x',
        [`haproxy-companion.api.${key}`]: 'v',
        'haproxy-companion.ok.domain': 'ok',
      });
      expect(list.map((r) => r.name)).toEqual(['ok']);
      expect(refused).toEqual([
        {
          route: 'api',
          names: ['x'],
          reason: expect.stringMatching(new RegExp(`^label haproxy-companion\\.api\\.${key} is not a route label`)),
        },
      ]);
    },
  );

  it('says a bad name of the forms before routes in the words they have always had, and names the label of the route default', () => {
    for (const legacy of [routes({}, { DOMAIN: 'bad name' }), routes({ 'haproxy-companion.domain': 'bad name' })])
      expect(legacy.refused[0]?.reason).toMatch(/^domain "bad name" may contain only/);
    expect(routes({ 'haproxy-companion.default.domain': 'bad name' }).refused[0]?.reason).toMatch(
      /^label haproxy-companion\.default\.domain="bad name" may contain only/,
    );
  });

  it('refuses one route and keeps the others', () => {
    const { routes: list, refused } = routes({
      'haproxy-companion.good.domain': 'good',
      'haproxy-companion.bad.domain': 'bad',
      'haproxy-companion.bad.timeout.server': 'forever',
    });
    expect(list.map((r) => r.name)).toEqual(['good']);
    expect(refused).toEqual([
      { route: 'bad', names: ['bad'], reason: expect.stringMatching(/^label haproxy-companion\.bad\.timeout\.server="forever" /) },
    ]);
  });

  // Issue 21: `check.interval=1ms` on two names made ~1,000 health-check connections a second to one container.
  it.each([
    ['1ms', false],
    ['999ms', false],
    ['0s', false],
    ['1s', true],
    ['1000ms', true],
    ['24h', true],
  ])('takes check.interval=%s only at 1 s or more (%s), refusing the route with a reason naming the label', (value, accepted) => {
    const { routes: list, refused } = routes({
      'haproxy-companion.good.domain': 'good',
      'haproxy-companion.fast.domain': 'fast',
      'haproxy-companion.fast.check.interval': value,
    });
    expect(list.map((r) => r.name)).toEqual(accepted ? ['fast', 'good'] : ['good']);
    if (!accepted) {
      expect(refused).toEqual([
        {
          route: 'fast',
          names: ['fast'],
          reason: expect.stringMatching(new RegExp(`^label haproxy-companion\\.fast\\.check\\.interval="${value}" .*1s`)),
        },
      ]);
    }
  });

  it(`takes at most ${MAX_HEADERS_PER_ROUTE} headers of each direction a route, in name order`, () => {
    const headers = (n: number) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [`haproxy-companion.h.headers.response.X-${String(n - i).padStart(3, '0')}`, 'v']),
      );
    const ok = routes({ 'haproxy-companion.h.domain': 'h', ...headers(MAX_HEADERS_PER_ROUTE) }).routes[0]?.policy.responseHeaders ?? [];
    expect(ok.map((h) => h.name)).toEqual(Array.from({ length: MAX_HEADERS_PER_ROUTE }, (_, i) => `X-${String(i + 1).padStart(3, '0')}`));
    expect(routes({ 'haproxy-companion.h.domain': 'h', ...headers(MAX_HEADERS_PER_ROUTE + 1) }).refused[0]?.reason).toMatch(
      /one header too many/,
    );
  });

  it('says once that labels have invalid route names, however many', () => {
    const bad = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`haproxy-companion.Bad${i}.domain`, 'x']));
    const { refused } = routes({ 'haproxy-companion.ok.domain': 'ok', ...bad });
    expect(refused).toHaveLength(1);
    expect(refused[0]?.reason).toMatch(/a route name is lower-case .* \(and 999 more labels with such names\)$/);
  });

  it('never echoes a refused password list: it may hold a plain-text password', () => {
    const { refused } = routes({ 'haproxy-companion.p.domain': 'p', 'haproxy-companion.p.auth.users': 'root:hunter2' });
    expect(refused[0]?.reason).toMatch(/^label haproxy-companion\.p\.auth\.users user "root": the password is plain text/);
    expect(refused[0]?.reason).not.toContain('hunter2');
  });

  it('refuses the default route when it is said twice', () => {
    const { refused } = routes({ 'haproxy-companion.domain': 'a', 'haproxy-companion.default.domain': 'b' });
    expect(refused).toEqual([
      { route: 'default', names: ['b'], reason: expect.stringMatching(/both haproxy-companion\.domain .* are set/) },
    ]);
  });

  it(`bounds the work: more than ${MAX_ROUTES_PER_CONTAINER} routes, or more names than allowed, refuse the container`, () => {
    const many = Object.fromEntries(
      Array.from({ length: MAX_ROUTES_PER_CONTAINER + 1 }, (_, i) => [`haproxy-companion.r${i}.domain`, `d${i}`]),
    );
    expect(routes(many)).toEqual({ routes: [], refused: [{ reason: `declares more than ${MAX_ROUTES_PER_CONTAINER} routes` }] });
    const names = { 'haproxy-companion.a.domain': 'a,b,c', 'haproxy-companion.b.domain': 'd,e' };
    expect(declaredRoutes(container({ labels: names }), zone, 4).refused[0]?.reason).toMatch(/declares 5 domains; at most 4/);
  });

  it('refuses a second route of one container on a host and path, or a TCP port, that a route of it has', () => {
    // Found by test/unit/property/untrusted-routes.property.test.ts: `web.tcp-port=1` and `x-1.tcp-port=1` on one
    // container made backend be_tcp_1 with two servers named after the container, and HAProxy refuses the whole
    // configuration for two servers of one name in a backend, every other route's with it.
    const labels = {
      'haproxy-companion.web.tcp-port': '1',
      'haproxy-companion.x-1.tcp-port': '1',
      'haproxy-companion.a.domain': 'shop',
      'haproxy-companion.a.port': '80',
      'haproxy-companion.b.domain': 'SHOP.example.com, other',
      'haproxy-companion.b.port': '81',
      'haproxy-companion.c.domain': 'shop',
      'haproxy-companion.c.path': '/api/',
      'haproxy-companion.d.domain': 'shop',
      'haproxy-companion.d.path': '/api',
    };
    const { routes: list, refused } = routes(labels);
    expect(list.map((r) => r.name)).toEqual(['a', 'c', 'web']);
    const rest = 'one container serves a host and path, or a TCP port, through one route';
    expect(refused).toEqual([
      {
        route: 'b',
        names: ['shop', 'other'],
        reason: `haproxy-companion.b.domain names "shop", as route "a" of this container does: ${rest}`,
      },
      {
        route: 'd',
        names: ['shop'],
        reason: `haproxy-companion.d.domain names "shop" with path /api, as route "c" of this container does: ${rest}`,
      },
      {
        route: 'x-1',
        names: ['tcp:1'],
        reason: `haproxy-companion.x-1.tcp-port is TCP port 1, as route "web" of this container does: ${rest}`,
      },
    ]);
    // One server in each backend.
    const m = model([container({ labels, networks: [{ name: 'bridge', ip: '172.17.0.9' }] })]);
    expect(summary(m)).toEqual(['shop 172.17.0.9:80', 'shop/api 172.17.0.9:8080', 'tcp:1 172.17.0.9:8080']);
  });

  it('writes a label key bare in a reason only when it reads as a label name, else quoted and cut like a value', () => {
    // Found by the property: a key with a space, a newline or 10,000 characters reached the reason (log lines, /status) raw.
    const reasonOf = (labels: Record<string, string>) => routes({ 'haproxy-companion.web.domain': 'x', ...labels }).refused[0]?.reason;
    expect(reasonOf({ 'haproxy-companion.web.headers.request.X Y': 'v' })).toBe(
      'label "haproxy-companion.web.headers.request.X Y" names a header that may contain only letters, digits and - (found U+0020)',
    );
    expect(reasonOf({ 'haproxy-companion.web.headers.request.X\nY': 'v' })).toMatch(
      /^label "haproxy-companion\.web\.headers\.request\.X\\nY" is not a route label/,
    );
    // A mistyped key's value is not echoed: `auth.user=admin:hunter2` must not show the password.
    expect(reasonOf({ 'haproxy-companion.web.port ': '80' })).toMatch(/^label "haproxy-companion\.web\.port " is not a route label/);
    expect(reasonOf({ 'haproxy-companion.web.auth.user': 'admin:hunter2' })).not.toContain('hunter2');
    expect(reasonOf({ [`haproxy-companion.web.${'k'.repeat(10_000)}`]: 'v' })).toMatch(
      /^label "haproxy-companion\.web\.k{41}…" is not a route label/,
    );
    expect(reasonOf({ 'haproxy-companion.web.timeout.server': 'forever' })).toMatch(
      /^label haproxy-companion\.web\.timeout\.server="forever" /,
    );
  });

  it('takes a wildcard for any single label under a name', () => {
    expect(routes({ 'haproxy-companion.preview.domain': '*.preview' }).routes[0]?.domains).toEqual(['*.preview']);
    expect(routes({ 'haproxy-companion.preview.domain': '*' }).refused[0]?.reason).toMatch(/domain="\*" /);
    expect(routes({ 'haproxy-companion.preview.domain': 'a.*.b' }).refused[0]?.reason).toMatch(/domain="a\.\*\.b" /);
  });
});

describe('buildServices: routes', () => {
  it('serves two routes on two ports of one container', () => {
    const c = container({
      exposedPorts: ['8080/tcp', '9090/tcp'],
      labels: {
        'haproxy-companion.web.domain': 'web',
        'haproxy-companion.web.port': '8080',
        'haproxy-companion.admin.domain': 'admin',
        'haproxy-companion.admin.port': '9090',
      },
    });
    const ip = c.networks[0]?.ip;
    expect(summary(model([c]))).toEqual([`admin ${ip}:9090`, `web ${ip}:8080`]);
  });

  it('sends a path prefix of a host to another service than the rest (of one compose project)', () => {
    const project = (service: string) => ({ 'com.docker.compose.project': 'shop', 'com.docker.compose.service': service });
    const site = container({ labels: { 'haproxy-companion.domain': 'shop', ...project('site') } });
    const api = container({
      image: 'api',
      labels: { 'haproxy-companion.api.domain': 'shop', 'haproxy-companion.api.path': '/api', ...project('api') },
    });
    const m = model([site, api]);
    expect(summary(m)).toEqual([`shop ${site.networks[0]?.ip}:8080`, `shop/api ${api.networks[0]?.ip}:8080`]);
    const placed = placeServices(m.services, freshLayout(m.services)).services;
    expect(hostsMapText(placed)).toBe('shop be_shop\nshop.example.com be_shop\n');
    const pathBackend = homeBackend('shop/api');
    expect(pathBackend).toBe('be_shop_2fapi');
    expect(pathsMapText(placed)).toBe(`shop.example.com/api/ ${pathBackend}\nshop/api/ ${pathBackend}\n`);
  });

  it('skips a route another owner holds (same host and path), keeps the newcomer’s other routes', () => {
    const owner = container({ image: 'shop', labels: { 'haproxy-companion.api.domain': 'shop', 'haproxy-companion.api.path': '/api' } });
    const newcomer = container({
      image: 'intruder',
      labels: {
        'haproxy-companion.api.domain': 'shop',
        'haproxy-companion.api.path': '/api',
        'haproxy-companion.own.domain': 'intruder',
      },
    });
    const m = model([newcomer, owner]);
    expect(m.services.map((s) => [s.key, s.servers.map((v) => v.containerName)])).toEqual([
      ['intruder', [newcomer.name]],
      ['shop/api', [owner.name]],
    ]);
    expect(m.skipped).toEqual([
      {
        containerId: newcomer.id,
        containerName: newcomer.name,
        route: 'api',
        domain: 'shop',
        reason: expect.stringMatching(/^host and path "shop\/api" belongs to container/),
        ownedBy: { containerId: owner.id, containerName: owner.name },
      },
    ]);
  });

  it('holds a path prefix whatever its case: `/Admin` of another owner is the `/admin` it holds', () => {
    const owner = container({
      image: 'shop',
      labels: { 'haproxy-companion.admin.domain': 'shop', 'haproxy-companion.admin.path': '/admin' },
    });
    const newcomer = container({
      image: 'intruder',
      labels: { 'haproxy-companion.admin.domain': 'shop', 'haproxy-companion.admin.path': '/Admin' },
    });
    const m = model([newcomer, owner]);
    expect(m.services.map((s) => [s.key, s.servers.map((v) => v.containerName)])).toEqual([['shop/admin', [owner.name]]]);
    expect(m.skipped.map((s) => s.reason)).toEqual([expect.stringMatching(/^host and path "shop\/admin" belongs to container/)]);
    // And one container may not name it twice.
    const twice = routes({
      'haproxy-companion.a.domain': 'shop',
      'haproxy-companion.a.path': '/admin',
      'haproxy-companion.b.domain': 'shop',
      'haproxy-companion.b.path': '/ADMIN',
    });
    expect(twice.refused.map((r) => r.route)).toEqual(['b']);
  });

  it('lets the oldest container of a route say its policy; a younger one that says otherwise is skipped', () => {
    const labels = { 'haproxy-companion.web.domain': 'web', 'haproxy-companion.web.timeout.server': '30s' };
    const first = container({ labels });
    const same = container({ labels });
    const other = container({ labels: { ...labels, 'haproxy-companion.web.timeout.server': '90s' } });
    const m = model([other, same, first]);
    expect(m.services.map((s) => [s.key, s.policy, s.servers.map((v) => v.containerName)])).toEqual([
      ['web', { timeoutServerMs: 30_000 }, [first.name, same.name]],
    ]);
    expect(m.skipped).toEqual([
      expect.objectContaining({ containerName: other.name, route: 'web', reason: expect.stringMatching(/policy labels differ/) }),
    ]);
  });

  it('serves a TCP route, and refuses the companion’s own ports', () => {
    const db = container({ labels: { 'haproxy-companion.db.tcp-port': '5432', 'haproxy-companion.db.port': '5432' } });
    const greedy = container({ image: 'other', labels: { 'haproxy-companion.x.tcp-port': '8404', 'haproxy-companion.x.port': '80' } });
    const m = model([db, greedy]);
    expect(m.services).toEqual([expect.objectContaining({ key: 'tcp:5432', kind: 'tcp', tcpPort: 5432, domain: '', hostnames: [] })]);
    expect(m.skipped).toEqual([
      expect.objectContaining({
        containerName: greedy.name,
        route: 'x',
        reason: expect.stringMatching(/TCP port 8404 is the companion's own/),
      }),
    ]);
  });

  it('opens a TCP route only on a port TCP_PORTS allows', () => {
    const db = container({ labels: { 'haproxy-companion.db.tcp-port': '5432' } });
    const ssh = container({ image: 'other', labels: { 'haproxy-companion.ssh.tcp-port': '22' } });
    const m = buildServices([db, ssh], {}, { zone, reservedPorts: [80], tcpPorts: [[5000, 5999]] });
    expect(m.services.map((s) => s.key)).toEqual(['tcp:5432']);
    expect(m.skipped).toEqual([
      expect.objectContaining({ route: 'ssh', reason: 'TCP port 22 is not one the companion opens (TCP_PORTS=5000-5999)' }),
    ]);
    expect(buildServices([db], {}, { zone }).skipped[0]?.reason).toBe('TCP port 5432 is not one the companion opens (TCP_PORTS=(unset))');
  });

  it('skips a route whose port cannot be told, keeps the container’s route that names one', () => {
    const c = container({
      exposedPorts: ['8080/tcp', '9090/tcp'],
      labels: { 'haproxy-companion.a.domain': 'a', 'haproxy-companion.b.domain': 'b', 'haproxy-companion.b.port': '9090' },
    });
    const m = model([c]);
    expect(m.services.map((s) => s.key)).toEqual(['b']);
    expect(m.skipped).toEqual([
      expect.objectContaining({
        route: 'a',
        domain: 'a',
        reason: expect.stringMatching(/several exposed TCP ports \(8080, 9090\); set label haproxy-companion\.a\.port/),
      }),
    ]);
  });

  it('serves a redirect without a server, and says once why a paused container serves nothing', () => {
    const moved = container({
      exposedPorts: [],
      labels: { 'haproxy-companion.old.domain': 'old', 'haproxy-companion.old.redirect': 'https://new.example.org' },
    });
    const paused = container({ paused: true, labels: { 'haproxy-companion.a.domain': 'pa', 'haproxy-companion.b.domain': 'pb' } });
    const m = model([moved, paused]);
    expect(m.services).toEqual([expect.objectContaining({ key: 'old', servers: [], policy: { redirect: 'https://new.example.org' } })]);
    expect(m.skipped).toEqual([{ containerId: paused.id, containerName: paused.name, domain: 'pa,pb', reason: 'container is paused' }]);
  });

  it('takes a stopping container out of its service, which it still holds against other owners', () => {
    const stopping = container({ stopping: true, image: 'web', env: { DOMAIN: 'web' } });
    const other = container({ image: 'intruder', env: { DOMAIN: 'web' } });
    const m = model([stopping, other]);
    expect(m.services).toEqual([]);
    expect(m.skipped.map((s) => [s.containerName, s.reason.split(':')[0]])).toEqual([
      [stopping.name, 'container is stopping'],
      [other.name, expect.stringMatching(/^domain "web" belongs to container/)],
    ]);
  });

  it('keeps a container with a bad route serving its good ones, and names the bad label', () => {
    const c = container({
      labels: { 'haproxy-companion.domain': 'ok', 'haproxy-companion.x.domain': 'x', 'haproxy-companion.x.allow': '10.0.0.1/8' },
    });
    const m = model([c]);
    expect(m.services.map((s) => s.key)).toEqual(['ok']);
    expect(m.skipped).toEqual([
      expect.objectContaining({ route: 'x', reason: expect.stringMatching(/^label haproxy-companion\.x\.allow="10\.0\.0\.1\/8" /) }),
    ]);
  });
});

describe('homeBackend', () => {
  it('names backends within HAProxy’s alphabet, one per key', () => {
    const keys = ['login', 'shop/api', 'shop/api_v1', 'shop/api/v1', '*.preview', '*.preview/x~y', 'tcp:5432'];
    const names = keys.map(homeBackend);
    expect(names[0]).toBe('be_login');
    expect(names[6]).toBe('be_tcp_5432');
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9._:-]+$/);
    expect(new Set(names).size).toBe(keys.length);
  });
});

describe('withoutBusyTcpPorts', () => {
  it('skips the TCP routes on busy ports, with the reason, and keeps everything else', () => {
    const db = container({ name: 'db', labels: { 'haproxy-companion.db.tcp-port': '5432' } });
    const web = container({ name: 'web', env: { DOMAIN: 'web' } });
    const m = model([db, web]);
    expect(withoutBusyTcpPorts(m, new Set([9999]))).toBe(m);
    const after = withoutBusyTcpPorts(m, new Set([5432]));
    expect(after.services.map((s) => s.key)).toEqual(['web']);
    expect(after.skipped).toEqual([
      { containerId: db.id, containerName: 'db', route: 'db', domain: 'tcp:5432', reason: 'TCP port 5432 is already in use on the host' },
    ]);
  });
});
