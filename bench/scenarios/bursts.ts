/**
 * Bursts: 50 containers with new domains started at once. Counted from the first start until every one
 * answers through the proxy and has its A record in Route53, then until the system is quiet again:
 * HAProxy reloads (ours: "haproxy reloaded" log lines; baseline: restarts by the handler) and Route53
 * ChangeResourceRecordSets requests (and all Route53 requests), seen by the counting proxy.
 */
import { backend, type Context, pad } from '../lib/context.ts';
import { removeScope, start } from '../lib/docker.ts';
import { pollUntil } from '../lib/http.ts';
import { aRecordNames, requestsSince } from '../lib/route53.ts';
import { Baseline, Ours, type System, waitFor } from '../lib/systems.ts';

export interface BurstResult {
  system: 'ours' | 'baseline';
  containers: number;
  proxyConvergedMs?: number;
  dnsConvergedMs?: number;
  /** Until the Docker API had answered every `start`: what Docker itself takes for the burst (the physical limit). */
  dockerStartedMs?: number;
  reloads: number;
  route53Changes?: number;
  route53Requests?: number;
  /** Baseline: playbook runs between the burst and the end of counting. */
  runs?: number;
  notes: string[];
}

export async function bursts(ctx: Context, kind: 'ours' | 'baseline', options: { size: number }): Promise<BurstResult> {
  const port = kind === 'ours' ? ctx.ports.ours : ctx.ports.baseline;
  const dns = kind === 'ours' ? ctx.dns?.ours : ctx.dns?.baseline;
  const system: System =
    kind === 'ours'
      ? new Ours({ runId: ctx.runId, scenario: 'burst', port, workDir: ctx.workDir, ...(dns ? { dns } : {}) })
      : new Baseline({ runId: ctx.runId, scenario: 'burst', port, workDir: ctx.workDir, ...(dns ? { dns } : {}) });
  const p = kind === 'ours' ? 'o' : 'b';
  const notes: string[] = [];
  try {
    const containers = [];
    for (let i = 1; i <= options.size; i++) {
      const domain = `bu${p}${pad(i)}`;
      containers.push({
        domain,
        ...(await backend(ctx, { name: `hc-bench-${ctx.runId}-burst-${kind}-${pad(i)}`, scope: system.scope, domain })),
      });
    }
    await system.start();
    await system.settle();

    const sinceMs = Date.now();
    const t0 = performance.now();
    const proxyDone = Promise.all(
      containers.map((c) =>
        pollUntil(system.url, {
          host: `${c.domain}.example.com`,
          accept: (r) => r.status === 200 && r.body === c.name,
          intervalMs: 50,
          maxInFlight: 4,
          timeoutMs: 900_000,
        }),
      ),
    ).then((times) => (times.some((t) => t === undefined) ? undefined : Math.max(...(times as number[])) - t0));
    const dnsDone =
      dns && ctx.dns
        ? (async () => {
            const want = containers.map((c) => `${c.domain}.example.com`);
            await waitFor(
              async () => {
                const names = await aRecordNames(ctx.dns!.motoEndpoint, dns.zoneId);
                return want.every((n) => names.has(n));
              },
              900_000,
              'all A records',
            );
            return performance.now() - t0;
          })()
        : Promise.resolve(undefined);
    await Promise.all(containers.map((c) => start(c.id)));
    const dockerStartedMs = performance.now() - t0;
    const [proxyConvergedMs, dnsConvergedMs] = await Promise.all([proxyDone, dnsDone]);
    ctx.log(
      `  burst ${kind}: Docker started all in ${dockerStartedMs.toFixed(0)} ms; proxy converged in ${proxyConvergedMs?.toFixed(0)} ms, DNS in ${dnsConvergedMs?.toFixed(0)} ms`,
    );
    // Counting goes on until the system is quiet: ours, no log line for 1.2 s; baseline, one more full run.
    await system.settle();
    if (system instanceof Ours) await new Promise((r) => setTimeout(r, 2_000));
    const untilMs = Date.now();
    const reloads = await system.reloadsSince(sinceMs);
    const r53 = dns ? requestsSince(dns.proxy, sinceMs, untilMs) : undefined;
    const result: BurstResult = {
      system: kind,
      containers: options.size,
      ...(proxyConvergedMs !== undefined ? { proxyConvergedMs } : {}),
      ...(dnsConvergedMs !== undefined ? { dnsConvergedMs } : {}),
      dockerStartedMs,
      reloads,
      ...(r53 ? { route53Changes: r53.changes, route53Requests: r53.total } : {}),
      notes,
    };
    if (system instanceof Baseline) result.runs = system.runs().filter((r) => r.end >= sinceMs).length;
    return result;
  } finally {
    await system.stop();
    await removeScope(system.scope);
  }
}
