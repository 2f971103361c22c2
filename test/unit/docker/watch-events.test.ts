import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DockerApi } from '../../../src/docker/container-snapshots.js';
import { type DockerEvent, explainDockerError, watchEvents } from '../../../src/docker/docker-events.js';
import { waitFor } from '../../helpers/wait-for.js';

const log = pino({ level: 'silent' });

/** A Docker API whose event streams the test writes into, one per connection. */
function fakeEvents() {
  const streams: PassThrough[] = [];
  let refuse = 0;
  const api: DockerApi = {
    listContainers: async () => [],
    getImage: () => ({ inspect: async () => ({}) }),
    getContainer: () => ({ inspect: async () => ({}) }),
    getEvents: async () => {
      if (refuse > 0) {
        refuse--;
        throw Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), {
          code: 'ECONNREFUSED',
          address: '/var/run/docker.sock',
        });
      }
      const stream = new PassThrough();
      streams.push(stream);
      return stream;
    },
  };
  return { api, streams, refuseNext: (n: number) => (refuse = n) };
}

const line = (type: string, action: string, id: string, attrs: Record<string, string> = {}) =>
  `${JSON.stringify({ Type: type, Action: action, Actor: { ID: id, Attributes: attrs } })}\n`;

describe('watchEvents', () => {
  it('turns event lines into triggers with the container to inspect, even split mid-line', async () => {
    const { api, streams } = fakeEvents();
    const events: DockerEvent[] = [];
    const abort = new AbortController();
    void watchEvents(api, {
      signal: abort.signal,
      log,
      onEvent: (e) => events.push(e),
      onConnected: () => undefined,
      onDisconnected: () => undefined,
    });
    await waitFor(() => streams.length === 1);
    const text = line('container', 'start', 'abc') + line('network', 'connect', 'net1', { container: 'def' });
    streams[0]!.write(text.slice(0, 30));
    streams[0]!.write(text.slice(30));
    await waitFor(() => events.length === 2);
    expect(events).toEqual([
      { reason: 'container:start', containerId: 'abc' },
      { reason: 'network:connect', containerId: 'def' },
    ]);
    abort.abort();
  });

  it('marks a kill with a stop signal as stopping (docker stop, compose up), not one asking for a reload', async () => {
    const { api, streams } = fakeEvents();
    const events: DockerEvent[] = [];
    const abort = new AbortController();
    void watchEvents(api, {
      signal: abort.signal,
      log,
      onEvent: (e) => events.push(e),
      onConnected: () => undefined,
      onDisconnected: () => undefined,
    });
    await waitFor(() => streams.length === 1);
    streams[0]!.write(
      ['15', '3', '9', 'SIGTERM', '1', '10', undefined]
        .map((signal) => line('container', 'kill', 'abc', signal ? { signal } : {}))
        .join(''),
    );
    await waitFor(() => events.length === 7);
    expect(events.map((e) => e.stopping === true)).toEqual([true, true, true, true, false, false, false]);
    abort.abort();
  });

  it('keeps up with thousands of events in a burst', async () => {
    const { api, streams } = fakeEvents();
    let count = 0;
    const abort = new AbortController();
    void watchEvents(api, {
      signal: abort.signal,
      log,
      onEvent: () => count++,
      onConnected: () => undefined,
      onDisconnected: () => undefined,
    });
    await waitFor(() => streams.length === 1);
    streams[0]!.write(Array.from({ length: 5000 }, (_, i) => line('container', 'health_status: healthy', `c${i}`)).join(''));
    await waitFor(() => count === 5000);
    abort.abort();
  });

  it('reconnects after the stream is cut or refused, and says it reconnected each time', async () => {
    const { api, streams, refuseNext } = fakeEvents();
    let connected = 0;
    let lost = 0;
    const abort = new AbortController();
    void watchEvents(api, {
      signal: abort.signal,
      log,
      minDelayMs: 1,
      maxDelayMs: 5,
      onEvent: () => undefined,
      onConnected: () => connected++,
      onDisconnected: () => lost++,
    });
    await waitFor(() => connected === 1);
    refuseNext(2);
    streams[0]!.write('{"Type":"container","Act'); // cut mid-line
    streams[0]!.end();
    await waitFor(() => connected === 2, { what: 'the reconnection' });
    expect(lost).toBe(3); // the cut, then two refusals
    abort.abort();
  });
});

describe('explainDockerError', () => {
  it.each([
    ['ENOENT', /does not exist: mount it/],
    ['EACCES', /permission denied on \/var\/run\/docker\.sock/],
    ['ECONNREFUSED', /is the Docker daemon/],
  ])('explains %s', (code, message) => {
    expect(explainDockerError(Object.assign(new Error('x'), { code, address: '/var/run/docker.sock' })).message).toMatch(message);
  });

  it('explains a socket proxy refusing a call', () => {
    expect(explainDockerError(Object.assign(new Error('(HTTP code 403) forbidden'), { statusCode: 403 })).message).toMatch(
      /socket proxy must allow CONTAINERS and EVENTS/,
    );
  });
});
