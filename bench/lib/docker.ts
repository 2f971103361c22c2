/**
 * A small Docker Engine API client over /var/run/docker.sock. The benchmark talks to the API directly rather
 * than spawning the `docker` CLI: `docker start` through the CLI costs a process start (~50-100 ms) that
 * would blur the start time every convergence figure is measured from.
 *
 * Every container the benchmark makes carries the label `hc-bench=<run id>`; cleanup() removes them all.
 */

import { spawn } from 'node:child_process';
import http from 'node:http';

const SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const API = '/v1.41';
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

export const BENCH_LABEL = 'hc-bench';
/** Which system (scope) a routed container belongs to: the companion's CONTAINER_LABEL_FILTER and the dump's --label. */
export const SCOPE_LABEL = 'hc-bench.scope';

export interface ApiResponse {
  status: number;
  body: string;
}

export function api(method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        socketPath: SOCKET,
        agent,
        method,
        path: API + path,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`docker ${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function ok(method: string, path: string, body?: unknown, accept: number[] = [200, 201, 204]): Promise<string> {
  const res = await api(method, path, body);
  if (!accept.includes(res.status)) throw new Error(`docker ${method} ${path}: HTTP ${res.status} ${res.body.trim()}`);
  return res.body;
}

export interface BackendSpec {
  name: string;
  runId: string;
  /** Routed-container scope label value; the companion and the dump only see containers of their scope. */
  scope?: string;
  /** DOMAIN env var (what the old pipeline and the companion both read). */
  domain?: string;
  network: string;
  ip: string;
  /** What the backend answers (default: its name). */
  text?: string;
  /**
   * busybox (default): busybox httpd, a process per connection, every connection closed (a few hundred
   * req/s on a busy 2-core machine). fast: a one-line Node http server with keep-alive (well over 10,000
   * req/s here), for measuring the proxy rather than the backend.
   */
  kind?: 'busybox' | 'fast';
}

export const BUSYBOX_IMAGE = process.env.BACKEND_IMAGE ?? 'busybox:latest';
export const FAST_BACKEND_IMAGE = process.env.FAST_BACKEND_IMAGE ?? 'node:24-trixie-slim';

/** The command of a fast backend answering `text` (what the report quotes). */
export const fastBackendCmd = (text: string) => [
  'node',
  '-e',
  `require('http').createServer((q,s)=>s.end(${JSON.stringify(`${text}\n`)})).listen(8080)`,
];

/** Creates (does not start) a backend answering `text` on :8080, on `network` at `ip`. Returns its id. */
export async function createBackend(spec: BackendSpec): Promise<string> {
  const labels: Record<string, string> = { [BENCH_LABEL]: spec.runId };
  if (spec.scope) labels[SCOPE_LABEL] = spec.scope;
  const text = spec.text ?? spec.name;
  const fast = spec.kind === 'fast';
  const body = {
    Image: fast ? FAST_BACKEND_IMAGE : BUSYBOX_IMAGE,
    Cmd: fast ? fastBackendCmd(text) : ['sh', '-c', `mkdir -p /www && echo '${text}' > /www/index.html && exec httpd -f -p 8080 -h /www`],
    Env: spec.domain === undefined ? [] : [`DOMAIN=${spec.domain}`],
    Labels: labels,
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: { NetworkMode: spec.network, LogConfig: { Type: 'none', Config: {} } },
    NetworkingConfig: { EndpointsConfig: { [spec.network]: { IPAMConfig: { IPv4Address: spec.ip } } } },
  };
  const created = JSON.parse(await ok('POST', `/containers/create?name=${encodeURIComponent(spec.name)}`, body)) as { Id: string };
  return created.Id;
}

export const start = (id: string) => ok('POST', `/containers/${id}/start`, undefined, [204, 304]).then(() => undefined);
/** SIGKILL: busybox httpd runs as PID 1 and ignores SIGTERM, so `docker stop` would wait its full timeout. */
export const kill = (id: string) => ok('POST', `/containers/${id}/kill`, undefined, [204, 409]).then(() => undefined);
export const remove = (id: string) => ok('DELETE', `/containers/${id}?force=1&v=1`, undefined, [204, 404]).then(() => undefined);
export const imageExists = async (image: string) => (await api('GET', `/images/${encodeURIComponent(image)}/json`)).status === 200;
export const inspect = async (id: string) => JSON.parse(await ok('GET', `/containers/${id}/json`)) as Record<string, any>;

export async function listIds(label: string, all = true): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const list = JSON.parse(await ok('GET', `/containers/json?all=${all ? 1 : 0}&filters=${filters}`)) as { Id: string }[];
  return list.map((c) => c.Id);
}

/** Creates a bridge network with a fixed subnet (so containers get addresses known before they start). */
export async function createNetwork(name: string, subnet: string, runId: string): Promise<void> {
  await ok('POST', '/networks/create', {
    Name: name,
    Driver: 'bridge',
    CheckDuplicate: true,
    Labels: { [BENCH_LABEL]: runId },
    IPAM: { Config: [{ Subnet: subnet }] },
  });
}

export async function removeNetworks(label: string): Promise<void> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const nets = JSON.parse(await ok('GET', `/networks?filters=${filters}`)) as { Id: string }[];
  for (const net of nets) {
    // Docker 20.10 sometimes keeps a stale endpoint after many concurrent removals ("has active endpoints"
    // with no container attached); such a network stays until dockerd restarts. Not worth failing a run for.
    const res = await api('DELETE', `/networks/${net.Id}`);
    if (![204, 404].includes(res.status)) console.warn(`[bench] cannot remove network ${net.Id.slice(0, 12)}: ${res.body.trim()}`);
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Removes the routed containers of one scope (what a scenario started for a system). */
export async function removeScope(scope: string): Promise<void> {
  await pool(await listIds(`${SCOPE_LABEL}=${scope}`), 8, (id) => remove(id));
}

/** Removes every container and network of a run (or, with `label` = BENCH_LABEL, of every run). */
export async function cleanup(label: string): Promise<number> {
  const ids = await listIds(label);
  await pool(ids, 16, (id) => remove(id));
  await removeNetworks(label);
  return ids.length;
}

/** The docker CLI, for the few things the API makes verbose (logs of the companion, exec). */
export function cli(args: string[], options: { input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export async function cliOk(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Host PIDs of a container's processes with their command names (`docker top`). */
export async function topPids(container: string): Promise<{ pid: number; comm: string }[]> {
  // args, not comm: node names its main thread "MainThread".
  const out = await cliOk(['top', container, '-eo', 'pid,args']);
  return out
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 2)
    .map(([pid, exe]) => ({ pid: Number(pid), comm: exe!.split('/').at(-1)! }));
}
