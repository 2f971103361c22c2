/**
 * Upgrading the companion under load (issue 16): wrk through ours to one service while the companion is
 * replaced by the same image, two ways:
 * - handover: the image's own `upgrade <container>` command (the new companion beside the old one, both
 *   HAProxies holding the port with SO_REUSEPORT, then the old one stopped: README "Upgrading the companion");
 * - stop-start: the container stopped, then started again (what `docker compose up -d` does with a new image).
 * Each with keep-alive connections and with a new connection per request (`Connection: close`): a listener
 * closed with connections still in its accept queue (the kernel's SO_REUSEPORT queues are per socket)
 * would show there as failed requests, which HAProxy's socket transfer (`expose-fd listeners` + `-x`)
 * exists to prevent; none there means the transfer would change nothing.
 * Failed = wrk's socket errors + non-2xx/3xx answers, counted over the whole window.
 */
import { backend, type Context } from '../lib/context.ts';
import { cliOk, removeScope, start } from '../lib/docker.ts';
import { get, sleep } from '../lib/http.ts';
import { IMAGE, Ours, waitFor } from '../lib/systems.ts';
import { type WrkResult, wrk } from '../lib/wrk.ts';

export interface UpgradeRun {
  way: 'handover' | 'stop-start';
  connections: 'keep-alive' | 'close';
  failed: number;
  requests: number;
  /** From the start of the replacement until the proxy answered again (stop-start), or until the command returned (handover). */
  tookMs: number;
  wrk: WrkResult;
}

export interface UpgradeResult {
  runs: UpgradeRun[];
  notes: string[];
}

const WAYS = ['handover', 'stop-start'] as const;
const CONNECTIONS = ['keep-alive', 'close'] as const;

export async function upgrade(ctx: Context): Promise<UpgradeResult> {
  const runs: UpgradeRun[] = [];
  const notes: string[] = [];
  for (const way of WAYS) {
    for (const connections of CONNECTIONS) {
      const scenario = `up${way === 'handover' ? 'h' : 's'}${connections === 'close' ? 'c' : 'k'}`;
      const system = new Ours({ runId: ctx.runId, scenario, port: ctx.ports.ours, workDir: ctx.workDir });
      const domain = `${scenario}.example.com`;
      try {
        const c = await backend(ctx, { name: `hc-bench-${ctx.runId}-${scenario}-app`, scope: system.scope, domain: scenario });
        await start(c.id);
        await system.start();
        await waitFor(
          async () => (await get(system.url, { host: domain, timeoutMs: 1_000 }).catch(() => undefined))?.status === 200,
          30_000,
          `${domain} served`,
        );
        let tookMs = 0;
        const replaced = (async () => {
          await sleep(2_000);
          const t0 = performance.now();
          if (way === 'handover') {
            await cliOk(['run', '--rm', '-v', '/var/run/docker.sock:/var/run/docker.sock', IMAGE, 'upgrade', system.name]);
          } else {
            await cliOk(['stop', system.name]);
            await cliOk(['start', system.name]);
            await waitFor(
              async () => (await get(system.url, { host: domain, timeoutMs: 500 }).catch(() => undefined))?.status === 200,
              30_000,
              'served again',
            );
          }
          tookMs = Math.round(performance.now() - t0);
          await sleep(2_000);
        })();
        const result = await wrk(system.url, {
          hosts: [domain],
          durationS: 120,
          until: replaced,
          connections: 10,
          threads: 2,
          ...(connections === 'close' ? { close: true } : {}),
        });
        await replaced;
        runs.push({ way, connections, failed: result.socketErrors.total + result.non2xx, requests: result.requests, tookMs, wrk: result });
      } catch (error) {
        notes.push(`${way}, ${connections}: ${(error as Error).message.split('\n')[0]}`);
      } finally {
        await system.stop().catch(() => undefined);
        await removeScope(system.scope);
      }
    }
  }
  return { runs, notes };
}
