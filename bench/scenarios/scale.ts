/**
 * Scale: `services` services with `perService` containers each on one host (default 500 x 2 = 1,000).
 * Ours: the first full pass at startup (list, inspect, render, validate, start), then passes triggered by
 * single changes with everything running (a new domain: a reload; a new server for an existing service),
 * supervisor RSS, and CPU over a minute with no change. The baseline: one playbook run over the same
 * containers (its "full pass"), its peak RSS and CPU, and what HAProxy does with the result.
 * Containers are spread over several bridge networks (a Linux bridge takes at most 1,024 ports).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backend, type Context, makeNetwork, type Network, pad } from '../lib/context.ts';
import { pool, remove, start } from '../lib/docker.ts';
import { get, pollUntil, sleep } from '../lib/http.ts';
import { cpuPercent, memInfoMb, rssKb, setSysctl, sysctl } from '../lib/proc.ts';
import { median } from '../lib/stats.ts';
import { APPLY_MESSAGES, Baseline, Ours, waitFor } from '../lib/systems.ts';

const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface StandInScale {
  containers: number;
  /** The first pass at start ("haproxy started" durationMs) and its phases. */
  firstPassMs?: number;
  phases?: Record<string, number>;
  supervisorRssMb: number;
  haproxyRssMb: number;
  route53: boolean;
  command: string;
}

export interface ScaleResult {
  services: number;
  containers: number;
  /** Ours against bench/stand-in-docker.mjs: `containers` listed and inspected, none running. */
  standIn?: StandInScale;
  /** Absent: the real-Docker part did not run (--scale-docker stand-in). */
  createS?: number;
  startS?: number;
  memAvailableBeforeMb?: number;
  memAvailableAfterMb?: number;
  ours?: {
    firstPassMs?: number;
    routedAllS?: number;
    changes: { kind: 'new' | 'existing'; how?: string; passMs?: number; phases?: Record<string, number>; addedMs?: number }[];
    reloadPassMsMedian?: number;
    runtimePassMsMedian?: number;
    supervisorRssMb: number;
    haproxyRssMb: number;
    idleCpuSupervisorPct: number;
    idleCpuHaproxyPct: number;
    idleSeconds: number;
  };
  baseline?: {
    runS: number;
    rc: number;
    maxRssMb?: number;
    cpuS?: number;
    haproxyAfter: string;
    route53: boolean;
  };
  notes: string[];
}

export async function scale(
  ctx: Context,
  options: {
    services: number;
    perService: number;
    idleSeconds: number;
    ours: boolean;
    baseline: boolean;
    tuneHost: boolean;
    standIn: boolean;
    real: boolean;
  },
): Promise<ScaleResult> {
  const total = options.services * options.perService;
  const standIn = options.standIn ? await standInScale(ctx, total) : undefined;
  if (!options.real) return { services: options.services, containers: total, ...(standIn ? { standIn } : {}), notes: [] };
  const real = await realScale(ctx, options);
  return standIn ? { ...real, standIn } : real;
}

/**
 * Ours against the stand-in Docker API with `total` containers (two per domain; on the host network, each
 * at its own port of 127.0.0.1, so HAProxy's health checks stay on this host): the first pass at start and the
 * memory once settled, without waiting for Docker to start that many real containers.
 */
async function standInScale(ctx: Context, total: number): Promise<StandInScale> {
  const socket = path.join(ctx.workDir, 'stand-in-docker.sock');
  const script = path.join(BENCH_DIR, 'stand-in-docker.mjs');
  const child = spawn(process.execPath, [script, socket, String(total)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ours = new Ours({
    runId: ctx.runId,
    scenario: 'scale-standin',
    port: ctx.ports.ours,
    workDir: ctx.workDir,
    dockerSocket: socket,
    env: { ALLOW_HOST_NETWORK: 'true' },
    ...(ctx.dns ? { dns: ctx.dns.ours } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`stand-in-docker.mjs exited ${code}`)));
      child.stdout.setEncoding('utf8').on('data', (c: string) => c.includes('listening') && resolve());
    });
    ctx.log(`  scale: ours against the stand-in Docker API (${total} containers)`);
    await ours.start();
    await waitFor(async () => (await ours.logs()).some((l) => l.msg === 'haproxy started'), 120_000, 'haproxy started (stand-in)');
    await ours.settle();
    await sleep(3_000);
    const started = (await ours.logs()).find((l) => l.msg === 'haproxy started');
    const pids = await ours.pids();
    const r: StandInScale = {
      containers: total,
      ...(typeof started?.durationMs === 'number' ? { firstPassMs: started.durationMs } : {}),
      ...(started?.phases && typeof started.phases === 'object' ? { phases: started.phases as Record<string, number> } : {}),
      supervisorRssMb: pids.supervisor.reduce((n, p) => n + rssKb(p), 0) / 1024,
      haproxyRssMb: pids.haproxy.reduce((n, p) => n + rssKb(p), 0) / 1024,
      route53: ctx.dns !== undefined,
      command: `node bench/stand-in-docker.mjs SOCKET ${total}; the companion with SOCKET as its /var/run/docker.sock`,
    };
    ctx.log(
      `  scale stand-in: first pass ${r.firstPassMs} ms ${JSON.stringify(r.phases ?? {})}, supervisor RSS ${r.supervisorRssMb.toFixed(1)} MB, HAProxy ${r.haproxyRssMb.toFixed(1)} MB`,
    );
    return r;
  } finally {
    await ours.stop().catch(() => undefined);
    child.kill();
  }
}

async function realScale(
  ctx: Context,
  options: { services: number; perService: number; idleSeconds: number; ours: boolean; baseline: boolean; tuneHost: boolean },
): Promise<ScaleResult> {
  const notes: string[] = [];
  const total = options.services * options.perService;
  const scope = `${ctx.runId}-scale`;
  const networks: Network[] = [];
  for (let i = 0; i < Math.ceil(total / 900); i++) networks.push(await makeNetwork(ctx.runId, `scale${i}`, 225 + i * 5));
  const memBefore = memInfoMb();
  const ids: string[] = [];
  // The host reaches every container by ARP, and the kernel's neighbour table holds gc_thresh3 entries
  // (1,024 by default): beyond that, "neighbor table overflow" and new containers are unreachable from the
  // host, through the proxy or not (seen in a first run: every change at 1,000 containers timed out).
  // Raised for the scenario when too small, put back afterwards; --no-host-tuning leaves it alone.
  const arp = ['net.ipv4.neigh.default.gc_thresh1', 'net.ipv4.neigh.default.gc_thresh2', 'net.ipv4.neigh.default.gc_thresh3'];
  const arpBefore = arp.map((k) => sysctl(k));
  const needed = total + 512;
  if (Number(arpBefore[2]) < needed) {
    if (options.tuneHost) {
      const want = [needed / 4, needed * 2, needed * 4].map((v) => String(Math.ceil(v)));
      // thresh3 first when raising (each must stay >= the one before).
      for (const i of [2, 1, 0]) setSysctl(arp[i]!, want[i]!);
      // Put back even if the run is interrupted (process.exit runs 'exit' listeners, synchronously).
      process.once('exit', () => {
        for (const i of [0, 1, 2]) if (sysctl(arp[i]!) !== arpBefore[i]) setSysctl(arp[i]!, arpBefore[i]!);
      });
      notes.push(
        `ARP neighbour table raised for this scenario (${arp.map((k, i) => `${k.split('.').at(-1)} ${arpBefore[i]} → ${want[i]}`).join(', ')}), restored afterwards: the defaults hold 1,024 neighbours, and beyond that the host cannot reach new containers at all.`,
      );
    } else {
      notes.push(
        `ARP neighbour table left at gc_thresh3 = ${arpBefore[2]} (--no-host-tuning) for ${total} containers: expect "neighbor table overflow" and unreachable containers.`,
      );
    }
  }
  try {
    ctx.log(`  scale: creating ${total} containers`);
    let t = performance.now();
    const specs = Array.from({ length: total }, (_, i) => ({
      service: Math.floor(i / options.perService) + 1,
      replica: (i % options.perService) + 1,
      i,
    }));
    const created = await pool(specs, 8, (s) =>
      backend(ctx, {
        name: `hc-bench-${ctx.runId}-scale-s${pad(s.service, 4)}-${s.replica}`,
        scope,
        domain: `sc${pad(s.service, 4)}`,
        network: networks[s.i % networks.length]!,
      }),
    );
    ids.push(...created.map((c) => c.id));
    const createS = (performance.now() - t) / 1000;
    ctx.log(`  scale: created in ${createS.toFixed(0)} s; starting`);
    t = performance.now();
    await pool(created, 8, (c) => start(c.id));
    const startS = (performance.now() - t) / 1000;
    const memAfter = memInfoMb();
    ctx.log(
      `  scale: ${total} containers started in ${startS.toFixed(0)} s; memory available ${memBefore.availableMb} -> ${memAfter.availableMb} MB`,
    );
    const result: ScaleResult = {
      services: options.services,
      containers: total,
      createS,
      startS,
      memAvailableBeforeMb: memBefore.availableMb,
      memAvailableAfterMb: memAfter.availableMb,
      notes,
    };

    // --- ours
    if (options.ours) {
      const ours = new Ours({
        runId: ctx.runId,
        scenario: 'scale',
        port: ctx.ports.ours,
        workDir: ctx.workDir,
        scope,
        ...(ctx.dns ? { dns: ctx.dns.ours } : {}),
      });
      try {
        t = performance.now();
        await ours.start();
        const sample = [1, Math.ceil(options.services / 2), options.services].map((n) => `sc${pad(n, 4)}.example.com`);
        for (const host of sample)
          await waitFor(async () => (await get(ours.url, { host }).catch(() => undefined))?.status === 200, 300_000, `${host} via ours`);
        const routedAllS = (performance.now() - t) / 1000;
        await ours.settle();
        const firstPass = (await ours.logs()).find((l) => l.msg === 'haproxy started');
        const changes: NonNullable<ScaleResult['ours']>['changes'] = [];
        for (let i = 1; i <= 10; i++) {
          const kind = i % 2 ? 'new' : 'existing';
          const domain = kind === 'new' ? `scnew${pad(i)}` : `sc${pad(i, 4)}`;
          const c = await backend(ctx, { name: `hc-bench-${ctx.runId}-scale-change-${pad(i)}`, scope, domain, network: networks[0]! });
          await sleep(100);
          const wall0 = Date.now();
          const t0 = performance.now();
          const isMe = (p: { status: number; body: string }) => p.status === 200 && p.body === c.name;
          const proxy = pollUntil(ours.url, { host: `${domain}.example.com`, accept: isMe, timeoutMs: 120_000 });
          await start(c.id);
          const direct = pollUntil(`http://${c.ip}:8080/`, { accept: isMe, maxInFlight: 200 });
          const [d, p] = await Promise.all([direct, proxy]);
          await sleep(500);
          const applied = (await ours.logs()).find((l) => APPLY_MESSAGES.has(l.msg) && l.time >= wall0);
          changes.push({
            kind,
            ...(applied ? { how: String(applied.how ?? applied.msg), passMs: Number(applied.durationMs) } : {}),
            ...(applied?.phases && typeof applied.phases === 'object' ? { phases: applied.phases as Record<string, number> } : {}),
            ...(d !== undefined && p !== undefined ? { addedMs: p - d } : {}),
          });
          ctx.log(
            `  scale ours change ${i} (${kind}): ${applied?.msg} in ${applied?.durationMs} ms, added delay ${d !== undefined && p !== undefined ? (p - d).toFixed(0) : '-'} ms (t0 ${(t0 / 1000) | 0})`,
          );
          await remove(c.id);
          await ours.settle();
        }
        const pids = await ours.pids();
        const idleSupervisor = cpuPercent(pids.supervisor, options.idleSeconds);
        const idleHaproxy = cpuPercent(pids.haproxy, options.idleSeconds);
        const [idleCpuSupervisorPct, idleCpuHaproxyPct] = await Promise.all([idleSupervisor, idleHaproxy]);
        const reloads = changes.filter((c) => c.how === 'reloaded').map((c) => c.passMs!);
        const runtime = changes.filter((c) => c.how === 'runtime').map((c) => c.passMs!);
        result.ours = {
          ...(typeof firstPass?.durationMs === 'number' ? { firstPassMs: firstPass.durationMs } : {}),
          routedAllS,
          changes,
          ...(reloads.length ? { reloadPassMsMedian: median(reloads)! } : {}),
          ...(runtime.length ? { runtimePassMsMedian: median(runtime)! } : {}),
          supervisorRssMb: pids.supervisor.reduce((n, p) => n + rssKb(p), 0) / 1024,
          haproxyRssMb: pids.haproxy.reduce((n, p) => n + rssKb(p), 0) / 1024,
          idleCpuSupervisorPct,
          idleCpuHaproxyPct,
          idleSeconds: options.idleSeconds,
        };
        ctx.log(
          `  scale ours: first pass ${result.ours.firstPassMs} ms, RSS ${result.ours.supervisorRssMb.toFixed(0)} MB, idle CPU ${idleCpuSupervisorPct.toFixed(2)} % (haproxy ${idleCpuHaproxyPct.toFixed(1)} %)`,
        );
      } finally {
        await ours.stop();
      }
    }

    // --- baseline: one run of the playbook over the same containers
    if (options.baseline) {
      const baseline = new Baseline({
        runId: ctx.runId,
        scenario: 'scale',
        port: ctx.ports.baseline,
        workDir: ctx.workDir,
        scope,
        ...(ctx.dns ? { dns: ctx.dns.baseline } : {}),
      });
      try {
        await baseline.createHaproxy();
        ctx.log(
          `  scale baseline: one playbook run over ${total} containers${ctx.dns ? ' (with the Route53 task: one module call per container)' : ''}`,
        );
        const run = await baseline.runOnce();
        await sleep(2_000);
        result.baseline = {
          runS: run.ms / 1000,
          rc: run.code,
          ...(run.maxRssKb ? { maxRssMb: run.maxRssKb / 1024 } : {}),
          ...(run.cpuS !== undefined ? { cpuS: run.cpuS } : {}),
          haproxyAfter: await baseline.haproxyState(),
          route53: ctx.dns !== undefined,
        };
        ctx.log(`  scale baseline: run ${result.baseline.runS.toFixed(0)} s (rc ${run.code}), HAProxy ${result.baseline.haproxyAfter}`);
      } finally {
        await baseline.stop();
      }
    }
    return result;
  } finally {
    ctx.log(`  scale: removing ${ids.length} containers`);
    // A slow daemon may time out on some removals: they are retried once and never lose the results.
    const failed = (
      await pool(ids, 8, (id) =>
        remove(id).then(
          () => undefined,
          () => id,
        ),
      )
    ).filter((id) => id !== undefined);
    const left = (
      await pool(failed, 2, (id) =>
        remove(id).then(
          () => undefined,
          () => id,
        ),
      )
    ).filter((id) => id !== undefined);
    if (left.length > 0) ctx.log(`  scale: ${left.length} containers could not be removed; the next run removes them (label ${scope})`);
    if (arp.some((k, i) => sysctl(k) !== arpBefore[i])) for (const i of [0, 1, 2]) setSysctl(arp[i]!, arpBefore[i]!);
  }
}
