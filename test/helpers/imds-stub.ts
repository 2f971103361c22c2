/**
 * A small EC2 instance metadata service (IMDSv2 only) on 127.0.0.1, because moto serves no instance metadata
 * and tests must never reach 169.254.169.254. Point the code under test at `endpoint`.
 *
 * Like the real one: a session token comes from `PUT /latest/api/token` with a TTL header, and metadata
 * reads without a valid, unexpired token get 401.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { listenOnLoopback } from './loopback.js';

export interface ImdsOptions {
  /** What /latest/meta-data/local-ipv4 answers. */
  ip: string;
  /** What /latest/meta-data/instance-id answers, e.g. i-0123456789abcdef0. */
  instanceId: string;
  /**
   * What /latest/meta-data/ipv6 answers, e.g. 2001:db8::10. Absent (the default): 404, as on an instance
   * whose primary network interface has no IPv6 address.
   */
  ipv6?: string;
  /**
   * The token PUT is accepted but never answered: what a container on a bridge network sees on EC2 when the
   * instance's metadata hop limit is 1 (the answer is dropped one hop short).
   */
  tokenHangs?: boolean;
  /**
   * What /latest/meta-data/autoscaling/target-lifecycle-state answers (InService, Terminated…), settable
   * while the stub runs; absent: 404, as on an instance outside an Auto Scaling group.
   */
  lifecycleState?: string;
}

export interface ImdsRequest {
  method: string;
  path: string;
  /** Absent while a request is left hanging. */
  status?: number;
}

export interface ImdsStub {
  /** e.g. http://127.0.0.1:41236 (no trailing slash). */
  readonly endpoint: string;
  /** Every request so far, in arrival order. */
  requests(): ImdsRequest[];
  /** What target-lifecycle-state answers from now on (undefined: 404). */
  setLifecycleState(state: string | undefined): void;
  close(): Promise<void>;
}

const TOKEN_TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
const MAX_TTL_SECONDS = 21_600;
const LIFECYCLE_PATH = '/latest/meta-data/autoscaling/target-lifecycle-state';

export async function startImdsStub(options: ImdsOptions): Promise<ImdsStub> {
  const metadata: Record<string, string> = {
    '/latest/meta-data/local-ipv4': options.ip,
    '/latest/meta-data/instance-id': options.instanceId,
    ...(options.ipv6 === undefined ? {} : { '/latest/meta-data/ipv6': options.ipv6 }),
    ...(options.lifecycleState === undefined ? {} : { [LIFECYCLE_PATH]: options.lifecycleState }),
  };
  const tokens = new Map<string, number>(); // token -> expiry (Date.now() ms)
  const log: ImdsRequest[] = [];

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const entry: ImdsRequest = { method: req.method ?? 'GET', path };
    log.push(entry);
    const reply = (status: number, body = '', headers: http.OutgoingHttpHeaders = {}): void => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    req.resume();

    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return reply(405);
      if (options.tokenHangs) return; // keep the socket open, answer nothing
      const ttl = Number(req.headers[TOKEN_TTL_HEADER]);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) return reply(400);
      const token = randomBytes(32).toString('base64url');
      tokens.set(token, Date.now() + ttl * 1000);
      return reply(200, token, { [TOKEN_TTL_HEADER]: String(ttl) });
    }

    const value = metadata[path];
    if (value === undefined) return reply(404);
    if (req.method !== 'GET') return reply(405);
    const token = req.headers[TOKEN_HEADER];
    const expiry = typeof token === 'string' ? tokens.get(token) : undefined;
    if (expiry === undefined || expiry <= Date.now()) return reply(401);
    return reply(200, value);
  });
  const listening = await listenOnLoopback(server);

  return {
    endpoint: listening.endpoint,
    requests: () => log.map((entry) => ({ ...entry })),
    setLifecycleState(state) {
      if (state === undefined) delete metadata[LIFECYCLE_PATH];
      else metadata[LIFECYCLE_PATH] = state;
    },
    close: listening.close,
  };
}
