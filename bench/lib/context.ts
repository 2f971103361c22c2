/** What every scenario gets: the run's id and work directory, addresses, Route53, and a logger. */
import { type BackendSpec, createBackend, createNetwork } from './docker.ts';
import type { Dns, FaultProxyLike } from './types.ts';

export interface Network {
  name: string;
  /** A fresh address on this network; never reused within a run. */
  nextIp(): string;
}

export interface Context {
  runId: string;
  workDir: string;
  ports: { ours: number; baseline: number };
  networks: Network[];
  dns?: {
    motoEndpoint: string;
    ours: Dns & { proxy: FaultProxyLike };
    baseline: Dns & { proxy: FaultProxyLike };
  };
  log(message: string): void;
}

/** A bridge network on the first free 10.<octet>.0.0/16 from `firstOctet` on (a leftover network may hold one). */
export async function makeNetwork(runId: string, suffix: string, firstOctet: number): Promise<Network> {
  const name = `hc-bench-${runId}-${suffix}`;
  let secondOctet = firstOctet;
  for (; ; secondOctet++) {
    try {
      await createNetwork(name, `10.${secondOctet}.0.0/16`, runId);
      break;
    } catch (error) {
      if (!/overlap/i.test((error as Error).message) || secondOctet > firstOctet + 20) throw error;
    }
  }
  let n = 10;
  return {
    name,
    nextIp: () => {
      n++;
      return `10.${secondOctet}.${Math.floor(n / 250)}.${(n % 250) + 2}`;
    },
  };
}

/** A backend for `scope` on the context's first network (or `network`), created, not started. */
export async function backend(
  ctx: Context,
  spec: Omit<BackendSpec, 'runId' | 'network' | 'ip'> & { network?: Network },
): Promise<{ id: string; name: string; ip: string }> {
  const network = spec.network ?? ctx.networks[0]!;
  const ip = network.nextIp();
  const id = await createBackend({ ...spec, runId: ctx.runId, network: network.name, ip });
  return { id, name: spec.name, ip };
}

export const pad = (n: number, width = 3) => String(n).padStart(width, '0');
