/**
 * Who held each key, remembered across the moments its owner has no container. Without this, an owner's
 * age is that of its oldest live container, so an owner replacing its containers (`docker compose up -d`:
 * the old one removed, a new one created) would come back younger than a squatter that was skipped while
 * the owner ran, and the squatter would take the key. A key's tenure keeps its owner and when that owner
 * first held it; the owner keeps the key while it has a container claiming it, and for a grace period
 * (OWNERSHIP_GRACE_S) after its last one left. A remembered key is older than any claim not remembered, and
 * keys are remembered by when the companion first granted them (then by their holder's creation time), never
 * by a creation time alone: a container created long ago and started later takes nothing away. Only keys a
 * pass granted are remembered: a key refused for being under another's is not, or its holder's creation time
 * would make it older than the key it is under at the next pass. Pure: time comes in as data.
 */
import { compare } from '../lib/compare.js';
import type { ContainerInfo } from './container.js';
import { ComposeLabels } from './labels.js';
import type { Owner } from './ownership.js';

export interface Tenure {
  /** A service key (service-key.ts): a domain, a domain and path, `tcp:<port>`. */
  key: string;
  owner: Owner;
  /** When the companion first granted the key to the owner (ContainerInfo.created's format). */
  since: string;
  /** Its holder's creation time then: the order of keys first granted in one pass. */
  created: string;
  /** The compose project of its last container, if any: containers of one project may split a host. */
  project?: string;
  /** Its last container claiming the key, for reasons and /status. */
  containerId: string;
  containerName: string;
  /** Since when (ms) no container of the owner claims it: the grace period counts from there. */
  goneSinceMs?: number;
}

/** Ids of the stand-ins for remembered holders, which no Docker id can be. */
const REMEMBERED = 'remembered:';

export function isRemembered(container: Pick<ContainerInfo, 'id'>): boolean {
  return container.id.startsWith(REMEMBERED);
}

/** The id of the last container behind a remembered holder. */
export function lastContainerId(container: Pick<ContainerInfo, 'id'>): string {
  return container.id.slice(REMEMBERED.length, container.id.indexOf('/', REMEMBERED.length));
}

/** The stand-in of each tenure, made once: a tenure object is kept from pass to pass while nothing in it changes. */
const standIns = new WeakMap<Tenure, { container: ContainerInfo; owner: Owner; keys: string[] }>();

/** A stand-in container for each tenure, claiming its key for its owner: what ownership weighs a live claim against. */
export function rememberedClaims(tenures: readonly Tenure[]): Array<{ container: ContainerInfo; owner: Owner; keys: string[] }> {
  return tenures.map((t) => {
    let claim = standIns.get(t);
    if (claim === undefined) {
      claim = {
        container: {
          id: `${REMEMBERED}${t.containerId}/${t.key}`,
          name: t.containerName,
          labels: t.project === undefined ? {} : ({ [ComposeLabels.project]: t.project } as Record<string, string>),
          env: {},
          exposedPorts: [],
          running: false,
          paused: false,
          networkMode: '',
          networks: [],
          image: '',
          // Fixed-width times, so that text order is (since, created) order; an unknown time sorts last.
          created: `${t.since}${t.created || '\uffff'}`,
        },
        owner: t.owner,
        keys: [t.key],
      };
      standIns.set(t, claim);
    }
    return claim;
  });
}

/** One key after a pass: the owner holding it (live or remembered), and its oldest live container claiming it. */
export interface HeldKey {
  key: string;
  owner: Owner;
  live: ContainerInfo | undefined;
}

/**
 * The tenures after a pass at `nowMs`: every key whose owner has a live claimant is (still) that owner's,
 * since its tenure began, or since that container's creation for a key held for the first time; a remembered
 * key without one is kept until `graceMs` after its owner's last container left. A tenure that did not change
 * is the same object. Sorted by key, so that the same state is the same bytes.
 */
export function nextTenures(previous: readonly Tenure[], held: readonly HeldKey[], nowMs: number, graceMs: number): Tenure[] {
  const before = new Map(previous.map((t) => [t.key, t]));
  const next: Tenure[] = [];
  for (const { key, owner, live } of held) {
    const prior = before.get(key);
    const sameOwner = prior !== undefined && prior.owner.key === owner.key;
    if (live === undefined) {
      if (!sameOwner) continue;
      const goneSinceMs = prior.goneSinceMs ?? nowMs;
      if (nowMs - goneSinceMs < graceMs) next.push(prior.goneSinceMs === undefined ? { ...prior, goneSinceMs } : prior);
      continue;
    }
    const project = live.labels[ComposeLabels.project] || undefined;
    if (
      sameOwner &&
      prior.goneSinceMs === undefined &&
      prior.containerId === live.id &&
      prior.containerName === live.name &&
      prior.project === project
    ) {
      next.push(prior);
      continue;
    }
    next.push({
      key,
      owner,
      // When the key was first granted to the owner, not its container's creation: one created long before and
      // started later is no older for it.
      since: sameOwner ? prior.since : sortableMs(nowMs),
      created: sameOwner ? prior.created : live.created,
      ...(project && { project }),
      containerId: live.id,
      containerName: live.name,
    });
  }
  return withinGoneCap(next).sort((a, b) => compare(a.key, b.key));
}

/** Drops the keys of owners that left earliest beyond {@link MAX_GONE_TENURES}: those of owners present always stay. */
function withinGoneCap(tenures: Tenure[]): Tenure[] {
  const gone = tenures.filter((t) => t.goneSinceMs !== undefined);
  if (gone.length <= MAX_GONE_TENURES) return tenures;
  const dropped = new Set(
    gone.sort((a, b) => (b.goneSinceMs ?? 0) - (a.goneSinceMs ?? 0) || compare(a.key, b.key)).slice(MAX_GONE_TENURES),
  );
  return tenures.filter((t) => !dropped.has(t));
}

/** `nowMs` as ContainerInfo.created writes a time (nanoseconds), so that the two compare as text. */
export function sortableMs(nowMs: number): string {
  return new Date(nowMs).toISOString().replace('Z', '000000Z');
}

/** At most this many keys are remembered for owners that left: a container cycling through names cannot grow the memory without bound. */
export const MAX_GONE_TENURES = 10_000;

/** The tenures still held at `nowMs`, before a pass: one whose owner left more than the grace period ago lapses. */
export function currentTenures(tenures: readonly Tenure[], nowMs: number, graceMs: number): readonly Tenure[] {
  const lapsed = (t: Tenure) => t.goneSinceMs !== undefined && nowMs - t.goneSinceMs >= graceMs;
  return tenures.some(lapsed) ? tenures.filter((t) => !lapsed(t)) : tenures;
}

/** What a tenure file keeps: not since when the owner is gone, which restarts with the companion (it saw nothing while down). */
export type StoredTenure = Omit<Tenure, 'goneSinceMs'>;

export function storedTenures(tenures: readonly Tenure[]): StoredTenure[] {
  return tenures.map(({ goneSinceMs: _, ...stored }) => stored);
}

/** Whether two tenure lists keep the same file: the loop writes only when it changes. */
export function sameStoredTenures(a: readonly Tenure[], b: readonly Tenure[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((t, i) => {
    const u = b[i] as Tenure;
    return (
      t === u ||
      (t.key === u.key &&
        t.owner.key === u.owner.key &&
        t.since === u.since &&
        t.created === u.created &&
        t.project === u.project &&
        t.containerId === u.containerId &&
        t.containerName === u.containerName)
    );
  });
}
