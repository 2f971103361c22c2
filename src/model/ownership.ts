/**
 * Who a domain belongs to. Any container on the host may declare any domain, and servers of one domain
 * share its traffic, so without an owner an unrelated container saying `DOMAIN=login` would silently
 * take half of `login`'s requests. A container's owner is, in this order: its `haproxy-companion.group`
 * label (explicit sharing), its compose project and service (`--scale`), or its image repository without
 * tag or digest (several `docker run` of one image, and a rolling deploy of a new tag). A domain belongs
 * to the owner of its oldest container; containers of other owners are skipped.
 *
 * This stops accidents and silent joins, not a determined attacker: the owner's image, labels and
 * compose names are all visible to, and copyable by, anyone who can start a container.
 */
import { compare } from '../lib/compare.js';
import type { ContainerInfo } from './container.js';
import { ComposeLabels, Labels } from './labels.js';
import { quote } from './reasons.js';
import { tcpPortOf } from './service-key.js';

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

/** Sorts by Docker's creation time, then id, so that the choice is stable; an unknown time counts as the newest. */
export function older(a: ContainerInfo, b: ContainerInfo): boolean {
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

/**
 * Who holds each key (a domain, a domain and path, a TCP port) these containers claim. Every container
 * that claims a valid key counts, routable or not: an owner whose oldest container is unhealthy or
 * restarting keeps what it holds.
 */
export function routeOwnership(claims: Array<{ container: ContainerInfo; keys: string[]; owner: Owner }>) {
  const oldest = new Map<string, ContainerInfo>();
  const owners = new Map<string, Owner>();
  for (const { container, keys, owner } of claims) {
    owners.set(container.id, owner);
    for (const key of keys) {
      const current = oldest.get(key);
      if (current === undefined || older(container, current)) oldest.set(key, container);
    }
  }
  const owner = (c: ContainerInfo) => owners.get(c.id) ?? ownerOf(c);
  return {
    /** The first of `keys` (one route's) that another owner holds, if any: one route, one decision. */
    conflictOf(container: ContainerInfo, keys: string[]): Conflict | undefined {
      const mine = owner(container);
      for (const key of keys) {
        const holder = oldest.get(key);
        if (holder === undefined || owner(holder).key === mine.key) continue;
        return {
          reason:
            `${describeKey(key)} belongs to container ${quote(holder.name)} (${owner(holder).description}), ` +
            `older than this one (${mine.description}); to share it, give both the same label ${Labels.group}`,
          ownedBy: { containerId: holder.id, containerName: holder.name },
        };
      }
      return undefined;
    },
  };
}
