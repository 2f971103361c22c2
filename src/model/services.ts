/**
 * The pure core: running containers in, routable services out. No I/O here; every decision about
 * a container is made from its {@link ContainerInfo} and the companion's own placement.
 */
import { isIP } from 'node:net';
import { compare } from '../lib/compare.js';
import type { ContainerInfo } from './container.js';
import { parseServiceDomain } from './domain.js';
import { DOMAIN_ENV, Labels } from './labels.js';

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
  /** Host header values routed to this service, e.g. `login.example.com` and `login`. */
  hostnames: string[];
  servers: Server[];
}

export interface SkippedContainer {
  containerId: string;
  containerName: string;
  domain?: string;
  reason: string;
}

/** Where the companion itself runs, which decides the addresses it can reach. */
export interface Placement {
  /** The companion's own container id, when it runs in a container: it never routes to itself. */
  selfId?: string;
  /** Networks the companion shares with other containers; `undefined` means it reaches every bridge (host network mode, or not in a container). */
  networks?: string[];
}

/** Where the companion runs, read from its own container among the snapshot (absent: not in a container). */
function placementOf(containers: ContainerInfo[], selfId: string | undefined): Placement {
  const self = selfId === undefined ? undefined : containers.find((c) => c.id === selfId);
  // Host network mode (or no container of ours in sight) reaches every bridge network directly.
  if (!self || self.networkMode === 'host') return selfId === undefined ? {} : { selfId };
  return { selfId: self.id, networks: self.networks.map((n) => n.name) };
}

export interface ServiceModel {
  services: Service[];
  skipped: SkippedContainer[];
}

export interface ModelOptions {
  zone: string;
}

/** The services a snapshot gives, with the companion placed where its own container says. */
export function modelOf(containers: ContainerInfo[], options: ModelOptions & { selfId: string | undefined }): ServiceModel {
  return buildServices(containers, placementOf(containers, options.selfId), { zone: options.zone });
}

type Decision = { ok: true; domains: string[]; server: Server } | { ok: false; reason: string; domain?: string } | null;

/** Builds the sorted, deterministic list of services from a snapshot of containers. */
export function buildServices(containers: ContainerInfo[], placement: Placement, options: ModelOptions): ServiceModel {
  const byDomain = new Map<string, Server[]>();
  const skipped: SkippedContainer[] = [];
  for (const container of containers) {
    const decision = decide(container, placement, options);
    if (decision === null) continue;
    if (!decision.ok) {
      skipped.push({
        containerId: container.id,
        containerName: container.name,
        domain: decision.domain,
        reason: decision.reason,
      });
      continue;
    }
    for (const domain of decision.domains) {
      const servers = byDomain.get(domain) ?? [];
      servers.push(decision.server);
      byDomain.set(domain, servers);
    }
  }
  const services = [...byDomain.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([domain, servers]) => ({
      domain,
      hostnames: [`${domain}.${options.zone}`, domain],
      servers: servers.sort((a, b) => compare(a.name, b.name)),
    }));
  skipped.sort((a, b) => compare(a.containerName, b.containerName));
  return { services, skipped };
}

/** `null`: the container did not opt in, is not running, or is the companion itself: nothing to report. */
function decide(container: ContainerInfo, placement: Placement, options: ModelOptions): Decision {
  if (placement.selfId !== undefined && container.id === placement.selfId) return null;
  // Listed while stopping or starting: not a problem to report, just not (or no longer) routable.
  if (!container.running) return null;
  const rawDomain = container.labels[Labels.domain] ?? container.env[DOMAIN_ENV];
  if (rawDomain === undefined) return null;
  const enable = container.labels[Labels.enable]?.trim().toLowerCase();
  if (enable === 'false' || enable === '0' || enable === 'no') return null;

  const domains: string[] = [];
  // A comma-separated list lets one container answer several names, as nginx-proxy's VIRTUAL_HOST does.
  for (const part of rawDomain.split(',')) {
    const parsed = parseServiceDomain(part, options.zone);
    if (!parsed.ok) return { ok: false, reason: `domain ${JSON.stringify(part.trim())} ${parsed.reason}` };
    if (!domains.includes(parsed.name)) domains.push(parsed.name);
  }
  const domain = domains.join(',');

  const state = routableState(container);
  if (state) return { ok: false, domain, reason: state };

  const port = choosePort(container);
  if (!port.ok) return { ok: false, domain, reason: port.reason };

  const address = chooseAddress(container, placement);
  if (!address.ok) return { ok: false, domain, reason: address.reason };

  return {
    ok: true,
    domains,
    server: {
      name: serverName(container),
      containerId: container.id,
      containerName: container.name,
      address: address.value,
      port: port.value,
      endpoint: `${isIP(address.value) === 6 ? `[${address.value}]` : address.value}:${port.value}`,
    },
  };
}

function routableState(container: ContainerInfo): string | undefined {
  if (container.paused) return 'container is paused';
  if (container.health !== undefined && container.health !== 'healthy') return `health check is ${container.health}`;
  return undefined;
}

type Choice<T> = { ok: true; value: T } | { ok: false; reason: string };

function choosePort(container: ContainerInfo): Choice<number> {
  const label = container.labels[Labels.port];
  if (label !== undefined) {
    const port = /^\d{1,5}$/.test(label.trim()) ? Number(label.trim()) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      return { ok: false, reason: `label ${Labels.port}=${JSON.stringify(label)} is not a port number (1-65535)` };
    }
    return { ok: true, value: port };
  }
  const tcp = container.exposedPorts
    .filter((p) => /^\d+\/tcp$/.test(p))
    .map((p) => Number(p.split('/')[0]))
    .sort((a, b) => a - b);
  // Docker stores whatever was asked for, 0 and 99999 included; HAProxy would reject the whole file.
  const invalid = tcp.filter((p) => !(p >= 1 && p <= 65535));
  if (invalid.length > 0) {
    return { ok: false, reason: `exposed port ${invalid[0]} is not a port number (1-65535); set label ${Labels.port}` };
  }
  const [only, ...others] = tcp;
  if (only !== undefined && others.length === 0) return { ok: true, value: only };
  if (tcp.length === 0) {
    return { ok: false, reason: `no exposed TCP port; set label ${Labels.port} to the port the service listens on` };
  }
  return {
    ok: false,
    reason: `several exposed TCP ports (${tcp.join(', ')}); set label ${Labels.port} to choose one`,
  };
}

function chooseAddress(container: ContainerInfo, placement: Placement): Choice<string> {
  if (container.networkMode === 'host') {
    // A host-network container listens on the host itself: reachable on loopback only when we share the host's stack.
    if (placement.networks === undefined) return { ok: true, value: '127.0.0.1' };
    return { ok: false, reason: 'container uses host networking, which the companion can reach only in host network mode' };
  }
  const wanted = container.labels[Labels.network];
  let candidates = container.networks.filter((n) => isIP(n.ip) !== 0);
  if (wanted !== undefined) {
    candidates = candidates.filter((n) => n.name === wanted);
    if (candidates.length === 0) {
      return { ok: false, reason: `label ${Labels.network}=${JSON.stringify(wanted)} names no network this container has an address on` };
    }
  }
  if (placement.networks !== undefined) {
    const reachable = new Set(placement.networks);
    const shared = candidates.filter((n) => reachable.has(n.name));
    if (shared.length === 0) {
      return {
        ok: false,
        reason: `no network shared with the companion (container: ${candidates.map((n) => n.name).join(', ') || 'none'}; companion: ${placement.networks.join(', ') || 'none'})`,
      };
    }
    candidates = shared;
  }
  const first = candidates[0];
  if (first === undefined) return { ok: false, reason: 'container has no IP address on any network' };
  return { ok: true, value: first.ip };
}

function serverName(container: ContainerInfo): string {
  const safe = container.name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return safe === '' ? container.id.slice(0, 12) : safe;
}
