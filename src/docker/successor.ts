/**
 * Whether another companion in the same role runs on this host: the one replacing this one during an
 * upgrade (README, "Upgrading the companion"). An exiting companion with DEREGISTER_ON_EXIT must leave the
 * records to it, or the new one would serve a host the zone no longer names. The same role: another
 * running container of the same image repository (`haproxy-companion:NEW` replacing `…:OLD`) with the
 * same zone, hosted zone, label filter and host id; two companions of one host with different label
 * filters (one per environment) are not each other's successor.
 */
import { imageRepository } from '../model/ownership.js';
import type { DockerApi } from './container-snapshots.js';

const ROLE = ['DOMAIN_NAME', 'HOSTED_ZONE_ID', 'CONTAINER_LABEL_FILTER', 'HOST_ID'];

interface Inspected {
  Id: string;
  Name?: string;
  Config?: { Image?: string; Env?: string[] | null };
}

function role(env: string[] | null | undefined): string {
  const values = new Map((env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  return JSON.stringify(ROLE.map((key) => values.get(key) ?? ''));
}

/** The name of another running companion in this one's role on this host, if any. */
export async function otherCompanion(
  docker: Pick<DockerApi, 'listContainers' | 'getContainer'>,
  selfId: string,
): Promise<string | undefined> {
  const self = (await docker.getContainer(selfId).inspect()) as Inspected;
  if (self.Config?.Image === undefined) return undefined;
  const repository = imageRepository(self.Config.Image);
  const running = (await docker.listContainers({ filters: { status: ['running'] } })) as Array<{ Id: string; Image?: string }>;
  for (const candidate of running) {
    if (candidate.Id === selfId || candidate.Image === undefined || imageRepository(candidate.Image) !== repository) continue;
    const other = (await docker.getContainer(candidate.Id).inspect()) as Inspected;
    if (role(other.Config?.Env) === role(self.Config.Env)) return other.Name?.replace(/^\//, '') ?? candidate.Id.slice(0, 12);
  }
  return undefined;
}
