/**
 * The status endpoint: /healthz for orchestrators, /status (JSON) and / (HTML) for people, /metrics
 * for Prometheus. Read-only; it exposes decisions and counts, never configuration or credentials.
 */
import http from 'node:http';
import type { Logger } from '../log.js';
import { registry } from '../metrics.js';
import { renderStatusPage } from './status-page.js';
import type { StatusSnapshot } from './status-snapshot.js';

export function startStatusServer(options: {
  address: string;
  port: number;
  snapshot: () => Promise<StatusSnapshot>;
  log: Logger;
}): http.Server {
  const server = http.createServer((req, res) => {
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
    switch (path) {
      case '/healthz': {
        const status = await options.snapshot();
        send(res, status.healthy ? 200 : 503, 'application/json', `${JSON.stringify({ healthy: status.healthy, ...status.checks })}\n`);
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

  server.listen(options.port, options.address, () =>
    options.log.info({ address: options.address, port: options.port }, 'status endpoint listening'),
  );
  server.on('error', (error) => options.log.error({ err: error }, 'status endpoint failed'));
  return server;
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}
