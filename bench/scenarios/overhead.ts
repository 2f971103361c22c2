/**
 * Overhead: wrk against one busybox backend straight on its address, through ours and through the
 * baseline's HAProxy, in rounds (order rotated each round) so that machine noise hits all three alike.
 * Both proxies are up for the whole scenario and idle apart from the load (the baseline's playbook loop is
 * stopped after its first run: nothing changes here, and its CPU use would slow everything else).
 * Before each run the host's TIME_WAIT sockets drain below 1,000 (see drainTimeWait): busybox closes every
 * connection, and the leftovers of one run would otherwise slow the next one's connects.
 */
import { backend, type Context } from '../lib/context.ts';
import { removeScope, start } from '../lib/docker.ts';
import { get } from '../lib/http.ts';
import { drainTimeWait, timeWaitCount } from '../lib/proc.ts';
import { median } from '../lib/stats.ts';
import { Baseline, Ours, waitFor } from '../lib/systems.ts';
import { type WrkResult, wrk } from '../lib/wrk.ts';

export type Target = 'direct' | 'ours' | 'baseline';

export interface OverheadResult {
  rounds: number;
  durationS: number;
  runs: { target: Target; round: number; result: WrkResult; timeWaitBefore?: number; timeWaitAfter?: number }[];
  summary: Record<Target, { rps: number; p50: number; p99: number; errors: number }>;
}

export async function overhead(ctx: Context, options: { rounds: number; durationS: number }): Promise<OverheadResult> {
  const scope = `${ctx.runId}-ovh`;
  const ours = new Ours({ runId: ctx.runId, scenario: 'ovh', port: ctx.ports.ours, workDir: ctx.workDir, scope });
  const baseline = new Baseline({ runId: ctx.runId, scenario: 'ovh', port: ctx.ports.baseline, workDir: ctx.workDir, scope });
  try {
    const b = await backend(ctx, { name: `hc-bench-${ctx.runId}-ovh-backend`, scope, domain: 'ovh' });
    await start(b.id);
    await ours.start();
    await baseline.start();
    await baseline.stopDriver();
    for (const s of [ours, baseline])
      await waitFor(
        async () => (await get(s.url, { host: 'ovh.example.com' }).catch(() => undefined))?.status === 200,
        120_000,
        `ovh via ${s.kind}`,
      );
    await ours.settle();

    const urls: Record<Target, { url: string; hosts: string[] }> = {
      direct: { url: `http://${b.ip}:8080/`, hosts: [] },
      ours: { url: ours.url, hosts: ['ovh.example.com'] },
      baseline: { url: baseline.url, hosts: ['ovh.example.com'] },
    };
    const order: Target[] = ['direct', 'ours', 'baseline'];
    const runs: OverheadResult['runs'] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const k = (round - 1) % order.length;
      for (const target of [...order.slice(k), ...order.slice(0, k)]) {
        const timeWaitBefore = await drainTimeWait(1_000, 90);
        const result = await wrk(urls[target].url, { hosts: urls[target].hosts, durationS: options.durationS });
        runs.push({ target, round, result, timeWaitBefore, timeWaitAfter: timeWaitCount() });
        ctx.log(
          `  overhead round ${round} ${target}: ${result.rps.toFixed(0)} req/s, p99 ${result.latencyMs.p99} ms, errors ${result.socketErrors.total + result.non2xx}`,
        );
      }
    }
    const summary = Object.fromEntries(
      order.map((t) => {
        const mine = runs.filter((r) => r.target === t).map((r) => r.result);
        return [
          t,
          {
            rps: median(mine.map((r) => r.rps))!,
            p50: median(mine.map((r) => r.latencyMs.p50))!,
            p99: median(mine.map((r) => r.latencyMs.p99))!,
            errors: mine.reduce((n, r) => n + r.socketErrors.total + r.non2xx, 0),
          },
        ];
      }),
    ) as OverheadResult['summary'];
    return { rounds: options.rounds, durationS: options.durationS, runs, summary };
  } finally {
    await ours.stop();
    await baseline.stop();
    await removeScope(scope);
  }
}
