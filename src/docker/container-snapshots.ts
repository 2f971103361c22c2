/**
 * The Docker edge, read side: snapshots of the running containers (list + inspect), inspecting again
 * only what may have changed. The event stream (docker-events.ts) only says what to look at again.
 */
import { createHash } from 'node:crypto';
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
  /** Only a candidate successor's image is inspected (successor.ts). */
  getImage(name: string): { inspect(): Promise<unknown> };
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
  const facts = JSON.stringify([
    c.Names ?? [],
    c.State ?? '',
    health,
    c.HostConfig?.NetworkMode ?? '',
    Object.entries(c.Labels ?? {}).sort(),
    networks.sort(),
  ]);
  // Kept for every container between resyncs: a digest, not the ~1 KB of a Compose container's labels.
  return createHash('sha256').update(facts).digest('base64');
}

/**
 * Snapshots of the running containers, kept as one copy of each container's facts. An event names a
 * container: the next snapshot inspects that one alone, so one change costs the same at 1,000
 * containers as at 1. The list (one call, whose cost grows with the host) is the safety net: the
 * periodic resync lists and inspects only containers whose list entry changed (summaryFingerprint), and
 * a full resync (at every (re)connection of the event stream, when nothing is known of what was missed)
 * inspects everything again. Both ways give the same containers (tested as a property).
 */
/** How long a container stays out of rotation after its stop signal if it keeps running (Docker's stop timeout is 10 s by default). */
export const STOPPING_LIMIT_MS = 5 * 60_000;

export class ContainerSnapshots {
  private cache = new Map<string, { info: ContainerInfo; fingerprint: string }>();
  private dirty = new Set<string>();
  /** Id -> when its stop signal came; the snapshot's copy of its facts says `stopping`. */
  private stopping = new Map<string, number>();
  /** The same marked copy while the mark lasts: the model judges a container again only when its object changes. */
  private stoppingCopies = new Map<string, { source: ContainerInfo; copy: ContainerInfo }>();
  private full = true;
  private listDue = false;
  inspections = 0;
  lists = 0;
  /** The label filter's key: kept with the labels the model reads, so the event path can apply the filter. */
  private readonly filterKey: string | undefined;

  constructor(
    private readonly docker: DockerApi,
    private readonly options: SourceOptions = {},
  ) {
    this.filterKey = options.labelFilter?.split('=')[0];
  }

  /** An event named this container: inspect it again at the next snapshot. */
  markDirty(id: string): void {
    this.dirty.add(id);
  }

  /**
   * Docker sent this container its stop signal: it is served no more from the next snapshot, while it
   * finishes its requests. Forgotten when it starts again, when it is gone, or after
   * {@link STOPPING_LIMIT_MS} (an app that traps the signal and keeps running comes back).
   */
  markStopping(id: string, now = Date.now()): void {
    // Not inspected again: what is known of it is all the mark needs, and Docker, busy stopping it (and
    // Compose its siblings), can take hundreds of milliseconds to answer, while the app may already
    // refuse connections.
    this.stopping.set(id, now);
  }

  /** It started (again): routable as its inspect says. */
  clearStopping(id: string): void {
    this.stoppingCopies.delete(id);
    this.stopping.delete(id);
    this.dirty.add(id);
  }

  /** Inspect everything at the next snapshot. */
  markAllDirty(): void {
    this.full = true;
  }

  /** List at the next snapshot, and inspect what changed since (a missed event). */
  markListDue(): void {
    this.listDue = true;
  }

  async snapshot(): Promise<ContainerInfo[]> {
    // Taken before asking Docker: an event arriving during this pass marks its container for the next one.
    const full = this.full;
    const listDue = this.listDue;
    const dirty = this.dirty;
    this.full = false;
    this.listDue = false;
    this.dirty = new Set();
    try {
      if (full || listDue) await this.listAndInspect(full, dirty);
      else await this.inspectOnly(dirty);
      // A container gone (it exited) has no mark to keep.
      for (const id of this.stopping.keys()) {
        if (this.cache.has(id)) continue;
        this.stopping.delete(id);
        this.stoppingCopies.delete(id);
      }
      return [...this.cache.values()].map((c) => this.withStopping(c.info)).sort((a, b) => compare(a.id, b.id));
    } catch (error) {
      // Nothing was learned: ask again what this pass would have.
      this.full ||= full;
      this.listDue ||= listDue;
      for (const id of dirty) this.dirty.add(id);
      throw error;
    }
  }

  /** The containers events named since the last snapshot, inspected again; the rest as they were. */
  private async inspectOnly(ids: Set<string>): Promise<void> {
    const { selfId } = this.options;
    const found = new Map((await this.inspectAll([...ids])).map((info) => [info.id, info]));
    for (const id of ids) {
      const info = found.get(id);
      // What the list would show: running containers that pass the label filter, and always the companion itself.
      const listed = info !== undefined && (id === selfId || (info.running && this.passesFilter(info)));
      // No fingerprint: the next list inspects it again, which costs one inspection, never a stale entry.
      if (listed) this.cache.set(id, { info, fingerprint: '' });
      else this.cache.delete(id);
    }
  }

  private withStopping(info: ContainerInfo, now = Date.now()): ContainerInfo {
    const since = this.stopping.get(info.id);
    if (since === undefined || now - since > STOPPING_LIMIT_MS) {
      this.stopping.delete(info.id);
      this.stoppingCopies.delete(info.id);
      return info;
    }
    const known = this.stoppingCopies.get(info.id);
    if (known?.source === info) return known.copy;
    const copy = { ...info, stopping: true };
    this.stoppingCopies.set(info.id, { source: info, copy });
    return copy;
  }

  private passesFilter(info: ContainerInfo): boolean {
    const filter = this.options.labelFilter;
    if (filter === undefined) return true;
    const eq = filter.indexOf('=');
    return eq < 0 ? filter in info.labels : info.labels[filter.slice(0, eq)] === filter.slice(eq + 1);
  }

  private async listAndInspect(full: boolean, dirty: Set<string>): Promise<void> {
    const { labelFilter, selfId } = this.options;
    this.lists++;
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
  }

  /** Inspects with bounded concurrency; a container that vanished meanwhile is left out. */
  private async inspectAll(ids: string[]): Promise<ContainerInfo[]> {
    const results: ContainerInfo[] = [];
    let next = 0;
    const worker = async () => {
      for (let id = ids[next++]; id !== undefined; id = ids[next++]) {
        try {
          this.inspections++;
          results.push(toContainerInfo((await this.docker.getContainer(id).inspect()) as InspectResponse, this.filterKey));
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
