/**
 * One small HTTP/1.1 request over node:http, for the instance metadata service.
 *
 * Why not fetch: Node's fetch (undici) parses HTTP with WebAssembly, which the image's `node --lite-mode`
 * turns off, and loading undici alone costs ~13 MB of resident memory (docs/memory.md).
 */
import { request } from 'node:http';

export interface PlainResponse {
  status: number;
  body: string;
}

export interface PlainRequest {
  method?: 'GET' | 'PUT';
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Bodies larger than this are refused: metadata answers are a few bytes. */
  maxBodyBytes?: number;
}

export function plainHttp(url: string, options: PlainRequest): Promise<PlainResponse> {
  const target = new URL(url);
  if (target.protocol !== 'http:') return Promise.reject(new Error(`only http:// is supported, not ${target.protocol}`));
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: options.method ?? 'GET',
      headers: options.headers,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    req.on('error', (error) => reject(error.name === 'AbortError' ? new Error(`no answer within ${options.timeoutMs} ms`) : error));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) req.destroy(new Error(`answer larger than ${maxBodyBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end();
  });
}
