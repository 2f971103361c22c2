/**
 * Who a host serves a name for, as the fleet's markers say it (issue #21, point 7). On one host the owner
 * of a name is decided by model/ownership.ts: a `haproxy-companion.group`, a compose project and service,
 * or an image repository. Across hosts the markers carry that owner as a unit: the first 16 hex digits of
 * the sha256 of the owner as FLEET_SHARED_OWNERS writes it (`image:app-a`, `compose:shop/web`,
 * `group:payments`), and of its compose project. Hashed because the zone is public DNS: no app names in
 * clear (a hash of a common name is still guessable; it is a label, not a secret). Pure.
 */
import { createHash } from 'node:crypto';
import { compare } from '../lib/compare.js';
import { imageRepository } from '../model/ownership.js';
import type { Service, ServiceOwner } from '../model/services.js';

/** An owner in the fleet's markers: equal units share, and so do units of one compose project. */
export interface FleetUnit {
  unit: string;
  project?: string | undefined;
}

/** This host's owner of a name: its unit, and how /status and reasons name it. */
export interface NameOwner extends FleetUnit {
  /** The owner as FLEET_SHARED_OWNERS writes it, e.g. `image:app-a`. */
  description: string;
}

/** The marker's hash of an owner or project: the first 16 hex digits of its sha256 (`printf %s … | sha256sum`). */
export function unitHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * An owner key (ownership.ts `Owner.key`) as a user writes it: the compose key's JSON pair as
 * `compose:<project>/<service>` (compose names have no `/`), the others as they are.
 */
export function writtenOwner(key: string): string {
  if (!key.startsWith('compose:')) return key;
  try {
    const pair = JSON.parse(key.slice('compose:'.length)) as unknown;
    if (Array.isArray(pair) && pair.length === 2) return `compose:${pair[0]}/${pair[1]}`;
  } catch {
    // Not the model's JSON pair: hashed as it is.
  }
  return key;
}

export function nameOwner(owner: ServiceOwner): NameOwner {
  const description = writtenOwner(owner.key);
  return { unit: unitHash(description), description, ...(owner.project && { project: unitHash(owner.project) }) };
}

/**
 * The owner of each registered domain (HTTP services): the owner of its `/` service, else of its first path
 * service. A name's services may be split by path between owners of one compose project; the project,
 * carried beside the unit, is what they share.
 */
export function nameOwners(services: readonly Service[]): Map<string, NameOwner> {
  const owners = new Map<string, NameOwner>();
  const byPath = [...services].filter((s) => s.kind === 'http').sort((a, b) => compare(a.domain, b.domain) || rootFirst(a, b));
  for (const service of byPath) if (!owners.has(service.domain)) owners.set(service.domain, nameOwner(service.owner));
  return owners;
}

/** `/` before any other path; otherwise the order the model gave. */
const rootFirst = (a: Service, b: Service) => (a.path === '/' ? 0 : 1) - (b.path === '/' ? 0 : 1);

/** Same trust unit (ownership.ts's rule, across hosts): the same owner, or both of one compose project. */
export function sameUnit(a: FleetUnit, b: FleetUnit): boolean {
  return a.unit === b.unit || (a.project !== undefined && a.project === b.project);
}

/**
 * A group as a comma-separated setting can hold it (printable, no comma or space), compose names as compose
 * allows them, and an image reference's characters.
 */
const WRITTEN =
  /^(?:group:[\x21-\x2b\x2d-\x7e]+|compose:[a-z0-9][a-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*|image:[A-Za-z0-9][A-Za-z0-9._/:@-]*)$/;

/**
 * One FLEET_SHARED_OWNERS entry as the markers' owner: `group:<name>`, `compose:<project>/<service>` or
 * `image:<repository>` (a tag or digest is dropped, as for a container's image); a reason when it is none.
 */
export function parseSharedOwner(text: string): { ok: true; owner: string } | { ok: false; reason: string } {
  if (!WRITTEN.test(text)) {
    return {
      ok: false,
      reason: `${JSON.stringify(text.slice(0, 80))} is not an owner: write group:<name>, compose:<project>/<service> or image:<repository>`,
    };
  }
  return { ok: true, owner: text.startsWith('image:') ? `image:${imageRepository(text.slice('image:'.length))}` : text };
}
