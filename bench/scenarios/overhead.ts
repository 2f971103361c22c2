/**
 * Overhead: wrk keep-alive load against one fast backend (a one-line Node http server with keep-alive, well
 * over 10,000 req/s on this machine) straight on its address, through ours and through the baseline's
 * HAProxy, in rounds (order rotated each round) so that machine noise hits all of them alike. With a
 * backend this fast, what is measured is the proxy: busybox httpd (a process per connection, ~340 req/s on
 * a busy machine) would make any proxy look free.
 *
 * Both proxies are up for the whole scenario and idle apart from the load (the baseline's playbook loop is
 * stopped after its first run: nothing changes here, and its CPU use would slow everything else). They
 * route `restBackends` containers in all (the fast one and idle busybox ones, each its own domain): the
 * memory of each system at rest is read with that many backends, before any load.
 *
 * Per run: req/s and latency percentiles (wrk), and HAProxy's CPU time per request (utime + stime of its
 * master and workers from /proc, before and after the run; the companion runs in host network mode, so
 * they are host processes). The latency a proxy adds is its p50/p99 minus direct's, in the same round.
 * Variants (`--overhead-variants`): more instances of ours, each with its own HAProxy template mounted
 * (HAPROXY_TEMPLATE), measured in the same rounds, to try template settings against the same direct figure.
 * Before each run the host's TIME_WAIT sockets drain below 1,000 (see drainTimeWait).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backend, type Context, pad } from '../lib/context.ts';
import { FAST_BACKEND_IMAGE, fastBackendCmd, removeScope, start, topPids } from '../lib/docker.ts';
import { get, sleep } from '../lib/http.ts';
import { cpuOf, drainTimeWait, pssKb, rssKb, timeWaitCount } from '../lib/proc.ts';
import { median } from '../lib/stats.ts';
import { Baseline, Ours, type System, waitFor } from '../lib/systems.ts';
import { type WrkResult, wrk } from '../lib/wrk.ts';

/** 'direct', 'ours', 'baseline', or `ours:<variant>`. */
export type Target = string;

export interface Variant {
  name: string;
  /** Host path of the template file; its directory is mounted into the companion. */
  template: string;
}

export interface RestMemory {
  /** Routed containers at the time. */
  backends: number;
  supervisorRssMb: number;
  haproxyRssMb: number;
  /** Supervisor + HAProxy master + workers. */
  totalRssMb: number;
  /** The same processes' PSS (shared pages counted once). */
  totalPssMb: number;
  processes: { pid: number; comm: string; rssMb: number; pssMb: number; threads: number }[];
}

export interface OverheadRun {
  target: Target;
  round: number;
  result: WrkResult;
  timeWaitBefore?: number;
  timeWaitAfter?: number;
  /** HAProxy (master + workers) CPU seconds during the run; absent for direct, or if a process went away. */
  haproxyCpuS?: number;
  haproxyCpuUsPerRequest?: number;
  /** The kernel's share of it (stime): the sockets on both sides. */
  haproxySystemUsPerRequest?: number;
  /** The backend's own CPU per request (its node process), for every target. */
  backendCpuUsPerRequest?: number;
}

export interface OverheadSummary {
  rps: number;
  /** Median over rounds of this target's req/s ÷ direct's in the same round, in %. */
  pctOfDirect?: number;
  p50: number;
  p99: number;
  /** Median over rounds of this target's p50 / p99 minus direct's in the same round. */
  addedP50Ms?: number;
  addedP99Ms?: number;
  errors: number;
  haproxyCpuUsPerRequest?: number;
  haproxySystemUsPerRequest?: number;
  backendCpuUsPerRequest?: number;
}

export interface OverheadResult {
  rounds: number;
  durationS: number;
  connections: number;
  threads: number;
  backend: { image: string; command: string };
  restBackends: number;
  targets: Target[];
  /** Each variant's template, and its lines that differ from the built-in template (`+` added, `-` left out). */
  variants?: (Variant & { text: string; changes: string[] })[];
  /** Memory of each proxy system at rest, `restBackends` routed, before the load. */
  rest?: Record<Target, RestMemory>;
  runs: OverheadRun[];
  summary: Record<Target, OverheadSummary>;
  /** Exactly what each run executed (one line per target). */
  commands: Record<Target, string>;
}

export async function overhead(
  ctx: Context,
  options: {
    rounds: number;
    durationS: number;
    connections: number;
    threads: number;
    systems: Set<'ours' | 'baseline'>;
    variants: Variant[];
    restBackends: number;
  },
): Promise<OverheadResult> {
  const scope = `${ctx.runId}-ovh`;
  const proxies: { target: Target; system: System }[] = [];
  if (options.systems.has('ours'))
    proxies.push({
      target: 'ours',
      system: new Ours({ runId: ctx.runId, scenario: 'ovh', port: ctx.ports.ours, workDir: ctx.workDir, scope }),
    });
  for (const [i, v] of options.variants.entries()) {
    const dir = path.dirname(path.resolve(v.template));
    proxies.push({
      target: `ours:${v.name}`,
      system: new Ours({
        runId: ctx.runId,
        scenario: `ovh-v${i + 1}`,
        port: 18240 + 2 * i,
        workDir: ctx.workDir,
        scope,
        volumes: [`${dir}:/etc/haproxy-bench-template:ro`],
        env: { HAPROXY_TEMPLATE: `/etc/haproxy-bench-template/${path.basename(v.template)}` },
      }),
    });
  }
  const baseline = options.systems.has('baseline')
    ? new Baseline({ runId: ctx.runId, scenario: 'ovh', port: ctx.ports.baseline, workDir: ctx.workDir, scope })
    : undefined;
  if (baseline) proxies.push({ target: 'baseline', system: baseline });
  const backendName = `hc-bench-${ctx.runId}-ovh-backend`;
  try {
    const b = await backend(ctx, { name: backendName, scope, domain: 'ovh', kind: 'fast' });
    await start(b.id);
    // Idle busybox backends, each its own domain: the systems route `restBackends` containers in all.
    for (let i = 1; i < options.restBackends; i++) {
      const c = await backend(ctx, { name: `hc-bench-${ctx.runId}-ovh-rest-${pad(i)}`, scope, domain: `ovhrest${pad(i)}` });
      await start(c.id);
    }
    for (const { system } of proxies) await system.start();
    await baseline?.stopDriver();
    for (const { target, system } of proxies)
      await waitFor(
        async () => (await get(system.url, { host: 'ovh.example.com' }).catch(() => undefined))?.status === 200,
        120_000,
        `ovh via ${target}`,
      );
    for (const { system } of proxies) if (system instanceof Ours) await system.settle();

    // Memory at rest: every system up with its backends routed, nothing happening, no load yet.
    await sleep(3_000);
    const rest: Record<Target, RestMemory> = {};
    for (const { target, system } of proxies) {
      rest[target] = await restMemory(system, options.restBackends);
      ctx.log(
        `  overhead ${target} at rest, ${options.restBackends} backends: RSS ${rest[target].totalRssMb.toFixed(1)} MB (supervisor ${rest[target].supervisorRssMb.toFixed(1)}, HAProxy ${rest[target].haproxyRssMb.toFixed(1)}), PSS ${rest[target].totalPssMb.toFixed(1)} MB`,
      );
    }

    const urls: Record<Target, { url: string; hosts: string[] }> = { direct: { url: `http://${b.ip}:8080/`, hosts: [] } };
    for (const { target, system } of proxies) urls[target] = { url: system.url, hosts: ['ovh.example.com'] };
    const order: Target[] = ['direct', ...proxies.map((p) => p.target)];
    const backendPids = async () => (await topPids(backendName)).map((p) => p.pid);
    const runs: OverheadRun[] = [];
    const commands: Record<Target, string> = {};
    for (let round = 1; round <= options.rounds; round++) {
      const k = (round - 1) % order.length;
      for (const target of [...order.slice(k), ...order.slice(0, k)]) {
        const system = proxies.find((p) => p.target === target)?.system;
        const haproxyPids = system ? (await system.pids()).haproxy : [];
        const bPids = await backendPids();
        const timeWaitBefore = await drainTimeWait(1_000, 90);
        const cpu0 = system ? cpuOf(haproxyPids) : undefined;
        const bCpu0 = cpuOf(bPids);
        const result = await wrk(urls[target]!.url, {
          hosts: urls[target]!.hosts,
          durationS: options.durationS,
          connections: options.connections,
          threads: options.threads,
        });
        const cpu1 = system ? cpuOf(haproxyPids) : undefined;
        const bCpu1 = cpuOf(bPids);
        commands[target] = result.command;
        const run: OverheadRun = { target, round, result, timeWaitBefore, timeWaitAfter: timeWaitCount() };
        if (cpu0 !== undefined && cpu1 !== undefined && result.requests > 0) {
          run.haproxyCpuS = cpu1.userS + cpu1.systemS - cpu0.userS - cpu0.systemS;
          run.haproxyCpuUsPerRequest = (run.haproxyCpuS * 1e6) / result.requests;
          run.haproxySystemUsPerRequest = ((cpu1.systemS - cpu0.systemS) * 1e6) / result.requests;
        }
        if (bCpu0 !== undefined && bCpu1 !== undefined && result.requests > 0)
          run.backendCpuUsPerRequest = ((bCpu1.userS + bCpu1.systemS - bCpu0.userS - bCpu0.systemS) * 1e6) / result.requests;
        runs.push(run);
        ctx.log(
          `  overhead round ${round} ${target}: ${result.rps.toFixed(0)} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, errors ${result.socketErrors.total + result.non2xx}${run.haproxyCpuUsPerRequest !== undefined ? `, HAProxy ${run.haproxyCpuUsPerRequest.toFixed(1)} µs CPU/request` : ''}`,
        );
      }
    }
    const summary: Record<Target, OverheadSummary> = {};
    for (const t of order) {
      const mine = runs.filter((r) => r.target === t);
      const paired = (f: (r: WrkResult, d: WrkResult) => number) =>
        t === 'direct'
          ? undefined
          : median(
              mine.flatMap((r) => {
                const d = runs.find((x) => x.target === 'direct' && x.round === r.round);
                return d ? [f(r.result, d.result)] : [];
              }),
            );
      const cpu = mine.flatMap((r) => (r.haproxyCpuUsPerRequest === undefined ? [] : [r.haproxyCpuUsPerRequest]));
      const bCpu = mine.flatMap((r) => (r.backendCpuUsPerRequest === undefined ? [] : [r.backendCpuUsPerRequest]));
      const sys = mine.flatMap((r) => (r.haproxySystemUsPerRequest === undefined ? [] : [r.haproxySystemUsPerRequest]));
      const s: OverheadSummary = {
        rps: median(mine.map((r) => r.result.rps))!,
        p50: median(mine.map((r) => r.result.latencyMs.p50))!,
        p99: median(mine.map((r) => r.result.latencyMs.p99))!,
        errors: mine.reduce((n, r) => n + r.result.socketErrors.total + r.result.non2xx, 0),
      };
      const pct = paired((r, d) => (r.rps / d.rps) * 100);
      const a50 = paired((r, d) => r.latencyMs.p50 - d.latencyMs.p50);
      const a99 = paired((r, d) => r.latencyMs.p99 - d.latencyMs.p99);
      if (pct !== undefined) s.pctOfDirect = pct;
      if (a50 !== undefined) s.addedP50Ms = a50;
      if (a99 !== undefined) s.addedP99Ms = a99;
      if (cpu.length) s.haproxyCpuUsPerRequest = median(cpu)!;
      if (bCpu.length) s.backendCpuUsPerRequest = median(bCpu)!;
      if (sys.length) s.haproxySystemUsPerRequest = median(sys)!;
      summary[t] = s;
    }
    return {
      rounds: options.rounds,
      durationS: options.durationS,
      connections: options.connections,
      threads: options.threads,
      backend: {
        image: FAST_BACKEND_IMAGE,
        command: fastBackendCmd(backendName)
          .map((a, i) => (i === 2 ? JSON.stringify(a) : a))
          .join(' '),
      },
      restBackends: options.restBackends,
      targets: order,
      ...(options.variants.length ? { variants: options.variants.map((v) => ({ ...v, ...templateChanges(v.template) })) } : {}),
      rest,
      runs,
      summary,
      commands,
    };
  } finally {
    for (const { system } of proxies) await system.stop().catch((e: Error) => ctx.log(`  overhead: stopping ${system.kind}: ${e.message}`));
    await removeScope(scope);
  }
}

const BUILT_IN_TEMPLATE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../templates/haproxy.cfg.njk');

/** A variant's template and its lines that are not in the built-in one, and the other way round. */
function templateChanges(file: string): { text: string; changes: string[] } {
  const text = readFileSync(file, 'utf8');
  const mine = text.split('\n').map((l) => l.trim());
  const builtIn = readFileSync(BUILT_IN_TEMPLATE, 'utf8')
    .split('\n')
    .map((l) => l.trim());
  return {
    text,
    changes: [
      ...mine.filter((l) => l && !builtIn.includes(l)).map((l) => `+ ${l}`),
      ...builtIn.filter((l) => l && !mine.includes(l)).map((l) => `- ${l}`),
    ],
  };
}

/** RSS (and PSS) of a system's supervisor and HAProxy processes, as host processes. */
async function restMemory(system: System, backends: number): Promise<RestMemory> {
  const pids = await system.pids();
  const mb = (kb: number) => kb / 1024;
  const threads = (pid: number) => Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  const processes = [
    ...pids.supervisor.map((pid) => ({ pid, comm: system.kind === 'ours' ? 'node' : 'driver' })),
    ...pids.haproxy.map((pid) => ({ pid, comm: 'haproxy' })),
  ].map((p) => ({ ...p, rssMb: mb(rssKb(p.pid)), pssMb: mb(pssKb(p.pid)), threads: threads(p.pid) }));
  // The baseline's "supervisor" is the stopped playbook loop: nothing runs between playbook runs.
  const sum = (list: typeof processes, key: 'rssMb' | 'pssMb') => list.reduce((n, p) => n + p[key], 0);
  const supervisor = system.kind === 'ours' ? processes.filter((p) => p.comm === 'node') : [];
  const haproxy = processes.filter((p) => p.comm === 'haproxy');
  return {
    backends,
    supervisorRssMb: sum(supervisor, 'rssMb'),
    haproxyRssMb: sum(haproxy, 'rssMb'),
    totalRssMb: sum([...supervisor, ...haproxy], 'rssMb'),
    totalPssMb: sum([...supervisor, ...haproxy], 'pssMb'),
    processes,
  };
}
