/** Inputs of the renderer's golden files, shared with the integration test that runs `haproxy -c` on them. */

import { freshLayout, placeServices } from '../../../src/model/backend-pool.js';
import { buildServices, type Service } from '../../../src/model/services.js';
import type { TemplateContext } from '../../../src/render/render-config.js';
import { container } from '../../helpers/containers.js';

/** As config.ts's defaults give them. */
const settings = { zone: 'example.com', httpPort: 80, statsPort: null, trustedProxies: [], hardStopAfterS: 600, maxOldWorkers: 3 };
const paths = {
  adminSocket: '/var/run/haproxy-companion/admin.sock',
  hostsMap: '/var/run/haproxy-companion/hosts.map',
  pathsMap: '/var/run/haproxy-companion/paths.map',
};

/** As the companion renders at startup: each service in its own backend, then the spares. */
const placed = (services: Service[]) => placeServices(services, freshLayout(services));

function fromContainers(list: Parameters<typeof buildServices>[0]): TemplateContext {
  return { ...placed(buildServices(list, {}, { zone: settings.zone }).services), settings, paths };
}

export const renderCases: Record<string, TemplateContext> = {
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
};
