/**
 * Issue #14's edge settings against the real image: PROXY headers taken from TRUSTED_PROXIES only (v1 and
 * v2, before HTTP and before TLS), HAProxy on IPv6 as well, and the JSON access log on the container's
 * stdout. One companion with TRUSTED_PROXIES=127.0.0.1/32: a client connecting from 127.0.0.1 plays the
 * load balancer, one from 127.0.0.2 (loopback too, and a source no one trusts) anyone else.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../helpers/certs.js';
import { type Companion, TestRun } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18170;
const httpsPort = 18171;
const BALANCER = '127.0.0.1';
const STRANGER = '127.0.0.2';
const SECRET = 's3cr3t-7f1d';

/** Whether this host has IPv6 on loopback; the companion listens on it with LISTEN_IPV6=true. */
const hostHasIpv6 = await new Promise<boolean>((resolve) => {
  const server = net.createServer();
  server.once('error', () => resolve(false));
  server.listen({ host: '::1', port: 0 }, () => server.close(() => resolve(true)));
});

// A CGI script for the busybox backend: `env` shows the request headers as the backend sees them.
const cgi = `printf '#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"\\nenv\\n' > /www/cgi-bin/env && chmod +x /www/cgi-bin/env`;

interface Exchange {
  /** 0 when the connection was closed without an answer. */
  status: number;
  body: string;
}

/**
 * Sends `prefix` (a PROXY header, or nothing) and then an HTTP/1.1 request on one connection from `from`,
 * over TLS when `servername` is given (the prefix before the handshake, as a balancer sends it).
 */
function exchange(options: {
  to?: number;
  host?: string;
  from?: string;
  prefix?: Buffer | string;
  request: string;
  servername?: string;
}): Promise<Exchange> {
  const { to = port, host = '127.0.0.1', from, prefix = '', request, servername } = options;
  return new Promise((resolve) => {
    let raw = '';
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      resolve({ status: match ? Number(match[1]) : 0, body: match ? raw.slice(raw.indexOf('\r\n\r\n') + 4) : '' });
    };
    const socket = net.connect({ host, port: to, localAddress: from }, () => {
      if (prefix.length > 0) socket.write(prefix);
      const stream = servername ? tls.connect({ socket, servername, ca: ca.cert }) : socket;
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (raw += chunk));
      stream.on('end', done);
      stream.on('error', done);
      stream.write(request);
    });
    // A refused or reset connection, or one that never answers: no answer.
    socket.on('error', done);
    socket.on('close', done);
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

const get = (urlPath: string, headers: Record<string, string> = {}) =>
  `GET ${urlPath} HTTP/1.1\r\nHost: echo.example.com\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}Connection: close\r\n\r\n`;

const proxyV1 = (client: string, clientPort: number, to = port) => `PROXY TCP4 ${client} 10.0.0.1 ${clientPort} ${to}\r\n`;

/** A PROXY v2 header (binary), PROXY command, TCP over IPv4. */
function proxyV2(client: string, clientPort: number, to = port): Buffer {
  const signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(clientPort, 0);
  ports.writeUInt16BE(to, 2);
  const addresses = Buffer.concat([Buffer.from([...client.split('.').map(Number), 10, 0, 0, 1]), ports]);
  return Buffer.concat([signature, Buffer.from([0x21, 0x11, 0x00, addresses.length]), addresses]);
}

/** The CGI environment the backend saw: HTTP_* variables by name. */
function headersSeen(reply: Exchange): Record<string, string> {
  expect(reply.status).toBe(200);
  return Object.fromEntries(
    reply.body
      .split('\n')
      .filter((line) => line.startsWith('HTTP_'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]),
  );
}

/** The container's stdout and stderr, apart. */
async function output(companion: Companion) {
  const { stdout, stderr } = await execa('docker', ['logs', companion.name]);
  return { stdout: stdout.split('\n').filter((line) => line !== ''), stderr };
}

/** The access log lines on stdout. */
async function accessLines(companion: Companion): Promise<Record<string, unknown>[]> {
  return (await output(companion)).stdout
    .filter((line) => line.startsWith('{"access_log"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

let ca: TestCa;
let certsDir: string;
let companion: Companion;

beforeAll(async () => {
  ca = await createTestCa();
  certsDir = await mkdtemp(path.join(tmpdir(), 'hc-edge-'));
  const leaf = await ca.issue(['echo.example.com']);
  await writeFile(path.join(certsDir, 'echo.pem'), `${leaf.cert}${leaf.chain}${leaf.key}`);
  // `https: both`: plain HTTP is served too, not redirected.
  await run.backend({
    text: 'echo',
    labels: { 'haproxy-companion.web.domain': 'echo', 'haproxy-companion.web.https': 'both' },
    setup: cgi,
  });
  companion = await run.companion({
    port,
    env: {
      PROXY_PROTOCOL: 'true',
      TRUSTED_PROXIES: `${BALANCER}/32`,
      LISTEN_IPV6: hostHasIpv6 ? 'true' : 'auto',
      ACCESS_LOG: 'json',
      TLS_CERTS_DIR: '/certs',
      HTTPS_PORT: String(httpsPort),
    },
    args: ['-v', `${certsDir}:/certs:ro`],
  });
  await waitFor(async () => (await exchange({ from: STRANGER, request: get('/') })).body.trim() === 'echo', { what: 'echo routed' });
});

afterAll(async () => {
  await run.cleanup();
  await rm(certsDir, { recursive: true, force: true });
  await ca?.close();
});

describe('PROXY protocol (PROXY_PROTOCOL=true, TRUSTED_PROXIES)', () => {
  it('takes the client address of a v1 header from a trusted balancer: the backend sees it in X-Forwarded-For', async () => {
    const reply = await exchange({
      from: BALANCER,
      prefix: proxyV1('203.0.113.9', 5555),
      // The client's own forwarding headers, a secret header, a cookie and a query string: the first are
      // replaced (an NLB writes no header: these are the client's), the rest must never reach the access log.
      request: get(`/cgi-bin/env?token=${SECRET}`, {
        'X-Forwarded-For': '6.6.6.6',
        'X-Forwarded-Proto': 'https',
        'X-Api-Key': SECRET,
        Cookie: `session=${SECRET}`,
      }),
    });
    expect(headersSeen(reply)).toMatchObject({ HTTP_X_FORWARDED_FOR: '203.0.113.9', HTTP_X_FORWARDED_PROTO: 'http' });
  });

  it('takes a v2 header too', async () => {
    const reply = await exchange({ from: BALANCER, prefix: proxyV2('198.51.100.7', 4444), request: get('/cgi-bin/env') });
    expect(headersSeen(reply).HTTP_X_FORWARDED_FOR).toBe('198.51.100.7');
  });

  it('takes it on HTTPS, before the TLS handshake', async () => {
    const reply = await exchange({
      to: httpsPort,
      from: BALANCER,
      prefix: proxyV1('203.0.113.10', 5556, httpsPort),
      request: get('/cgi-bin/env'),
      servername: 'echo.example.com',
    });
    expect(headersSeen(reply)).toMatchObject({ HTTP_X_FORWARDED_FOR: '203.0.113.10', HTTP_X_FORWARDED_PROTO: 'https' });
  });

  it('refuses the same header from a source it does not trust: a bad request, and no backend sees the claimed address', async () => {
    for (const prefix of [proxyV1('203.0.113.66', 6666), proxyV2('203.0.113.66', 6666)]) {
      expect((await exchange({ from: STRANGER, prefix, request: get('/cgi-bin/env') })).status).toBe(400);
    }
  });

  it('refuses a second header behind the balancer’s (a client sending its own through an NLB)', async () => {
    const prefix = proxyV1('203.0.113.9', 5555) + proxyV1('203.0.113.77', 7777);
    expect((await exchange({ from: BALANCER, prefix, request: get('/cgi-bin/env') })).status).toBe(400);
  });

  it('closes a connection from the balancer that does not start with the header', async () => {
    expect(await exchange({ from: BALANCER, request: get('/') })).toEqual({ status: 0, body: '' });
  });

  it('serves everyone else as plain HTTP, with their own address', async () => {
    expect(headersSeen(await exchange({ from: STRANGER, request: get('/cgi-bin/env') })).HTTP_X_FORWARDED_FOR).toBe(STRANGER);
  });
});

describe('IPv6 (LISTEN_IPV6)', () => {
  it.skipIf(!hostHasIpv6)('answers over [::1] on HTTP and HTTPS, IPv6 on listeners of its own', async () => {
    const config = await companion.config();
    expect(config).toContain(`bind [::]:${port} v6only\n`);
    expect(config).toMatch(new RegExp(`bind \\[::\\]:${httpsPort} v6only ssl `));
    expect(headersSeen(await exchange({ host: '::1', request: get('/cgi-bin/env') })).HTTP_X_FORWARDED_FOR).toBe('::1');
    const overTls = await exchange({ to: httpsPort, host: '::1', request: get('/'), servername: 'echo.example.com' });
    expect(overTls.status).toBe(200);
    expect(overTls.body.trim()).toBe('echo');
  });
});

describe('access log (ACCESS_LOG=json)', () => {
  it('writes a JSON line per request on stdout, with the PROXY header’s client', async () => {
    const lines = await waitFor(async () => {
      const all = await accessLines(companion);
      const complete = all.some((l) => l.client_ip === '203.0.113.10') && all.some((l) => l.status === 400 && l.client_ip === STRANGER);
      return complete ? all : undefined;
    });
    const viaBalancer = lines.find((l) => l.client_ip === '203.0.113.9' && l.status === 200);
    expect(viaBalancer).toMatchObject({
      access_log: 'http',
      client_port: 5555,
      tls: false,
      protocol: 'HTTP/1.1',
      method: 'GET',
      host: 'echo.example.com',
      path: '/cgi-bin/env',
      backend: 'be_echo',
      termination: '--',
    });
    for (const key of ['bytes_sent', 'bytes_received', 'request_ms', 'queue_ms', 'connect_ms', 'response_ms', 'total_ms']) {
      expect(viaBalancer?.[key], key).toEqual(expect.any(Number));
    }
    expect(viaBalancer?.server).toEqual(expect.stringMatching(/^(?!<NOSRV>).+/));
    expect(lines.find((l) => l.client_ip === '203.0.113.10')).toMatchObject({ tls: true, status: 200, path: '/cgi-bin/env' });
    // The refused PROXY header from a stranger: its line names the stranger, not the address it claimed.
    expect(lines.some((l) => l.client_ip === '203.0.113.66')).toBe(false);
  });

  it('never logs a header value, a cookie or a query string', async () => {
    const { stdout, stderr } = await output(companion);
    expect(`${stdout.join('\n')}\n${stderr}`).not.toContain(SECRET);
  });

  it('keeps stdout JSON lines only across a reload, whose HAProxy events go to stderr and the companion’s log', async () => {
    // A reload as the companion's own would do it: the old worker's "Proxy http stopped" goes to the
    // frontend's log target too, at warning level, which the target's `err` filter keeps out.
    expect(await companion.cli('reload', 'master.sock')).toMatch(/Success=1/);
    await waitFor(async () => (await exchange({ from: STRANGER, request: get('/after-reload') })).status !== 0);
    const { stdout } = await waitFor(async () => {
      const out = await output(companion);
      const complete =
        out.stdout.some((line) => line.includes('/after-reload')) && out.stdout.some((line) => line.includes('Proxy http stopped'));
      return complete ? out : undefined;
    });
    const notJson = stdout.filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    // The event reached the companion's log (from HAProxy's stderr), with its severity.
    const event = stdout
      .map((line) => JSON.parse(line))
      .find((l) => l.source === 'haproxy' && String(l.msg).includes('Proxy http stopped'));
    expect(event).toMatchObject({ level: 'warn' });
  });

  it('writes each line whole, whatever the request line holds', async () => {
    const odd = `/q"uo\\te/${'x'.repeat(3000)}`;
    await exchange({ from: STRANGER, request: get(odd) });
    const line = await waitFor(async () => (await accessLines(companion)).find((l) => String(l.path).startsWith('/q')));
    // HAProxy's log escaping writes `"` as #22 (then JSON escapes the backslash), and the request line is cut
    // at 1024 characters: still one whole line, never a JSON object cut short.
    expect(String(line.path).startsWith('/q#22uo\\te/xxx')).toBe(true);
    expect(String(line.path).length).toBeLessThanOrEqual(1024);
  });
});
