/**
 * The Docker edge, read side: snapshots of the running containers (list + inspect), inspecting again
 * only what may have changed. The event stream (docker-events.ts) only says what to look at again.
 */
import Docker from 'dockerode';
import { compare } from '../lib/compare.js';
import { type ContainerInfo, type InspectResponse, toContainerInfo } from '../model/container.js';
import { findSelfContainerId } from './self-id.js';

/** What `GET /containers/json` says of a container: everything about it that can change while it exists. */
export interface ContainerSummary {
  Id: string;
  Names?: string[];
  State?: string;
  /** e.g. `Up 2 minutes (healthy)`. */
  Status?: string;
  Labels?: Record<string, string> | null;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string } | null> | null };
}

/** The few dockerode calls we use, so tests can pass a plain object. */
export interface DockerApi {
  listContainers(options?: object): Promise<ContainerSummary[]>;
  getContainer(id: string): { inspect(): Promise<unknown> };
  getEvents(options?: object): Promise<NodeJS.ReadableStream>;
}

const INSPECT_CONCURRENCY = 16;

export interface SourceOptions {
  labelFilter?: string;
  /** Always inspected, even when the label filter hides it: its networks decide which addresses are reachable. */
  selfId?: string;
}

/**
 * The parts of a list entry that can change during a container's life (name, state, health, labels,
 * networks and addresses); env and exposed ports cannot. The uptime in `Status` is left out.
 */
export function summaryFingerprint(c: ContainerSummary): string {
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(c.Status ?? '')?.[1] ?? '';
  const networks = Object.entries(c.NetworkSettings?.Networks ?? {}).map(
    ([name, n]) => `${name}=${n?.IPAddress ?? ''}/${n?.GlobalIPv6Address ?? ''}`,
  );
  return JSON.stringify([
    c.Names ?? [],
    c.State ?? '',
    health,
    c.HostConfig?.NetworkMode ?? '',
    Object.entries(c.Labels ?? {}).sort(),
    networks.sort(),
  ]);
}

/**
 * Snapshots of the running containers. A pass lists them (one call) and inspects only what may have
 * changed: containers not seen before, those named by an event since, and those whose list entry
 * changed (see summaryFingerprint), so a periodic resync catches a missed event without inspecting
 * every container. A full resync (at every (re)connection of the event stream) inspects everything again.
 */
export class ContainerSnapshots {
  private cache = new Map<string, { info: ContainerInfo; fingerprint: string }>();
  private dirty = new Set<string>();
  private full = true;
  inspections = 0;

  constructor(
    private readonly docker: DockerApi,
    private readonly options: SourceOptions = {},
  ) {}

  /** An event named this container: inspect it again at the next snapshot. */
  markDirty(id: string): void {
    this.dirty.add(id);
  }

  /** Inspect everything at the next snapshot. */
  markAllDirty(): void {
    this.full = true;
  }

  async snapshot(): Promise<ContainerInfo[]> {
    const { labelFilter, selfId } = this.options;
    // Taken before listing: an event arriving during this pass marks its container for the next one.
    const full = this.full;
    const dirty = this.dirty;
    this.full = false;
    this.dirty = new Set();
    try {
      const listed = await this.docker.listContainers(labelFilter ? { filters: { label: [labelFilter] } } : {});
      const fingerprints = new Map(listed.map((c) => [c.Id, summaryFingerprint(c)]));
      // Its own container is always needed (its networks decide what is reachable), listed or not.
      if (selfId && !fingerprints.has(selfId)) fingerprints.set(selfId, '');
      const next = new Map<string, { info: ContainerInfo; fingerprint: string }>();
      const stale: string[] = [];
      for (const [id, fingerprint] of fingerprints) {
        const cached = this.cache.get(id);
        if (cached && !full && !dirty.has(id) && cached.fingerprint === fingerprint) next.set(id, cached);
        else stale.push(id);
      }
      for (const info of await this.inspectAll(stale)) next.set(info.id, { info, fingerprint: fingerprints.get(info.id) ?? '' });
      this.cache = next;
      return [...next.values()].map((c) => c.info).sort((a, b) => compare(a.id, b.id));
    } catch (error) {
      // Nothing was learned: inspect again what this pass would have.
      this.full ||= full;
      for (const id of dirty) this.dirty.add(id);
      throw error;
    }
  }

  /** Inspects with bounded concurrency; a container that vanished meanwhile is left out. */
  private async inspectAll(ids: string[]): Promise<ContainerInfo[]> {
    const results: ContainerInfo[] = [];
    let next = 0;
    const worker = async () => {
      for (let id = ids[next++]; id !== undefined; id = ids[next++]) {
        try {
          this.inspections++;
          results.push(toContainerInfo((await this.docker.getContainer(id).inspect()) as InspectResponse));
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode !== 404) throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(INSPECT_CONCURRENCY, ids.length) }, worker));
    return results;
  }
}

/** The Docker API (DOCKER_HOST and friends are read by docker-modem), the companion's own container and the snapshots. */
export async function createContainerSource(options: { labelFilter?: string | undefined }) {
  const docker = new Docker() as unknown as DockerApi;
  const selfId = await findSelfContainerId();
  return { docker, selfId, snapshots: new ContainerSnapshots(docker, { selfId, labelFilter: options.labelFilter }) };
}
