/**
 * The status endpoint against clients that are not people: no token, too many connections, connections
 * that send nothing or half a request.
 */
import type http from 'node:http';
import net from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type StatusServerOptions, startStatusServer } from '../../../src/status/status-server.js';
import type { StatusSnapshot } from '../../../src/status/status-snapshot.js';
import { waitFor } from '../../helpers/wait-for.js';

const snapshot: StatusSnapshot = {
  healthy: true,
  checks: { haproxyRunning: true, dockerConnected: true },
  zone: 'example.com',
  startedAt: '2026-01-01T00:00:00.000Z',
  services: [],
  skipped: [],
  drainingServers: [],
  dns: { enabled: false, domains: [] },
};

const servers: http.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function start(options: Partial<StatusServerOptions> = {}): Promise<number> {
  const server = startStatusServer({
    address: '127.0.0.1',
    port: 0,
    snapshot: async () => snapshot,
    health: () => snapshot,
    log: pino({ level: 'silent' }),
    ...options,
  });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A raw connection, and whether the server has closed it. */
async function connect(port: number) {
  const socket = net.createConnection(port, '127.0.0.1');
  sockets.push(socket);
  const state = { closed: false };
  socket.on('close', () => (state.closed = true));
  socket.on('error', () => undefined);
  // Read what the server sends (a 408, say): a paused socket would never see the end that follows it.
  socket.resume();
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, state };
}

describe('status endpoint', () => {
  it('asks for the bearer token on every path but /healthz when one is set', async () => {
    const port = await start({ token: 'a-token-of-16-chars-or-more' });
    const url = (path: string) => `http://127.0.0.1:${port}${path}`;
    for (const path of ['/', '/status', '/metrics']) {
      expect((await fetch(url(path))).status).toBe(401);
      expect((await fetch(url(path), { headers: { authorization: 'Bearer wrong-token-of-16-chars' } })).status).toBe(401);
      expect((await fetch(url(path), { headers: { authorization: 'Bearer a-token-of-16-chars-or-more' } })).status).toBe(200);
    }
    expect((await fetch(url('/healthz'))).status).toBe(200);
  });

  // The companion it replaces asks (docker/successor.ts): only a live companion in that container answers so.
  it('names on /healthz, without a token, the container the companion runs in', async () => {
    const port = await start({ token: 'a-token-of-16-chars-or-more', containerId: 'c'.repeat(64) });
    const answer = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(await answer.json()).toEqual({ healthy: true, haproxyRunning: true, dockerConnected: true, container: 'c'.repeat(64) });
  });

  it('binds its port once the companion it replaces lets it go, instead of staying dead', async () => {
    const old = net.createServer();
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    const port = (old.address() as net.AddressInfo).port;
    const server = startStatusServer({
      address: '127.0.0.1',
      port,
      rebindDelayMs: 50,
      snapshot: async () => snapshot,
      health: () => snapshot,
      log: pino({ level: 'silent' }),
    });
    servers.push(server);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.listening).toBe(false);
    await new Promise((resolve) => old.close(resolve));
    await waitFor(() => server.listening, { what: 'the port bound' });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('needs no token when none is set', async () => {
    const port = await start();
    expect((await fetch(`http://127.0.0.1:${port}/status`)).status).toBe(200);
  });

  it('closes connections beyond its cap at once, and still answers once they are gone', async () => {
    const port = await start({ maxConnections: 8 });
    const held = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
    await waitFor(() => held.filter((c) => c.state.closed).length >= 12, { what: 'connections over the cap closed' });
    expect(held.filter((c) => c.state.closed)).toHaveLength(12);
    for (const c of held) c.socket.destroy();
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, {
      what: 'an answer',
    });
  });

  // Node's own defaults would keep them for 60 s (headers) and 300 s (request): closing within 15 s is the setting at work.
  it('closes a connection that sends nothing, or only part of a request, within its timeout', { timeout: 20_000 }, async () => {
    const port = await start({ requestTimeoutMs: 300 });
    const silent = await connect(port);
    const slow = await connect(port);
    slow.socket.write('GET /status HTTP/1.1\r\nHost: x\r\n');
    await waitFor(() => silent.state.closed && slow.state.closed, { what: 'both closed', timeoutMs: 15_000 });
  });

  it('closes a keep-alive connection that sits idle after an answer', { timeout: 20_000 }, async () => {
    const port = await start({ requestTimeoutMs: 300 });
    const client = await connect(port);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => client.state.closed, { what: 'the idle connection closed', timeoutMs: 15_000 });
  });
});
