/**
 * The other hosts of the fleet that serve each name, as the zone shows them (FLEET_FALLBACK): when the
 * last local server of a service is gone, HAProxy sends its requests to them (backup servers) instead of
 * answering 503 while clients still hold this host's address. Pure: the zone's records in, peers out.
 *
 * Only a host that vouches for its record counts, by the rules that make a record a host's own
 * ({@link ownedRecords}): its live marker (lease not lapsed) at `_hc-owner.<name>` under its SetIdentifier
 * for the name, and its A record under its SetIdentifier (in `simple` mode, the plain A record at the name
 * that the marker there vouches for). A hand-made record, a lapsed host or a marker holding anything else
 * is never a peer: requests are only ever sent to hosts that run the companion and said so.
 */
import { BlockList } from 'node:net';
import { couldBeAnotherHostIpv4 } from '../lib/addresses.js';
import { compare } from '../lib/compare.js';
import { MARKER_PREFIX, normaliseName, parseMarker, type RecordContext, type RecordSet, recordKey, setIdentifierFor } from './records.js';

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

export function fleetPeers(
  zoneRecords: RecordSet[],
  ctx: Pick<RecordContext, 'hostId' | 'hostIp' | 'mode'> & { peerNetworks?: BlockList | undefined },
  nowS: number,
): FleetPeers {
  const byKey = new Map(zoneRecords.map((r) => [recordKey(r), r]));
  const peers = new Map<string, FleetPeer[]>();
  for (const marker of zoneRecords) {
    if (marker.type !== 'TXT' || !marker.name.startsWith(MARKER_PREFIX) || marker.values.length !== 1) continue;
    const vouch = parseMarker(marker.values[0] as string);
    if (vouch === undefined || vouch.owner === ctx.hostId || (vouch.expiresS !== undefined && vouch.expiresS < nowS)) continue;
    const idFor = (name: string, type: RecordSet['type']) =>
      ctx.mode === 'multivalue' ? setIdentifierFor(vouch.owner, name, type) : undefined;
    if (marker.setIdentifier !== idFor(marker.name, 'TXT')) continue;
    const name = marker.name.slice(MARKER_PREFIX.length);
    const a = byKey.get(recordKey({ name, type: 'A', setIdentifier: idFor(name, 'A') }));
    const address = a && !a.aliasTarget && a.values.length === 1 ? a.values[0] : undefined;
    // Never an address no other host has (a zone writer must not turn the fallback into a proxy to this
    // host itself or to instance metadata), nor this host under another id (an old HOST_ID).
    if (address === undefined || !couldBeAnotherHostIpv4(address) || address === ctx.hostIp) continue;
    if (ctx.peerNetworks && !ctx.peerNetworks.check(address, 'ipv4')) continue;
    const key = normaliseName(name);
    peers.set(key, [...(peers.get(key) ?? []), { hostId: vouch.owner, address }]);
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
