/**
 * Which HAProxy backend serves which service (a domain, a domain and path, a TCP port: services.ts `key`). HAProxy cannot add a backend at run time, but it can
 * point a host name at an existing one (a map entry) and fill it with servers (`add server`). So every
 * configuration carries spare, empty backends: a new domain takes a spare and goes live through the
 * runtime API, and only when the spares run out is a reload needed, which also brings a fresh set of
 * spares. A burst of new domains thus costs one reload at most, however it is spread over passes.
 *
 * Pure: the previous layout comes in, the next one goes out.
 */
import { tcpPortOf } from './service-key.js';
import type { Server, Service } from './services.js';

/** Backend name -> the service key it serves now; `undefined`: a spare, or the backend of a service gone since the last reload. */
export type BackendLayout = ReadonlyMap<string, string | undefined>;

/** A service with the backend HAProxy serves it from. */
export interface PlacedService extends Service {
  backend: string;
}

/**
 * The backend a service gets at a reload, named after its key: `be_<domain>` for a whole host (as before
 * routes), `be_<domain><path>` for a path prefix, `be_tcp_<port>`. Names stay within HAProxy's alphabet
 * ([A-Za-z0-9._:-]): any other character of a key (`/`, `_`, `~`, a wildcard's `*`) is written `_` and its
 * two hex digits, so that no two keys share a name (a shared name would send one owner's path to
 * another's servers).
 */
export function homeBackend(key: string): string {
  const port = tcpPortOf(key);
  if (port !== undefined) return `be_tcp_${port}`;
  return `be_${key.replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}`;
}

/** One backend section of the configuration, in name order. */
export interface Backend {
  name: string;
  servers: Server[];
  /** The service it serves; absent for a spare. */
  service?: PlacedService;
}

/** A configuration never has fewer spares than this, and at least half as many as it has services. */
export const MIN_SPARE_BACKENDS = 32;

export function spareCount(services: number): number {
  return Math.max(MIN_SPARE_BACKENDS, Math.ceil(services / 2));
}

/** The layout a reload starts from: each service in a backend named after it (`be_<domain>`), then fresh spares. */
export function freshLayout(services: Service[]): BackendLayout {
  const layout = new Map<string, string | undefined>(services.map((s) => [homeBackend(s.key), s.key]));
  const width = String(spareCount(services.length)).length;
  for (let i = 1; i <= spareCount(services.length); i++) layout.set(`spare_${String(i).padStart(Math.max(3, width), '0')}`, undefined);
  return layout;
}

/**
 * The previous layout with the same backends, updated for `services`; `undefined` when a new service
 * finds no free backend, which takes a reload. A service keeps its backend; a new one gets back the
 * backend named after it if that is still there, else the first spare. (A service with policy in a spare
 * renders policy lines the running file lacks: the runtime plan then asks for a reload, in a fresh layout.)
 */
export function keepLayout(services: Service[], previous: BackendLayout): BackendLayout | undefined {
  const owner = new Map<string, string>(); // service key -> backend, from the previous layout
  for (const [backend, key] of previous) if (key !== undefined) owner.set(key, backend);
  const next = new Map<string, string | undefined>([...previous.keys()].map((name) => [name, undefined]));
  const homeless: Service[] = [];
  for (const service of services) {
    const backend = owner.get(service.key);
    if (backend !== undefined) next.set(backend, service.key);
    else homeless.push(service);
  }
  // Free spares in layout order, taken one after another: a burst of new domains costs linear time.
  const spares = [...next].filter(([name, domain]) => domain === undefined && name.startsWith('spare_')).map(([name]) => name);
  let nextSpare = 0;
  for (const service of homeless) {
    const home = homeBackend(service.key);
    const own = next.has(home) && next.get(home) === undefined ? home : undefined;
    const backend = own ?? spares[nextSpare++];
    if (backend === undefined) return undefined;
    next.set(backend, service.key);
  }
  return next;
}

/** The services with the backend the layout gives them, and every backend section with its servers. */
export function placeServices(services: Service[], layout: BackendLayout): { services: PlacedService[]; backends: Backend[] } {
  const backendOf = new Map<string, string>();
  for (const [name, key] of layout) if (key !== undefined) backendOf.set(key, name);
  const placed = services.map((s) => ({ ...s, backend: backendOf.get(s.key) ?? homeBackend(s.key) }));
  const serviceOf = new Map(placed.map((s) => [s.backend, s]));
  const backends = [...layout.keys()].sort().map((name) => {
    const service = serviceOf.get(name);
    return service ? { name, servers: service.servers, service } : { name, servers: [] };
  });
  return { services: placed, backends };
}

/** The host map: one `<host name> <backend>` line per host name of a whole-host HTTP service, sorted. Host names are validated DNS names. */
export function hostsMapText(services: PlacedService[]): string {
  return mapText(
    services.filter((s) => s.kind === 'http' && s.path === '/').flatMap((s) => s.hostnames.map((host) => `${host} ${s.backend}`)),
  );
}

/**
 * The paths map: `<host name><path>/ <backend>` for each service with a path prefix, read with `map_beg`
 * on `<host><request path>/` (whose prefix tree returns the longest match): the trailing `/` makes
 * `/v1` match `/v1` and `/v1/x`, not `/v1x`. Paths are validated ([A-Za-z0-9._~-] segments).
 */
export function pathsMapText(services: PlacedService[]): string {
  return mapText(
    services.filter((s) => s.kind === 'http' && s.path !== '/').flatMap((s) => s.hostnames.map((host) => `${host}${s.path}/ ${s.backend}`)),
  );
}

function mapText(lines: string[]): string {
  return lines
    .sort()
    .map((line) => `${line}\n`)
    .join('');
}
