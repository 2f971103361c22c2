/**
 * The Docker edge, event side: the event stream only triggers passes (and names the container to
 * inspect again). It reconnects with backoff; every (re)connection triggers a full resync, so an event
 * missed while disconnected can never leave stale routes.
 */
import { CompanionError } from '../errors.js';
import { backoffDelay } from '../lib/backoff.js';
import { sleep } from '../lib/sleep.js';
import type { Logger } from '../log.js';
import type { DockerApi } from './container-snapshots.js';

/** Events that can change what is routable. */
const WATCHED_EVENTS = {
  container: ['start', 'die', 'stop', 'kill', 'destroy', 'rename', 'health_status', 'pause', 'unpause', 'update'],
  network: ['connect', 'disconnect'],
} as const;

/** What an event tells a pass: why it runs, and which container to inspect again. */
export interface DockerEvent {
  reason: string;
  containerId?: string;
  /** A `kill` with a signal that stops a container: take it out of rotation now, before it exits. */
  stopping?: boolean;
}

/**
 * The signals `docker stop` sends (a container's StopSignal: SIGTERM by default, SIGQUIT for nginx, SIGINT
 * for some), then SIGKILL; Docker names them by number in the event. SIGHUP, SIGUSR1 and the like ask an
 * app to reload or reopen its logs: it stays in rotation.
 */
const STOP_SIGNALS = new Set(['2', '3', '9', '15', 'SIGINT', 'SIGQUIT', 'SIGKILL', 'SIGTERM', 'INT', 'QUIT', 'KILL', 'TERM']);

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
      const stream = await docker.getEvents({
        filters: { type: Object.keys(WATCHED_EVENTS), event: Object.values(WATCHED_EVENTS).flat() },
      });
      attempt = 0;
      options.onConnected();
      await readEvents(stream, signal, options.onEvent);
    } catch (error) {
      failure = error as Error;
    }
    if (signal.aborted) return;
    options.onDisconnected(failure);
    const delay = backoffDelay(attempt, { minMs: minDelay, maxMs: maxDelay });
    attempt++;
    log.warn({ err: explainDockerError(failure ?? new Error('stream ended')), retryInMs: delay }, 'docker event stream lost; reconnecting');
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
        const stopping = event.Type === 'container' && event.Action === 'kill' && STOP_SIGNALS.has(event.Actor?.Attributes?.signal ?? '');
        onEvent({ reason: `${event.Type}:${event.Action}`, containerId, ...(stopping && { stopping }) });
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
export function explainDockerError(error: Error & { code?: string; address?: string; statusCode?: number }): Error {
  const explained = explanation(error);
  return explained === undefined ? error : new CompanionError(explained, { cause: error });
}

function explanation(error: Error & { code?: string; address?: string; statusCode?: number }): string | undefined {
  const where = error.address ?? 'the Docker socket';
  switch (error.code) {
    case 'ENOENT':
      return `${where} does not exist: mount it (-v /var/run/docker.sock:/var/run/docker.sock:ro) or set DOCKER_HOST`;
    case 'EACCES':
      return `permission denied on ${where}: run the companion as root or as a member of the socket's group`;
    case 'ECONNREFUSED':
      return `nothing listens on ${where}: is the Docker daemon (or the socket proxy) running?`;
  }
  if (error.statusCode === 403)
    return `the Docker API refused a read call (${error.message.trim()}): a socket proxy must allow CONTAINERS and EVENTS`;
  return undefined;
}
