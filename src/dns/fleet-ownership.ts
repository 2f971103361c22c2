/**
 * Ownership across the fleet (issue #21, point 7). Each host decides who owns a name among its own
 * containers (model/ownership.ts); in `multivalue` mode any host could still add itself to a name the rest
 * of the fleet serves, so one careless or compromised host would join `login` for every client. So a
 * host's marker names the owner it serves the name for (fleet-owners.ts), and a host does not add itself
 * to a name whose live markers name another owner, unless FLEET_SHARED_OWNERS allows that owner.
 *
 * Two hosts of different owners that add a name at once see each other only after both wrote. Who stays
 * must not depend on who lists first, or the fleet would never settle: every marker says since when its
 * host has served the name for its owner (`since`, the first write, kept across renewals and restarts),
 * and the name belongs to the owner of the earliest (then of the smallest host id): hosts of other owners
 * (not shared with) remove their records at their next listing, and stay out. The time is the zone's, not
 * a container's: an old container on a host that only now registers would otherwise take a name from the
 * hosts serving it. A host not in the name yet takes no part in the choice, whatever its containers' age,
 * so a host already serving a name is never removed by a newer claimant of another owner. A marker that
 * names no owner (written before owners, during an upgrade) never blocks anyone. Pure.
 */
import { quote } from '../model/reasons.js';
import { type FleetUnit, type NameOwner, sameUnit } from './fleet-owners.js';
import { isLive, type LiveMarker } from './live-markers.js';
import { MARKER_PREFIX, type MarkerClaim, normaliseName, parseMarker, type RecordSet } from './records.js';

/** This host's side of a name: its owner, and since when its own marker in the zone has named that owner. */
export interface NameClaim {
  owner: NameOwner;
  /** Absent: this host's marker is not in the zone with that owner (a newcomer). */
  heldSinceS?: number | undefined;
}

/**
 * This host's claims on its names: what its markers are to say (by domain, for desiredRecords), and its
 * side of each name for {@link ownerConflicts} (by name in the zone). `since` is that of its own marker in
 * the zone when it names the same owner (kept across renewals, restarts and a change of project), else
 * `nowS`, the time of the first write; `owned` is what the host owns in the zone (ownedRecords).
 */
export function nameClaims(
  owners: ReadonlyMap<string, NameOwner>,
  owned: readonly RecordSet[],
  zone: string,
  nowS: number,
): { markers: Map<string, MarkerClaim>; mine: Map<string, NameClaim> } {
  const held = new Map<string, MarkerClaim>();
  for (const r of owned) {
    if (r.type !== 'TXT' || !r.name.startsWith(MARKER_PREFIX)) continue;
    const claim = parseMarker(r.values[0] ?? '')?.claim;
    if (claim) held.set(normaliseName(r.name.slice(MARKER_PREFIX.length)), claim);
  }
  const markers = new Map<string, MarkerClaim>();
  const mine = new Map<string, NameClaim>();
  for (const [domain, owner] of owners) {
    const name = normaliseName(`${domain}.${zone}`);
    const since = held.get(name);
    const heldSinceS = since?.unit === owner.unit ? since.sinceS : undefined;
    markers.set(domain, { unit: owner.unit, project: owner.project, sinceS: heldSinceS ?? nowS });
    mine.set(name, { owner, heldSinceS });
  }
  return { markers, mine };
}

export interface OwnerContext {
  hostId: string;
  /** FLEET_SHARED_OWNERS, as units: names held by them are shared. */
  shared: ReadonlySet<string>;
  nowS: number;
}

/** At most this many other hosts are named in a reason. */
const NAMED_HOSTS = 3;

/**
 * The names (lower case, in the zone) this host must leave out of Route53 because the fleet serves them for
 * another owner, each with the reason: the other hosts by id and unit, and how to let them share.
 */
export function ownerConflicts(
  markers: readonly LiveMarker[],
  mine: ReadonlyMap<string, NameClaim>,
  ctx: OwnerContext,
): Map<string, string> {
  const conflicts = new Map<string, string>();
  const byName = new Map<string, { hostId: string; claim: NonNullable<LiveMarker['claim']> }[]>();
  // A wildcard's holders answer every name one label under it: an exact name there would take its requests
  // (Route53 answers an existing name, never the wildcard), so they hold those names too, as on one host.
  const underWildcard = new Map<string, string[]>();
  for (const name of mine.keys()) {
    const dot = name.indexOf('.');
    if (dot > 0 && !name.startsWith('*.'))
      underWildcard.set(`*${name.slice(dot)}`, [...(underWildcard.get(`*${name.slice(dot)}`) ?? []), name]);
  }
  const hold = (name: string, marker: LiveMarker & { claim: NonNullable<LiveMarker['claim']> }) =>
    byName.set(name, [...(byName.get(name) ?? []), { hostId: marker.hostId, claim: marker.claim }]);
  for (const marker of markers) {
    // Only a marker that vouches for an address record holds a name: one without is a write cut short.
    if (marker.claim === undefined || !isLive(marker, ctx.nowS) || (marker.a === undefined && marker.aaaa === undefined)) continue;
    const held = { ...marker, claim: marker.claim };
    if (mine.has(marker.name)) hold(marker.name, held);
    for (const name of underWildcard.get(marker.name) ?? []) if (marker.hostId !== ctx.hostId) hold(name, held);
  }
  for (const [name, others] of byName) {
    const claim = mine.get(name) as NameClaim;
    const shares = (unit: FleetUnit) => sameUnit(claim.owner, unit) || ctx.shared.has(unit.unit);
    const foreign = others.filter((o) => !shares(o.claim));
    if (foreign.length === 0) continue;
    // A newcomer takes no part: it joins only a name whose first holder it shares with.
    const held = claim.heldSinceS === undefined ? [] : [{ hostId: ctx.hostId, claim: { ...claim.owner, sinceS: claim.heldSinceS } }];
    const first = [...others, ...held].reduce((a, b) =>
      b.claim.sinceS < a.claim.sinceS || (b.claim.sinceS === a.claim.sinceS && b.hostId < a.hostId) ? b : a,
    );
    if (first.hostId === ctx.hostId || shares(first.claim)) continue;
    conflicts.set(name, reasonFor(foreign, claim));
  }
  return conflicts;
}

function reasonFor(foreign: { hostId: string; claim: { unit: string; sinceS: number } }[], claim: NameClaim): string {
  const sorted = [...foreign].sort((a, b) => a.claim.sinceS - b.claim.sinceS || (a.hostId < b.hostId ? -1 : 1));
  const named = sorted
    .slice(0, NAMED_HOSTS)
    .map((o) => `host ${quote(o.hostId)} (owner unit ${o.claim.unit}, since ${new Date(o.claim.sinceS * 1000).toISOString()})`)
    .join(', ');
  const more = sorted.length > NAMED_HOSTS ? ` and ${sorted.length - NAMED_HOSTS} more` : '';
  return (
    `the fleet serves it for another owner: ${named}${more}; this host serves it for ${claim.owner.description} ` +
    `(unit ${claim.owner.unit}). To let them share the name, add the other owner to FLEET_SHARED_OWNERS here ` +
    `(a unit is the first 16 hex digits of sha256 of the owner as written there, e.g. image:<repository>)`
  );
}
