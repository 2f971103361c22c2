/**
 * Fleet (issue 15): the project's fleet simulation (test/helpers/fleet-simulation.ts) at 100 and 250 hosts.
 * In-process DNS halves of N companions share one zone in moto behind a proxy that allows 5 requests a
 * second for all of them (Route53's account limit); each host serves ~4 of 10 names, then 60 containers
 * start and stop over 3 s with Route53 down for 1.5 s in the middle. Measured: from the last change until
 * the zone holds exactly the served records, and the requests by operation, throttled ones apart.
 * Needs moto only: no Docker, no image.
 */
import { type FleetReport, runFleetSimulation } from '../../test/helpers/fleet-simulation.ts';

export type FleetBackoff = 'simulation' | 'production';

export interface FleetResult {
  runs: (FleetReport & { backoff: FleetBackoff })[];
}

/** The registrar's retry backoff: the simulation's own (as CI runs it), or the companion's defaults. */
const BACKOFF: Record<FleetBackoff, { minMs: number; maxMs: number }> = {
  simulation: { minMs: 250, maxMs: 5_000 },
  production: { minMs: 1_000, maxMs: 60_000 },
};

export async function fleet(
  motoEndpoint: string,
  options: { hosts: number[]; backoffs: FleetBackoff[]; seed: number },
  log: (message: string) => void,
): Promise<FleetResult> {
  const result: FleetResult = { runs: [] };
  for (const backoff of options.backoffs) {
    for (const hosts of options.hosts) {
      const { report } = await runFleetSimulation({ motoEndpoint, hosts, seed: options.seed, retry: BACKOFF[backoff] });
      const ok = (op: keyof FleetReport['requests']) => (report.requests[op] ?? 0) - (report.rejected[op] ?? 0);
      log(
        `  fleet ${hosts} hosts, ${backoff} backoff: ${report.converged ? `converged ${(report.convergedAfterLastChangeMs / 1000).toFixed(1)} s after the last change` : 'did not converge'}; ` +
          `changes ${ok('ChangeResourceRecordSets')}, listings ${ok('ListResourceRecordSets')}, zone checks ${ok('GetHostedZone')} answered`,
      );
      result.runs.push({ ...report, backoff });
    }
  }
  return result;
}
