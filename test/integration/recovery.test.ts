/**
 * Faults the companion must recover from on its own: the Docker event stream cut (here by killing a
 * socket relay between the companion and the daemon) and HAProxy killed inside the container.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Companion, TestRun } from '../helpers/docker.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18103;
let companion: Companion;
let relayDir: string;
let relay: ResultPromise | undefined;

/** A socat relay to the real docker.sock; killing its process group cuts every open stream at once. */
function startRelay(): void {
  relay = execa('socat', [`UNIX-LISTEN:${relayDir}/docker.sock,fork,unlink-early,mode=600`, 'UNIX-CONNECT:/var/run/docker.sock'], {
    detached: true,
    reject: false,
  });
}
function stopRelay(): void {
  if (relay?.pid) process.kill(-relay.pid, 'SIGKILL');
  relay = undefined;
}

beforeAll(async () => {
  relayDir = await mkdtemp(path.join(tmpdir(), 'hc-relay-'));
  startRelay();
  await run.backend({ domain: 'login', text: 'login-1' });
  companion = await run.companion({
    port,
    env: { DOCKER_HOST: 'unix:///var/run/relay/docker.sock' },
    args: ['-v', `${relayDir}:/var/run/relay`],
  });
  await waitFor(async () => (await get(port, 'login.example.com')).body === 'login-1', { what: 'login to be routed' });
});
afterAll(async () => {
  stopRelay();
  await run.cleanup();
});

describe('docker event stream', () => {
  it('keeps routing while Docker is unreachable, then resyncs what changed meanwhile', async () => {
    const connectedBefore = await companion.count('docker event stream connected');
    stopRelay();
    await waitFor(async () => (await companion.count('docker event stream lost; reconnecting')) > 0, { what: 'the loss to be noticed' });

    // Changes made while the companion is blind: one service appears, nothing tells it.
    await run.backend({ domain: 'during', text: 'during-1' });
    expect((await get(port, 'login.example.com')).body).toBe('login-1');
    expect((await get(port, 'during.example.com')).status).toBe(503);

    startRelay();
    await waitFor(async () => (await companion.count('docker event stream connected')) > connectedBefore, {
      timeoutMs: 30_000,
      what: 'reconnect',
    });
    await waitFor(async () => (await get(port, 'during.example.com')).body === 'during-1', { what: 'the resync to route the new service' });
    expect((await get(port, 'login.example.com')).body).toBe('login-1');
  });
});

describe('haproxy process', () => {
  it('is restarted with the last good configuration when it is killed', async () => {
    await companion.exec('for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = haproxy ] && kill -9 ${p#/proc/}; done; true');
    await waitFor(async () => (await companion.count('haproxy exited')) > 0, { what: 'the exit to be noticed' });
    await waitFor(async () => (await get(port, 'login.example.com')).body === 'login-1', { what: 'service restored' });
    expect((await get(port, 'during.example.com')).body).toBe('during-1');
  });
});
