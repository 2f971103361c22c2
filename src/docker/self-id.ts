/**
 * Finds the companion's own container id, so it never routes to itself and knows which networks it
 * shares. Docker bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf from
 * `<data-root>/containers/<id>/`, which shows in mountinfo whatever the network or cgroup mode.
 */
import { readFile } from 'node:fs/promises';

const CONTAINER_PATH = /\/containers\/([0-9a-f]{64})\//;

function containerIdFromMountinfo(mountinfo: string): string | undefined {
  return CONTAINER_PATH.exec(mountinfo)?.[1];
}

export async function findSelfContainerId(): Promise<string | undefined> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return containerIdFromMountinfo(mountinfo);
}
