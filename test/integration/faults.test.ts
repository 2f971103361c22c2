/**
 * Faults from Docker, HAProxy and containers themselves: what keeps serving, what recovers, what is
 * reported. (Route53 faults: dns-faults.test.ts and fleet.test.ts; the event stream cut and HAProxy
 * killed outright: recovery.test.ts.)
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Companion, docker, TestRun } from '../helpers/docker.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18107;
let companion: Companion;

beforeAll(async () => {
  await run.backend({ domain: 'stable', text: 'stable-1' });
  companion = await run.companion({ port });
  await waitFor(async () => (await get(port, 'stable.example.com')).body === 'stable-1', { what: 'stable routed' });
});
afterAll(() => run.cleanup());

/** Raw HTTP/1.1 on a fresh connection: what a smuggling attempt looks like on the wire. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

describe('containers', () => {
  it('a container restarting in a loop costs no reload storm, and other routes keep serving', async () => {
    const reloadsBefore = await companion.count('haproxy reloaded');
    const runtimeBefore = await companion.count('servers updated at runtime');
    const flappy = await run.backend({ domain: 'flappy', text: 'flappy', args: ['--restart', 'always'], setup: '(sleep 1; kill 1) &' });
    // Docker backs off restarts (100 ms, 200 ms, …): 12 s see several cycles.
    const deadline = Date.now() + 12_000;
    let stableOk = 0;
    while (Date.now() < deadline) {
      expect((await get(port, 'stable.example.com')).body).toBe('stable-1');
      stableOk++;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const restarts = Number(await docker('inspect', '-f', '{{.RestartCount}}', flappy));
    const reloads = (await companion.count('haproxy reloaded')) - reloadsBefore;
    expect(restarts).toBeGreaterThanOrEqual(3);
    // The new domain takes a spare backend and keeps it through every cycle: runtime changes only.
    expect(reloads).toBe(0);
    expect((await companion.count('servers updated at runtime')) - runtimeBefore).toBeGreaterThanOrEqual(restarts);
    expect(stableOk).toBeGreaterThan(20);
  });
});

describe('haproxy', () => {
  it('runs its workers without root', async () => {
    const uids = (
      await companion.exec('for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = haproxy ] && grep ^Uid: $p/status | cut -f2; done; true')
    ).split('\n');
    // Only the master keeps root (it rebinds :80 on reload); every worker runs as the haproxy user.
    expect(uids.filter((uid) => uid === '0')).toHaveLength(1);
    expect(uids.filter((uid) => uid !== '0').length).toBeGreaterThan(0);
  });

  it('recovers when the worker alone is killed', async () => {
    const workers = await companion.exec(
      'for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = haproxy ] && [ "$(cut -d" " -f4 $p/stat)" != "1" ] && echo ${p#/proc/}; done; true',
    );
    // The worker is the haproxy whose parent is the master (another haproxy).
    const master = await companion.exec('for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = haproxy ] && echo ${p#/proc/}; done | head -1');
    const worker = workers.split('\n').find((pid) => pid && pid !== master.trim());
    expect(worker).toBeDefined();
    await companion.exec(`kill -9 ${worker}`);
    await waitFor(async () => (await get(port, 'stable.example.com')).body === 'stable-1', {
      timeoutMs: 20_000,
      what: 'service after the worker died',
    });
  });

  it('keeps the running config when the new one cannot be written, and applies it once it can', async () => {
    const dir = `/tmp/${companion.name}`;
    await companion.exec(`mkdir ${dir}/haproxy.cfg.new`); // the temp file's path is taken: every write fails
    await run.backend({ domain: 'blocked', text: 'blocked-1' });
    const line = await waitFor(async () =>
      (await companion.logs()).find(
        (l) => l.msg === 'configuration rejected; running configuration kept' && /EISDIR/.test(String(l.err?.message)),
      ),
    );
    expect(line.level).toBe('error');
    expect((await get(port, 'stable.example.com')).body).toBe('stable-1');
    await companion.exec(`rmdir ${dir}/haproxy.cfg.new`);
    await waitFor(async () => (await get(port, 'blocked.example.com')).body === 'blocked-1', { what: 'the retry to apply it' });
  });
});

describe('docker', () => {
  it('starts without a Docker socket, says what to fix, serves, and keeps retrying', async () => {
    const blind = await run.companion({ port: port + 10, env: { DOCKER_HOST: 'unix:///var/run/nothing-here.sock' } });
    await waitFor(async () => (await get(port + 10, 'anything.example.com')).status === 503, { what: 'HAProxy to answer' });
    await waitFor(async () => (await blind.count('docker event stream lost; reconnecting')) >= 2, { what: 'retries' });
    const line = (await blind.logs()).find((l) => l.msg === 'cannot list containers; keeping current routes');
    expect(line?.err?.message).toMatch(/nothing-here\.sock does not exist: mount it .*or set DOCKER_HOST/);
    const health = await fetch(`http://127.0.0.1:${port + 10 + 1000}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ haproxyRunning: true, dockerConnected: false });
  });
});

describe('request smuggling basics, by the rendered defaults', () => {
  it('rejects conflicting Content-Length headers', async () => {
    const answer = await raw('POST / HTTP/1.1\r\nHost: stable.example.com\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });

  it('never lets a body smuggle a second request past Content-Length + Transfer-Encoding', async () => {
    // Chunked wins (RFC 9112), the connection is closed after: the "GET /smuggled" never runs as a request.
    const answer = await raw(
      'POST / HTTP/1.1\r\nHost: stable.example.com\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: stable.example.com\r\n\r\n',
    );
    const responses = answer.match(/^HTTP\/1\.1 \d{3}/gm) ?? [];
    expect(responses.length).toBeLessThanOrEqual(1);
    expect(answer).not.toMatch(/404 Not Found[\s\S]*smuggled/);
  });

  it('rejects oversized headers', async () => {
    const answer = await raw(`GET / HTTP/1.1\r\nHost: stable.example.com\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 (400|431)/);
  });
});
