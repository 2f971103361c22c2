import http from 'node:http';

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
