/**
 * The companion read-only behind a Docker socket proxy that allows only the calls it needs
 * (GET /containers/json, GET /containers/{id}/json, GET /events), as docs/ec2.md recommends. The
 * proxy here is HAProxy itself (what Tecnativa's docker-socket-proxy is), run from our image.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Companion, docker, IMAGE, TestRun } from '../helpers/docker.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18108;
const proxyPort = 18128;
let companion: Companion;

const proxyConfig = `
global
    log stderr format raw local0 info
defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
frontend docker
    bind 127.0.0.1:${proxyPort}
    acl read method GET HEAD
    acl allowed path_reg ^(/v[0-9.]+)?/(containers/json|containers/[a-zA-Z0-9_.-]+/json|events)$
    http-request deny deny_status 403 unless read allowed
    default_backend socket
backend socket
    server docker /var/run/docker.sock
`;

beforeAll(async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'hc-sockproxy-'));
  await writeFile(path.join(dir, 'haproxy.cfg'), proxyConfig);
  await docker(
    'run',
    '-d',
    '--name',
    run.name('socket-proxy'),
    '--label',
    `${run.label}-companion`,
    '--network',
    'host',
    '-v',
    '/var/run/docker.sock:/var/run/docker.sock:ro',
    '-v',
    `${dir}:/etc/sockproxy:ro`,
    '--entrypoint',
    'haproxy',
    IMAGE,
    '-db',
    '-f',
    '/etc/sockproxy/haproxy.cfg',
  );
  await run.backend({ domain: 'login', text: 'login-1' });
  // No docker.sock mount at all: the proxy is the only way in.
  companion = await run.companion({ port, env: { DOCKER_HOST: `tcp://127.0.0.1:${proxyPort}` }, socket: false });
}, 120_000);
afterAll(() => run.cleanup());

describe('behind a read-only Docker socket proxy', () => {
  it('routes, and follows changes through the event stream', async () => {
    await waitFor(async () => (await get(port, 'login.example.com')).body === 'login-1', { what: 'login routed through the proxy' });
    await run.backend({ domain: 'later', text: 'later-1' });
    await waitFor(async () => (await get(port, 'later.example.com')).body === 'later-1', { what: 'a change seen through the proxy' });
  });

  it('the proxy refuses everything else (the companion never needed it)', async () => {
    const create = await fetch(`http://127.0.0.1:${proxyPort}/containers/create`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(create.status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${proxyPort}/images/json`)).status).toBe(403);
    expect((await companion.logs()).filter((l) => /403/.test(String(l.err?.message)))).toEqual([]);
  });
});
