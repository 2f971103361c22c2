/**
 * The Docker edge: full snapshots (list + inspect) and an event stream that only triggers passes.
 * The stream reconnects with backoff; every (re)connection triggers a full resync, so an event
 * missed while disconnected can never leave stale routes.
 */
import type Dockerode from 'dockerode';
import { toContainerInfo, type ContainerInfo, type InspectResponse } from '../model/container.js';
import type { Logger } from '../log.js';

/** The few dockerode calls we use, so tests can pass a plain object. */
export interface DockerApi {
  listContainers(options?: object): Promise<Array<{ Id: string }>>;
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

/** Lists running containers and inspects each; a container that vanishes meanwhile is left out. */
export async function snapshotContainers(docker: DockerApi, options: SourceOptions = {}): Promise<ContainerInfo[]> {
  const filters = options.labelFilter ? { label: [options.labelFilter] } : undefined;
  const listed = await docker.listContainers(filters ? { filters } : {});
  if (options.selfId && !listed.some((c) => c.Id === options.selfId)) listed.push({ Id: options.selfId });
  const results: ContainerInfo[] = [];
  let next = 0;
  const worker = async () => {
    while (next < listed.length) {
      const { Id } = listed[next++]!;
      try {
        results.push(toContainerInfo((await docker.getContainer(Id).inspect()) as InspectResponse));
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(INSPECT_CONCURRENCY, listed.length) }, worker));
  return results.sort((a, b) => (a.id < b.id ? -1 : 1));
}

export interface EventWatchOptions {
  onEvent: (reason: string) => void;
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
      await readEvents(stream, signal, (event) => options.onEvent(event));
    } catch (error) {
      failure = error as Error;
    }
    if (signal.aborted) return;
    options.onDisconnected(failure);
    const delay = Math.min(maxDelay, minDelay * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt++;
    log.warn({ err: failure?.message, retryInMs: Math.round(delay) }, 'docker event stream lost; reconnecting');
    await sleep(delay, signal);
  }
}

/** Resolves when the stream ends; each complete JSON line becomes a short reason string. */
function readEvents(stream: NodeJS.ReadableStream, signal: AbortSignal, onEvent: (reason: string) => void): Promise<void> {
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
        try {
          const event = JSON.parse(line) as { Type?: string; Action?: string; Actor?: { ID?: string } };
          onEvent(`${event.Type}:${event.Action}:${event.Actor?.ID?.slice(0, 12) ?? ''}`);
        } catch {
          onEvent('unparsable-event');
        }
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
