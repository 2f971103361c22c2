/**
 * Convergence: how long after `docker start` a container is reachable through the proxy, compared with when
 * it first answers on its own address (polled directly: the physical limit). Two cases:
 * - new: a container with a domain no running container has (a new backend);
 * - existing: a second container for a domain that already has one (a new server in an existing backend).
 * Each trial: create (untimed), start + poll direct and through the proxy every 10 ms with fresh
 * connections, then remove the container and wait until the system has settled before the next trial.
 */
import { backend, type Context, pad } from '../lib/context.ts';
import { remove, removeScope, start } from '../lib/docker.ts';
import { get, pollUntil, sleep } from '../lib/http.ts';
import { rssKb } from '../lib/proc.ts';
import { APPLY_MESSAGES, Baseline, Ours, type System, waitFor } from '../lib/systems.ts';

export interface Trial {
  kind: 'new' | 'existing';
  i: number;
  name: string;
  id: string;
  /** Date.now() just before the start API call. */
  wall0: number;
  /** ms after wall0 */
  startReturnedMs: number;
  directMs?: number;
  proxyMs?: number;
  addedMs?: number;
  /** The proxy never served the container (the system gave up or went down). */
  failed?: string;
  /** Whether the stable service kept answering during the trial (baseline: HAProxy may be down). */
  breakdown?: Record<string, number | string | undefined>;
}

export interface ConvergenceResult {
  system: 'ours' | 'baseline';
  trials: Trial[];
  /** Log lines of ours between start and first 200 in the slowest trials, to see where the time goes. */
  sampleLogs?: unknown[];
  /** Ours: node's RSS at the end of the scenario (a handful of containers). */
  supervisorRssMb?: number;
}

export async function convergence(
  ctx: Context,
  kind: 'ours' | 'baseline',
  options: { newTrials: number; existingTrials: number },
): Promise<ConvergenceResult> {
  const port = kind === 'ours' ? ctx.ports.ours : ctx.ports.baseline;
  const dns = kind === 'ours' ? ctx.dns?.ours : ctx.dns?.baseline;
  const sysOptions = { runId: ctx.runId, scenario: 'conv', port, workDir: ctx.workDir, ...(dns ? { dns } : {}) };
  const system: System = kind === 'ours' ? new Ours(sysOptions) : new Baseline(sysOptions);
  const trials: Trial[] = [];
  const prefix = kind === 'ours' ? 'o' : 'b';
  try {
    // One long-lived service: the "existing" backend, and a check that the proxy is up between trials.
    const base = await backend(ctx, {
      name: `hc-bench-${ctx.runId}-cv${prefix}-exist-base`,
      scope: system.scope,
      domain: `cv${prefix}exist`,
    });
    await start(base.id);
    await system.start();
    await waitFor(
      async () => (await get(system.url, { host: `cv${prefix}exist.example.com` }).catch(() => undefined))?.status === 200,
      120_000,
      'existing service routed',
    );
    await system.settle();

    const plan: { kind: 'new' | 'existing'; i: number }[] = [];
    for (let i = 1; i <= Math.max(options.newTrials, options.existingTrials); i++) {
      if (i <= options.newTrials) plan.push({ kind: 'new', i });
      if (i <= options.existingTrials) plan.push({ kind: 'existing', i });
    }
    for (const step of plan) {
      const domain = step.kind === 'new' ? `cv${prefix}n${pad(step.i)}` : `cv${prefix}exist`;
      const name = `hc-bench-${ctx.runId}-cv${prefix}-${step.kind}-${pad(step.i)}`;
      const trial = await runTrial(ctx, system, step, domain, name, `cv${prefix}exist.example.com`);
      trials.push(trial);
      ctx.log(
        `  convergence ${kind} ${step.kind} #${step.i}: direct ${trial.directMs?.toFixed(0)} ms, proxy ${trial.proxyMs?.toFixed(0) ?? '-'} ms, added ${trial.addedMs?.toFixed(0) ?? trial.failed}`,
      );
    }
    let supervisorRssMb: number | undefined;
    if (system instanceof Ours) {
      annotateOurs(trials, await system.logs());
      // For comparison with the scale figure: the supervisor's RSS with a handful of containers.
      supervisorRssMb = (await system.pids()).supervisor.reduce((n, pid) => n + rssKb(pid), 0) / 1024;
    }
    if (system instanceof Baseline) annotateBaseline(trials, system);
    const sampleLogs = system instanceof Ours ? sample(trials, await system.logs()) : undefined;
    return { system: kind, trials, ...(sampleLogs ? { sampleLogs } : {}), ...(supervisorRssMb !== undefined ? { supervisorRssMb } : {}) };
  } finally {
    await system.stop();
    await removeScope(system.scope);
  }
}

async function runTrial(
  ctx: Context,
  system: System,
  step: { kind: 'new' | 'existing'; i: number },
  domain: string,
  name: string,
  stableHost: string,
): Promise<Trial> {
  const c = await backend(ctx, { name, scope: system.scope, domain });
  await sleep(100);
  const abort = new AbortController();
  const t0 = performance.now();
  const wall0 = Date.now();
  const isMe = (p: { status: number; body: string }) => p.status === 200 && p.body === name;
  const proxy = pollUntil(system.url, { host: `${domain}.example.com`, accept: isMe, timeoutMs: 120_000, signal: abort.signal });
  await start(c.id);
  const startReturnedMs = performance.now() - t0;
  // Direct polling starts once `docker start` has returned: the container's network exists by then. Probing
  // its address earlier leaves an unresolved ARP entry on the host, and the kernel retries ARP only once a
  // second, which would delay the direct answer (and HAProxy's first connection) by up to a second.
  const directAt = await pollUntil(`http://${c.ip}:8080/`, { accept: isMe, maxInFlight: 200, timeoutMs: 60_000 });
  let failed: string | undefined;
  if (system instanceof Baseline) {
    // The old pipeline has no "never": give up once a whole playbook run that saw the container has ended
    // (plus 5 s for the restart) without the proxy serving it.
    const sawAt = Date.now();
    void waitFor(
      () => abort.signal.aborted || system.runs().some((r) => r.start >= sawAt && Date.now() - r.end > 5_000),
      600_000,
      'a run after the start',
    )
      .then(() => {
        if (abort.signal.aborted) return;
        failed = 'not served after a full playbook run';
        abort.abort();
      })
      .catch(() => undefined);
  }
  const proxyAt = await proxy;
  abort.abort();
  const trial: Trial = {
    kind: step.kind,
    i: step.i,
    name,
    id: c.id,
    wall0,
    startReturnedMs,
    ...(directAt !== undefined ? { directMs: directAt - t0 } : {}),
    ...(proxyAt !== undefined ? { proxyMs: proxyAt - t0 } : {}),
  };
  if (directAt !== undefined && proxyAt !== undefined) trial.addedMs = proxyAt - directAt;
  if (proxyAt === undefined) {
    const stable = await get(system.url, { host: stableHost }).catch((e: Error) => ({ status: 0, body: e.message }));
    trial.failed = `${failed ?? 'timeout'}; stable service then: ${stable.status === 0 ? `no answer (${stable.body})` : `HTTP ${stable.status}`}`;
  }

  // Take it away and wait until the proxy no longer sends anything to it, and the stable service answers.
  await remove(c.id);
  await waitFor(
    async () => {
      const probes = await Promise.all(
        Array.from({ length: 4 }, () => get(system.url, { host: `${domain}.example.com` }).catch(() => ({ status: 0, body: '' }))),
      );
      const stable = await get(system.url, { host: stableHost }).catch(() => ({ status: 0, body: '' }));
      return probes.every((p) => p.body !== name && p.status !== 0) && stable.status === 200;
    },
    600_000,
    `${name} gone from the proxy`,
  );
  await system.settle();
  return trial;
}

/** Where ours spends the added delay: event arrival, debounce wait, the pass, and HAProxy picking it up. */
function annotateOurs(trials: Trial[], logs: { time: number; msg: string; [k: string]: unknown }[]): void {
  for (const t of trials) {
    // reason: `container:start` (newer images) or `container:start:<id12>` (older ones).
    const event = logs.find((l) => {
      const [type, action, id] = String(l.reason ?? '').split(':');
      return (
        l.msg === 'pass requested' &&
        l.time >= t.wall0 - 5 &&
        type === 'container' &&
        action === 'start' &&
        (!id || id === t.id.slice(0, 12))
      );
    });
    if (!event) continue;
    const applied = logs.find((l) => APPLY_MESSAGES.has(l.msg) && l.time >= event.time);
    const directWall = t.directMs === undefined ? undefined : t.wall0 + t.directMs;
    const proxyWall = t.proxyMs === undefined ? undefined : t.wall0 + t.proxyMs;
    const passMs = typeof applied?.durationMs === 'number' ? applied.durationMs : undefined;
    t.breakdown = {
      eventAfterStartMs: event.time - t.wall0,
      eventAfterDirectMs: directWall === undefined ? undefined : event.time - directWall,
      waitBeforePassMs: applied && passMs !== undefined ? applied.time - passMs - event.time : undefined,
      passMs,
      how: applied ? String(applied.how ?? applied.msg) : undefined,
      proxyAfterAppliedMs: applied && proxyWall !== undefined ? proxyWall - applied.time : undefined,
      appliedAfterDirectMs: applied && directWall !== undefined ? applied.time - directWall : undefined,
    };
  }
}

/**
 * For the baseline: the playbook run that put the container in service (the restarting run whose end is
 * nearest the first 200; its handler restarts HAProxy just before the run ends), when it started relative
 * to the container's first direct answer (negative: it started before, and its dump came after), and how
 * long it took. Trials never served: the first run that ended after the start.
 */
function annotateBaseline(trials: Trial[], system: Baseline): void {
  const runs = system.runs();
  for (const t of trials) {
    if (t.directMs === undefined) continue;
    const directWall = t.wall0 + t.directMs;
    const proxyWall = t.proxyMs === undefined ? undefined : t.wall0 + t.proxyMs;
    const run =
      proxyWall === undefined
        ? runs.find((r) => r.end >= t.wall0)
        : runs.filter((r) => r.restarted && r.end >= t.wall0).sort((a, b) => Math.abs(a.end - proxyWall) - Math.abs(b.end - proxyWall))[0];
    if (!run) continue;
    t.breakdown = {
      runStartAfterDirectMs: run.start - directWall,
      runMs: run.end - run.start,
      restarted: run.restarted ? 'yes' : 'no',
      proxyAfterRunEndMs: proxyWall === undefined ? undefined : proxyWall - run.end,
    };
  }
}

function sample(trials: Trial[], logs: { time: number; msg: string; [k: string]: unknown }[]): unknown[] {
  const out: unknown[] = [];
  // The two slowest trials of each case: the log around them shows where the time went.
  const slowest = (['new', 'existing'] as const).flatMap((kind) =>
    trials
      .filter((x) => x.kind === kind && x.addedMs !== undefined)
      .sort((a, b) => b.addedMs! - a.addedMs!)
      .slice(0, 2),
  );
  for (const t of slowest) {
    const kind = t.kind;
    if (t.proxyMs === undefined) continue;
    const from = t.wall0 - 2;
    const to = t.wall0 + t.proxyMs + 50;
    out.push({
      trial: `${kind} #${t.i}`,
      wall0: t.wall0,
      directMs: t.directMs,
      proxyMs: t.proxyMs,
      lines: logs.filter((l) => l.time >= from && l.time <= to).map((l) => ({ dtMs: l.time - t.wall0, msg: l.msg, ...pick(l) })),
    });
  }
  return out;
}

function pick(l: Record<string, unknown>) {
  const { time: _t, msg: _m, level: _l, pid: _p, hostname: _h, ...rest } = l;
  return rest;
}
