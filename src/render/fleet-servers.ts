/**
 * Which other hosts of the fleet a backend falls back on (FLEET_FALLBACK): the hosts the zone shows
 * serving any of its service's names. HAProxy uses them as backup servers, only while none of the
 * service's own servers is up. Pure.
 *
 * Left out, because the other host could not answer as this one would:
 * - a route with an allow list: the other host sees this host's address, not the client's;
 * - a redirect: it needs no server;
 * - TCP routes: a TCP port is not a name the zone knows.
 */
import type { FleetPeers } from '../dns/fleet-peers.js';
import { compare } from '../lib/compare.js';
import type { Service } from '../model/services.js';

export interface PeerServer {
  /**
   * `fleet:<hostId>`: a local server's name never has a `:` (services.ts `serverName`), so no container can
   * name itself into a clash with a peer.
   */
  name: string;
  hostId: string;
  address: string;
}

export function peerServersOf(service: Pick<Service, 'kind' | 'policy' | 'hostnames'> | undefined, peers: FleetPeers): PeerServer[] {
  if (service === undefined || service.kind !== 'http' || service.policy.allow || service.policy.redirect || peers.size === 0) return [];
  const byHost = new Map<string, PeerServer>();
  for (const hostname of service.hostnames) {
    for (const peer of peers.get(hostname) ?? []) {
      if (!byHost.has(peer.hostId)) byHost.set(peer.hostId, { name: `fleet:${peer.hostId}`, hostId: peer.hostId, address: peer.address });
    }
  }
  return [...byHost.values()].sort((a, b) => compare(a.name, b.name));
}

/** The other hosts the backends fall back on, once each (the first address seen): the health checks their backup servers track. */
export function fleetHostsOf(backends: { peers: PeerServer[] }[]): { hostId: string; address: string }[] {
  const hosts = new Map<string, string>();
  for (const backend of backends) for (const peer of backend.peers) if (!hosts.has(peer.hostId)) hosts.set(peer.hostId, peer.address);
  return [...hosts].map(([hostId, address]) => ({ hostId, address })).sort((a, b) => compare(a.hostId, b.hostId));
}
