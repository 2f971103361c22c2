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
        key: 'login',
        kind: 'http',
        domain: 'login',
        path: '/',
        policy: {},
        route: 'default',
        owner: { key: 'image:app', description: 'image "app"' },
        hostnames: ['login.example.com', 'login'],
        servers: [
          {
            name: 'login1',
            containerId: c.id,
            containerName: 'login1',
            address: '172.17.0.5',
            port: 8080,
            endpoint: '172.17.0.5:8080',
            checkInter: '2s',
          },
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
    expect(skipped).toEqual([
      { containerId: c.id, containerName: 'bad', route: 'default', domain: 'svc', reason: expect.stringMatching(reason) },
    ]);
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
      { networkMode: 'host', networks: [], labels: { 'haproxy-companion.host-network': 'true' } },
      { selfId: 'x', networks: ['bridge'] },
      /host networking/,
    ],
  ])('skips a container with %s', (_, overrides, placement, reason) => {
    const c = container({ env: { DOMAIN: 'svc' }, ...overrides });
    const { services, skipped } = buildServices([c], placement, { zone, allowHostNetwork: true });
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
    expect(skipped).toEqual([
      { containerId: bad.id, containerName: 'bad', route: 'default', reason: expect.stringMatching(/^domain ".*" (is|has|may)/s) },
    ]);
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
      Created: '2024-05-01T10:20:30.5Z',
      Config: {
        Image: 'login:v2',
        Labels: { a: 'b', 'haproxy-companion.port': '8080', 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'login' },
        Env: ['SECRET=x', 'DOMAIN=login=x', 'BROKEN'],
        ExposedPorts: { '8080/tcp': {} },
      },
      State: { Running: true, Paused: false, Health: { Status: 'healthy' } },
      HostConfig: { NetworkMode: 'default' },
      NetworkSettings: { Networks: { zeta: { IPAddress: '10.0.0.2' }, bridge: { IPAddress: '172.17.0.2' }, none: { IPAddress: '' } } },
    });
    expect(info).toEqual({
      id: 'abc'.padEnd(64, '0'),
      name: 'login_1',
      // Only what the model reads is kept (one small copy of each container's facts).
      labels: { 'haproxy-companion.port': '8080', 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'login' },
      env: { DOMAIN: 'login=x' },
      exposedPorts: ['8080/tcp'],
      running: true,
      paused: false,
      health: 'healthy',
      networkMode: 'default',
      networks: [
        { name: 'bridge', ip: '172.17.0.2' },
        { name: 'zeta', ip: '10.0.0.2' },
      ],
      image: 'login:v2',
      created: '2024-05-01T10:20:30.500000000Z',
    });
  });

  it('keeps the label filter key asked for too', () => {
    const info = toContainerInfo({ Id: 'x', Config: { Labels: { 'com.example.env': 'prod', other: 'y' } } }, 'com.example.env');
    expect(info.labels).toEqual({ 'com.example.env': 'prod' });
  });

  it.each([
    // Docker trims trailing zeros of the fraction, so the raw strings do not sort by time: .5 would follow .45.
    ['2024-05-01T10:20:30.45Z', '2024-05-01T10:20:30.450000000Z'],
    ['2024-05-01T10:20:30Z', '2024-05-01T10:20:30.000000000Z'],
    ['2024-05-01T10:20:30.123456789Z', '2024-05-01T10:20:30.123456789Z'],
    ['2024-05-01T12:20:30.1+02:00', '2024-05-01T10:20:30.100000000Z'],
    [undefined, ''],
    ['yesterday', ''],
  ])('reads Created %j as %j, a string that sorts by time', (created, expected) => {
    expect(toContainerInfo({ Id: 'x', Created: created }).created).toBe(expected);
  });
});

describe('buildServices: host names (trust boundary, point 2)', () => {
  it.each([
    ['login', ['login.example.com', 'login']],
    ['api.v2', ['api.v2.example.com']],
    ['www.google.com.example.com', ['www.google.com.example.com']],
    ['shop', ['shop.example.com', 'shop']],
  ])('serves %j as %j: the bare name only for a single label', (domain, hostnames) => {
    const { services } = buildServices([container({ env: { DOMAIN: domain } })], hostMode, { zone });
    expect(services.map((s) => s.hostnames)).toEqual([hostnames]);
  });

  it('skips the issue example, a list of names outside the zone, and serves none of them', () => {
    const bad = container({ name: 'bad', env: { DOMAIN: 'www.google.com,127.0.0.1,localhost,169.254.169.254' } });
    const good = container({ name: 'good', env: { DOMAIN: 'good' } });
    const { services, skipped } = buildServices([bad, good], hostMode, { zone });
    expect(services.flatMap((s) => s.hostnames)).toEqual(['good.example.com', 'good']);
    expect(skipped).toEqual([
      {
        containerId: bad.id,
        containerName: 'bad',
        route: 'default',
        reason: expect.stringMatching(/^domain "www\.google\.com" ends in the top-level domain "com".*www\.google\.com\.example\.com/),
      },
    ]);
  });
});

describe('buildServices: host networking (trust boundary, point 3)', () => {
  const onHost = (labels: Record<string, string> = {}, port = '9000') =>
    container({
      name: 'on-host',
      env: { DOMAIN: 'svc' },
      networkMode: 'host',
      networks: [],
      labels: { 'haproxy-companion.port': port, ...labels },
    });
  const optIn = { 'haproxy-companion.host-network': 'true' };
  const reservedPorts = [80, 8404, 8405];

  it('routes a host-network container on loopback only with the label and ALLOW_HOST_NETWORK', () => {
    const { services, skipped } = buildServices([onHost(optIn)], hostMode, { zone, allowHostNetwork: true, reservedPorts });
    expect(skipped).toEqual([]);
    expect(services[0]!.servers[0]!.endpoint).toBe('127.0.0.1:9000');
  });

  it.each([
    [
      'neither opt-in',
      {},
      false,
      /uses host networking: set the label haproxy-companion\.host-network=true on it and ALLOW_HOST_NETWORK=true/,
    ],
    ['only the label', optIn, false, /companion does not allow it: set ALLOW_HOST_NETWORK=true/],
    ['only ALLOW_HOST_NETWORK', {}, true, /set the label haproxy-companion\.host-network=true/],
    ['the label set to false', { 'haproxy-companion.host-network': 'false' }, true, /set the label haproxy-companion\.host-network=true/],
  ])('skips a host-network container with %s', (_, labels, allowHostNetwork, reason) => {
    const { services, skipped } = buildServices([onHost(labels)], hostMode, { zone, allowHostNetwork, reservedPorts });
    expect(services).toEqual([]);
    expect(skipped).toEqual([expect.objectContaining({ containerName: 'on-host', domain: 'svc', reason: expect.stringMatching(reason) })]);
  });

  it.each(['80', '8404', '8405'])('never targets the companion’s own port %s on loopback, whatever the opt-ins', (port) => {
    const { services, skipped } = buildServices([onHost(optIn, port)], hostMode, { zone, allowHostNetwork: true, reservedPorts });
    expect(services).toEqual([]);
    expect(skipped[0]?.reason).toBe(`port ${port} on 127.0.0.1 is the companion's own (reserved: 80, 8404, 8405)`);
  });

  it('still routes a bridged container listening on one of those port numbers: its own address is not the companion', () => {
    const c = container({ env: { DOMAIN: 'web' }, exposedPorts: ['80/tcp'] });
    expect(buildServices([c], hostMode, { zone, reservedPorts }).services[0]!.servers[0]!.endpoint).toMatch(/^172\.17\.0\.\d+:80$/);
  });

  it('does not count a loopback or unspecified address on a network as reachable', () => {
    const c = container({
      env: { DOMAIN: 'svc' },
      networks: [
        { name: 'a', ip: '127.0.0.1' },
        { name: 'b', ip: '::1' },
        { name: 'c', ip: '0.0.0.0' },
      ],
    });
    expect(buildServices([c], hostMode, { zone }).skipped[0]?.reason).toMatch(/no IP address/);
  });
});

describe('buildServices: limits (trust boundary, point 8)', () => {
  const many = (n: number, distinct = n) => Array.from({ length: n }, (_, i) => `d${i % distinct}`).join(',');

  it('routes up to MAX_DOMAINS_PER_CONTAINER domains, and skips a container with more', () => {
    expect(buildServices([container({ env: { DOMAIN: many(100) } })], hostMode, { zone }).services).toHaveLength(100);
    const big = container({ name: 'big', env: { DOMAIN: many(101) } });
    const { services, skipped } = buildServices([big], hostMode, { zone });
    expect(services).toEqual([]);
    expect(skipped).toEqual([
      { containerId: big.id, containerName: 'big', reason: 'declares 101 domains; at most 100 are allowed (MAX_DOMAINS_PER_CONTAINER)' },
    ]);
    expect(buildServices([big], hostMode, { zone, maxDomainsPerContainer: 2 }).skipped[0]?.reason).toMatch(/101 domains; at most 2/);
  });

  it('skips a 40,000-domain label with a short reason, and keeps serving the others', () => {
    const big = container({ name: 'big', labels: { 'haproxy-companion.domain': many(40_000) } });
    const { services, skipped } = buildServices([big, container({ env: { DOMAIN: 'good' } })], hostMode, { zone });
    expect(services.map((s) => s.domain)).toEqual(['good']);
    expect(skipped).toEqual([expect.objectContaining({ containerId: big.id, reason: expect.stringMatching(/^declares 40000 domains/) })]);
    expect(skipped[0]!.reason.length).toBeLessThanOrEqual(300);
  });

  it('de-duplicates 40,000 domains (20,000 distinct) when the limit allows them', () => {
    const big = container({ name: 'big', labels: { 'haproxy-companion.domain': many(40_000, 20_000) } });
    const { services, skipped } = buildServices([big], hostMode, { zone, maxDomainsPerContainer: 50_000 });
    expect(skipped).toEqual([]);
    expect(services).toHaveLength(20_000);
    expect(new Set(services.map((s) => s.domain)).size).toBe(20_000);
    expect(services.every((s) => s.servers.length === 1)).toBe(true);
  });

  it.each([
    ['a 120 kB domain', { env: { DOMAIN: 'a'.repeat(120_000) } }],
    ['a 120 kB list of bad names', { env: { DOMAIN: `${'x'.repeat(1300)} y,`.repeat(90) } }],
    ['a 120 kB port label', { env: { DOMAIN: 'svc' }, labels: { 'haproxy-companion.port': 'p'.repeat(120_000) } }],
    ['a 120 kB network label', { env: { DOMAIN: 'svc' }, labels: { 'haproxy-companion.network': 'n'.repeat(120_000) } }],
  ] as Array<[string, Partial<ContainerInfo>]>)('quotes at most 64 characters of %s, and keeps the reason under 300', (_, overrides) => {
    const { skipped } = buildServices([container(overrides)], hostMode, { zone });
    const reason = skipped[0]!.reason;
    expect(reason.length).toBeLessThanOrEqual(300);
    for (const quoted of reason.match(/"(?:[^"\\]|\\.)*"/g) ?? []) expect(JSON.parse(quoted).length).toBeLessThanOrEqual(64);
    expect(reason).toMatch(/…"/);
  });

  it('cuts a long reason to 300 characters, and a long domain list in the skipped entry too', () => {
    const networks = Array.from({ length: 50 }, (_, i) => ({ name: `net-${i}-${'n'.repeat(60)}`, ip: `10.0.${i}.2` }));
    const names = Array.from({ length: 100 }, (_, i) => `${'d'.repeat(60)}${i}`).join(',');
    const c = container({ env: { DOMAIN: names }, networks });
    const { skipped } = buildServices([c], { selfId: 'x', networks: ['other'] }, { zone });
    expect(skipped[0]!.reason).toMatch(/^no network shared with the companion .*…$/);
    expect(skipped[0]!.reason.length).toBeLessThanOrEqual(300);
    expect(skipped[0]!.domain!.length).toBeLessThanOrEqual(300);
  });
});
