/**
 * Who a domain belongs to. Any container on the host may declare any domain, and servers of one domain
 * share its traffic, so without an owner an unrelated container saying `DOMAIN=login` would silently
 * take half of `login`'s requests. A container's owner is, in this order: its `haproxy-companion.group`
 * label (explicit sharing), its compose project and service (`--scale`), or its image repository without
 * tag or digest (several `docker run` of one image, and a rolling deploy of a new tag). A domain belongs
 * to the owner of its oldest container; containers of other owners are skipped. A path or an exact name
 * under it is no other owner's to take later either, unless they split the host on purpose: one compose
 * project, or one group ({@link routeOwnership}).
 *
 * This stops accidents and silent joins, not a determined attacker: the owner's image, labels and
 * compose names are all visible to, and copyable by, anyone who can start a container.
 */
import { compare } from '../lib/compare.js';
import type { ContainerInfo } from './container.js';
import { ComposeLabels, Labels } from './labels.js';
import { quote } from './reasons.js';
import { hostAndPathOf, serviceKey, shorterPrefixes, tcpPortOf } from './service-key.js';
import { type HeldKey, isRemembered, lastContainerId } from './tenure.js';

export interface Owner {
  /** Equal keys share domains. Each kind has its own prefix, so a group named like an image is another owner. */
  key: string;
  /** For reasons, e.g. `image "myapp"`. */
  description: string;
}

export function ownerOf(container: ContainerInfo): Owner {
  const group = container.labels[Labels.group]?.trim();
  if (group) return { key: `group:${group}`, description: `group ${quote(group)}` };
  const project = container.labels[ComposeLabels.project];
  const service = container.labels[ComposeLabels.service];
  if (project && service) {
    return { key: `compose:${JSON.stringify([project, service])}`, description: `compose service ${quote(`${project}/${service}`)}` };
  }
  const repository = imageRepository(container.image);
  if (repository) return { key: `image:${repository}`, description: `image ${quote(repository)}` };
  // Docker always records an image; without one there is nothing to share by.
  return { key: `container:${container.id}`, description: 'no image reference' };
}

/** `myapp:v2`, `myapp@sha256:…` and `docker.io/library/myapp` → `myapp`; a registry port is kept. */
export function imageRepository(reference: string): string {
  const ref = reference.trim().toLowerCase();
  // Run by image id: `sha256:…` is an id, not a repository `sha256` with a tag.
  if (/^sha256:[0-9a-f]+$/.test(ref)) return ref;
  const name = ref.split('@')[0] ?? '';
  const colon = name.lastIndexOf(':');
  const untagged = colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
  return untagged.replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
}

/**
 * Sorts by Docker's creation time, then id, so that the choice is stable; an unknown time counts as the newest.
 * A remembered holder (tenure.ts) is older than any live container: it held the key before any of them claimed it.
 */
export function older(a: ContainerInfo, b: ContainerInfo): boolean {
  const remembered = isRemembered(a);
  if (remembered !== isRemembered(b)) return remembered;
  const byTime = compare(a.created || '\uffff', b.created || '\uffff');
  return byTime < 0 || (byTime === 0 && a.id < b.id);
}

export interface Conflict {
  reason: string;
  ownedBy: { containerId: string; containerName: string };
}

/** A service key (services.ts) as a reason says it: `domain "login"`, `host and path "api/v1"`, `TCP port 5432`. */
function describeKey(key: string): string {
  const port = tcpPortOf(key);
  if (port !== undefined) return `TCP port ${port}`;
  return key.includes('/') ? `host and path ${quote(key)}` : `domain ${quote(key)}`;
}

/** A key that another one is under, as a reason says it: a wildcard's as such (`wildcard "*.preview"`). */
function describeHolding(key: string): string {
  if (!key.startsWith('*.')) return describeKey(key);
  return key.includes('/') ? `wildcard and path ${quote(key)}` : `wildcard ${quote(key)}`;
}

/**
 * Containers that may split one host between them: one owner, or one compose project. A compose file
 * that sends `/` to its `web` service and `/api` to its `api` service is the main use of path routes, and
 * its services are different owners; it must take no extra label. Containers of different projects or
 * images split a host only with the same `haproxy-companion.group` (one owner). Like the owner, the
 * project is a name anyone can copy: this stops accidents and silent takeovers, not a determined attacker.
 */
function sameProject(a: ContainerInfo, b: ContainerInfo): boolean {
  const project = a.labels[ComposeLabels.project];
  return project !== undefined && project !== '' && project === b.labels[ComposeLabels.project];
}

/**
 * Another trust unit's key whose requests a key would take: one it is under (a shorter path of its host,
 * the wildcard of its name), or a path of that wildcard that its exact name would win over.
 */
interface Taking {
  other: string;
  holder: ContainerInfo;
  how: 'under' | 'over';
}

/** One key and its holder (the oldest container that claims it). */
interface Held {
  key: string;
  holder: ContainerInfo;
}

/**
 * Who holds each key (a domain, a domain and path, a TCP port) these containers claim. Every container
 * that claims a valid key counts, routable or not: an owner whose oldest container is unhealthy or
 * restarting keeps what it holds.
 *
 * A key is also refused, for every container that claims it, when it would take requests that another
 * trust unit ({@link sameProject}) served before the key was first claimed: a path under another's host or
 * path (`shop/login` under `shop`), an exact name under another's wildcard (`a.preview` under
 * `*.preview`), or a wildcard's path that an exact name would win over (`a.preview` over
 * `*.preview/login`). Without this, a newer container could take the login page of a host someone else
 * serves, with no sign but its own route. A newer, less specific key (`shop` when `shop/login` is
 * another's) takes nothing from the older one: longest prefix and exact name first keep the older its
 * part. The age that counts is the key's (its holder's), so that a new container of an owner (`--scale`,
 * a rolling deploy) is judged like the owner's first; and a key is judged against keys held before it
 * only, so that no newcomer can ever take a key away from a container that serves it.
 */
export function routeOwnership(claims: Array<{ container: ContainerInfo; keys: string[]; owner: Owner }>) {
  const oldest = new Map<string, ContainerInfo>();
  const owners = new Map<string, Owner>();
  /** Per key and owner, the oldest live container claiming it: who a remembered holder's reasons name. */
  const oldestLive = new Map<string, ContainerInfo>();
  for (const { container, keys, owner } of claims) {
    owners.set(container.id, owner);
    for (const key of keys) {
      const current = oldest.get(key);
      if (current === undefined || older(container, current)) oldest.set(key, container);
      if (isRemembered(container)) continue;
      const mine = `${key}\n${owner.key}`;
      const live = oldestLive.get(mine);
      if (live === undefined || older(container, live)) oldestLive.set(mine, container);
    }
  }
  const owner = (c: ContainerInfo) => owners.get(c.id) ?? ownerOf(c);
  const liveOf = (key: string, holder: ContainerInfo) => oldestLive.get(`${key}\n${owner(holder).key}`);
  const sameUnit = (a: ContainerInfo, b: ContainerInfo) => owner(a).key === owner(b).key || sameProject(a, b);

  // The wildcards' paths under each shorter prefix of theirs (`*.preview/a/b` under `*.preview/a` and
  // `*.preview`): an exact name of the wildcard's with that prefix wins over all of them. Each key is
  // listed once per segment of its path, so this index is linear in the keys.
  const wildcardPaths = new Map<string, Held[]>();
  for (const [key, holder] of oldest) {
    const at = hostAndPathOf(key);
    if (!at?.host.startsWith('*.')) continue;
    for (const prefix of shorterPrefixes(at.path)) {
      const under = serviceKey(at.host, prefix);
      const list = wildcardPaths.get(under) ?? [];
      list.push({ key, holder });
      wildcardPaths.set(under, list);
    }
  }
  const candidatesUnder = new Map<string, Held[]>();
  /** The oldest of the wildcard's paths under `under` held outside `holder`'s trust unit, found among a few candidates. */
  const oldestOtherUnder = (under: string, holder: ContainerInfo): Held | undefined => {
    let candidates = candidatesUnder.get(under);
    if (candidates === undefined) {
      candidates = unitCandidates(wildcardPaths.get(under) ?? [], (c) => owner(c).key);
      candidatesUnder.set(under, candidates);
    }
    return oldestHeld(candidates.filter((h) => !sameUnit(h.holder, holder)));
  };

  const taking = new Map<string, Taking | undefined>();
  /** What `key` would take from another trust unit, if anything; once per key (the keys it depends on are less specific). */
  const takes = (key: string): Taking | undefined => {
    if (!taking.has(key)) taking.set(key, findTaking(key));
    return taking.get(key);
  };
  const findTaking = (key: string): Taking | undefined => {
    const holder = oldest.get(key);
    const at = hostAndPathOf(key);
    if (holder === undefined || at === undefined) return undefined;
    /** The holder of `other` if its requests were served before `key` was claimed: held earlier, and not refused itself. */
    const before = (other: string) => {
      const by = oldest.get(other);
      return by !== undefined && older(by, holder) && takes(other) === undefined ? by : undefined;
    };
    // The host's shorter prefixes, the nearest first: the one that served these requests decides.
    for (const prefix of shorterPrefixes(at.path)) {
      const other = serviceKey(at.host, prefix);
      const by = before(other);
      if (by) return sameUnit(by, holder) ? undefined : { other, holder: by, how: 'under' };
    }
    // A wildcard `*.<parent>` answers one label under <parent>, after every exact name: `a.preview`'s requests
    // were the wildcard's, those of `a.b.preview` never were.
    const dot = at.host.indexOf('.');
    if (at.host.startsWith('*.') || dot < 0) return undefined;
    const wildcard = `*${at.host.slice(dot)}`;
    for (const prefix of [at.path, ...shorterPrefixes(at.path)]) {
      const other = serviceKey(wildcard, prefix);
      const by = before(other);
      if (by === undefined) continue;
      if (!sameUnit(by, holder)) return { other, holder: by, how: 'under' };
      break;
    }
    const over = oldestOtherUnder(serviceKey(wildcard, at.path), holder);
    return over && older(over.holder, holder) ? { other: over.key, holder: over.holder, how: 'over' } : undefined;
  };

  return {
    /** The first of `keys` (one route's) that another owner holds, or that would take another's requests, if any: one route, one decision. */
    conflictOf(container: ContainerInfo, keys: string[]): Conflict | undefined {
      const mine = owner(container);
      const conflict = (what: string, key: string, holder: ContainerInfo): Conflict => {
        const share = `to share it, give both the same label ${Labels.group}`;
        // A remembered holder is named by its owner's oldest container claiming the key now, if it has one.
        const named = isRemembered(holder) ? liveOf(key, holder) : holder;
        if (named !== undefined) {
          return {
            reason: `${what} belongs to container ${quote(named.name)} (${owner(holder).description}), older than this one (${mine.description}); ${share}`,
            ownedBy: { containerId: named.id, containerName: named.name },
          };
        }
        // Its owner is replacing its containers right now, or has just left: it keeps the key for a while.
        return {
          reason:
            `${what} belongs to ${owner(holder).description}, which held it before this one (${mine.description}) and has no container ` +
            `right now (its last: ${quote(holder.name)}; it keeps the key for OWNERSHIP_GRACE_S); ${share}`,
          ownedBy: { containerId: lastContainerId(holder), containerName: holder.name },
        };
      };
      for (const key of keys) {
        const holder = oldest.get(key);
        if (holder === undefined) continue;
        if (owner(holder).key !== mine.key) return conflict(describeKey(key), key, holder);
        const taken = takes(key);
        if (taken === undefined) continue;
        const how = taken.how === 'under' ? 'is under' : "would take this name's requests from";
        return conflict(`${describeKey(key)} ${how} ${describeHolding(taken.other)}, which`, taken.other, taken.holder);
      }
      return undefined;
    },
    /**
     * Every key granted, with the owner holding it and that owner's oldest live claimant: what {@link nextTenures}
     * remembers. A key that would take another's requests is not granted, so not remembered.
     */
    held(): HeldKey[] {
      return [...oldest]
        .filter(([key]) => takes(key) === undefined)
        .map(([key, holder]) => ({ key, owner: owner(holder), live: liveOf(key, holder) }));
    },
  };
}

function oldestHeld(list: Held[]): Held | undefined {
  let first: Held | undefined;
  for (const held of list) if (first === undefined || older(held.holder, first.holder)) first = held;
  return first;
}

/**
 * At most five of `list` among which is, for any trust unit (an owner, or a compose project), the oldest
 * entry outside it: so that an exact name under a wildcard with many paths is checked in constant time.
 * The oldest entry is outside the unit, or it is of the unit's owner (then the answer is the oldest of
 * another owner, or the oldest of another owner and another project than that one's), or of its project
 * (the same, with owner and project swapped).
 */
function unitCandidates(list: Held[], ownerKey: (c: ContainerInfo) => string): Held[] {
  const first = oldestHeld(list);
  if (first === undefined) return [];
  const otherOwner = (of: Held) => (h: Held) => ownerKey(h.holder) !== ownerKey(of.holder);
  const otherProject = (of: Held) => (h: Held) => !sameProject(h.holder, of.holder);
  const byOwner = oldestHeld(list.filter(otherOwner(first)));
  const byProject = oldestHeld(list.filter(otherProject(first)));
  return [
    first,
    byOwner,
    byOwner && oldestHeld(list.filter((h) => otherOwner(first)(h) && otherProject(byOwner)(h))),
    byProject,
    byProject && oldestHeld(list.filter((h) => otherProject(first)(h) && otherOwner(byProject)(h))),
  ].filter((h): h is Held => h !== undefined);
}
