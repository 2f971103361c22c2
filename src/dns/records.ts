/**
 * The DNS records this host wants, the ones it owns, and the changes between them. Pure: the zone's
 * records come in as data, changes go out as data.
 *
 * Ownership (documented in the README, "DNS records"): for every name `<d>.<zone>` this host serves it
 * writes an A record (and an AAAA record when it has an IPv6 address) and a TXT marker
 * `_hc-owner.<d>.<zone>` whose value names the host. In `multivalue` mode all are multivalue-answer records
 * whose SetIdentifier is `<hostId>-<hash of the name>` (of the name and type for AAAA), so any number of
 * hosts coexist on one name. A record set is only ever changed or deleted by the host whose marker proves
 * it owns it: records of other hosts and hand-made ones are never touched. A record set a
 * host does not own yet is written with CREATE, which Route53 refuses over an existing one, and a name
 * where a record set it does not own is in the way is not written at all (see {@link foreignConflicts}).
 *
 * Leases: a marker may carry an expiry (`expires=<unix seconds>`), which its host renews well before it
 * lapses. A host that died without deregistering stops renewing; any live host then removes the records
 * that host's lapsed markers vouch for, exactly as that host would have (see {@link lapsedRecords}). A
 * marker without an expiry (written before leases, or with DNS_LEASE_S=0) never lapses.
 */
import { createHash } from 'node:crypto';
import { canonicalIpv6 } from '../lib/addresses.js';
import { compare } from '../lib/compare.js';

export type RecordMode = 'multivalue' | 'simple';

export interface RecordSet {
  name: string;
  /** This host writes A, AAAA and TXT; CNAME is only read, as a record set in the way. */
  type: 'A' | 'AAAA' | 'TXT' | 'CNAME';
  ttl: number;
  values: string[];
  setIdentifier?: string;
  multiValueAnswer?: boolean;
  /** An alias record's target (read only, never written): it has no values, and no host owns it. */
  aliasTarget?: string;
}

export interface Change {
  action: 'CREATE' | 'UPSERT' | 'DELETE';
  record: RecordSet;
}

export interface RecordContext {
  zone: string;
  hostId: string;
  hostIp: string;
  /** Absent: no AAAA records, and this host's old ones are deleted. */
  hostIpv6?: string;
  ttl: number;
  mode: RecordMode;
  /** The lease written into this host's markers (unix seconds); absent: markers without an expiry. */
  leaseExpiresS?: number;
}

/** The ownership marker of `<name>` is the TXT record `_hc-owner.<name>`. */
export const MARKER_PREFIX = '_hc-owner.';
const HERITAGE = 'heritage=haproxy-companion';

/** The name a record is about: its own, or for an ownership marker, the name it vouches for. */
export function baseName(name: string): string {
  return name.startsWith(MARKER_PREFIX) ? name.slice(MARKER_PREFIX.length) : name;
}

/** What identifies a record set in a zone: Route53 allows one per name, type and SetIdentifier. */
export function recordKey(r: Pick<RecordSet, 'name' | 'type' | 'setIdentifier'>): string {
  return `${r.name}|${r.type}|${r.setIdentifier ?? ''}`;
}

/**
 * Route53 lists names with a trailing dot and writes some characters as octal escapes (a wildcard's `*`
 * as `\052`); we compare without the dot, unescaped.
 */
export function normaliseName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * Who a host serves a name for (fleet-owners.ts): the unit (a hash of the owner, as ownership.ts names it)
 * and the compose project of its containers (hashed too: the zone is public DNS, so no app names in clear),
 * and since when this host has served it for that owner (unix seconds).
 */
export interface MarkerClaim {
  unit: string;
  project?: string | undefined;
  sinceS: number;
}

export interface Marker {
  /** The host (not the owner of the name: that is `claim`). */
  owner: string;
  expiresS?: number;
  /** Absent in a marker written before owners were: an unknown owner. */
  claim?: MarkerClaim;
}

/**
 * The TXT value of a marker: `"heritage=haproxy-companion,owner=<id>"`, with
 * `,unit=<16 hex>[,project=<16 hex>],since=<unix s>` naming the name's owner and `,expires=<unix s>` under a lease.
 */
export function markerValue(hostId: string, expiresS?: number, claim?: MarkerClaim): string {
  const owned =
    claim === undefined ? '' : `,unit=${claim.unit}${claim.project === undefined ? '' : `,project=${claim.project}`},since=${claim.sinceS}`;
  return `"${HERITAGE},owner=${hostId}${owned}${expiresS === undefined ? '' : `,expires=${expiresS}`}"`;
}

/**
 * A host id as host-identity.ts allows it, and hex hashes and digits after it: no comma or quote, so no
 * field can be forged wider, and the longest value (185 characters) stays within a TXT string's 255.
 */
const MARKER =
  /^"heritage=haproxy-companion,owner=([A-Za-z0-9][A-Za-z0-9._-]{0,62})(?:,unit=([0-9a-f]{16})(?:,project=([0-9a-f]{16}))?,since=([0-9]{1,12}))?(?:,expires=([0-9]{1,12}))?"$/;

/** The host, lease and owner of a marker value; undefined for anything else (a hand-made TXT value, another format). */
export function parseMarker(value: string): Marker | undefined {
  const [, owner, unit, project, since, expires] = MARKER.exec(value) ?? [];
  if (owner === undefined) return undefined;
  return {
    owner,
    ...(expires !== undefined && { expiresS: Number(expires) }),
    ...(unit !== undefined && { claim: { unit, ...(project !== undefined && { project }), sinceS: Number(since) } }),
  };
}

/**
 * Unique per host, name and type: moto deletes by SetIdentifier alone (a DELETE of a name's AAAA record would
 * take its A record with it), and it keeps the id readable. A name's A record hashes the name alone, as it
 * always has; its marker lives at a name of its own.
 */
export function setIdentifierFor(hostId: string, name: string, type: RecordSet['type'] = 'A'): string {
  const hashed = type === 'AAAA' ? `${normaliseName(name)} AAAA` : normaliseName(name);
  return `${hostId}-${createHash('sha256').update(hashed).digest('hex').slice(0, 10)}`;
}

/**
 * The records for the domains (relative to the zone) this host serves; `claims` (by domain) names each
 * one's owner in its marker, and a domain without one gets a marker of an unknown owner.
 */
export function desiredRecords(domains: string[], ctx: RecordContext, claims: ReadonlyMap<string, MarkerClaim> = new Map()): RecordSet[] {
  const records: RecordSet[] = [];
  for (const domain of [...new Set(domains)].sort()) {
    const name = `${domain}.${ctx.zone}`;
    records.push(record(name, 'A', [ctx.hostIp], ctx));
    if (ctx.hostIpv6 !== undefined) records.push(record(name, 'AAAA', [ctx.hostIpv6], ctx));
    records.push(record(`${MARKER_PREFIX}${name}`, 'TXT', [markerValue(ctx.hostId, ctx.leaseExpiresS, claims.get(domain))], ctx));
  }
  return records;
}

function record(name: string, type: RecordSet['type'], values: string[], ctx: RecordContext): RecordSet {
  return ctx.mode === 'multivalue'
    ? { name, type, ttl: ctx.ttl, values, setIdentifier: setIdentifierFor(ctx.hostId, name, type), multiValueAnswer: true }
    : { name, type, ttl: ctx.ttl, values };
}

/** The address records this host writes beside its markers. */
const isAddress = (type: RecordSet['type']) => type === 'A' || type === 'AAAA';

/**
 * The zone's record sets this host owns: its markers, and the A and AAAA records those markers vouch for,
 * whether or not this host still has an IPv6 address (an AAAA record it no longer wants is deleted).
 * In `simple` mode a marker vouches for the plain A and AAAA records at its name; in `multivalue` mode for
 * the ones under this host's SetIdentifier for the name and type.
 */
export function ownedRecords(zoneRecords: RecordSet[], ctx: Pick<RecordContext, 'hostId' | 'mode'>): RecordSet[] {
  const expectedId = (r: RecordSet) => (ctx.mode === 'multivalue' ? setIdentifierFor(ctx.hostId, r.name, r.type) : undefined);
  // Whatever its lease: a host's own lapsed marker is still its own (renewed, or deleted with its records).
  const markers = zoneRecords.filter(
    (r) =>
      r.type === 'TXT' &&
      r.name.startsWith(MARKER_PREFIX) &&
      r.setIdentifier === expectedId(r) &&
      r.values.some((v) => parseMarker(v)?.owner === ctx.hostId),
  );
  const vouched = new Set(markers.map((m) => baseName(m.name)));
  const records = zoneRecords.filter(
    (r) => isAddress(r.type) && !r.aliasTarget && vouched.has(r.name) && r.setIdentifier === expectedId(r),
  );
  return [...records, ...markers];
}

/**
 * The names where a record set this host does not own is in the way, with the reason: such a name is
 * left out of Route53 (the proxy still serves it). Only A, AAAA and CNAME records at the name and TXT and
 * CNAME records at its marker name count (a TXT record such as SPF beside the A record is no business of ours).
 * - `simple`: anything there not vouched for by this host's marker; the first writer keeps the name. An
 *   AAAA record holds a name as an A record does, whether or not this host has an IPv6 address.
 * - `multivalue`: what cannot coexist with this host's multivalue record sets: a CNAME, a plain (or alias)
 *   record set, or one at this host's own SetIdentifier that its marker does not vouch for (the marker, once
 *   written, would). A plain AAAA record is in the way only of this host's AAAA record, so only when it has
 *   an IPv6 address. Other hosts' multivalue records are no conflict: a fleet shares names.
 * Linear in the zone: `owned` is keyed once.
 */
export function foreignConflicts(
  zoneRecords: RecordSet[],
  owned: RecordSet[],
  ctx: Pick<RecordContext, 'hostId' | 'mode' | 'hostIpv6'>,
): Map<string, string> {
  const ours = new Set(owned.map(recordKey));
  const conflicts = new Map<string, string>();
  for (const r of zoneRecords) {
    if (ours.has(recordKey(r)) || conflicts.has(baseName(r.name))) continue;
    const reason = conflictReason(r, ctx);
    if (reason) conflicts.set(baseName(r.name), `${reason}: ${describeRecord(r)}`);
  }
  return conflicts;
}

function conflictReason(r: RecordSet, ctx: Pick<RecordContext, 'hostId' | 'mode' | 'hostIpv6'>): string | undefined {
  const isMarkerName = r.name.startsWith(MARKER_PREFIX);
  if (r.type === 'CNAME') return 'a CNAME record this host did not write';
  if (isMarkerName ? r.type !== 'TXT' : !isAddress(r.type)) return undefined;
  if (ctx.mode === 'simple') {
    return isMarkerName ? 'an ownership marker this host did not write' : `an ${r.type} record this host did not write`;
  }
  const atOwnId = r.setIdentifier === setIdentifierFor(ctx.hostId, r.name, r.type);
  // Without an IPv6 address this host writes no AAAA record for a plain one to clash with; but one at its own
  // SetIdentifier is in the way all the same: the marker it writes would vouch for it.
  if (r.type === 'AAAA' && ctx.hostIpv6 === undefined && !atOwnId) return undefined;
  if (!r.multiValueAnswer) return `a plain ${r.type} record this host did not write (it cannot coexist with multivalue records)`;
  if (atOwnId) return "a record at this host's SetIdentifier that its marker does not vouch for";
  return undefined;
}

/**
 * The record sets of other hosts whose lease lapsed before `nowS`, grouped by owner: each lapsed marker
 * and the A and AAAA records it vouches for, by the rules {@link ownedRecords} applies to the marker's
 * own host (that host's SetIdentifier for the name and type in `multivalue` mode, the plain records at the
 * name in `simple` mode). A marker counts only when every value it holds is a marker of one host with an
 * expiry in the past: a marker without an expiry, another host's, or one holding anything else is never
 * taken for lapsed. This host's own records are never among them.
 */
export function lapsedRecords(
  zoneRecords: RecordSet[],
  ctx: Pick<RecordContext, 'hostId' | 'mode'>,
  nowS: number,
): Map<string, { expiresS: number; records: RecordSet[] }> {
  const byKey = new Map(zoneRecords.map((r) => [recordKey(r), r]));
  const lapsed = new Map<string, { expiresS: number; records: RecordSet[] }>();
  for (const marker of zoneRecords) {
    if (marker.type !== 'TXT' || !marker.name.startsWith(MARKER_PREFIX) || marker.values.length === 0) continue;
    const parsed = marker.values.map(parseMarker);
    const owner = parsed[0]?.owner;
    if (owner === undefined || owner === ctx.hostId) continue;
    if (!parsed.every((p) => p?.owner === owner && p.expiresS !== undefined && p.expiresS < nowS)) continue;
    const idFor = (name: string, type: RecordSet['type']) => (ctx.mode === 'multivalue' ? setIdentifierFor(owner, name, type) : undefined);
    if (marker.setIdentifier !== idFor(marker.name, 'TXT')) continue;
    const name = baseName(marker.name);
    const vouched = (['A', 'AAAA'] as const)
      .map((type) => byKey.get(recordKey({ name, type, setIdentifier: idFor(name, type) })))
      .filter((r): r is RecordSet => r !== undefined && !r.aliasTarget);
    const entry = lapsed.get(owner) ?? { expiresS: 0, records: [] };
    entry.expiresS = Math.max(entry.expiresS, ...parsed.map((p) => p?.expiresS ?? 0));
    entry.records.push(...vouched, marker);
    lapsed.set(owner, entry);
  }
  return lapsed;
}

/** The hosts with a marker in the zone whose lease has not lapsed (or that has none): the fleet, as the zone sees it. */
export function liveOwners(zoneRecords: RecordSet[], nowS: number): Set<string> {
  const owners = new Set<string>();
  for (const r of zoneRecords) {
    if (r.type !== 'TXT' || !r.name.startsWith(MARKER_PREFIX)) continue;
    for (const value of r.values) {
      const marker = parseMarker(value);
      if (marker && (marker.expiresS === undefined || marker.expiresS >= nowS)) owners.add(marker.owner);
    }
  }
  return owners;
}

const describeRecord = (r: RecordSet) =>
  `${r.name} ${r.type} ${r.aliasTarget ? `alias ${r.aliasTarget}` : r.values.join(',')}${r.setIdentifier ? ` (SetIdentifier ${r.setIdentifier})` : ''}`;

/** The first `maxNames` domains in sorted order that no conflict holds: the ones to register. */
/** DNS_MAX_NAMES's default: no real host serves more, and each name costs 2 (3 with IPv6) of a zone's 10,000 record sets. */
export const DEFAULT_MAX_NAMES = 1_000;

export function registrableDomains(domains: string[], conflicts: ReadonlyMap<string, string>, zone: string, maxNames: number): string[] {
  return [...new Set(domains)]
    .sort(compare)
    .slice(0, maxNames)
    .filter((d) => !conflicts.has(`${d}.${zone}`));
}

/** AAAA values compare as addresses: Route53 keeps the text it was given, and one address has many. */
const valuesOf = (r: RecordSet) =>
  r.values
    .map((v) => (r.type === 'AAAA' ? (canonicalIpv6(v) ?? v) : v))
    .sort()
    .join();

const same = (a: RecordSet, b: RecordSet) =>
  a.ttl === b.ttl && (a.multiValueAnswer ?? false) === (b.multiValueAnswer ?? false) && valuesOf(a) === valuesOf(b);

/**
 * Write what this host does not own yet or owns with another value, DELETE what it owns and no longer
 * wants. A first write of a plain record set (simple mode), or of any record set `blind` says the host has
 * not seen the zone for, is a CREATE: Route53 refuses a CREATE over an
 * existing record set, so one made by someone else since the zone was listed is never overwritten. A
 * multivalue record set is this host's alone by its SetIdentifier (`<hostId>-<hash>`, a namespace no one
 * else writes), so it is UPSERTed: other record sets at the name are other sets, and a plain one made
 * there since the listing makes Route53 refuse ours (the two cannot be mixed). Per name, the
 * marker is written before its A and AAAA records and deleted after them: a marker without its A record
 * is harmless, while an A record without its marker could never be proven ours again.
 */
export function diffRecords(desired: RecordSet[], owned: RecordSet[], blind: (record: RecordSet) => boolean = () => false): Change[] {
  const have = new Map(owned.map((r) => [recordKey(r), r]));
  const want = new Set(desired.map(recordKey));
  const writes: Change[] = [];
  for (const record of desired) {
    const current = have.get(recordKey(record));
    if (current === undefined) writes.push({ action: record.setIdentifier === undefined || blind(record) ? 'CREATE' : 'UPSERT', record });
    else if (!same(current, record)) writes.push({ action: 'UPSERT', record });
  }
  const deletes = owned.filter((r) => !want.has(recordKey(r))).map((record) => ({ action: 'DELETE' as const, record }));
  // Writes marker first; deletes, after every write, in the reverse order.
  const order: RecordSet['type'][] = ['TXT', 'A', 'AAAA'];
  const rank = (c: Change) => (c.action !== 'DELETE' ? order.indexOf(c.record.type) : 10 - order.indexOf(c.record.type));
  return [...writes, ...deletes].sort((a, b) => compare(baseName(a.record.name), baseName(b.record.name)) || rank(a) - rank(b));
}

/** `known` after `changes` went through: what a host wrote, it need not list again to know. Linear. */
export function applyChanges(known: RecordSet[], changes: Change[]): RecordSet[] {
  const records = new Map(known.map((r) => [recordKey(r), r]));
  for (const change of changes) {
    if (change.action === 'DELETE') records.delete(recordKey(change.record));
    else records.set(recordKey(change.record), change.record);
  }
  return [...records.values()];
}

/** Record sets per ListResourceRecordSets page (Route53's maximum). */
export const LIST_PAGE_SIZE = 300;

/** Route53 counts each value once (UPSERT twice) and allows 1,000 per request (32,000 characters). */
const MAX_ELEMENTS = 1000;
const MAX_CHARS = 32_000;

/** Splits changes into requests within Route53's limits, keeping each name's changes together. */
export function splitIntoBatches(changes: Change[]): Change[][] {
  const batches: Change[][] = [];
  let current: Change[] = [];
  let elements = 0;
  let chars = 0;
  const groups = groupByName(changes);
  for (const group of groups) {
    const groupElements = group.reduce((n, c) => n + c.record.values.length * weight(c), 0);
    const groupChars = group.reduce((n, c) => n + c.record.values.join('').length * weight(c), 0);
    if (current.length > 0 && (elements + groupElements > MAX_ELEMENTS || chars + groupChars > MAX_CHARS)) {
      batches.push(current);
      current = [];
      elements = 0;
      chars = 0;
    }
    current.push(...group);
    elements += groupElements;
    chars += groupChars;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const weight = (c: Change) => (c.action === 'UPSERT' ? 2 : 1);

/** A name's A (and AAAA) record and its marker, which must succeed or fail together. */
export function groupByName(changes: Change[]): Change[][] {
  const groups = new Map<string, Change[]>();
  for (const change of changes) {
    const name = baseName(change.record.name);
    const group = groups.get(name);
    if (group) group.push(change);
    else groups.set(name, [change]);
  }
  return [...groups.values()];
}
