/**
 * HTTP probes for convergence: each probe is a fresh connection (no pooling), so a probe answers for the
 * state of the proxy at the moment it was sent. A poller fires a probe every `intervalMs` without waiting
 * for the previous one (an address that is not up yet can stall a connect for a long time), and resolves
 * with the arrival time of the first answer that satisfies `accept`.
 */
import http from 'node:http';

export interface Probe {
  status: number;
  body: string;
}

export function get(url: string, options: { host?: string; timeoutMs?: number } = {}): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'GET',
        agent: false,
        headers: { ...(options.host ? { host: options.host } : {}), connection: 'close' },
        timeout: options.timeoutMs ?? 1_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export interface PollOptions {
  host?: string;
  intervalMs?: number;
  timeoutMs?: number;
  maxInFlight?: number;
  /** Default: status 200. */
  accept?: (probe: Probe) => boolean;
  signal?: AbortSignal;
}

/** Resolves with performance.now() at the arrival of the first accepted answer, or undefined on timeout/abort. */
export function pollUntil(url: string, options: PollOptions = {}): Promise<number | undefined> {
  const interval = options.intervalMs ?? 10;
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  const accept = options.accept ?? ((p: Probe) => p.status === 200);
  const maxInFlight = options.maxInFlight ?? 16;
  return new Promise((resolve) => {
    let inFlight = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (at: number | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(at);
    };
    options.signal?.addEventListener('abort', () => finish(undefined), { once: true });
    const tick = () => {
      if (done) return;
      if (performance.now() > deadline) return finish(undefined);
      if (inFlight < maxInFlight) {
        inFlight++;
        get(url, { ...(options.host ? { host: options.host } : {}), timeoutMs: 2_000 })
          .then((probe) => {
            if (accept(probe)) finish(performance.now());
          })
          .catch(() => undefined)
          .finally(() => inFlight--);
      }
      timer = setTimeout(tick, interval);
    };
    tick();
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
