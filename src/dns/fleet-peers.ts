/**
 * The other hosts of the fleet that serve each name, as the zone shows them (FLEET_FALLBACK): when the
 * last local server of a service is gone, HAProxy sends its requests to them (backup servers) instead of
 * answering 503 while clients still hold this host's address. Pure: the zone's records in, peers out.
 *
 * Only a host that vouches for its record counts, by the rules that make a record a host's own
 * ({@link ownedRecords}): its live marker (lease not lapsed) at `_hc-owner.<name>` under its SetIdentifier
 * for the name, and its A record under its SetIdentifier (in `simple` mode, the plain A record at the name
 * that the marker there vouches for). A hand-made record, a lapsed host or a marker holding anything else
 * is never a peer: requests are only ever sent to hosts that run the companion and said so. Nor is a host
 * whose marker names another owner of the name than this host's (issue #21): a name two owners share
 * (FLEET_SHARED_OWNERS) is two apps, and one's requests never go to the other.
 */
import { BlockList } from 'node:net';
import { couldBeAnotherHostIpv4 } from '../lib/addresses.js';
import { compare } from '../lib/compare.js';
import { type FleetUnit, sameUnit } from './fleet-owners.js';
import { isLive, type LiveMarker, liveMarkers } from './live-markers.js';
import type { RecordContext, RecordSet } from './records.js';

export interface FleetPeer {
  hostId: string;
  /** Its A record's address: where its HAProxy listens, on the fleet's HTTP_PORT (or HTTPS_PORT). */
  address: string;
}

/** Name (lower case, no trailing dot) -> the other hosts serving it, by host id. */
export type FleetPeers = ReadonlyMap<string, readonly FleetPeer[]>;

export const NO_PEERS: FleetPeers = new Map();

/** FLEET_PEER_CIDRS as a list to check addresses against; undefined: any address another host could have. */
export function peerNetworks(cidrs: string[] | undefined): BlockList | undefined {
  if (cidrs === undefined) return undefined;
  const networks = new BlockList();
  for (const entry of cidrs) {
    const [address = '', prefix] = entry.split('/');
    if (prefix === undefined) networks.addAddress(address, 'ipv4');
    else networks.addSubnet(address, Number(prefix), 'ipv4');
  }
  return networks;
}

export interface PeerContext extends Pick<RecordContext, 'hostId' | 'hostIp' | 'mode'> {
  peerNetworks?: BlockList | undefined;
  /**
   * This host's owner of each name (lower case, as the zone lists it): only hosts whose marker names the
   * same unit ({@link sameUnit}) are its peers, requests are never sent to another owner's app, nor to a
   * host whose marker names none (written before owners). Undefined for a name: no host. Absent: any host.
   */
  unitOf?: ((name: string) => FleetUnit | undefined) | undefined;
}

export function fleetPeers(zoneRecords: RecordSet[], ctx: PeerContext, nowS: number): FleetPeers {
  return peersFrom(liveMarkers(zoneRecords, ctx, nowS), ctx, nowS);
}

/** {@link fleetPeers} from the markers of a listing: again when this host's owners change, without listing again. */
export function peersFrom(markers: readonly LiveMarker[], ctx: PeerContext, nowS: number): FleetPeers {
  const peers = new Map<string, FleetPeer[]>();
  for (const marker of markers) {
    if (!isLive(marker, nowS)) continue;
    // With owners known, a name without one here has no peers: never "any host" by omission.
    if (ctx.unitOf) {
      const mine = ctx.unitOf(marker.name);
      if (mine === undefined || marker.claim === undefined || !sameUnit(mine, marker.claim)) continue;
    }
    const a = marker.a;
    const address = a && a.values.length === 1 ? a.values[0] : undefined;
    // Never an address no other host has (a zone writer must not turn the fallback into a proxy to this
    // host itself or to instance metadata), nor this host under another id (an old HOST_ID).
    if (address === undefined || !couldBeAnotherHostIpv4(address) || address === ctx.hostIp) continue;
    if (ctx.peerNetworks && !ctx.peerNetworks.check(address, 'ipv4')) continue;
    peers.set(marker.name, [...(peers.get(marker.name) ?? []), { hostId: marker.hostId, address }]);
  }
  // One address per host, the one its first name (in name order) gives: the health check of a host and the
  // backup servers that track it must reach the same place, whatever names' records disagree.
  const addressOf = new Map<string, string>();
  for (const name of [...peers.keys()].sort(compare)) {
    for (const peer of peers.get(name) ?? []) if (!addressOf.has(peer.hostId)) addressOf.set(peer.hostId, peer.address);
  }
  for (const [name, list] of peers) {
    peers.set(
      name,
      list.map((p) => ({ hostId: p.hostId, address: addressOf.get(p.hostId) ?? p.address })).sort((x, y) => compare(x.hostId, y.hostId)),
    );
  }
  return peers;
}

export function samePeers(a: FleetPeers, b: FleetPeers): boolean {
  if (a.size !== b.size) return false;
  for (const [name, list] of a) {
    const other = b.get(name);
    if (other === undefined || other.length !== list.length) return false;
    if (list.some((p, i) => p.hostId !== other[i]?.hostId || p.address !== other[i]?.address)) return false;
  }
  return true;
}

/** The distinct hosts among the peers: what /status shows. */
export function peerHosts(peers: FleetPeers): string[] {
  return [...new Set([...peers.values()].flatMap((list) => list.map((p) => p.hostId)))].sort(compare);
}
