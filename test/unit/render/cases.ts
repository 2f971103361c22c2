/** Inputs of the renderer's golden files, shared with the integration test that runs `haproxy -c` on them. */

import { type FleetPeers, NO_PEERS } from '../../../src/dns/fleet-peers.js';
import { freshLayout, placeServices } from '../../../src/model/backend-pool.js';
import { hstsMaxAgeOf } from '../../../src/model/hsts.js';
import { buildServices, type Service } from '../../../src/model/services.js';
import { fleetHostsOf, peerServersOf } from '../../../src/render/fleet-servers.js';
import type { TemplateContext, TemplateTls } from '../../../src/render/render-config.js';
import { tlsProfile } from '../../../src/tls/tls-profile.js';
import { container } from '../../helpers/containers.js';

/** As config.ts's defaults give them (`ipv6` as on a host without IPv6: LISTEN_IPV6=auto resolves per host). */
const settings = {
  zone: 'example.com',
  httpPort: 80,
  statsPort: null,
  trustedProxies: [],
  proxyProtocol: false,
  ipv6: false,
  accessLog: null,
  hardStopAfterS: 600,
  maxOldWorkers: 3,
  defaultService: null,
  tls: null,
  holdMs: 10_000,
  fleet: null,
};
const paths = {
  adminSocket: '/var/run/haproxy-companion/admin.sock',
  hostsMap: '/var/run/haproxy-companion/hosts.map',
  pathsMap: '/var/run/haproxy-companion/paths.map',
  holdScript: '/var/run/haproxy-companion/hold.lua',
};

/** HTTPS as config.ts's defaults give it (HSTS for a year, TLS_PROFILE=intermediate), on port 443 without a default certificate. */
const https = (options: Partial<TemplateTls> = {}): TemplateTls => ({
  port: 443,
  certList: '/var/run/haproxy-companion/certs.list',
  defaultCert: null,
  hstsMaxAge: 31_536_000,
  profile: tlsProfile('intermediate'),
  ...options,
});

/** As the companion renders at startup: each service in its own backend, then the spares (HSTS decided in withHsts). */
const placed = (services: Service[], peers: FleetPeers = NO_PEERS) => {
  const { services: placedServices, backends } = placeServices(services, freshLayout(services));
  return { services: placedServices, backends: backends.map((b) => ({ ...b, peers: peerServersOf(b.service, peers), hstsMaxAge: null })) };
};

/** Each backend's HSTS as templateContext decides it, from the case's own settings. */
const withHsts = (context: TemplateContext): TemplateContext => {
  const tls = context.settings.tls;
  const https = tls ? { hstsMaxAge: tls.hstsMaxAge ?? undefined } : undefined;
  return { ...context, backends: context.backends.map((b) => ({ ...b, hstsMaxAge: hstsMaxAgeOf(b.service, https) })) };
};

function fromContainers(list: Parameters<typeof buildServices>[0], peers: FleetPeers = NO_PEERS): TemplateContext {
  return { ...placed(buildServices(list, {}, { zone: settings.zone, tcpPorts: [[15432, 15432]] }).services, peers), settings, paths };
}

/** A shop whose names other hosts serve too: a whole host, a path that strips its prefix, an allow list, a redirect, a TCP route. */
const fleetShop = () =>
  fromContainers(
    [
      container({
        id: '5e'.repeat(32),
        name: 'shop',
        networks: [{ name: 'bridge', ip: '172.17.0.11' }],
        exposedPorts: ['8080/tcp', '5432/tcp'],
        labels: {
          'haproxy-companion.web.domain': 'shop',
          'haproxy-companion.web.port': '8080',
          'haproxy-companion.api.domain': 'shop',
          'haproxy-companion.api.path': '/api',
          'haproxy-companion.api.strip-path': 'true',
          'haproxy-companion.api.port': '8080',
          'haproxy-companion.admin.domain': 'admin',
          'haproxy-companion.admin.port': '8080',
          'haproxy-companion.admin.allow': '10.0.0.0/8',
          'haproxy-companion.old.domain': 'old-shop',
          'haproxy-companion.old.redirect': 'https://shop.example.com/',
          'haproxy-companion.db.tcp-port': '15432',
          'haproxy-companion.db.port': '5432',
        },
      }),
    ],
    new Map([
      [
        'shop.example.com',
        [
          { hostId: 'i-0b', address: '10.0.1.2' },
          { hostId: 'i-0c', address: '10.0.1.3' },
        ],
      ],
      ['admin.example.com', [{ hostId: 'i-0b', address: '10.0.1.2' }]],
      ['old-shop.example.com', [{ hostId: 'i-0b', address: '10.0.1.2' }]],
    ]),
  );

const cases: Record<string, TemplateContext> = {
  empty: { ...placed([]), settings, paths },
  'login-and-publish': fromContainers([
    container({ id: 'a'.repeat(64), name: 'login_service', env: { DOMAIN: 'login' }, networks: [{ name: 'bridge', ip: '172.17.0.2' }] }),
    container({
      id: 'b'.repeat(64),
      name: 'publish_service',
      env: { DOMAIN: 'publish' },
      networks: [{ name: 'bridge', ip: '172.17.0.3' }],
    }),
  ]),
  'three-servers-one-backend': fromContainers(
    [1, 2, 3].map((n) =>
      container({
        id: String(n).repeat(64),
        name: `app-web-${n}`,
        env: { DOMAIN: 'web' },
        networks: [{ name: 'bridge', ip: `172.17.0.1${n}` }],
      }),
    ),
  ),
  'multi-label-ipv6-and-custom-port': {
    ...fromContainers([
      container({
        id: 'c'.repeat(64),
        name: 'api',
        labels: { 'haproxy-companion.domain': 'api.v2', 'haproxy-companion.port': '9000' },
        networks: [{ name: 'v6', ip: 'fd00::5' }],
      }),
    ]),
    settings: { ...settings, httpPort: 8080 },
  },
  'haproxy-stats-on': { ...placed([]), settings: { ...settings, statsPort: 8405 }, paths },
  'trusted-proxies': { ...placed([]), settings: { ...settings, trustedProxies: ['10.0.0.0/16', '192.0.2.7', '2001:db8::/32'] }, paths },
  // Every route label at once: two routes on two ports, a path with its policy, a wildcard, a redirect, a TCP route.
  'routes-and-policy': {
    ...fromContainers([
      container({
        id: 'd'.repeat(64),
        name: 'shop',
        image: 'shop',
        exposedPorts: ['8080/tcp', '9090/tcp'],
        networks: [{ name: 'bridge', ip: '172.17.0.4' }],
        labels: {
          'haproxy-companion.web.domain': 'shop',
          'haproxy-companion.web.port': '8080',
          'haproxy-companion.web.compress': 'true',
          'haproxy-companion.web.headers.response.X-Frame-Options': 'DENY',
          'haproxy-companion.web.headers.response.Content-Security-Policy': "default-src 'self'; img-src * 100%",
          'haproxy-companion.web.headers.response.Server': '',
          'haproxy-companion.api.domain': 'shop',
          'haproxy-companion.api.port': '9090',
          'haproxy-companion.api.path': '/api',
          'haproxy-companion.api.strip-path': 'true',
          'haproxy-companion.api.check.path': '/healthz',
          'haproxy-companion.api.check.interval': '5s',
          'haproxy-companion.api.timeout.server': '120s',
          'haproxy-companion.api.timeout.connect': '3s',
          'haproxy-companion.api.sticky': 'cookie',
          'haproxy-companion.api.maxconn': '200',
          'haproxy-companion.api.allow': '10.0.0.0/8,192.168.1.7',
          'haproxy-companion.api.auth.users': `alice:$6$${'s'.repeat(16)}$${'h'.repeat(86)}`,
          'haproxy-companion.api.headers.request.X-Env': '${HOME} %[src] "quoted"',
          'haproxy-companion.old.domain': 'old-shop',
          'haproxy-companion.old.redirect': 'https://shop.example.com/moved',
          'haproxy-companion.preview.domain': '*.preview',
          'haproxy-companion.preview.port': '8080',
          'haproxy-companion.db.tcp-port': '15432',
          'haproxy-companion.db.port': '9090',
        },
      }),
    ]),
    settings: { ...settings, defaultService: 'shop.example.com' },
  },
  // HTTPS with every route's choice: redirect (the default), only, both; HSTS by default (none for `both`), by route, off.
  https: {
    ...fromContainers([
      container({
        id: 'e'.repeat(64),
        name: 'site',
        image: 'site',
        networks: [{ name: 'bridge', ip: '172.17.0.5' }],
        labels: {
          'haproxy-companion.web.domain': 'www',
          'haproxy-companion.api.domain': 'api',
          'haproxy-companion.api.https': 'only',
          'haproxy-companion.api.hsts': '63072000',
          'haproxy-companion.legacy.domain': 'legacy',
          'haproxy-companion.legacy.https': 'both',
          'haproxy-companion.static.domain': 'static',
          'haproxy-companion.static.https': 'both',
          'haproxy-companion.static.hsts': '600',
          'haproxy-companion.docs.domain': 'docs',
          'haproxy-companion.docs.hsts': '0',
        },
      }),
    ]),
    settings: {
      ...settings,
      trustedProxies: ['10.0.0.0/16'],
      tls: https(),
    },
  },
  'https-default-cert-other-port': {
    ...fromContainers([
      container({ id: 'f'.repeat(64), name: 'web', env: { DOMAIN: 'web' }, networks: [{ name: 'bridge', ip: '172.17.0.6' }] }),
    ]),
    settings: {
      ...settings,
      tls: https({
        port: 8443,
        defaultCert: '/var/run/haproxy-companion/certs/default.pem',
        hstsMaxAge: null,
        profile: tlsProfile('modern'),
      }),
    },
  },
  // Behind an AWS NLB: PROXY headers from its subnets only, on HTTP and HTTPS.
  'proxy-protocol': {
    ...fromContainers([
      container({ id: '1a'.repeat(32), name: 'web', env: { DOMAIN: 'web' }, networks: [{ name: 'bridge', ip: '172.17.0.7' }] }),
    ]),
    settings: {
      ...settings,
      proxyProtocol: true,
      trustedProxies: ['10.0.0.0/16', '2001:db8::/32'],
      tls: https(),
    },
  },
  // Every listener twice, IPv4 and IPv6: HTTP, HTTPS, a TCP route and HAProxy's stats.
  ipv6: {
    ...fromContainers([
      container({
        id: '2b'.repeat(32),
        name: 'db',
        networks: [{ name: 'bridge', ip: '172.17.0.8' }],
        labels: {
          'haproxy-companion.web.domain': 'web',
          'haproxy-companion.web.port': '8080',
          'haproxy-companion.db.tcp-port': '15432',
          'haproxy-companion.db.port': '5432',
        },
        exposedPorts: ['8080/tcp', '5432/tcp'],
      }),
    ]),
    settings: {
      ...settings,
      ipv6: true,
      statsPort: 8405,
      tls: https(),
    },
  },
  // JSON lines for HTTP (with HTTPS) and for a TCP route; HAProxy's stats page is not logged.
  'access-log': {
    ...fromContainers([
      container({
        id: '3c'.repeat(32),
        name: 'app',
        networks: [{ name: 'bridge', ip: '172.17.0.9' }],
        labels: {
          'haproxy-companion.web.domain': 'app',
          'haproxy-companion.web.port': '8080',
          'haproxy-companion.db.tcp-port': '15432',
          'haproxy-companion.db.port': '5432',
        },
        exposedPorts: ['8080/tcp', '5432/tcp'],
      }),
    ]),
    settings: {
      ...settings,
      accessLog: 'json',
      statsPort: 8405,
      tls: https(),
    },
  },
  // The three together, as on a host behind an NLB: PROXY headers, IPv6, JSON access log.
  'behind-nlb': {
    ...fromContainers([
      container({ id: '4d'.repeat(32), name: 'web', env: { DOMAIN: 'web' }, networks: [{ name: 'bridge', ip: '172.17.0.10' }] }),
    ]),
    settings: {
      ...settings,
      proxyProtocol: true,
      ipv6: true,
      accessLog: 'json',
      trustedProxies: ['10.0.0.0/16'],
      tls: https(),
    },
  },
  // FLEET_FALLBACK: the other hosts serving a name as backup servers; none for the allow list, the redirect, TCP.
  'fleet-fallback': (() => {
    const context = fleetShop();
    return {
      ...context,
      settings: {
        ...settings,
        defaultService: 'shop.example.com',
        fleet: { caFile: '/etc/ssl/fleet-ca.pem', hosts: fleetHostsOf(context.backends) },
      },
    };
  })(),
  // The same over HTTPS: to the other hosts' HTTPS port, their certificates verified for the request's name.
  'fleet-fallback-https': {
    ...fleetShop(),
    settings: {
      ...settings,
      fleet: { caFile: '@system-ca', hosts: fleetHostsOf(fleetShop().backends) },
      tls: https(),
    },
  },
};

export const renderCases: Record<string, TemplateContext> = Object.fromEntries(
  Object.entries(cases).map(([name, context]) => [name, withHsts(context)]),
);
