/**
 * Where a container is reached: its port and address. The address is the container's own on a network
 * the companion shares, or, for a host-network container, the host's loopback, which reaches everything
 * listening on the host: so loopback takes an opt-in on both sides and never reaches the companion's own ports.
 */
import { isIP } from 'node:net';
import { isLoopback, isUnspecified } from '../lib/addresses.js';
import type { ContainerInfo } from './container.js';
import { isTrue, Labels } from './labels.js';
import { clip, MAX_QUOTED, quote } from './reasons.js';

/** Where the companion itself runs, which decides the addresses it can reach. */
export interface Placement {
  /** The companion's own container id, when it runs in a container: it never routes to itself. */
  selfId?: string;
  /** Networks the companion shares with other containers; `undefined` means it reaches every bridge (host network mode, or not in a container). */
  networks?: string[];
}

export interface TargetOptions {
  /** ALLOW_HOST_NETWORK: the companion's half of the opt-in for host-network containers. */
  allowHostNetwork: boolean;
  /** The companion's own ports (HTTP, status, stats…): never a target on loopback. */
  reservedPorts: readonly number[];
}

export type Choice<T> = { ok: true; value: T } | { ok: false; reason: string };

const LOOPBACK = '127.0.0.1';

/** Loopback and unspecified addresses (IPv4-mapped forms too) are the host itself, never a container's own. */
const isHostItself = (ip: string) => isLoopback(ip) || isUnspecified(ip);

/**
 * The port one route of `container` is reached on at `address`: the route's own (`port`), else the one TCP
 * port the container exposes. `portLabel` names the label that would choose it, for reasons.
 */
export function chooseRoutePort(
  container: ContainerInfo,
  address: string,
  options: TargetOptions,
  route: { port: number | undefined; portLabel: string },
): Choice<number> {
  const port = route.port !== undefined ? { ok: true as const, value: route.port } : exposedPort(container, route.portLabel);
  if (!port.ok) return port;
  if (address === LOOPBACK && options.reservedPorts.includes(port.value)) {
    return {
      ok: false,
      reason: `port ${port.value} on ${LOOPBACK} is the companion's own (reserved: ${options.reservedPorts.join(', ')})`,
    };
  }
  return port;
}

/** The one TCP port the container exposes, when no label chose one. */
function exposedPort(container: ContainerInfo, portLabel: string): Choice<number> {
  const tcp = container.exposedPorts
    .filter((p) => /^\d+\/tcp$/.test(p))
    .map((p) => Number(p.split('/')[0]))
    .sort((a, b) => a - b);
  // Docker stores whatever was asked for, 0 and 99999 included; HAProxy would reject the whole file.
  const invalid = tcp.filter((p) => !(p >= 1 && p <= 65535));
  if (invalid.length > 0) {
    return { ok: false, reason: `exposed port ${invalid[0]} is not a port number (1-65535); set label ${portLabel}` };
  }
  const [only, ...others] = tcp;
  if (only !== undefined && others.length === 0) return { ok: true, value: only };
  if (tcp.length === 0) {
    return { ok: false, reason: `no exposed TCP port; set label ${portLabel} to the port the service listens on` };
  }
  return { ok: false, reason: `several exposed TCP ports (${tcp.join(', ')}); set label ${portLabel} to choose one` };
}

/** The container's address on a network the companion reaches (loopback for an opted-in host-network container). */
export function chooseAddress(container: ContainerInfo, placement: Placement, options: TargetOptions): Choice<string> {
  if (container.networkMode === 'host') return hostNetworkAddress(container, placement, options);
  const wanted = container.labels[Labels.network];
  let candidates = container.networks.filter((n) => isIP(n.ip) !== 0 && !isHostItself(n.ip));
  if (wanted !== undefined) {
    candidates = candidates.filter((n) => n.name === wanted);
    if (candidates.length === 0) {
      return { ok: false, reason: `label ${Labels.network}=${quote(wanted)} names no network this container has an address on` };
    }
  }
  if (placement.networks !== undefined) {
    const reachable = new Set(placement.networks);
    const shared = candidates.filter((n) => reachable.has(n.name));
    if (shared.length === 0) {
      const names = (list: string[]) => list.map((name) => clip(name, MAX_QUOTED)).join(', ') || 'none';
      return {
        ok: false,
        reason: `no network shared with the companion (container: ${names(candidates.map((n) => n.name))}; companion: ${names(placement.networks)})`,
      };
    }
    candidates = shared;
  }
  const first = candidates[0];
  if (first === undefined) return { ok: false, reason: 'container has no IP address on any network (loopback does not count)' };
  return { ok: true, value: first.ip };
}

/** A host-network container listens on the host itself: loopback, with both opt-ins, when we share the host's stack. */
function hostNetworkAddress(container: ContainerInfo, placement: Placement, options: TargetOptions): Choice<string> {
  if (!isTrue(container.labels[Labels.hostNetwork])) {
    return {
      ok: false,
      reason: `container uses host networking: set the label ${Labels.hostNetwork}=true on it and ALLOW_HOST_NETWORK=true on the companion to route it on ${LOOPBACK}`,
    };
  }
  if (!options.allowHostNetwork) {
    return {
      ok: false,
      reason: `container uses host networking (label ${Labels.hostNetwork}=true), but the companion does not allow it: set ALLOW_HOST_NETWORK=true`,
    };
  }
  if (placement.networks !== undefined) {
    return { ok: false, reason: 'container uses host networking, which the companion can reach only in host network mode' };
  }
  return { ok: true, value: LOOPBACK };
}
