/**
 * The DNS records this host wants, the ones it owns, and the changes between them. Pure: the zone's
 * records come in as data, changes go out as data.
 *
 * Ownership (documented in the README, "DNS records"): for every name `<d>.<zone>` this host serves it
 * writes an A record and a TXT marker `_hc-owner.<d>.<zone>` whose value names the host. In `multivalue`
 * mode both are multivalue-answer records whose SetIdentifier is `<hostId>-<hash of the name>`, so any
 * number of hosts coexist on one name. A record set is only ever changed or deleted by the host whose
 * marker proves it owns it: records of other hosts and hand-made ones are never touched.
 */
import { createHash } from 'node:crypto';
import { compare } from '../lib/compare.js';

export type RecordMode = 'multivalue' | 'simple';

export interface RecordSet {
  name: string;
  type: 'A' | 'TXT';
  ttl: number;
  values: string[];
  setIdentifier?: string;
  multiValueAnswer?: boolean;
}

export interface Change {
  action: 'UPSERT' | 'DELETE';
  record: RecordSet;
}

export interface RecordContext {
  zone: string;
  hostId: string;
  hostIp: string;
  ttl: number;
  mode: RecordMode;
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

/** Route53 lists names with a trailing dot and escapes some characters; we compare without the dot. */
export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

export function markerValue(hostId: string): string {
  return `"${HERITAGE},owner=${hostId}"`;
}

/** Unique per host and per name: moto deletes by SetIdentifier alone, and it keeps the id readable. */
export function setIdentifierFor(hostId: string, name: string): string {
  return `${hostId}-${createHash('sha256').update(normaliseName(name)).digest('hex').slice(0, 10)}`;
}

/** The records for the domains (relative to the zone) this host serves. */
export function desiredRecords(domains: string[], ctx: RecordContext): RecordSet[] {
  const records: RecordSet[] = [];
  for (const domain of [...new Set(domains)].sort()) {
    const name = `${domain}.${ctx.zone}`;
    records.push(record(name, 'A', [ctx.hostIp], ctx), record(`${MARKER_PREFIX}${name}`, 'TXT', [markerValue(ctx.hostId)], ctx));
  }
  return records;
}

function record(name: string, type: RecordSet['type'], values: string[], ctx: RecordContext): RecordSet {
  return ctx.mode === 'multivalue'
    ? { name, type, ttl: ctx.ttl, values, setIdentifier: setIdentifierFor(ctx.hostId, name), multiValueAnswer: true }
    : { name, type, ttl: ctx.ttl, values };
}

/** The zone's record sets this host owns: its markers, and the A records those markers vouch for. */
export function ownedRecords(zoneRecords: RecordSet[], ctx: Pick<RecordContext, 'hostId' | 'mode'>): RecordSet[] {
  const marker = markerValue(ctx.hostId);
  const expectedId = (name: string) => (ctx.mode === 'multivalue' ? setIdentifierFor(ctx.hostId, name) : undefined);
  const markers = zoneRecords.filter(
    (r) => r.type === 'TXT' && r.name.startsWith(MARKER_PREFIX) && r.setIdentifier === expectedId(r.name) && r.values.includes(marker),
  );
  const vouched = new Set(markers.map((m) => baseName(m.name)));
  const records = zoneRecords.filter((r) => r.type === 'A' && vouched.has(r.name) && r.setIdentifier === expectedId(r.name));
  return [...records, ...markers];
}

const same = (a: RecordSet, b: RecordSet) =>
  a.ttl === b.ttl &&
  (a.multiValueAnswer ?? false) === (b.multiValueAnswer ?? false) &&
  [...a.values].sort().join() === [...b.values].sort().join();

/**
 * UPSERT what is missing or different, DELETE what this host owns and no longer wants. Per name, the
 * marker is written before its A record and deleted after it: a marker without its A record is
 * harmless, while an A record without its marker could never be proven ours again.
 */
export function diffRecords(desired: RecordSet[], owned: RecordSet[]): Change[] {
  const have = new Map(owned.map((r) => [recordKey(r), r]));
  const want = new Set(desired.map(recordKey));
  const changed = (r: RecordSet) => {
    const current = have.get(recordKey(r));
    return current === undefined || !same(current, r);
  };
  const upserts = desired.filter(changed).map((record) => ({ action: 'UPSERT' as const, record }));
  const deletes = owned.filter((r) => !want.has(recordKey(r))).map((record) => ({ action: 'DELETE' as const, record }));
  const rank = (c: Change) => (c.action === 'UPSERT' ? (c.record.type === 'TXT' ? 0 : 1) : c.record.type === 'A' ? 2 : 3);
  return [...upserts, ...deletes].sort((a, b) => compare(baseName(a.record.name), baseName(b.record.name)) || rank(a) - rank(b));
}

/** `known` after `change` went through: what a host wrote, it need not list again to know. */
export function applyChange(known: RecordSet[], change: Change): RecordSet[] {
  const rest = known.filter((r) => recordKey(r) !== recordKey(change.record));
  return change.action === 'UPSERT' ? [...rest, change.record] : rest;
}

/** Route53 counts each value once, UPSERT twice, and allows 1,000 per request (32,000 characters). */
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
    const groupElements = group.reduce((n, c) => n + c.record.values.length * (c.action === 'UPSERT' ? 2 : 1), 0);
    const groupChars = group.reduce((n, c) => n + c.record.values.join('').length * (c.action === 'UPSERT' ? 2 : 1), 0);
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

/** A name's A record and its marker, which must succeed or fail together. */
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
