/**
 * Which HAProxy backend serves which domain. HAProxy cannot add a backend at run time, but it can
 * point a host name at an existing one (a map entry) and fill it with servers (`add server`). So every
 * configuration carries spare, empty backends: a new domain takes a spare and goes live through the
 * runtime API, and only when the spares run out is a reload needed, which also brings a fresh set of
 * spares. A burst of new domains thus costs one reload at most, however it is spread over passes.
 *
 * Pure: the previous layout comes in, the next one goes out.
 */
import type { Server, Service } from './services.js';

/** Backend name -> the domain it serves now; `undefined`: a spare, or the backend of a domain gone since the last reload. */
export type BackendLayout = ReadonlyMap<string, string | undefined>;

/** A service with the backend HAProxy serves it from. */
export interface PlacedService extends Service {
  backend: string;
}

/** The backend a service gets at a reload: named after its domain. */
export function homeBackend(domain: string): string {
  return `be_${domain}`;
}

/** One backend section of the configuration, in name order. */
export interface Backend {
  name: string;
  servers: Server[];
}

/** A configuration never has fewer spares than this, and at least half as many as it has services. */
export const MIN_SPARE_BACKENDS = 32;

export function spareCount(services: number): number {
  return Math.max(MIN_SPARE_BACKENDS, Math.ceil(services / 2));
}

/** The layout a reload starts from: each service in a backend named after it (`be_<domain>`), then fresh spares. */
export function freshLayout(services: Service[]): BackendLayout {
  const layout = new Map<string, string | undefined>(services.map((s) => [homeBackend(s.domain), s.domain]));
  const width = String(spareCount(services.length)).length;
  for (let i = 1; i <= spareCount(services.length); i++) layout.set(`spare_${String(i).padStart(Math.max(3, width), '0')}`, undefined);
  return layout;
}

/**
 * The previous layout with the same backends, updated for `services`; `undefined` when a new domain
 * finds no free backend, which takes a reload. A domain keeps its backend; a new one gets back the
 * backend named after it if that is still there, else the first spare.
 */
export function keepLayout(services: Service[], previous: BackendLayout): BackendLayout | undefined {
  const owner = new Map<string, string>(); // domain -> backend, from the previous layout
  for (const [backend, domain] of previous) if (domain !== undefined) owner.set(domain, backend);
  const next = new Map<string, string | undefined>([...previous.keys()].map((name) => [name, undefined]));
  const homeless: Service[] = [];
  for (const service of services) {
    const backend = owner.get(service.domain);
    if (backend !== undefined) next.set(backend, service.domain);
    else homeless.push(service);
  }
  // Free spares in layout order, taken one after another: a burst of new domains costs linear time.
  const spares = [...next].filter(([name, domain]) => domain === undefined && name.startsWith('spare_')).map(([name]) => name);
  let nextSpare = 0;
  for (const service of homeless) {
    const home = homeBackend(service.domain);
    const own = next.has(home) && next.get(home) === undefined ? home : undefined;
    const backend = own ?? spares[nextSpare++];
    if (backend === undefined) return undefined;
    next.set(backend, service.domain);
  }
  return next;
}

/** The services with the backend the layout gives them, and every backend section with its servers. */
export function placeServices(services: Service[], layout: BackendLayout): { services: PlacedService[]; backends: Backend[] } {
  const backendOf = new Map<string, string>();
  for (const [name, domain] of layout) if (domain !== undefined) backendOf.set(domain, name);
  const placed = services.map((s) => ({ ...s, backend: backendOf.get(s.domain) ?? homeBackend(s.domain) }));
  const serversOf = new Map(placed.map((s) => [s.backend, s.servers]));
  const backends = [...layout.keys()].sort().map((name) => ({ name, servers: serversOf.get(name) ?? [] }));
  return { services: placed, backends };
}

/** The host map: one `<host name> <backend>` line per host name, sorted. Host names are validated DNS names. */
export function hostsMapText(services: PlacedService[]): string {
  const lines = services.flatMap((s) => s.hostnames.map((host) => `${host} ${s.backend}`));
  return lines
    .sort()
    .map((line) => `${line}\n`)
    .join('');
}
