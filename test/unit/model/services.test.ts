import { describe, expect, it } from 'vitest';
import { type ContainerInfo, toContainerInfo } from '../../../src/model/container.js';
import { buildServices, type Placement } from '../../../src/model/services.js';
import { container } from '../../helpers/containers.js';

const zone = 'example.com';
const hostMode: Placement = {};

describe('buildServices: routing', () => {
  it('routes a container with DOMAIN env to <domain>.<zone> and the bare name', () => {
    const c = container({ name: 'login1', env: { DOMAIN: 'login' }, networks: [{ name: 'bridge', ip: '172.17.0.5' }] });
    const { services, skipped } = buildServices([c], hostMode, { zone });
    expect(skipped).toEqual([]);
    expect(services).toEqual([
      {
        domain: 'login',
        hostnames: ['login.example.com', 'login'],
        servers: [
          { name: 'login1', containerId: c.id, containerName: 'login1', address: '172.17.0.5', port: 8080, endpoint: '172.17.0.5:8080' },
        ],
      },
    ]);
  });

  it('ignores containers without a domain, silently', () => {
    expect(buildServices([container()], hostMode, { zone })).toEqual({ services: [], skipped: [] });
  });

  it('lets the label win over the env', () => {
    const c = container({ env: { DOMAIN: 'old' }, labels: { 'haproxy-companion.domain': 'new' } });
    expect(buildServices([c], hostMode, { zone }).services.map((s) => s.domain)).toEqual(['new']);
  });

  it('groups containers with the same domain into one backend, servers sorted by name', () => {
    const cs = ['web-3', 'web-1', 'web-2'].map((name) => container({ name, env: { DOMAIN: 'web' } }));
    const { services } = buildServices(cs, hostMode, { zone });
    expect(services).toHaveLength(1);
    expect(services[0]!.servers.map((s) => s.name)).toEqual(['web-1', 'web-2', 'web-3']);
  });

  it('treats login and login.<zone> as the same service', () => {
    const cs = [container({ env: { DOMAIN: 'login' } }), container({ env: { DOMAIN: 'LOGIN.example.com' } })];
    const { services } = buildServices(cs, hostMode, { zone });
    expect(services.map((s) => [s.domain, s.servers.length])).toEqual([['login', 2]]);
  });

  it('accepts a comma-separated list of domains', () => {
    const c = container({ env: { DOMAIN: 'login, auth' } });
    expect(buildServices([c], hostMode, { zone }).services.map((s) => s.domain)).toEqual(['auth', 'login']);
  });

  it('sorts services so the same containers always give the same output', () => {
    const a = container({ env: { DOMAIN: 'zeta' } });
    const b = container({ env: { DOMAIN: 'alpha' } });
    expect(buildServices([a, b], hostMode, { zone })).toEqual(buildServices([b, a], hostMode, { zone }));
    expect(buildServices([a, b], hostMode, { zone }).services.map((s) => s.domain)).toEqual(['alpha', 'zeta']);
  });

  it('never routes to the companion itself', () => {
    const self = container({ env: { DOMAIN: 'login' } });
    expect(buildServices([self], { selfId: self.id }, { zone }).services).toEqual([]);
  });

  it('opts out with haproxy-companion.enable=false', () => {
    const c = container({ env: { DOMAIN: 'login' }, labels: { 'haproxy-companion.enable': 'false' } });
    expect(buildServices([c], hostMode, { zone })).toEqual({ services: [], skipped: [] });
  });

  it('keeps two containers with one domain and different ports as two servers', () => {
    const cs = [
      container({ name: 'a', env: { DOMAIN: 'api' }, exposedPorts: ['8080/tcp'] }),
      container({ name: 'b', env: { DOMAIN: 'api' }, exposedPorts: ['9090/tcp'] }),
    ];
    const servers = buildServices(cs, hostMode, { zone }).services[0]!.servers;
    expect(servers.map((s) => s.port)).toEqual([8080, 9090]);
  });
});

describe('buildServices: port selection', () => {
  it.each([
    ['the only exposed TCP port', { exposedPorts: ['3000/tcp'] }, 3000],
    ['the TCP port when UDP ports are exposed too', { exposedPorts: ['53/udp', '3000/tcp'] }, 3000],
    ['the label over exposed ports', { exposedPorts: ['80/tcp', '443/tcp'], labels: { 'haproxy-companion.port': '443' } }, 443],
    ['the label without exposed ports', { exposedPorts: [], labels: { 'haproxy-companion.port': '9000' } }, 9000],
  ] as Array<[string, Partial<ContainerInfo>, number]>)('uses %s', (_, overrides, port) => {
    const c = container({ env: { DOMAIN: 'svc' }, ...overrides });
    expect(buildServices([c], hostMode, { zone }).services[0]?.servers[0]?.port).toBe(port);
  });

  it.each([
    [
      'several exposed ports',
      { exposedPorts: ['80/tcp', '443/tcp'] },
      /several exposed TCP ports \(80, 443\); set label haproxy-companion.port/,
    ],
    ['no exposed port', { exposedPorts: [] }, /no exposed TCP port/],
    ['only UDP', { exposedPorts: ['53/udp'] }, /no exposed TCP port/],
    ['a non-numeric port label', { labels: { 'haproxy-companion.port': 'http' } }, /not a port number/],
    ['port 0', { labels: { 'haproxy-companion.port': '0' } }, /not a port number/],
    ['port 70000', { labels: { 'haproxy-companion.port': '70000' } }, /not a port number/],
    ['a port with config injected', { labels: { 'haproxy-companion.port': '80\n  server x 1.2.3.4:80' } }, /not a port number/],
    ['a negative port', { labels: { 'haproxy-companion.port': '-1' } }, /not a port number/],
    ['exposed port 0', { exposedPorts: ['0/tcp'] }, /exposed port 0 is not a port number/],
    ['exposed port 99999', { exposedPorts: ['99999/tcp'] }, /exposed port 99999 is not a port number/],
  ])('skips a container with %s', (_, overrides, reason) => {
    const c = container({ name: 'bad', env: { DOMAIN: 'svc' }, ...overrides });
    const { services, skipped } = buildServices([c], hostMode, { zone });
    expect(services).toEqual([]);
    expect(skipped).toEqual([{ containerId: c.id, containerName: 'bad', domain: 'svc', reason: expect.stringMatching(reason) }]);
  });
});

describe('buildServices: state and health', () => {
  it.each([
    ['paused', { paused: true }, /paused/],
    ['starting', { health: 'starting' }, /health check is starting/],
    ['unhealthy', { health: 'unhealthy' }, /health check is unhealthy/],
  ])('does not route a %s container', (_, overrides, reason) => {
    const c = container({ env: { DOMAIN: 'svc' }, ...overrides });
    const { services, skipped } = buildServices([c], hostMode, { zone });
    expect(services).toEqual([]);
    expect(skipped[0]?.reason).toMatch(reason);
  });

  it('ignores a container that is not running (listed while it stops), without reporting it', () => {
    const c = container({ env: { DOMAIN: 'svc' }, running: false });
    expect(buildServices([c], hostMode, { zone })).toEqual({ services: [], skipped: [] });
  });

  it('routes a healthy container', () => {
    const c = container({ env: { DOMAIN: 'svc' }, health: 'healthy' });
    expect(buildServices([c], hostMode, { zone }).services).toHaveLength(1);
  });
});

describe('buildServices: addresses', () => {
  const twoNets = [
    { name: 'backend', ip: '10.1.0.2' },
    { name: 'frontend', ip: '10.2.0.2' },
  ];

  it('in host mode uses the first network by name', () => {
    const c = container({ env: { DOMAIN: 'svc' }, networks: twoNets });
    expect(buildServices([c], hostMode, { zone }).services[0]!.servers[0]!.address).toBe('10.1.0.2');
  });

  it('in bridge mode uses a network shared with the companion', () => {
    const c = container({ env: { DOMAIN: 'svc' }, networks: twoNets });
    const placement = { selfId: 'x', networks: ['frontend'] };
    expect(buildServices([c], placement, { zone }).services[0]!.servers[0]!.address).toBe('10.2.0.2');
  });

  it('honours the network label', () => {
    const c = container({ env: { DOMAIN: 'svc' }, networks: twoNets, labels: { 'haproxy-companion.network': 'frontend' } });
    expect(buildServices([c], hostMode, { zone }).services[0]!.servers[0]!.address).toBe('10.2.0.2');
  });

  it('brackets IPv6 addresses in the endpoint', () => {
    const c = container({ env: { DOMAIN: 'svc' }, networks: [{ name: 'v6', ip: 'fd00::2' }] });
    expect(buildServices([c], hostMode, { zone }).services[0]!.servers[0]!.endpoint).toBe('[fd00::2]:8080');
  });

  it('routes a host-network container on loopback when the companion shares the host network', () => {
    const c = container({ env: { DOMAIN: 'svc' }, networkMode: 'host', networks: [], labels: { 'haproxy-companion.port': '9000' } });
    expect(buildServices([c], hostMode, { zone }).services[0]!.servers[0]!.endpoint).toBe('127.0.0.1:9000');
  });

  it.each([
    [
      'no network shared with the companion',
      { networks: twoNets },
      { selfId: 'x', networks: ['other'] },
      /no network shared with the companion \(container: backend, frontend; companion: other\)/,
    ],
    ['no address at all', { networks: [] }, hostMode, /no IP address/],
    [
      'a network label naming no network',
      { networks: twoNets, labels: { 'haproxy-companion.network': 'nope' } },
      hostMode,
      /names no network/,
    ],
    ['an address that is not an IP', { networks: [{ name: 'bridge', ip: '1.2.3.4:80 backup' }] }, hostMode, /no IP address/],
    [
      'host networking while the companion is bridged',
      { networkMode: 'host', networks: [] },
      { selfId: 'x', networks: ['bridge'] },
      /host networking/,
    ],
  ])('skips a container with %s', (_, overrides, placement, reason) => {
    const c = container({ env: { DOMAIN: 'svc' }, ...overrides });
    const { services, skipped } = buildServices([c], placement, { zone });
    expect(services).toEqual([]);
    expect(skipped[0]?.reason).toMatch(reason);
  });
});

describe('buildServices: hostile input', () => {
  it.each([
    'login\nbackend evil\n  server x 1.2.3.4:80',
    'login #comment',
    'login"',
    "login'",
    'login acl',
    'lögin',
    '',
    'a'.repeat(64),
    'login}}{{',
  ])('skips DOMAIN=%j with a reason and keeps the others', (hostile) => {
    const bad = container({ name: 'bad', env: { DOMAIN: hostile } });
    const good = container({ name: 'good', env: { DOMAIN: 'good' } });
    const { services, skipped } = buildServices([bad, good], hostMode, { zone });
    expect(services.map((s) => s.domain)).toEqual(['good']);
    expect(skipped).toEqual([{ containerId: bad.id, containerName: 'bad', reason: expect.stringMatching(/^domain ".*" (is|has|may)/s) }]);
  });

  it('sanitises server names', () => {
    const c = container({ name: 'weird name\n', env: { DOMAIN: 'svc' } });
    expect(buildServices([c], hostMode, { zone }).services[0]!.servers[0]!.name).toBe('weird_name_');
  });
});

describe('toContainerInfo', () => {
  it('reads the fields the model needs from docker inspect', () => {
    const info = toContainerInfo({
      Id: 'abc'.padEnd(64, '0'),
      Name: '/login_1',
      Config: { Labels: { a: 'b' }, Env: ['DOMAIN=login', 'X=a=b', 'BROKEN'], ExposedPorts: { '8080/tcp': {} } },
      State: { Running: true, Paused: false, Health: { Status: 'healthy' } },
      HostConfig: { NetworkMode: 'default' },
      NetworkSettings: { Networks: { zeta: { IPAddress: '10.0.0.2' }, bridge: { IPAddress: '172.17.0.2' }, none: { IPAddress: '' } } },
    });
    expect(info).toEqual({
      id: 'abc'.padEnd(64, '0'),
      name: 'login_1',
      labels: { a: 'b' },
      env: { DOMAIN: 'login', X: 'a=b' },
      exposedPorts: ['8080/tcp'],
      running: true,
      paused: false,
      health: 'healthy',
      networkMode: 'default',
      networks: [
        { name: 'bridge', ip: '172.17.0.2' },
        { name: 'zeta', ip: '10.0.0.2' },
      ],
    });
  });
});
