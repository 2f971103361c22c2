/**
 * The pure core: running containers in, routable services out. No I/O here; every decision about
 * a container is made from its {@link ContainerInfo}, the companion's own placement and its settings.
 * One container, one decision: it is routed for all the domains it declares, or skipped with one reason.
 */
import { isIP } from 'node:net';
import { compare } from '../lib/compare.js';
import type { ContainerInfo } from './container.js';
import { hostnamesOf, parseServiceDomain } from './domain.js';
import { DOMAIN_ENV, Labels } from './labels.js';
import { type Conflict, domainOwnership, type Owner, ownerOf } from './ownership.js';
import { clip, MAX_QUOTED, MAX_REASON, quote } from './reasons.js';
import { chooseTarget, type Placement } from './target.js';

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
}

export interface Service {
  /** Domain relative to the zone, e.g. `login`. */
  domain: string;
  /** Host header values routed to this service: `login.example.com`, and `login` for a single label. */
  hostnames: string[];
  servers: Server[];
}

export interface SkippedContainer {
  containerId: string;
  containerName: string;
  /** The domains it declares, comma-separated (cut to 300 characters). */
  domain?: string;
  /** Why, in at most 300 characters; values the container supplied are quoted and cut to 64. */
  reason: string;
  /** For a domain another owner holds: that owner's oldest container. */
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
  /** Default {@link DEFAULT_MAX_DOMAINS_PER_CONTAINER}. */
  maxDomainsPerContainer?: number;
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
export function modelBuilder(options: ModelOptions & { selfId: string | undefined }): (containers: ContainerInfo[]) => ServiceModel {
  const { selfId, ...modelOptions } = options;
  let judged = new WeakMap<ContainerInfo, Judgement>();
  let judgedFor = '';
  return (containers) => {
    const placement = placementOf(containers, selfId);
    const key = JSON.stringify(placement);
    if (key !== judgedFor) [judged, judgedFor] = [new WeakMap(), key];
    return buildServices(containers, placement, modelOptions, (container) => {
      const known = judged.get(container);
      if (known) return known;
      const judgement = judge(container, placement, modelOptions);
      judged.set(container, judgement);
      return judgement;
    });
  };
}

type Verdict = { ok: true; server: Server } | { ok: false; reason: string };

/** A container that declares valid domains: it claims them (see ownership.ts) whether or not it can be routed. */
interface Claim {
  container: ContainerInfo;
  domains: string[];
  owner: Owner;
  verdict: Verdict;
}

/** What one container says, decided from it alone (the companion's placement and settings aside). */
type Judgement = { kind: 'ignored' } | { kind: 'refused'; reason: string } | ({ kind: 'claims' } & Claim);

function judge(container: ContainerInfo, placement: Placement, options: ModelOptions): Judgement {
  if (!optedIn(container, placement)) return { kind: 'ignored' };
  const domains = declaredDomains(container, options);
  if (!domains.ok) return { kind: 'refused', reason: domains.reason };
  return { kind: 'claims', container, domains: domains.value, owner: ownerOf(container), verdict: assess(container, placement, options) };
}

/** Builds the sorted, deterministic list of services from a snapshot of containers. */
export function buildServices(
  containers: ContainerInfo[],
  placement: Placement,
  options: ModelOptions,
  judged: (container: ContainerInfo) => Judgement = (container) => judge(container, placement, options),
): ServiceModel {
  const skipped: SkippedContainer[] = [];
  const skip = (container: ContainerInfo, reason: string, domains?: string[], conflict?: Conflict) =>
    skipped.push({
      containerId: container.id,
      containerName: container.name,
      domain: domains && clip(domains.join(','), MAX_REASON),
      reason: clip(reason, MAX_REASON),
      ...(conflict && { ownedBy: conflict.ownedBy }),
    });
  const claims: Claim[] = [];
  for (const container of containers) {
    const judgement = judged(container);
    if (judgement.kind === 'refused') skip(container, judgement.reason);
    else if (judgement.kind === 'claims') claims.push(judgement);
  }

  const ownership = domainOwnership(claims);
  const byDomain = new Map<string, Server[]>();
  for (const { container, domains, verdict } of claims) {
    if (!verdict.ok) {
      skip(container, verdict.reason, domains);
      continue;
    }
    const conflict = ownership.conflictOf(container, domains);
    if (conflict) {
      skip(container, conflict.reason, domains, conflict);
      continue;
    }
    for (const domain of domains) {
      const servers = byDomain.get(domain);
      if (servers) servers.push(verdict.server);
      else byDomain.set(domain, [verdict.server]);
    }
  }
  const services = [...byDomain.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([domain, servers]) => ({
      domain,
      hostnames: hostnamesOf(domain, options.zone),
      servers: servers.sort((a, b) => compare(a.name, b.name)),
    }));
  skipped.sort((a, b) => compare(a.containerName, b.containerName) || compare(a.containerId, b.containerId));
  return { services, skipped };
}

/** Not opted in, not running, or the companion itself: nothing to route, and nothing to report. */
function optedIn(container: ContainerInfo, placement: Placement): boolean {
  if (placement.selfId !== undefined && container.id === placement.selfId) return false;
  // Listed while stopping or starting: not a problem to report, just not (or no longer) routable.
  if (!container.running) return false;
  if (container.labels[Labels.domain] === undefined && container.env[DOMAIN_ENV] === undefined) return false;
  const enable = container.labels[Labels.enable]?.trim().toLowerCase();
  return !(enable === 'false' || enable === '0' || enable === 'no');
}

/** The distinct domains a container declares, relative to the zone; linear in the length of the value. */
function declaredDomains(container: ContainerInfo, options: ModelOptions): { ok: true; value: string[] } | { ok: false; reason: string } {
  // A comma-separated list lets one container answer several names, as nginx-proxy's VIRTUAL_HOST does.
  const parts = (container.labels[Labels.domain] ?? container.env[DOMAIN_ENV] ?? '').split(',');
  const max = options.maxDomainsPerContainer ?? DEFAULT_MAX_DOMAINS_PER_CONTAINER;
  if (parts.length > max) {
    return { ok: false, reason: `declares ${parts.length} domains; at most ${max} are allowed (MAX_DOMAINS_PER_CONTAINER)` };
  }
  const domains = new Set<string>();
  for (const part of parts) {
    const parsed = parseServiceDomain(part, options.zone);
    if (!parsed.ok) return { ok: false, reason: `domain ${quote(part.trim())} ${parsed.reason}` };
    domains.add(parsed.name);
  }
  return { ok: true, value: [...domains] };
}

function assess(container: ContainerInfo, placement: Placement, options: ModelOptions): Verdict {
  if (container.paused) return { ok: false, reason: 'container is paused' };
  if (container.health !== undefined && container.health !== 'healthy') {
    // Docker's own words (starting, unhealthy), but cut like any other value that is not ours.
    return { ok: false, reason: `health check is ${clip(container.health, MAX_QUOTED)}` };
  }
  const target = chooseTarget(container, placement, {
    allowHostNetwork: options.allowHostNetwork ?? false,
    reservedPorts: options.reservedPorts ?? [],
  });
  if (!target.ok) return target;
  const { address, port } = target.value;
  return {
    ok: true,
    server: {
      name: serverName(container),
      containerId: container.id,
      containerName: container.name,
      address,
      port,
      endpoint: `${isIP(address) === 6 ? `[${address}]` : address}:${port}`,
    },
  };
}

function serverName(container: ContainerInfo): string {
  const safe = container.name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return safe === '' ? container.id.slice(0, 12) : safe;
}
