/**
 * What a network client of ports 80 and 8404 can and cannot do, against the real image: forge the
 * forwarding headers a backend trusts, read the status endpoint, pile up old HAProxy workers by
 * holding connections open across reloads; and HAProxy's events in the companion's log once each.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Companion, docker, TestRun } from '../helpers/docker.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18140;
const trustingPort = 18141;
const workersPort = 18142;

// CGI scripts for the busybox backend: `env` shows the request headers as the backend sees them
// (HTTP_X_FORWARDED_FOR…), `slow` holds a request open for 30 s.
const cgi = [
  `printf '#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"\\nenv\\n' > /www/cgi-bin/env && chmod +x /www/cgi-bin/env`,
  `printf '#!/bin/sh\\nsleep 30\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nslow done\\\\n"\\n' > /www/cgi-bin/slow && chmod +x /www/cgi-bin/slow`,
].join(' && ');

const forged = {
  'X-Forwarded-For': '6.6.6.6',
  Forwarded: 'for=6.6.6.6;proto=https',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'evil.example',
  'X-Forwarded-Port': '1',
};

/** A request with the given headers; resolves with the body, or the error that ended it. */
function request(to: number, host: string, path: string, headers: Record<string, string> = {}, timeoutMs = 5_000) {
  return new Promise<{ status: number; body: string } | Error>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: to, path, headers: { Host: host, ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', resolve);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', resolve);
    req.end();
  });
}

/** The CGI environment as the backend saw it: HTTP_* variables by name. */
async function backendView(to: number, headers: Record<string, string>): Promise<Record<string, string>> {
  const reply = await request(to, 'echo.example.com', '/cgi-bin/env', headers);
  if (reply instanceof Error) throw reply;
  return Object.fromEntries(
    reply.body
      .split('\n')
      .filter((line) => line.startsWith('HTTP_'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

let plain: Companion;
beforeAll(async () => {
  await run.backend({ domain: 'echo', text: 'echo', setup: cgi });
  plain = await run.companion({ port, env: { STATUS_TOKEN: 'a-status-token-for-the-tests' } });
  await waitFor(async () => (await get(port, 'echo.example.com')).body === 'echo', { what: 'echo routed' });
});
afterAll(() => run.cleanup());

describe('forwarding headers', () => {
  it('drops what a client claims and sets what HAProxy saw', async () => {
    const seen = await backendView(port, forged);
    expect(seen).toMatchObject({
      HTTP_X_FORWARDED_FOR: '127.0.0.1',
      HTTP_X_FORWARDED_PROTO: 'http',
      HTTP_X_FORWARDED_HOST: 'echo.example.com',
      HTTP_X_FORWARDED_PORT: String(port),
    });
    expect(seen.HTTP_FORWARDED).toBeUndefined();
  });

  it('keeps them from a trusted proxy (TRUSTED_PROXIES), and adds the proxy’s own address', async () => {
    await run.companion({ port: trustingPort, env: { TRUSTED_PROXIES: '127.0.0.0/8' } });
    await waitFor(async () => (await get(trustingPort, 'echo.example.com')).body === 'echo', { what: 'echo routed' });
    const seen = await backendView(trustingPort, forged);
    expect(seen.HTTP_X_FORWARDED_FOR?.split(/,\s*/)).toEqual(['6.6.6.6', '127.0.0.1']);
    expect(seen).toMatchObject({
      HTTP_FORWARDED: 'for=6.6.6.6;proto=https',
      HTTP_X_FORWARDED_PROTO: 'https',
      HTTP_X_FORWARDED_HOST: 'evil.example',
    });
  });
});

describe('status endpoint', () => {
  const statusPort = port + 1000;

  it('listens on loopback only by default', async () => {
    // Host network mode: the companion's listening sockets are the host's. 0100007F is 127.0.0.1.
    const listening = (await readFile('/proc/net/tcp', 'utf8'))
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(`:${statusPort.toString(16).toUpperCase().padStart(4, '0')}`));
    expect(listening.map((fields) => fields[1]?.split(':')[0])).toEqual(['0100007F']);
  });

  it('asks for the token on /status, /metrics and the page, not on /healthz', async () => {
    const url = (path: string) => `http://127.0.0.1:${statusPort}${path}`;
    for (const path of ['/', '/status', '/metrics']) {
      expect((await fetch(url(path))).status).toBe(401);
      expect((await fetch(url(path), { headers: { authorization: 'Bearer a-status-token-for-the-tests' } })).status).toBe(200);
    }
    expect((await fetch(url('/healthz'))).status).toBe(200);
  });
});

describe('HAProxy events', () => {
  it('are logged once each', async () => {
    const name = await run.backend({ domain: 'flaky', text: 'flaky' });
    await waitFor(async () => (await get(port, 'flaky.example.com')).body === 'flaky', { what: 'flaky routed' });
    await docker('pause', name);
    const down = new RegExp(`Server \\S+/${name} is going DOWN`);
    await waitFor(async () => (await plain.logs()).some((l) => down.test(l.msg)), { what: 'the DOWN event' });
    await docker('unpause', name);
    const events = (await plain.logs()).filter((l) => down.test(l.msg));
    expect(events).toHaveLength(1);
    expect(events[0]?.level).toBe('warn');
  });
});

describe('old HAProxy workers', () => {
  /** Workers still serving connections from before a reload, as the master lists them. */
  const oldWorkers = async (companion: Companion) => {
    const proc = await companion.cli('show proc', 'master.sock');
    const old = proc.split(/^# old workers$/m)[1] ?? '';
    return old.split('\n').filter((line) => /^\d+\s+worker/.test(line)).length;
  };

  it('are bounded in number and in lifetime, whatever the clients hold open', async () => {
    const companion = await run.companion({ port: workersPort, env: { HAPROXY_MAX_OLD_WORKERS: '2', HAPROXY_HARD_STOP_AFTER_S: '8' } });
    await waitFor(async () => (await get(workersPort, 'echo.example.com')).body === 'echo', { what: 'echo routed' });
    const held: Promise<unknown>[] = [];
    let most = 0;
    for (let i = 0; i < 4; i++) {
      // A request that stays open (30 s) keeps the worker that took it alive across the reload after it.
      held.push(request(workersPort, 'echo.example.com', '/cgi-bin/slow', {}, 40_000));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await companion.cli('reload', 'master.sock')).toMatch(/Success=1/);
      most = Math.max(most, await oldWorkers(companion));
    }
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(2);
    // hard-stop-after: 8 s after the last reload no old worker is left, though their requests had 30 s to go.
    await waitFor(async () => (await oldWorkers(companion)) === 0, { timeoutMs: 15_000, what: 'old workers gone' });
    await Promise.all(held);
  });
});
