/**
 * Issue 6, "Untrusted containers": property-based tests over everything a container supplies (its name,
 * DOMAIN env, haproxy-companion.* labels, exposed ports, networks and addresses), through the real
 * pipeline: inspect -> toContainerInfo -> buildServices -> templateContext -> the built-in template.
 *
 * The threat: any container on the host can set these values, and the rendered haproxy.cfg is shared by
 * every route on the host. One container must not be able to add, change or break anything but its own
 * backend, nor make the file invalid for HAProxy (which would freeze every other route at the last good
 * config).
 */
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freshLayout, homeBackend } from '../../../src/model/backend-pool.js';
import type { ContainerInfo } from '../../../src/model/container.js';
import { buildServices, type Placement, type Server, type Service, type ServiceModel } from '../../../src/model/services.js';
import { loadTemplate, type RenderedFiles, renderFiles } from '../../../src/render/render-config.js';
import {
  anyContainer,
  type ContainerSpec,
  containerId,
  dockerName,
  exposedPort,
  FOUND_CONTAINERS,
  hostileString,
  invalidDomain,
  isLocalAddress,
  MODEL_OPTIONS,
  manyDomains,
  outsideZoneName,
  PROPERTY_TIMEOUT_MS,
  placement,
  placements,
  RESERVED_PORTS,
  relativeDomain,
  showString,
  toContainer,
  wellBehavedContainers,
  ZONE,
} from './arbitraries.js';

const templatePath = fileURLToPath(new URL('../../../templates/haproxy.cfg.njk', import.meta.url));
const renderer = await loadTemplate(templatePath);
const PATHS = {
  adminSocket: '/var/run/haproxy-companion/admin.sock',
  hostsMap: '/var/run/haproxy-companion/hosts.map',
  pathsMap: '/var/run/haproxy-companion/paths.map',
};
/** As at startup: the config and the host map, each service in its own backend, then the spares. */
const renderPlaced = (services: Service[]) => renderFiles(renderer, services, freshLayout(services), { zone: ZONE, httpPort: 80 }, PATHS);
const render = (services: Service[]): RenderedFiles => renderPlaced(services).files;
const model = (containers: ContainerInfo[], where: Placement): ServiceModel => buildServices(containers, where, MODEL_OPTIONS);

const fixed = wellBehavedContainers();
const withoutFor = new Map(placements.map((p) => [p, { model: model(fixed, p), text: render(model(fixed, p).services) }]));
const baseline = (where: Placement) => withoutFor.get(where)!;

const serverLine = (s: Server) => `    server ${s.name} ${s.endpoint} check inter 2s fall 2 rise 2`;
const mapLines = (s: Service) => s.hostnames.map((host) => `${host} ${homeBackend(s.domain)}`);

/**
 * The whitelist grammar: every line the built-in template can produce. Lines that carry no service data
 * are exactly the lines of the rendering without services (same settings); the others must match these
 * patterns, whose character classes leave no room for a newline, `#`, a quote, a space or a brace.
 * The IPv6 class also admits upper-case hex and dots, for IPv4-embedded forms (`::ffff:1.2.3.4`), which
 * HAProxy accepts. It does not admit a zone id (`fe80::1%eth0`): Node's isIP, the model's only check,
 * accepts one, but HAProxy cannot resolve it and refuses the whole file. Docker never reports one, so
 * the generators do not produce one either.
 */
const STATIC_LINES = new Set(render([]).config.split('\n'));
const SERVICE_LINES: RegExp[] = [
  /^backend be_[a-z0-9.-]+$/,
  /^ {4}server [A-Za-z0-9_.-]+ (?:\[[0-9A-Fa-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5}) check inter 2s fall 2 rise 2$/,
];

/** Host map lines: `<host> be_<domain>`, the host being `<domain>.<zone>` or `<domain>`. */
const MAP_LINE = /^([a-z0-9.-]+) be_([a-z0-9.-]+)$/;

function expectGrammar({ config, hostsMap }: RenderedFiles): void {
  for (const line of hostsMap.split('\n').filter(Boolean)) {
    const entry = MAP_LINE.exec(line);
    expect(entry, `host map line outside the grammar: ${JSON.stringify(line)}`).toBeTruthy();
    expect([`${entry![2]}.${ZONE}`, entry![2]], `host ${entry![1]} routed to another domain's backend`).toContain(entry![1]);
  }
  for (const line of config.split('\n')) {
    if (STATIC_LINES.has(line)) continue;
    const [backend, server] = SERVICE_LINES.map((re) => re.exec(line));
    expect(backend || server, `line outside the template's grammar: ${JSON.stringify(line)}`).toBeTruthy();
    if (server) {
      const port = Number(server[1]);
      expect(port >= 1 && port <= 65535, `server port out of range: ${JSON.stringify(line)}`).toBe(true);
    }
  }
}

/**
 * Deletes from the files exactly the lines that belong to container `id`: for a service only it serves,
 * its host map lines and its whole `backend` section (with the blank line before it); for a service it
 * shares, its own `server` line in that backend only. Each of these lines must exist exactly where
 * expected, or the test fails.
 */
function withoutOwnLines(files: RenderedFiles, services: Service[], id: string): RenderedFiles {
  const lines = files.config.split('\n');
  const map = files.hostsMap.split('\n');
  for (const service of services) {
    const mine = service.servers.filter((s) => s.containerId === id);
    if (mine.length === 0) continue;
    const header = lines.indexOf(`backend ${homeBackend(service.domain)}`);
    expect(header, `no backend ${homeBackend(service.domain)}`).toBeGreaterThan(0);
    expect(lines.lastIndexOf(`backend ${homeBackend(service.domain)}`), `backend ${homeBackend(service.domain)} twice`).toBe(header);
    let end = header + 1;
    while (end < lines.length && lines[end] !== '') end++;
    if (mine.length === service.servers.length) {
      expect(lines[header - 1]).toBe('');
      lines.splice(header - 1, end - header + 1);
      for (const entry of mapLines(service)) {
        const at = map.indexOf(entry);
        expect(at, `no host map line "${entry}"`).toBeGreaterThanOrEqual(0);
        map.splice(at, 1);
      }
    } else {
      for (const server of mine) {
        const at = lines.indexOf(serverLine(server), header);
        expect(at > header && at < end, `server line of ${server.name} not in ${homeBackend(service.domain)}`).toBe(true);
        lines.splice(at, 1);
        end--;
      }
    }
  }
  return { config: lines.join('\n'), hostsMap: map.join('\n'), pathsMap: files.pathsMap };
}

describe('untrusted containers: the rendered config', () => {
  it('changes only in the lines of the container that supplied the values, and always matches the template grammar', {
    timeout: PROPERTY_TIMEOUT_MS,
  }, () => {
    // Property 1. For the fixed well-behaved neighbours plus one arbitrary container, rendering with it and
    // then deleting its own backend section, its own use_backend line and its own server lines in shared
    // backends gives back, byte for byte, the rendering without it. So no value it supplies reaches any
    // other line (no newline/#/quote/brace injection, no stolen or reordered routes, no changed neighbour),
    // and every line of the output is one the template can produce with validated data, server ports
    // 1-65535 included (HAProxy refuses the whole file for one server on port 0 or above 65535).
    const seen = { routed: 0, skipped: 0, ignored: 0 };
    fc.assert(
      fc.property(anyContainer, placement, (spec, where) => {
        const arb = toContainer(spec);
        const withIt = model([...fixed, arb], where);
        const text = render(withIt.services);
        expectGrammar(text);
        expect(withoutOwnLines(text, withIt.services, arb.id)).toEqual(baseline(where).text);

        // Point 8: whatever it supplied, what is said about it stays short (log lines, /status).
        for (const entry of withIt.skipped) {
          expect(entry.reason.length, entry.reason.slice(0, 100)).toBeLessThanOrEqual(300);
          expect((entry.domain ?? '').length).toBeLessThanOrEqual(300);
        }

        const routed = withIt.services.some((s) => s.servers.some((v) => v.containerId === arb.id));
        const skipped = withIt.skipped.some((s) => s.containerId === arb.id);
        seen[routed ? 'routed' : skipped ? 'skipped' : 'ignored']++;
      }),
      // What this property once found (exposed ports 0 and 99999 reached a server line), on every run.
      { numRuns: 500, examples: FOUND_CONTAINERS.flatMap((spec) => placements.map((where): [ContainerSpec, Placement] => [spec, where])) },
    );
    // Not vacuous: the arbitrary container was routed (the interesting case) and skipped often enough.
    expect(seen.routed).toBeGreaterThan(75);
    expect(seen.skipped).toBeGreaterThan(75);
  });

  it('never lets a container claim the zone apex or a host name another service answers', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    // Property 1, on the routing level: a container's own use_backend line must claim only its own names.
    // parseServiceDomain refuses the apex (`example.com`), and two services must never list the same Host
    // (HAProxy would take the first rule, so which backend answers would depend on the sort order).
    fc.assert(
      fc.property(fc.array(anyContainer, { minLength: 1, maxLength: 3 }), placement, (specs, where) => {
        const { services } = model([...fixed, ...specs.map(toContainer)], where);
        const hosts = services.flatMap((s) => s.hostnames.map((h) => ({ host: h, backend: homeBackend(s.domain) })));
        const offending = hosts.filter((h) => h.host === ZONE || hosts.some((o) => o.host === h.host && o.backend !== h.backend));
        expect(offending, 'host names claimed by two services, or the zone apex').toEqual([]);
      }),
      // What this property once found (`x.<zone>.<zone>` claimed `x.<zone>`, `<zone>.<zone>` the apex), on every run.
      { numRuns: 1000, examples: placements.map((where): [ContainerSpec[], Placement] => [FOUND_CONTAINERS, where]) },
    );
  });
});

/** A container that is routed under both placements: one valid domain, one port, an address on `bridge`. */
const validSpec: fc.Arbitrary<ContainerSpec> = fc
  .record({
    id: containerId,
    name: dockerName,
    domain: fc.constantFrom('login', 'fresh', 'api.v2', 'www', 'LOGIN.example.com'),
    ip: fc.ipV4().filter((ip) => !isLocalAddress(ip)),
    port: fc.integer({ min: 1, max: 65535 }),
  })
  .map(({ id, name, domain, ip, port }) => ({
    id,
    name,
    domainLabel: domain,
    extraLabels: {},
    extraEnv: [],
    exposedPorts: [`${port}/tcp`],
    running: true,
    paused: false,
    networkMode: 'bridge',
    networks: [{ name: 'bridge', ip, v6: false }],
  }));

type Mutation = { what: string; apply: (spec: ContainerSpec) => ContainerSpec; placement?: Placement };

/** What choosePort must accept as a port label: 1-5 ASCII digits making 1-65535, surrounding whitespace allowed. */
const isValidPortLabel = (s: string) => /^[0-9]{1,5}$/.test(s.trim()) && Number(s.trim()) >= 1 && Number(s.trim()) <= 65535;
const bridgeOnly = placements.find((p) => p.networks !== undefined)!;

/** One defect each; everything else about the container stays valid, so the defect alone must skip it. */
const mutations: Record<string, fc.Arbitrary<Mutation>> = {
  'an invalid domain (label or DOMAIN env)': fc.tuple(invalidDomain, fc.boolean()).map(([domain, asEnv]) => ({
    what: `domain ${showString(domain)}`,
    apply: (s) => (asEnv ? { ...s, domainLabel: undefined, domainEnv: domain } : { ...s, domainLabel: domain }),
  })),
  'an invalid port label': fc
    .oneof(
      fc.integer({ min: -1000, max: 0 }).map(String),
      fc.integer({ min: 65536, max: 10_000_000 }).map(String),
      fc.constantFrom('', ' ', '1e3', '0x50', '80.0', '+80', '-80', '８０', '٨٠', '80 81', '80#', '000080', '9'.repeat(400)),
      hostileString.filter((s) => !isValidPortLabel(s)),
    )
    .map((label) => ({ what: `port label ${JSON.stringify(label)}`, apply: (s) => ({ ...s, portLabel: label }) })),
  'no usable exposed port (none, several, only udp, or out of range)': fc
    .oneof(
      fc.constant([] as string[]),
      fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: 2, maxLength: 4 }).map((ps) => ps.map((p) => `${p}/tcp`)),
      fc.array(
        fc.integer({ min: 1, max: 65535 }).map((p) => `${p}/udp`),
        { minLength: 1, maxLength: 2 },
      ),
      // Out of range: Docker 28's API takes these as they are (POST /containers/create with ExposedPorts
      // {"0/tcp": {}} or {"99999/tcp": {}}), and HAProxy refuses a server on port 0 or 99999, so the whole file.
      fc
        .oneof(fc.constant(0), fc.integer({ min: 65536, max: 1_000_000 }), fc.constant(Number('9'.repeat(30))))
        .map((p) => [`${BigInt(p)}/tcp`]),
      fc.uniqueArray(
        exposedPort.filter((p) => !/^\d+\/tcp$/.test(p)),
        { maxLength: 3 },
      ),
    )
    .map((exposed) => ({ what: `exposed ${JSON.stringify(exposed)}`, apply: (s) => ({ ...s, exposedPorts: exposed }) })),
  'no reachable address': fc.oneof(
    fc.constant({ what: 'no networks', apply: (s: ContainerSpec) => ({ ...s, networks: [] }) }),
    fc
      .array(
        fc.oneof(
          fc.constantFrom('', '999.1.1.1', '01.2.3.4', 'localhost', '1.2.3.4:80', '[::1]', '172.17.0.9\n', '1.2.3.4 #x'),
          hostileString.filter((s) => isIP(s) === 0),
        ),
        { minLength: 1, maxLength: 2 },
      )
      .map((ips) => ({
        what: `addresses ${JSON.stringify(ips)}`,
        apply: (s: ContainerSpec) => ({ ...s, networks: ips.map((ip, i) => ({ name: `net${i}`, ip, v6: false })) }),
      })),
    fc
      .oneof(
        fc.constantFrom('nope', 'v6', 'BRIDGE', 'bridge '),
        hostileString.filter((s) => s !== 'bridge'),
      )
      .map((name) => ({
        what: `network label ${JSON.stringify(name)}`,
        apply: (s: ContainerSpec) => ({ ...s, networkLabel: name }),
      })),
    fc.constantFrom('other', 'app_net').map((name) => ({
      what: `only on network ${name}, not shared with the companion`,
      apply: (s: ContainerSpec) => ({ ...s, networks: s.networks.map((n) => ({ ...n, name })) }),
      placement: bridgeOnly,
    })),
    fc.constant({
      what: 'host networking while the companion is on bridges',
      apply: (s: ContainerSpec) => ({ ...s, networkMode: 'host', networks: [], hostNetworkLabel: 'true' }),
      placement: bridgeOnly,
    }),
  ),
  // Trust boundary, point 3: host networking takes the container's label (and the companion's setting,
  // on in these properties), and never reaches one of the companion's own ports.
  'host networking without its label, or on a port of the companion': fc.oneof(
    fc.constantFrom(undefined, 'false', 'no', '', 'ture').map((label) => ({
      what: `host networking with host-network label ${JSON.stringify(label)}`,
      apply: (s: ContainerSpec) => ({ ...s, networkMode: 'host', networks: [], hostNetworkLabel: label }),
    })),
    fc.constantFrom(...RESERVED_PORTS).map((port) => ({
      what: `host networking on the companion's port ${port}`,
      apply: (s: ContainerSpec) => ({ ...s, networkMode: 'host', networks: [], hostNetworkLabel: 'true', portLabel: String(port) }),
    })),
  ),
  // Point 2: a name that, read relative to the zone, looks like one elsewhere.
  'a name outside the zone (public suffix, IP address, localhost)': outsideZoneName.map((domain) => ({
    what: `domain ${JSON.stringify(domain)}`,
    apply: (s: ContainerSpec) => ({ ...s, domainLabel: domain }),
  })),
  // Point 4: the neighbours' `login` belongs to their image, older than any newcomer.
  'a domain another owner holds': fc
    .tuple(fc.constantFrom('other', 'app-two:latest', 'registry:5000/app'), fc.constantFrom('login', 'login, fresh', 'LOGIN.example.com'))
    .map(([image, domain]) => ({
      what: `image ${image} asking for ${domain}`,
      apply: (s: ContainerSpec) => ({ ...s, image, domainLabel: domain }),
    })),
  // Point 8: more domains than MAX_DOMAINS_PER_CONTAINER.
  'too many domains': manyDomains.map((domains) => ({
    what: `${domains.split(',').length} domains`,
    apply: (s: ContainerSpec) => ({ ...s, domainLabel: domains }),
  })),
  'a state that is not routable (paused, unhealthy, starting)': fc.oneof(
    fc.constant({ what: 'paused', apply: (s: ContainerSpec) => ({ ...s, paused: true }) }),
    // An empty status is what Docker reports without a health check, so it is not a defect.
    fc
      .oneof(
        fc.constantFrom('starting', 'unhealthy', 'Healthy', 'healthy '),
        hostileString.filter((h) => h !== 'healthy' && h !== ''),
      )
      .map((health) => ({
        what: `health ${JSON.stringify(health)}`,
        apply: (s: ContainerSpec) => ({ ...s, health }),
      })),
  ),
};

describe('untrusted containers: an invalid container', () => {
  it.each(Object.entries(mutations))(
    'with %s is skipped with a reason, and the rest renders unchanged',
    { timeout: PROPERTY_TIMEOUT_MS },
    (_, mutation) => {
      // Property 2. A container that opted in but has one defect is listed in `skipped` (once, under its own
      // id and name, with a non-empty reason) and contributes nothing else: the services, the other skipped
      // entries and the rendered text are exactly those of the snapshot without it.
      fc.assert(
        fc.property(validSpec, mutation, placement, (spec, defect, anyPlacement) => {
          const where = defect.placement ?? anyPlacement;
          const bad = toContainer(defect.apply(spec));
          const withIt = model([...fixed, bad], where);
          const without = baseline(where).model;
          const own = withIt.skipped.filter((s) => s.containerId === bad.id);
          expect(own, `${defect.what}: not skipped exactly once`).toHaveLength(1);
          expect(own[0]!.containerName).toBe(bad.name);
          expect(own[0]!.reason).toMatch(/\S/);
          expect(own[0]!.reason.length).toBeLessThanOrEqual(300);
          expect(withIt.skipped.filter((s) => s.containerId !== bad.id)).toEqual(without.skipped);
          expect(withIt.services).toEqual(without.services);
          expect(render(withIt.services)).toEqual(baseline(where).text);
        }),
        { numRuns: 200 },
      );
    },
  );
});

describe('untrusted containers: one domain, two containers', () => {
  const domainSpelling = (domain: string) =>
    fc.constantFrom(domain, domain.toUpperCase(), `${domain}.${ZONE}`, ` ${domain}.${ZONE.toUpperCase()}. `);

  it('gives one backend with two servers, each with its own address and port', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    // Property 4. Two containers naming one domain (spelled either way) with different ports, whether the
    // port comes from the label or the only exposed port, and possibly on the same address (host
    // networking: both on 127.0.0.1), form one backend and one use_backend rule with two server lines,
    // each carrying that container's own port. Server names are distinct, as HAProxy requires within a
    // backend: Docker keeps names unique and restricted to [a-zA-Z0-9][a-zA-Z0-9_.-]+. The two share an
    // owner (point 4) in each of the three ways: one image repository under two tags, one compose service
    // across two images, one haproxy-companion.group across two images. Host networking is opted in on
    // both sides (point 3), and the ports are none of the companion's own.
    const member = (domain: string) =>
      fc.record({
        id: containerId,
        name: dockerName,
        domain: domainSpelling(domain),
        portAs: fc.constantFrom('label', 'exposed'),
        hostMode: fc.constantFrom(false, false, true),
        ip: fc.oneof(fc.ipV4(), fc.ipV6()).filter((ip) => !isLocalAddress(ip)),
      });
    const sharing = fc.constantFrom('image', 'compose', 'group');
    const scenario = relativeDomain
      .filter((d) => d.length <= 200)
      .chain((domain) =>
        fc.record({
          domain: fc.constant(domain),
          members: fc.tuple(member(domain), member(domain)).filter(([a, b]) => a.name !== b.name && a.id !== b.id),
          ports: fc.uniqueArray(
            fc.integer({ min: 1, max: 65535 }).filter((p) => !RESERVED_PORTS.includes(p)),
            { minLength: 2, maxLength: 2 },
          ),
          sharing,
        }),
      );
    fc.assert(
      fc.property(scenario, ({ domain, members, ports, sharing: how }) => {
        const containers = members.map((m, i) =>
          toContainer({
            id: m.id,
            name: m.name,
            domainEnv: m.domain,
            ...(m.portAs === 'label' ? { portLabel: String(ports[i]) } : {}),
            hostNetworkLabel: m.hostMode ? 'true' : undefined,
            image: how === 'image' ? `app:v${i}` : `image-${i}`,
            groupLabel: how === 'group' ? 'shared' : undefined,
            extraLabels: how === 'compose' ? { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' } : {},
            extraEnv: [],
            exposedPorts: m.portAs === 'label' ? ['1/tcp', '2/tcp'] : [`${ports[i]}/tcp`],
            running: true,
            paused: false,
            networkMode: m.hostMode ? 'host' : 'bridge',
            networks: m.hostMode ? [] : [{ name: 'bridge', ip: m.ip, v6: m.ip.includes(':') }],
          }),
        );
        const { services, skipped } = model(containers, { selfId: 'f'.repeat(64) });
        expect(skipped).toEqual([]);
        expect(services.map((s) => s.domain)).toEqual([domain]);
        const servers = services[0]!.servers;
        expect(servers).toHaveLength(2);
        expect(new Set(servers.map((s) => s.name)).size).toBe(2);
        containers.forEach((c, i) => {
          const server = servers.find((s) => s.containerId === c.id)!;
          expect(server.port).toBe(ports[i]);
          expect(server.address).toBe(members[i]!.hostMode ? '127.0.0.1' : members[i]!.ip);
        });

        const text = render(services);
        expectGrammar(text);
        const lines = text.config.split('\n');
        expect(text.hostsMap.split('\n').filter(Boolean)).toEqual(mapLines(services[0]!).sort());
        const header = lines.indexOf(`backend be_${domain}`);
        expect(lines.filter((l) => l.startsWith('backend be_'))).toEqual([`backend be_${domain}`]);
        const sectionEnd = lines.indexOf('', header);
        expect(lines.slice(header + 1, sectionEnd === -1 ? undefined : sectionEnd)).toEqual(servers.map(serverLine));
        for (const [i, c] of containers.entries()) {
          expect(
            lines.filter(
              (l) =>
                l === serverLine(servers.find((s) => s.containerId === c.id)!) && l.endsWith(`:${ports[i]} check inter 2s fall 2 rise 2`),
            ),
          ).toHaveLength(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
