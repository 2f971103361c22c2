/**
 * The other hosts' live markers in a zone listing, with the records each vouches for: what the fleet's
 * peers (fleet-peers.ts) and its owners (fleet-ownership.ts) are read from. Only a marker that vouches
 * by the rules that make a record a host's own (records.ts `ownedRecords`) counts: one value, a marker of one
 * host, under that host's SetIdentifier for the name in `multivalue` mode (plain in `simple` mode), its
 * lease not lapsed (or none). Pure.
 */
import {
  MARKER_PREFIX,
  type MarkerClaim,
  normaliseName,
  parseMarker,
  type RecordContext,
  type RecordSet,
  recordKey,
  setIdentifierFor,
} from './records.js';

export interface LiveMarker {
  /** The name it vouches for, lower case, without the trailing dot. */
  name: string;
  hostId: string;
  expiresS?: number | undefined;
  /** The name's owner on that host; absent for a marker written before owners (an unknown owner). */
  claim?: MarkerClaim | undefined;
  /** Its A and AAAA records (under its SetIdentifier in `multivalue` mode), when there. */
  a?: RecordSet | undefined;
  aaaa?: RecordSet | undefined;
}

export function liveMarkers(zoneRecords: RecordSet[], ctx: Pick<RecordContext, 'hostId' | 'mode'>, nowS: number): LiveMarker[] {
  const byKey = new Map(zoneRecords.map((r) => [recordKey(r), r]));
  const live: LiveMarker[] = [];
  for (const marker of zoneRecords) {
    if (marker.type !== 'TXT' || !marker.name.startsWith(MARKER_PREFIX) || marker.values.length !== 1) continue;
    const vouch = parseMarker(marker.values[0] as string);
    if (vouch === undefined || vouch.owner === ctx.hostId || (vouch.expiresS !== undefined && vouch.expiresS < nowS)) continue;
    const idFor = (name: string, type: RecordSet['type']) =>
      ctx.mode === 'multivalue' ? setIdentifierFor(vouch.owner, name, type) : undefined;
    if (marker.setIdentifier !== idFor(marker.name, 'TXT')) continue;
    const name = marker.name.slice(MARKER_PREFIX.length);
    const record = (type: 'A' | 'AAAA') => {
      const found = byKey.get(recordKey({ name, type, setIdentifier: idFor(name, type) }));
      return found && !found.aliasTarget ? found : undefined;
    };
    live.push({
      name: normaliseName(name),
      hostId: vouch.owner,
      expiresS: vouch.expiresS,
      claim: vouch.claim,
      a: record('A'),
      aaaa: record('AAAA'),
    });
  }
  return live;
}

/** Still live at `nowS` (a marker listed a while ago may have lapsed since). */
export const isLive = (marker: Pick<LiveMarker, 'expiresS'>, nowS: number) => marker.expiresS === undefined || marker.expiresS >= nowS;
