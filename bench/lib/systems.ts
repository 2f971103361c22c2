/**
 * The two systems under test, behind one interface so every scenario runs the same code against both:
 * - Ours: the haproxy-companion image, host network, watching only the scenario's containers
 *   (CONTAINER_LABEL_FILTER), Route53 on moto through a counting proxy.
 * - Baseline: the old pipeline of bench/baseline/ (dump + Ansible + Jinja2 + restart), HAProxy 3 from the
 *   same image in its own container, the playbook run back to back by driver.sh.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_LABEL, cli, cliOk, SCOPE_LABEL, topPids } from './docker.ts';
import { get, sleep } from './http.ts';
import type { Dns } from './types.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const BASELINE_DIR = path.resolve(HERE, '../baseline');
export const IMAGE = process.env.COMPANION_IMAGE ?? 'haproxy-companion:latest';

/** What every AWS-using process gets: static credentials, a region, and no instance metadata. */
export const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};

export interface SystemOptions {
  runId: string;
  /** Short scenario name; the scope label value is `<runId>-<scenario>-<system>`. */
  scenario: string;
  port: number;
  dns?: Dns;
  workDir: string;
  /** Extra env for the companion (ours only). */
  env?: Record<string, string>;
  /** Extra `docker run -v` arguments (ours only), e.g. a template directory. */
  volumes?: string[];
  /** Docker socket to mount as the companion's /var/run/docker.sock (ours only; default the real one). */
  dockerSocket?: string;
  /** Scope label value to watch instead of `<runId>-<scenario>-<kind>` (to share backends between the two). */
  scope?: string;
}

export interface System {
  readonly kind: 'ours' | 'baseline';
  readonly scope: string;
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once every change made before the call has been applied (or the system settled on it). */
  settle(): Promise<void>;
  /** HAProxy reloads (ours) / restarts (baseline) that happened at or after `sinceMs` (Date.now()). */
  reloadsSince(sinceMs: number): Promise<number>;
  /** Host PIDs of the supervisor and of HAProxy, for RSS and CPU. */
  pids(): Promise<{ supervisor: number[]; haproxy: number[] }>;
}

export interface LogLine {
  time: number;
  level: number | string;
  msg: string;
  [key: string]: unknown;
}

/** Log messages of ours that mean "this pass changed what HAProxy runs". */
export const APPLY_MESSAGES = new Set(['haproxy reloaded', 'haproxy started', 'servers updated at runtime']);

export class Ours implements System {
  readonly kind = 'ours';
  readonly scope: string;
  readonly name: string;
  readonly port: number;
  readonly url: string;
  private readonly options: SystemOptions;

  constructor(options: SystemOptions) {
    this.options = options;
    this.scope = options.scope ?? `${options.runId}-${options.scenario}-ours`;
    this.name = `hc-bench-${options.runId}-${options.scenario}-ours`;
    this.port = options.port;
    this.url = `http://127.0.0.1:${options.port}/`;
  }

  async start(): Promise<void> {
    const { dns } = this.options;
    const env: Record<string, string> = {
      DOMAIN_NAME: 'example.com',
      HTTP_PORT: String(this.port),
      // The status endpoint (images that have one) on the next port, away from its default 8404.
      STATUS_PORT: String(this.port + 1),
      CONTAINER_LABEL_FILTER: `${SCOPE_LABEL}=${this.scope}`,
      RUNTIME_DIR: `/tmp/${this.name}`,
      // debug: "pass requested" lines carry the arrival time of each Docker event, for the delay breakdown.
      LOG_LEVEL: 'debug',
      HOST_IP: '10.0.0.10',
      HOST_ID: 'bench-ours',
      ...AWS_ENV,
      ...(dns ? { HOSTED_ZONE_ID: dns.zoneId, AWS_ENDPOINT_URL_ROUTE_53: dns.endpoint } : {}),
      ...this.options.env,
    };
    const args = [
      'run',
      '-d',
      '--name',
      this.name,
      '--label',
      `${BENCH_LABEL}=${this.options.runId}`,
      '--network',
      'host',
      '-v',
      `${this.options.dockerSocket ?? '/var/run/docker.sock'}:/var/run/docker.sock:ro`,
    ];
    for (const v of this.options.volumes ?? []) args.push('-v', v);
    for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
    await cliOk([...args, IMAGE]);
    await waitFor(
      async () => (await get(this.url, { host: 'nothing.invalid', timeoutMs: 500 }).catch(() => undefined)) !== undefined,
      30_000,
      `${this.name} answering on ${this.port}`,
    );
  }

  /** Keeps the companion's log in the run's work directory, then removes the container. */
  async stop(): Promise<void> {
    const r = await cli(['logs', this.name]);
    writeFileSync(path.join(this.options.workDir, `${this.options.scenario}-ours.log`), `${r.stdout}${r.stderr}`);
    await cli(['rm', '-f', this.name]);
  }

  async logs(): Promise<LogLine[]> {
    const r = await cli(['logs', this.name]);
    return `${r.stdout}\n${r.stderr}`
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          const line = JSON.parse(l) as Record<string, unknown>;
          // pino's `time`: epoch ms by default, an ISO string with isoTime; either way, epoch ms here.
          const time = typeof line.time === 'number' ? line.time : Date.parse(String(line.time));
          return [{ ...line, time } as LogLine];
        } catch {
          return [];
        }
      });
  }

  async settle(): Promise<void> {
    // A pass is due at most DEBOUNCE_MAX_MS (1 s) after an event; settled once nothing was applied for 1.5 s.
    // ("pass requested" lines do not count: Docker events of every container on the host trigger passes,
    // including containers of other people's runs on the same machine.)
    const since = Date.now();
    await sleep(300);
    await waitFor(
      async () => {
        const last = (await this.logs()).filter((l) => APPLY_MESSAGES.has(l.msg)).at(-1);
        return Date.now() - Math.max(since, last?.time ?? 0) > 1_500;
      },
      120_000,
      `${this.name} settled`,
    ).catch((e: Error) => console.warn(`[bench] ${e.message}; going on`));
  }

  async reloadsSince(sinceMs: number): Promise<number> {
    return (await this.logs()).filter((l) => l.msg === 'haproxy reloaded' && l.time >= sinceMs).length;
  }

  async pids() {
    const procs = await topPids(this.name);
    return {
      supervisor: procs.filter((p) => p.comm === 'node').map((p) => p.pid),
      haproxy: procs.filter((p) => p.comm === 'haproxy').map((p) => p.pid),
    };
  }
}

export interface DriverRun {
  start: number;
  end: number;
  rc: number;
  restarted: boolean;
}

export class Baseline implements System {
  readonly kind = 'baseline';
  readonly scope: string;
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly runLog: string;
  private driver: ChildProcess | undefined;
  private readonly options: SystemOptions;

  constructor(options: SystemOptions) {
    this.options = options;
    this.scope = options.scope ?? `${options.runId}-${options.scenario}-baseline`;
    this.name = `hc-bench-${options.runId}-${options.scenario}-baseline-haproxy`;
    this.port = options.port;
    this.url = `http://127.0.0.1:${options.port}/`;
    this.dir = path.join(options.workDir, `${options.scenario}-baseline`);
    this.runLog = path.join(this.dir, 'runs.jsonl');
  }

  /** ansible-playbook arguments: where to write, what to restart, which containers, where Route53 is. */
  playbookArgs(): string[] {
    const vars: Record<string, string | boolean> = {
      dump_label: `${SCOPE_LABEL}=${this.scope}`,
      http_port: String(this.port),
      haproxy_cfg: path.join(this.dir, 'cfg', 'haproxy.cfg'),
      haproxy_container: this.name,
      host_ip: '10.0.0.20',
      route53_enabled: this.options.dns !== undefined,
      route53_endpoint: this.options.dns?.endpoint ?? '',
    };
    return ['-e', JSON.stringify(vars)];
  }

  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...AWS_ENV, ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_NOCOLOR: '1' };
    for (const key of Object.keys(env)) if (key.startsWith('AWS_') && !(key in AWS_ENV)) delete env[key];
    return env;
  }

  /**
   * One playbook run, waited for (renders the first configuration). Under GNU time: the largest RSS of the
   * run's processes and the CPU time of all of them (ansible forks a worker per task).
   */
  runOnce(): Promise<{ code: number; output: string; ms: number; maxRssKb?: number; cpuS?: number }> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const playbook = ['ansible-playbook', '-i', 'localhost,', path.join(BASELINE_DIR, 'update-services.yml'), ...this.playbookArgs()];
      const timed = existsSync('/usr/bin/time');
      const [cmd, ...args] = timed ? ['/usr/bin/time', '-f', 'GNUTIME %M %U %S', ...playbook] : playbook;
      const child = spawn(cmd!, args, { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
      child.on('error', reject);
      child.on('close', (code) => {
        const m = /GNUTIME (\d+) ([\d.]+) ([\d.]+)/.exec(output);
        resolve({
          code: code ?? -1,
          output,
          ms: performance.now() - started,
          ...(m ? { maxRssKb: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]) } : {}),
        });
      });
    });
  }

  /** Creates the HAProxy container (started by the first run's restart handler). */
  async createHaproxy(): Promise<void> {
    mkdirSync(path.join(this.dir, 'cfg'), { recursive: true });
    writeFileSync(this.runLog, '');
    // `-db` keeps HAProxy in the foreground despite the template's `daemon`; no restart policy, like a
    // service whose start failed. `--init`: as PID 1, HAProxy would not get SIGTERM, and every restart would
    // wait out docker's 10 s stop timeout; under an init it stops at once, as under systemd.
    await cliOk([
      'create',
      '--init',
      '--name',
      this.name,
      '--label',
      `${BENCH_LABEL}=${this.options.runId}`,
      '--network',
      'host',
      '-v',
      `${path.join(this.dir, 'cfg')}:/etc/haproxy-bench:ro`,
      '--entrypoint',
      'haproxy',
      IMAGE,
      '-db',
      '-f',
      '/etc/haproxy-bench/haproxy.cfg',
    ]);
  }

  async haproxyState(): Promise<string> {
    const r = await cli(['inspect', '--format', '{{.State.Status}} exit={{.State.ExitCode}}', this.name]);
    return r.stdout.trim();
  }

  async start(): Promise<void> {
    await this.createHaproxy();
    const first = await this.runOnce();
    if (first.code !== 0) throw new Error(`baseline: first playbook run failed:\n${first.output.slice(-3000)}`);
    this.startDriver();
    await waitFor(
      async () => (await get(this.url, { host: 'nothing.invalid', timeoutMs: 500 }).catch(() => undefined)) !== undefined,
      30_000,
      `${this.name} answering on ${this.port}`,
    );
  }

  startDriver(): void {
    if (this.driver) return;
    this.driver = spawn(path.join(BASELINE_DIR, 'driver.sh'), [this.runLog, ...this.playbookArgs()], {
      env: this.env(),
      stdio: 'ignore',
      detached: true,
    });
  }

  async stopDriver(): Promise<void> {
    const driver = this.driver;
    if (!driver?.pid) return;
    this.driver = undefined;
    const exited = new Promise((resolve) => driver.once('exit', resolve));
    try {
      process.kill(-driver.pid, 'SIGTERM');
    } catch {
      return;
    }
    await Promise.race([exited, sleep(5_000)]);
    try {
      process.kill(-driver.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }

  get driverPid(): number | undefined {
    return this.driver?.pid;
  }

  async stop(): Promise<void> {
    await this.stopDriver();
    await cli(['rm', '-f', this.name]);
  }

  runs(): DriverRun[] {
    if (!existsSync(this.runLog)) return [];
    return readFileSync(this.runLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as DriverRun);
  }

  /** Settled: a whole playbook run started after this call and ended. */
  async settle(): Promise<void> {
    const since = Date.now();
    await waitFor(async () => this.runs().some((r) => r.start >= since), 600_000, `${this.name}: a complete playbook run`);
  }

  async reloadsSince(sinceMs: number): Promise<number> {
    return this.runs().filter((r) => r.restarted && r.end >= sinceMs).length;
  }

  async pids() {
    // Only HAProxy itself, not the container's init (`--init`).
    const haproxy = await topPids(this.name)
      .then((p) => p.filter((x) => x.comm === 'haproxy').map((x) => x.pid))
      .catch(() => []);
    return { supervisor: this.driver?.pid ? [this.driver.pid] : [], haproxy };
  }
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
