/**
 * The status endpoint: /healthz for orchestrators, /status (JSON) and / (HTML) for people, /metrics
 * for Prometheus. Read-only; it exposes decisions and counts, never configuration or credentials.
 *
 * What it shows (container names, addresses, the host id) is useful to an attacker, and a client that
 * holds connections open must not be able to starve the companion of file descriptors: it listens on
 * loopback unless told otherwise, can require a bearer token for everything but /healthz, caps its
 * connections and closes slow or idle ones.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { isLoopback } from '../lib/addresses.js';
import type { Logger } from '../log.js';
import { registry } from '../metrics.js';
import { renderStatusPage } from './status-page.js';
import type { Health, StatusSnapshot } from './status-snapshot.js';

/** Connections beyond this are closed at once: the endpoint serves a few people and a scraper. */
export const STATUS_MAX_CONNECTIONS = 64;
/** A request must arrive whole within this; an idle keep-alive connection is closed after it too. */
export const STATUS_REQUEST_TIMEOUT_MS = 5_000;

export interface StatusServerOptions {
  address: string;
  port: number;
  /** When set, every path but /healthz needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /**
   * The container the companion runs in (self-id.ts), named on /healthz: the companion this one replaces
   * asks it there, and only a live companion in that container answers with it (docker/successor.ts).
   */
  containerId?: string | undefined;
  /** Tests shorten these. */
  maxConnections?: number;
  requestTimeoutMs?: number;
  rebindDelayMs?: number;
  snapshot: () => Promise<StatusSnapshot>;
  health: () => Health;
  log: Logger;
}

export function startStatusServer(options: StatusServerOptions): http.Server {
  const authorized = bearerCheck(options.token);
  const timeoutMs = options.requestTimeoutMs ?? STATUS_REQUEST_TIMEOUT_MS;
  const limits: http.ServerOptions = {
    // A whole request within this of connecting (a client that sends nothing or dribbles its headers
    // gets a 408 and is closed), and an idle keep-alive connection closed after it.
    headersTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    keepAliveTimeout: timeoutMs,
    // How often Node enforces the two timeouts above (default 30 s).
    connectionsCheckingInterval: Math.min(1_000, timeoutMs),
  };
  const server = http.createServer(limits, (req, res) => {
    void handle(req, res).catch((error: Error) => {
      options.log.warn({ err: error, path: req.url }, 'status request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://status').pathname;
    if (path !== '/healthz' && !authorized(req.headers.authorization)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="haproxy-companion"', 'content-type': 'text/plain' }).end('unauthorized\n');
      return;
    }
    switch (path) {
      case '/healthz': {
        const { healthy, checks } = options.health();
        const container = options.containerId !== undefined && { container: options.containerId };
        send(res, healthy ? 200 : 503, 'application/json', `${JSON.stringify({ healthy, ...checks, ...container })}\n`);
        return;
      }
      case '/status':
        send(res, 200, 'application/json', `${JSON.stringify(await options.snapshot(), null, 2)}\n`);
        return;
      case '/metrics':
        send(res, 200, registry.contentType, await registry.metrics());
        return;
      case '/':
        send(res, 200, 'text/html; charset=utf-8', renderStatusPage(await options.snapshot()));
        return;
      default:
        send(res, 404, 'text/plain', 'not found: try /, /status, /healthz or /metrics\n');
    }
  }

  server.maxConnections = options.maxConnections ?? STATUS_MAX_CONNECTIONS;
  server.listen(options.port, options.address, () => {
    options.log.info({ address: options.address, port: options.port, token: options.token !== undefined }, 'status endpoint listening');
    if (!isLoopback(options.address) && options.token === undefined) {
      options.log.warn(
        { address: options.address },
        'status endpoint reachable from the network without STATUS_TOKEN: anyone who reaches it reads container names, addresses and the host id',
      );
    }
  });
  // The port taken (the companion being replaced still holds it during a handover): bind as soon as it
  // is free, never stay dead; said once.
  let waiting = false;
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE') {
      options.log.error({ err: error }, 'status endpoint failed');
      return;
    }
    if (!waiting) options.log.warn({ port: options.port }, 'status port in use (a companion being replaced?); binding it once it is free');
    waiting = true;
    setTimeout(() => server.listen(options.port, options.address), options.rebindDelayMs ?? 1_000).unref();
  });
  return server;
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

/** Compares digests, so the time taken says nothing about the token. */
function bearerCheck(token: string | undefined): (header: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  const expected = digest(`Bearer ${token}`);
  return (header) => header !== undefined && timingSafeEqual(digest(header), expected);
}
