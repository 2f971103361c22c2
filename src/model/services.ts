/**
 * The pure core: running containers in, routable services out. No I/O here; every decision about
 * a container is made from its {@link ContainerInfo}, the companion's own placement and its settings.
 * One container, one decision: it is routed for all the domains it declares, or skipped with one reason.
 */
import { isIP } from 'node:net';
import { compare } from '../lib/compare.js';
import { checkIntervals, DEFAULT_CHECK_INTERVAL_MS, haproxyDuration } from './check-budget.js';
import type { ContainerInfo } from './container.js';
import { hostnamesOf } from './domain.js';
import { ComposeLabels, DOMAIN_ENV, LABEL_PREFIX, Labels } from './labels.js';
import { type Conflict, type Owner, older, ownerOf, routeOwnership } from './ownership.js';
import { clip, MAX_QUOTED, MAX_REASON, quote } from './reasons.js';
import { DEFAULT_ROUTE, declaredRoutes, type RoutePolicy, type RouteRefusal, type RouteSpec } from './route-labels.js';
import { routeKeys } from './service-key.js';
import { chooseAddress, chooseRoutePort, type Placement, type TargetOptions } from './target.js';
import { currentTenures, type HeldKey, nextTenures, rememberedClaims, sameStoredTenures, type Tenure } from './tenure.js';

export type { Placement } from './target.js';

export interface Server {
  /** HAProxy server name: the container name, restricted to characters HAProxy accepts. */
  name: string;
  containerId: string;
  containerName: string;
  address: string;
  port: number;
  /** `address:port`, with IPv6 addresses in brackets, as HAProxy's `server` line wants it. */
  endpoint: string;
  /**
   * Its health check interval as `inter` takes it (`2s`, `7500ms`): the route's, stretched so that all the
   * checks of one container stay within MAX_CHECKS_PER_SECOND (check-budget.ts).
   */
  checkInter: string;
}

/**
 * What one owner holds and HAProxy serves from one backend: an HTTP route's name and path prefix, or a
 * TCP port. A route with several names is one service per name.
 */
export interface Service {
  /** `<domain>` for the whole host, `<domain><path>` for a path prefix, `tcp:<port>` for a TCP route. */
  key: string;
  kind: 'http' | 'tcp';
  /** Domain relative to the zone, e.g. `login` or `*.preview`; empty for TCP. */
  domain: string;
  /** Path prefix, `/` for the whole host (and for TCP). */
  path: string;
  /** Host header values routed to this service: `login.example.com`, and `login` for a single label. */
  hostnames: string[];
  tcpPort?: number;
  /** The route's policy, as its oldest container says it. */
  policy: RoutePolicy;
  /** The label name of the route on its oldest container (`default` for the forms that came before routes). */
  route: string;
  /**
   * Who holds the key (ownership.ts): its owner, and the compose project of its containers when they have
   * one (containers of one project may split a host). What the fleet's ownership markers name.
   */
  owner: ServiceOwner;
  servers: Server[];
}

export interface ServiceOwner {
  /** {@link Owner.key}: equal keys share. */
  key: string;
  description: string;
  /** The `com.docker.compose.project` label of the holder, if any. */
  project?: string;
}

export interface SkippedContainer {
  containerId: string;
  containerName: string;
  /** The route skipped; absent when the whole container is. */
  route?: string;
  /** The domains (of the route, or of the container) comma-separated, cut to 300 characters; `tcp:<port>` for a TCP route. */
  domain?: string;
  /** Why, in at most 300 characters; values the container supplied are quoted and cut to 64. */
  reason: string;
  /** For a route another owner holds: that owner's oldest container. */
  ownedBy?: Conflict['ownedBy'];
}

export interface ServiceModel {
  services: Service[];
  skipped: SkippedContainer[];
}

/** MAX_DOMAINS_PER_CONTAINER's default: generous for real use, and a bound on the work one label can cause. */
export const DEFAULT_MAX_DOMAINS_PER_CONTAINER = 100;

export interface ModelOptions {
  zone: string;
  /** ALLOW_HOST_NETWORK; default false. */
  allowHostNetwork?: boolean;
  /** The companion's own ports, never a target on loopback; default none. */
  reservedPorts?: readonly number[];
  /** TCP_PORTS: the host ports TCP routes may take, as inclusive ranges; default none (no TCP route). */
  tcpPorts?: readonly (readonly [number, number])[];
  /** Default {@link DEFAULT_MAX_DOMAINS_PER_CONTAINER}. */
  maxDomainsPerContainer?: number;
  /** OWNERSHIP_GRACE_S in ms: how long an owner keeps a key after its last container left ({@link modelBuilder}); 0: not remembered. */
  ownershipGraceMs?: number;
}

/** Where the companion runs, read from its own container among the snapshot (absent: not in a container). */
function placementOf(containers: ContainerInfo[], selfId: string | undefined): Placement {
  const self = selfId === undefined ? undefined : containers.find((c) => c.id === selfId);
  // Host network mode (or no container of ours in sight) reaches every bridge network directly.
  if (!self || self.networkMode === 'host') return selfId === undefined ? {} : { selfId };
  return { selfId: self.id, networks: self.networks.map((n) => n.name) };
}

/** The services a snapshot gives, with the companion placed where its own container says. */
export function modelOf(containers: ContainerInfo[], options: ModelOptions & { selfId: string | undefined }): ServiceModel {
  const { selfId, ...modelOptions } = options;
  return buildServices(containers, placementOf(containers, selfId), modelOptions);
}

/**
 * {@link modelOf} for a pass loop: the same model, but what a container says is judged once, not at every pass.
 * Snapshots keep the same ContainerInfo object while a container does not change, so one change at 1,000
 * containers judges one container (the rest is a lookup), as long as the companion's own placement holds.
 */
export function modelBuilder(
  options: ModelOptions & { selfId: string | undefined } & TenureOptions,
): (containers: ContainerInfo[]) => ServiceModel {
  const { selfId, now = Date.now, tenures: initial = [], onTenures, ...modelOptions } = options;
  const graceMs = modelOptions.ownershipGraceMs ?? 0;
  // A file holds no departure times: an owner gone at start has the grace from now (the companion saw nothing while down).
  let tenures: readonly Tenure[] = graceMs > 0 ? initial : [];
  let judged = new WeakMap<ContainerInfo, Judgement>();
  let judgedFor = '';
  return (containers) => {
    const placement = placementOf(containers, selfId);
    const key = JSON.stringify(placement);
    if (key !== judgedFor) [judged, judgedFor] = [new WeakMap(), key];
    const nowMs = now();
    if (graceMs > 0) tenures = currentTenures(tenures, nowMs, graceMs);
    const { model, held } = buildModel(containers, modelOptions, tenures, (container) => {
      const known = judged.get(container);
      if (known) return known;
      const judgement = judge(container, placement, modelOptions);
      judged.set(container, judgement);
      return judgement;
    });
    if (graceMs > 0) {
      const next = nextTenures(tenures, held, nowMs, graceMs);
      const changed = !sameStoredTenures(tenures, next);
      tenures = next;
      if (changed) onTenures?.(next);
    }
    return model;
  };
}

/** The ownership memory of a pass loop ({@link modelBuilder}): its clock, what it remembered before, where it keeps it. */
export interface TenureOptions {
  now?: () => number;
  /** Loaded from the state directory at start. */
  tenures?: readonly Tenure[];
  /** Called when what a tenure file keeps changes, to write it. */
  onTenures?: (tenures: Tenure[]) => void;
}

/** Why a route cannot be served: for the whole container (paused, no address), or for the route alone (its port). */
type Unservable = { ok: false; reason: string; scope: 'container' | 'route' };

/** One route of one container, with the keys it claims and where it is reached (or why it cannot be). */
interface RouteClaim {
  spec: RouteSpec;
  keys: string[];
  /** No server for a redirect, which HAProxy answers itself. */
  target: { ok: true; value: Server | undefined } | Unservable;
  /** Canonical form of the policy: servers of one key must agree on it. */
  policyKey: string;
}

/** What one container says, decided from it alone (the companion's placement and settings aside). */
type Judgement =
  | { kind: 'ignored' }
  | { kind: 'declares'; container: ContainerInfo; owner: Owner; claims: RouteClaim[]; refused: RouteRefusal[] };

function judge(container: ContainerInfo, placement: Placement, options: ModelOptions): Judgement {
  if (!optedIn(container, placement)) return { kind: 'ignored' };
  const declared = declaredRoutes(container, options.zone, options.maxDomainsPerContainer ?? DEFAULT_MAX_DOMAINS_PER_CONTAINER);
  const targetOptions = { allowHostNetwork: options.allowHostNetwork ?? false, reservedPorts: options.reservedPorts ?? [] };
  const health = healthProblem(container);
  const address = health === undefined && declared.routes.length > 0 ? chooseAddress(container, placement, targetOptions) : undefined;
  const intervals = checkIntervals(declared.routes);
  const claims = declared.routes.map((spec, i): RouteClaim => {
    let target: RouteClaim['target'];
    if (health !== undefined) target = { ok: false, reason: health, scope: 'container' };
    else if (spec.policy.redirect !== undefined) target = { ok: true, value: undefined };
    else if (address?.ok === false) target = { ok: false, reason: address.reason, scope: 'container' };
    else {
      const tcp = tcpPortProblem(spec, options);
      const checkInter = haproxyDuration(intervals[i] ?? DEFAULT_CHECK_INTERVAL_MS);
      target = tcp
        ? { ok: false, reason: tcp, scope: 'route' }
        : routeServer(container, spec, { address: address?.value ?? '', checkInter }, targetOptions);
    }
    return { spec, keys: routeKeys(spec), target, policyKey: JSON.stringify(spec.policy) };
  });
  return { kind: 'declares', container, owner: ownerOf(container), claims, refused: declared.refused };
}

/** Paused, stopping or not healthy: none of its routes is served, but it still holds what it claims. */
function healthProblem(container: ContainerInfo): string | undefined {
  if (container.paused) return 'container is paused';
  if (container.stopping) return 'container is stopping: out of rotation while it finishes its requests';
  // Docker's own words (starting, unhealthy), but cut like any other value that is not ours.
  if (container.health !== undefined && container.health !== 'healthy') return `health check is ${clip(container.health, MAX_QUOTED)}`;
  return undefined;
}

/**
 * A TCP route opens a listener on the host: only on a port the companion's operator allowed (TCP_PORTS,
 * like Traefik's entry points), and never on one of the companion's own.
 */
function tcpPortProblem(spec: RouteSpec, options: ModelOptions): string | undefined {
  const port = spec.tcpPort;
  if (port === undefined) return undefined;
  const reserved = options.reservedPorts ?? [];
  if (reserved.includes(port)) return `TCP port ${port} is the companion's own (reserved: ${reserved.join(', ')})`;
  const allowed = options.tcpPorts ?? [];
  if (!allowed.some(([min, max]) => port >= min && port <= max)) {
    const list = allowed.map(([min, max]) => (min === max ? `${min}` : `${min}-${max}`)).join(',');
    return `TCP port ${port} is not one the companion opens (TCP_PORTS=${list === '' ? '(unset)' : list})`;
  }
  return undefined;
}

/** The server of one route at the container's `address`, checked every `checkInter`. */
function routeServer(
  container: ContainerInfo,
  spec: RouteSpec,
  { address, checkInter }: { address: string; checkInter: string },
  options: TargetOptions,
): RouteClaim['target'] {
  // The route `default` is the one before routes: its port label is the one users know.
  const portLabel = spec.name === DEFAULT_ROUTE ? Labels.port : `${LABEL_PREFIX}${spec.name}.port`;
  const port = chooseRoutePort(container, address, options, { port: spec.port, portLabel });
  if (!port.ok) return { ...port, scope: 'route' };
  return {
    ok: true,
    value: {
      name: serverName(container),
      containerId: container.id,
      containerName: container.name,
      address,
      port: port.value,
      endpoint: `${isIP(address) === 6 ? `[${address}]` : address}:${port.value}`,
      checkInter,
    },
  };
}

/** Builds the sorted, deterministic list of services from a snapshot of containers. */
export function buildServices(
  containers: ContainerInfo[],
  placement: Placement,
  options: ModelOptions,
  judged: (container: ContainerInfo) => Judgement = (container) => judge(container, placement, options),
): ServiceModel {
  return buildModel(containers, options, [], judged).model;
}

/** {@link buildServices}, with the keys remembered from earlier passes weighed in, and who holds each key now. */
function buildModel(
  containers: ContainerInfo[],
  options: ModelOptions,
  tenures: readonly Tenure[],
  judged: (container: ContainerInfo) => Judgement,
): { model: ServiceModel; held: HeldKey[] } {
  const skipped: SkippedContainer[] = [];
  const skip = (container: ContainerInfo, reason: string, names: string[] | undefined, route?: string, conflict?: Conflict) =>
    skipped.push({
      containerId: container.id,
      containerName: container.name,
      ...(route !== undefined && { route }),
      domain: names && clip(names.join(','), MAX_REASON),
      reason: clip(reason, MAX_REASON),
      ...(conflict && { ownedBy: conflict.ownedBy }),
    });
  const declaring: Array<Extract<Judgement, { kind: 'declares' }>> = [];
  for (const container of containers) {
    const judgement = judged(container);
    if (judgement.kind !== 'declares') continue;
    for (const refusal of judgement.refused) skip(container, refusal.reason, refusal.names, refusal.route);
    declaring.push(judgement);
  }

  // Every valid route counts for ownership, routable or not: an owner whose oldest container is unhealthy keeps its names.
  const ownership = routeOwnership([
    ...rememberedClaims(tenures),
    ...declaring.map(({ container, owner, claims }) => ({ container, owner, keys: claims.flatMap((c) => c.keys) })),
  ]);
  const services = new Map<string, Service>();
  /** The policy of each key, set by its oldest claimant of the owning owner. */
  const policyOf = new Map<string, { policyKey: string; container: ContainerInfo }>();
  for (const { container, claims, owner } of [...declaring].sort((a, b) => (older(a.container, b.container) ? -1 : 1))) {
    // Paused, unhealthy or unreachable: one entry for the container, naming all it declares.
    const whole = claims.find((c) => !c.target.ok && c.target.scope === 'container');
    if (whole && !whole.target.ok)
      skip(
        container,
        whole.target.reason,
        claims.flatMap((c) => namesOf(c.spec)),
      );
    for (const claim of claims) {
      const route = claim.spec.name;
      const conflict = ownership.conflictOf(container, claim.keys);
      if (conflict) {
        skip(container, conflict.reason, namesOf(claim.spec), route, conflict);
        continue;
      }
      const disagreement = claim.keys.map((key) => policyOf.get(key)).find((p) => p !== undefined && p.policyKey !== claim.policyKey);
      if (disagreement) {
        skip(
          container,
          `its policy labels differ from those of the same route on ${quote(disagreement.container.name)}, the oldest container serving it, whose labels apply`,
          namesOf(claim.spec),
          route,
        );
        continue;
      }
      for (const key of claim.keys) if (!policyOf.has(key)) policyOf.set(key, { policyKey: claim.policyKey, container });
      if (!claim.target.ok) {
        if (claim.target.scope === 'route') skip(container, claim.target.reason, namesOf(claim.spec), route);
        continue;
      }
      addServer(services, claim, claim.target.value, options.zone, ownerOfClaim(container, owner));
    }
  }
  const sorted = [...services.values()].sort(byServiceOrder);
  for (const service of sorted) service.servers.sort((a, b) => compare(a.name, b.name));
  skipped.sort(bySkipOrder);
  return { model: { services: sorted, skipped }, held: ownership.held() };
}

/** The order of a model's services: kind, domain, path, TCP port. */
export function byServiceOrder(a: Service, b: Service): number {
  return compare(a.kind, b.kind) || compare(a.domain, b.domain) || compare(a.path, b.path) || (a.tcpPort ?? 0) - (b.tcpPort ?? 0);
}

/** For skip entries: the route's names, or its TCP port. */
/** Skip entries by container name, then id, then route: the order /status and the log show them in. */
function bySkipOrder(a: SkippedContainer, b: SkippedContainer): number {
  return compare(a.containerName, b.containerName) || compare(a.containerId, b.containerId) || compare(a.route ?? '', b.route ?? '');
}

function namesOf(spec: RouteSpec): string[] {
  return spec.tcpPort !== undefined ? routeKeys(spec) : spec.domains;
}

function ownerOfClaim(container: ContainerInfo, owner: Owner): ServiceOwner {
  const project = container.labels[ComposeLabels.project];
  return { key: owner.key, description: owner.description, ...(project && { project }) };
}

function addServer(services: Map<string, Service>, claim: RouteClaim, server: Server | undefined, zone: string, owner: ServiceOwner): void {
  const { spec } = claim;
  const names = spec.tcpPort !== undefined ? [''] : spec.domains;
  for (const [i, key] of claim.keys.entries()) {
    let service = services.get(key);
    if (service === undefined) {
      const domain = names[i] ?? '';
      service = {
        key,
        kind: spec.tcpPort !== undefined ? 'tcp' : 'http',
        domain,
        path: spec.path,
        hostnames: domain === '' ? [] : hostnamesOf(domain, zone),
        ...(spec.tcpPort !== undefined && { tcpPort: spec.tcpPort }),
        policy: spec.policy,
        route: spec.name,
        owner,
        servers: [],
      };
      services.set(key, service);
    }
    if (server) service.servers.push(server);
  }
}

/**
 * The model without the TCP routes on `busy` ports (in use on the host by something else): each of their
 * containers is skipped for that route, with the reason. Everything else is as it was.
 */
export function withoutBusyTcpPorts(model: ServiceModel, busy: ReadonlySet<number>): ServiceModel {
  if (busy.size === 0) return model;
  const taken = model.services.filter((s) => s.tcpPort !== undefined && busy.has(s.tcpPort));
  if (taken.length === 0) return model;
  const skipped = [
    ...model.skipped,
    ...taken.flatMap((s) =>
      s.servers.map((server) => ({
        containerId: server.containerId,
        containerName: server.containerName,
        route: s.route,
        domain: s.key,
        reason: `TCP port ${s.tcpPort} is already in use on the host`,
      })),
    ),
  ].sort(bySkipOrder);
  return { services: model.services.filter((s) => !taken.includes(s)), skipped };
}

/** The names DNS registers for these services: every HTTP route's domain (a wildcard's `*.x` too), once; TCP routes have none. */
export function registeredDomains(services: Service[]): string[] {
  return [...new Set(services.filter((s) => s.kind === 'http').map((s) => s.domain))].sort(compare);
}

/** Not opted in, not running, or the companion itself: nothing to route, and nothing to report. */
function optedIn(container: ContainerInfo, placement: Placement): boolean {
  if (placement.selfId !== undefined && container.id === placement.selfId) return false;
  // Listed while stopping or starting: not a problem to report, just not (or no longer) routable.
  if (!container.running) return false;
  if (!declaresAnything(container)) return false;
  const enable = container.labels[Labels.enable]?.trim().toLowerCase();
  return !(enable === 'false' || enable === '0' || enable === 'no');
}

/** A domain (label or `DOMAIN`) or any route label: `haproxy-companion.<route>.<key>`. */
function declaresAnything(container: ContainerInfo): boolean {
  if (container.labels[Labels.domain] !== undefined || container.env[DOMAIN_ENV] !== undefined) return true;
  for (const key of Object.keys(container.labels))
    if (key.startsWith(LABEL_PREFIX) && key.indexOf('.', LABEL_PREFIX.length) > 0) return true;
  return false;
}

function serverName(container: ContainerInfo): string {
  const safe = container.name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return safe === '' ? container.id.slice(0, 12) : safe;
}
