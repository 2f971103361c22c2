/**
 * services -> haproxy.cfg, through a nunjucks template (the built-in one or the user's HAPROXY_TEMPLATE).
 * The template is read and compiled once ({@link loadTemplate}), and again only when it changes on disk,
 * so rendering is pure: it does no I/O that could fail for a reason other than the template itself.
 */
import path from 'node:path';
import nunjucks from 'nunjucks';
import { type FleetPeers, NO_PEERS } from '../dns/fleet-peers.js';
import { TemplateError } from '../errors.js';
import { readRegularFile } from '../lib/read-regular-file.js';
import { type Backend, type BackendLayout, hostsMapText, type PlacedService, pathsMapText, placeServices } from '../model/backend-pool.js';
import { hstsMaxAgeOf } from '../model/hsts.js';
import { configWord, logFormatLiteral } from '../model/route-values.js';
import type { Service } from '../model/services.js';
import type { Certificate } from '../tls/certificate.js';
import { type TlsFiles, tlsFiles } from '../tls/tls-files.js';
import { type TlsProfile, type TlsProfileName, tlsProfile } from '../tls/tls-profile.js';
import { fleetHostsOf, type PeerServer, peerServersOf } from './fleet-servers.js';
import { MAX_TEMPLATE_BYTES, templateDirLoader } from './template-loader.js';

/** Everything a template can use. Documented in the README ("Custom templates"). */
export interface TemplateContext {
  /** Sorted by domain; `backend` is the backend the pool gave each (see model/backend-pool.ts). */
  services: PlacedService[];
  /**
   * Every backend section, spares included, sorted by name, each with its servers, (FLEET_FALLBACK) the
   * other hosts it falls back on, its backup servers, and the Strict-Transport-Security max-age of its
   * HTTPS answers (null: no header; see model/hsts.ts).
   */
  backends: TemplateBackend[];
  settings: TemplateSettings;
  /**
   * hostsMap: the `<host name> <backend>` map the companion writes beside the config and edits at run time;
   * pathsMap: the `<host name><path>/ <backend>` map, the same, for routes by path prefix (read with `map_beg`).
   */
  paths: TemplatePaths;
}

export interface TemplateBackend extends Backend {
  peers: PeerServer[];
  hstsMaxAge: number | null;
}

/** Where the files a template names live: the admin socket, the two maps and the certificates. */
export interface TemplatePaths {
  adminSocket: string;
  hostsMap: string;
  pathsMap: string;
  /** The crt-list of the HTTPS bind line. */
  certList?: string;
  certsDir?: string;
  /** The Lua action holding requests for a service without a server (with settings.holdMs). */
  holdScript?: string;
}

/** HTTPS as a template sees it; null in the context when HTTPS is off. */
export interface TemplateTls {
  port: number;
  /** The crt-list of every certificate but the default one. */
  certList: string;
  /** The default certificate's file (`crt` on the bind line); null: `strict-sni`, unknown names are refused. */
  defaultCert: string | null;
  /** Strict-Transport-Security max-age for routes that set none and redirect plain HTTP or refuse it; null: no header. */
  hstsMaxAge: number | null;
  /** TLS_PROFILE: the values of the `ssl-default-bind-*` and `ssl-default-server-*` lines. */
  profile: TlsProfile;
}

export interface TemplateSettings {
  zone: string;
  httpPort: number;
  /** HAProxy's own stats page and Prometheus exporter, null when off. */
  statsPort: number | null;
  /** Addresses and CIDRs whose forwarding headers (X-Forwarded-*, Forwarded) are kept; everyone else's are replaced. */
  trustedProxies: string[];
  /** PROXY_PROTOCOL: the HTTP and HTTPS listeners take a PROXY header from `trustedProxies`, and only from them. */
  proxyProtocol: boolean;
  /** Every listener on IPv6 too (LISTEN_IPV6, resolved against the host at startup). */
  ipv6: boolean;
  /** ACCESS_LOG: `json`, one JSON line per request on HAProxy's stdout; null when off. */
  accessLog: 'json' | null;
  /** Old workers are stopped this long after a reload, whatever they still serve; null: never. */
  hardStopAfterS: number | null;
  /** At most this many old workers: one that has outlived more reloads is stopped; null: no bound. */
  maxOldWorkers: number | null;
  /** DEFAULT_SERVICE as a host name (`www.example.com`): where hosts no route names go; null: a 503. */
  defaultService: string | null;
  /** HTTPS (TLS_CERTS_DIR); null when off. */
  tls: TemplateTls | null;
  /** HOLD_REQUESTS_S in ms: how long a request for a service with no server up waits for one; 0: not at all. */
  holdMs: number;
  /**
   * FLEET_FALLBACK, null when off: the CA bundle other hosts' certificates are verified with (HTTPS), and
   * the other hosts the backends fall back on, each health-checked once (`fleet_hosts`).
   */
  fleet: { caFile: string; hosts: { hostId: string; address: string }[] } | null;
}

/** The companion's settings a template sees (config.ts); tests may leave out what they are not about. */
export interface RenderSettings {
  zone: string;
  httpPort: number;
  haproxyStatsPort?: number | undefined;
  trustedProxies?: string[];
  proxyProtocol?: boolean;
  /** Whether to listen on IPv6: LISTEN_IPV6 once resolved (config.ts leaves `auto` to the companion). */
  ipv6?: boolean;
  accessLog?: 'json' | 'off';
  hardStopAfterS?: number;
  maxOldWorkers?: number;
  /** DEFAULT_SERVICE, relative to the zone. */
  defaultService?: string | undefined;
  /** hstsMaxAge absent: no header; profile absent: intermediate. */
  tls?: { port: number; defaultCert?: string | undefined; hstsMaxAge?: number | undefined; profile?: TlsProfileName } | undefined;
  holdRequestsMs?: number;
  /** FLEET_FALLBACK: absent when off. caFile: FLEET_CA_FILE, else the system's CAs. */
  fleet?: { caFile?: string | undefined } | undefined;
}

/** The context for the services of one pass, placed in their backends. */
export function templateContext(
  placed: { services: PlacedService[]; backends: Backend[] },
  settings: RenderSettings,
  paths: TemplatePaths,
  tls?: TlsFiles,
  peers: FleetPeers = NO_PEERS,
): TemplateContext {
  const https = settings.tls;
  // A forwarded request's refusal and strip-path's exception are Lua actions: no script, no fallback.
  const fleet = paths.holdScript ? settings.fleet : undefined;
  const templateTls: TemplateTls | null =
    https && tls && paths.certList
      ? {
          port: https.port,
          certList: paths.certList,
          defaultCert: tls.defaultPath,
          hstsMaxAge: https.hstsMaxAge || null,
          profile: tlsProfile(https.profile ?? 'intermediate'),
        }
      : null;
  const backends = placed.backends.map((backend) => ({
    ...backend,
    peers: fleet ? peerServersOf(backend.service, peers) : [],
    hstsMaxAge: hstsMaxAgeOf(backend.service, templateTls ? https : undefined),
  }));
  return {
    services: placed.services,
    backends,
    settings: {
      zone: settings.zone,
      httpPort: settings.httpPort,
      statsPort: settings.haproxyStatsPort ?? null,
      trustedProxies: settings.trustedProxies ?? [],
      proxyProtocol: settings.proxyProtocol ?? false,
      ipv6: settings.ipv6 ?? false,
      accessLog: settings.accessLog === 'json' ? 'json' : null,
      hardStopAfterS: settings.hardStopAfterS ?? null,
      maxOldWorkers: settings.maxOldWorkers ?? null,
      defaultService: settings.defaultService === undefined ? null : `${settings.defaultService}.${settings.zone}`,
      tls: templateTls,
      holdMs: paths.holdScript ? (settings.holdRequestsMs ?? 0) : 0,
      fleet: fleet ? { caFile: fleet.caFile ?? '@system-ca', hosts: fleetHostsOf(backends) } : null,
    },
    paths: { adminSocket: paths.adminSocket, hostsMap: paths.hostsMap, pathsMap: paths.pathsMap, holdScript: paths.holdScript ?? '' },
  };
}

export interface Renderer {
  render(context: TemplateContext): string;
}

/**
 * What a pass installs: the config, and the two maps beside it, each of sorted `<key> <backend>` lines:
 * the host map (key: a host name) and the paths map (key: a host name and a path prefix ending in `/`);
 * with HTTPS, the certificates' files too.
 */
export interface RenderedFiles {
  config: string;
  hostsMap: string;
  pathsMap: string;
  tls?: TlsFiles | undefined;
}

/** Renders `services` placed in the backends of `layout`: the files, and the services with their backends. */
export function renderFiles(
  renderer: Renderer,
  services: Service[],
  layout: BackendLayout,
  settings: RenderSettings,
  paths: TemplatePaths,
  certificates: Certificate[] = [],
  peers: FleetPeers = NO_PEERS,
): { files: RenderedFiles; services: PlacedService[] } {
  const placed = placeServices(services, layout);
  const tls = settings.tls && paths.certsDir ? tlsFiles(certificates, paths.certsDir, settings.tls.defaultCert) : undefined;
  return {
    files: {
      config: renderer.render(templateContext(placed, settings, paths, tls, peers)),
      hostsMap: hostsMapText(placed.services),
      pathsMap: pathsMapText(placed.services),
      tls,
    },
    services: placed.services,
  };
}

/**
 * Reads and compiles the template at `templatePath`. A read failure may pass next time (retryable); a
 * syntax error will not until the file changes. Templates it includes are read from its directory.
 */
export async function loadTemplate(templatePath: string): Promise<Renderer> {
  let source: string;
  try {
    source = await readRegularFile(templatePath, { maxBytes: MAX_TEMPLATE_BYTES });
  } catch (error) {
    throw new TemplateError(`template ${templatePath} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  const env = new nunjucks.Environment(templateDirLoader(path.dirname(templatePath)), {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  // Route policy values (header values, a redirect URL, password hashes) reach the file through these.
  env.addFilter('configword', configWord);
  env.addFilter('logliteral', logFormatLiteral);
  let template: nunjucks.Template;
  try {
    template = new nunjucks.Template(source, env, templatePath, true);
  } catch (error) {
    throw new TemplateError(`template ${templatePath} failed to compile: ${(error as Error).message}`, { cause: error, retryable: false });
  }
  return {
    render(context) {
      try {
        return template.render(context);
      } catch (error) {
        throw new TemplateError(`template ${templatePath} failed to render: ${(error as Error).message}`, {
          cause: error,
          retryable: false,
        });
      }
    },
  };
}
