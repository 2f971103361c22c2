/**
 * Churn under load: wrk keep-alive load through the proxy to stable services (4 services, one container
 * each) while 100 container changes happen (50 starts, 50 kills, interleaved, one every `intervalMs`).
 * Failed requests for the stable services = wrk's socket errors + non-2xx/3xx answers.
 * Two kinds of churn:
 * - new: each churned container has a domain of its own (backends come and go: a reload for ours);
 * - existing: the churned containers all join one service that already has a container (servers come and
 *   go in an existing backend: the runtime API for ours; for the old pipeline, duplicate backend names).
 */
import { backend, type Context, pad } from '../lib/context.ts';
import { kill, remove, removeScope, start } from '../lib/docker.ts';
import { get, sleep } from '../lib/http.ts';
import { median, percentile } from '../lib/stats.ts';
import { APPLY_MESSAGES, Baseline, Ours, type System, waitFor } from '../lib/systems.ts';
import { type WrkResult, wrk } from '../lib/wrk.ts';

export interface ChurnResult {
  system: 'ours' | 'baseline';
  churn: 'new' | 'existing';
  changes: number;
  intervalMs: number;
  /** From the first change until the last start/kill API call returned (changes are sequential). */
  changesTookMs: number;
  /** From then until the proxy served the final state; absent: not within the limit. */
  convergedAfterChangesMs?: number;
  wrk: WrkResult;
  failed: number;
  reloads: number;
  /** Ours: passes that changed what HAProxy runs, by how they were applied, and their durationMs. */
  passes?: Record<string, number>;
  passMs?: number[];
  /** Latency of the benchmark's own start/kill calls to the Docker API during the churn. */
  dockerApiMs: { p50: number; p99: number; max: number };
  /** Baseline: playbook runs while wrk ran; `failed`: non-zero exit (e.g. a container gone between list and inspect). */
  runs?: { total: number; failed: number; restarted: number; medianS: number; duringChanges: number };
  /** What the proxy served for the churned domain(s) at the end, once settled (sanity check). */
  servedAfter: string;
}

export const STABLE = 4;

export async function churn(
  ctx: Context,
  kind: 'ours' | 'baseline',
  mode: 'new' | 'existing',
  options: { intervalMs: number; convergeLimitS: number },
): Promise<ChurnResult> {
  const port = kind === 'ours' ? ctx.ports.ours : ctx.ports.baseline;
  const dns = kind === 'ours' ? ctx.dns?.ours : ctx.dns?.baseline;
  const scenario = `churn${mode === 'new' ? 'n' : 'e'}`;
  const system: System =
    kind === 'ours'
      ? new Ours({ runId: ctx.runId, scenario, port, workDir: ctx.workDir, ...(dns ? { dns } : {}) })
      : new Baseline({ runId: ctx.runId, scenario, port, workDir: ctx.workDir, ...(dns ? { dns } : {}) });
  const p = `${kind === 'ours' ? 'o' : 'b'}${mode === 'new' ? 'n' : 'e'}`;
  const stableDomains = Array.from({ length: STABLE }, (_, i) => `st${p}${i + 1}`);
  try {
    for (const [i, domain] of stableDomains.entries()) {
      const c = await backend(ctx, { name: `hc-bench-${ctx.runId}-${scenario}-${kind}-stable-${i + 1}`, scope: system.scope, domain });
      await start(c.id);
    }
    const poolDomain = `ch${p}pool`; // ("existing" mode) the service the churned containers join
    if (mode === 'existing') {
      const c = await backend(ctx, {
        name: `hc-bench-${ctx.runId}-${scenario}-${kind}-pool-base`,
        scope: system.scope,
        domain: poolDomain,
      });
      await start(c.id);
    }
    const churned: { id: string; name: string; ip: string }[] = [];
    for (let i = 1; i <= 50; i++) {
      churned.push(
        await backend(ctx, {
          name: `hc-bench-${ctx.runId}-${scenario}-${kind}-c${pad(i)}`,
          scope: system.scope,
          domain: mode === 'new' ? `ch${p}${pad(i)}` : poolDomain,
        }),
      );
    }
    await system.start();
    for (const d of stableDomains)
      await waitFor(
        async () => (await get(system.url, { host: `${d}.example.com` }).catch(() => undefined))?.status === 200,
        120_000,
        `${d} routed`,
      );
    await system.settle();

    // 50 starts and 50 kills, at most 4 churned containers up at a time: s1 s2 s3 s4 s5 k1 s6 k2 ... k50.
    const actions: { op: 'start' | 'kill'; index: number }[] = [];
    for (let i = 0; i < 50; i++) {
      actions.push({ op: 'start', index: i });
      if (i >= 4) actions.push({ op: 'kill', index: i - 4 });
    }
    for (let i = 46; i < 50; i++) actions.push({ op: 'kill', index: i });

    // wrk runs from 3 s before the first change until the proxy serves the final state (every churned
    // container gone, the stable services up), plus 3 s; at most `convergeLimitS` after the last change.
    const sinceMs = Date.now();
    let changesDone!: () => void;
    const changesFinished = new Promise<void>((resolve) => (changesDone = resolve));
    let convergedAfterChangesMs: number | undefined;
    const finalState = async () => {
      const hosts =
        mode === 'new'
          ? churned.map((_, i) => `ch${p}${pad(i + 1)}.example.com`)
          : Array.from({ length: 6 }, () => `${poolDomain}.example.com`);
      const answers = await Promise.all(hosts.map((host) => get(system.url, { host }).catch(() => ({ status: 0, body: '' }))));
      const churnedGone = answers.every((a) => a.status !== 0 && !churned.some((c) => c.name === a.body));
      const stable = await Promise.all(
        stableDomains.map((d) => get(system.url, { host: `${d}.example.com` }).catch(() => ({ status: 0, body: '' }))),
      );
      return churnedGone && stable.every((a) => a.status === 200);
    };
    const until = changesFinished
      .then(async () => {
        const t = performance.now();
        await waitFor(finalState, options.convergeLimitS * 1000, 'the final state after churn');
        convergedAfterChangesMs = performance.now() - t;
      })
      .catch((e: Error) => ctx.log(`  churn ${kind} ${mode}: ${e.message}`))
      .then(() => sleep(3_000));
    const load = wrk(system.url, { hosts: stableDomains.map((d) => `${d}.example.com`), durationS: 3_600, until });
    await sleep(3_000);
    // One change at a time, at most one per `intervalMs`: each start/kill call is awaited before the next.
    // (Firing them on a fixed clock regardless piles calls up in a Docker daemon that the load already
    // slows down: calls then wait tens of seconds, and so does every inspect of the systems under test.)
    const began = performance.now();
    /** How long each start/kill API call took: how busy the Docker daemon is under this load. */
    const apiMs: number[] = [];
    for (const [n, a] of actions.entries()) {
      const t = performance.now();
      const c = churned[a.index]!;
      await (a.op === 'start' ? start(c.id) : kill(c.id)).catch((e: Error) => ctx.log(`  churn: ${a.op} ${c.name} failed: ${e.message}`));
      apiMs.push(performance.now() - t);
      const wait = t + options.intervalMs - performance.now();
      if (wait > 0 && n < actions.length - 1) await sleep(wait);
    }
    const changesTookMs = performance.now() - began;
    const changesEndMs = Date.now();
    changesDone();
    const result = await load;
    const reloads = await system.reloadsSince(sinceMs);
    const runs = system instanceof Baseline ? system.runs().filter((r) => r.end >= sinceMs) : undefined;
    const served =
      mode === 'new'
        ? await get(system.url, { host: `ch${p}001.example.com` }).catch(() => undefined)
        : await get(system.url, { host: `${poolDomain}.example.com` }).catch(() => undefined);
    for (const c of churned) await remove(c.id);
    return {
      system: kind,
      churn: mode,
      changes: actions.length,
      intervalMs: options.intervalMs,
      changesTookMs,
      ...(convergedAfterChangesMs !== undefined ? { convergedAfterChangesMs } : {}),
      wrk: result,
      failed: result.socketErrors.total + result.non2xx,
      reloads,
      dockerApiMs: { p50: percentile(apiMs, 50) ?? 0, p99: percentile(apiMs, 99) ?? 0, max: Math.max(0, ...apiMs) },
      ...(system instanceof Ours ? { passes: await passesSince(system, sinceMs), passMs: await passDurations(system, sinceMs) } : {}),
      ...(runs
        ? {
            runs: {
              total: runs.length,
              failed: runs.filter((r) => r.rc !== 0).length,
              restarted: runs.filter((r) => r.restarted).length,
              medianS: median(runs.map((r) => (r.end - r.start) / 1000)) ?? 0,
              duringChanges: runs.filter((r) => r.start < changesEndMs).length,
            },
          }
        : {}),
      servedAfter: served ? `HTTP ${served.status}` : 'no answer',
    };
  } finally {
    await system.stop();
    await removeScope(system.scope);
  }
}

async function passesSince(system: Ours, sinceMs: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const l of await system.logs()) {
    if (l.time < sinceMs || !APPLY_MESSAGES.has(l.msg)) continue;
    const how = String(l.how ?? l.msg);
    counts[how] = (counts[how] ?? 0) + 1;
  }
  return counts;
}

async function passDurations(system: Ours, sinceMs: number): Promise<number[]> {
  return (await system.logs())
    .filter((l) => l.time >= sinceMs && APPLY_MESSAGES.has(l.msg) && typeof l.durationMs === 'number')
    .map((l) => l.durationMs as number);
}
