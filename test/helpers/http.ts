import http from 'node:http';
import http2 from 'node:http2';

export interface Reply {
  status: number;
  body: string;
}

/** GET through the proxy with a chosen Host header (fetch does not let us set Host). */
export function get(port: number, host: string, path = '/'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { Host: host }, agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${path}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

/** The set of bodies seen over `n` requests: with one server per body text, which servers got traffic. */
export async function bodiesOver(port: number, host: string, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const reply = await get(port, host);
    seen.add(`${reply.status} ${reply.body}`);
  }
  return seen;
}

/**
 * The status of a GET of each path (sent as written) over one cleartext HTTP/2 connection (prior knowledge,
 * as HAProxy takes on an HTTP/1 port), with `host` as :authority.
 */
export async function statusesOverH2c(port: number, host: string, paths: string[]): Promise<Record<string, number>> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const one = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': path, ':authority': host });
        let status = 0;
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('end', () => resolve(status));
        stream.on('error', reject);
        stream.setTimeout(5_000, () => stream.close());
        stream.resume();
      });
    return Object.fromEntries(await Promise.all(paths.map(async (path) => [path, await one(path)] as const)));
  } finally {
    session.close();
  }
}

export interface FullReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The raw bytes: a compressed body stays compressed. */
  body: Buffer;
}

/** A request through the proxy with a chosen Host, path and headers; the whole reply, undecoded. */
export function request(port: number, host: string, path = '/', headers: Record<string, string> = {}): Promise<FullReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, headers: { Host: host, ...headers }, agent: false, timeout: 5_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${path}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

export interface LoadResult {
  ok: number;
  /** Each failure: the status and the start of the body, or the error. */
  failed: string[];
  /** 200 answers by body: with one body per server, which servers answered. */
  by: Map<string, number>;
}

/**
 * GETs through the proxy over keep-alive connections, `concurrency` at a time, until stopped: the load
 * under which a change must lose no request.
 */
export function keepAliveLoad(port: number, host: string, concurrency = 8): { result: LoadResult; stop(): Promise<LoadResult> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const result: LoadResult = { ok: 0, failed: [], by: new Map() };
  let running = true;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/', headers: { Host: host }, agent, timeout: 15_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode === 200) {
            result.ok++;
            result.by.set(body, (result.by.get(body) ?? 0) + 1);
          } else result.failed.push(`${res.statusCode} ${body.slice(0, 80)}`);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error) => {
        result.failed.push(error.message);
        resolve();
      });
      req.end();
    });
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) await one();
  });
  return {
    result,
    async stop() {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return result;
    },
  };
}
