/**
 * The Docker edge: full snapshots (list + inspect) and an event stream that only triggers passes.
 * The stream reconnects with backoff; every (re)connection triggers a full resync, so an event
 * missed while disconnected can never leave stale routes.
 */
import type Dockerode from 'dockerode';
import { toContainerInfo, type ContainerInfo, type InspectResponse } from '../model/container.js';
import type { Logger } from '../log.js';

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

/** Events that can change what is routable. */
export const WATCHED_EVENTS = {
  container: ['start', 'die', 'stop', 'kill', 'destroy', 'rename', 'health_status', 'pause', 'unpause', 'update'],
  network: ['connect', 'disconnect'],
} as const;

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
  const networks = Object.entries(c.NetworkSettings?.Networks ?? {}).map(([name, n]) => `${name}=${n?.IPAddress ?? ''}/${n?.GlobalIPv6Address ?? ''}`);
  return JSON.stringify([c.Names ?? [], c.State ?? '', health, c.HostConfig?.NetworkMode ?? '', Object.entries(c.Labels ?? {}).sort(), networks.sort()]);
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
      return [...next.values()].map((c) => c.info).sort((a, b) => (a.id < b.id ? -1 : 1));
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
      while (next < ids.length) {
        const id = ids[next++]!;
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

/** What an event tells a pass: why it runs, and which container to inspect again. */
export interface DockerEvent {
  reason: string;
  containerId?: string;
}

export interface EventWatchOptions {
  onEvent: (event: DockerEvent) => void;
  onConnected: () => void;
  onDisconnected: (error: Error | undefined) => void;
  signal: AbortSignal;
  log: Logger;
  /** Backoff bounds for reconnecting; defaults 250 ms to 15 s. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** Follows the event stream until `signal` aborts, reconnecting with exponential backoff and jitter. */
export async function watchEvents(docker: DockerApi, options: EventWatchOptions): Promise<void> {
  const { signal, log } = options;
  const minDelay = options.minDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 15_000;
  let attempt = 0;
  while (!signal.aborted) {
    let failure: Error | undefined;
    try {
      const stream = await docker.getEvents({ filters: { type: Object.keys(WATCHED_EVENTS), event: Object.values(WATCHED_EVENTS).flat() } });
      attempt = 0;
      options.onConnected();
      await readEvents(stream, signal, options.onEvent);
    } catch (error) {
      failure = error as Error;
    }
    if (signal.aborted) return;
    options.onDisconnected(failure);
    const delay = Math.min(maxDelay, minDelay * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt++;
    log.warn({ err: failure ? explainDockerError(failure) : 'stream ended', retryInMs: Math.round(delay) }, 'docker event stream lost; reconnecting');
    await sleep(delay, signal);
  }
}

/** Resolves when the stream ends; each complete JSON line becomes a short reason string. */
function readEvents(stream: NodeJS.ReadableStream, signal: AbortSignal, onEvent: (event: DockerEvent) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending = '';
    const abort = () => {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      resolve();
    };
    signal.addEventListener('abort', abort, { once: true });
    stream.on('data', (chunk: Buffer | string) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        let event: { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
        try {
          event = JSON.parse(line);
        } catch {
          onEvent({ reason: 'unparsable-event' });
          continue;
        }
        // Network events name the network as actor and the container as an attribute.
        const containerId = event.Type === 'network' ? event.Actor?.Attributes?.container : event.Actor?.ID;
        onEvent({ reason: `${event.Type}:${event.Action}`, ...(containerId ? { containerId } : {}) });
      }
    });
    const done = (error?: Error) => {
      signal.removeEventListener('abort', abort);
      if (error) reject(error);
      else resolve();
    };
    stream.on('end', () => done());
    stream.on('close', () => done());
    stream.on('error', (error: Error) => done(error));
  });
}

/** Says what to fix for the usual ways of not reaching Docker; other errors pass through as they are. */
export function explainDockerError(error: Error & { code?: string; address?: string; statusCode?: number }): string {
  const where = error.address ?? 'the Docker socket';
  switch (error.code) {
    case 'ENOENT':
      return `${where} does not exist: mount it (-v /var/run/docker.sock:/var/run/docker.sock:ro) or set DOCKER_HOST`;
    case 'EACCES':
      return `permission denied on ${where}: run the companion as root or as a member of the socket's group`;
    case 'ECONNREFUSED':
      return `nothing listens on ${where}: is the Docker daemon (or the socket proxy) running?`;
  }
  if (error.statusCode === 403) return `the Docker API refused a read call (${error.message.trim()}): a socket proxy must allow CONTAINERS and EVENTS`;
  return error.message;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

export type { Dockerode };
