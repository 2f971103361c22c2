/**
 * Route53 for the benchmark: moto on 127.0.0.1 (the host's moto_server, else the project's moto image in
 * host network mode), one hosted zone per system, and a request-counting proxy per system in front of it
 * (test/helpers/route53-faults.ts, with no faults injected). Nothing here can reach AWS: every client has
 * static credentials and a loopback endpoint.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand, type ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import { type FaultProxy, startFaultProxy } from '../../test/helpers/route53-faults.ts';
import { BENCH_LABEL, cli } from './docker.ts';
import { sleep } from './http.ts';

export type { FaultProxy };

export interface Moto {
  endpoint: string;
  runner: string;
  stop(): Promise<void>;
}

export async function motoAnswers(endpoint: string): Promise<boolean> {
  try {
    return (await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

async function answering(endpoint: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) })).ok) return true;
    } catch {
      // not yet
    }
    await sleep(200);
  }
  return false;
}

export async function startMoto(port: number, runId: string): Promise<Moto> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  const stopHost = async () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // gone
    }
  };
  if (await answering(endpoint, 20_000)) return { endpoint, runner: 'host moto_server', stop: stopHost };
  await stopHost();
  // No usable moto_server: the project's moto image (scripts/moto-image.sh), host network, loopback only.
  const name = `hc-bench-${runId}-moto`;
  const server = `from moto.server import main; main(['-H', '127.0.0.1', '-p', '${port}'])`;
  const run = await cli([
    'run',
    '-d',
    '--name',
    name,
    '--label',
    `${BENCH_LABEL}=${runId}`,
    '--network',
    'host',
    'haproxy-companion-moto:latest',
    'python3',
    '-c',
    server,
  ]);
  if (run.code !== 0) throw new Error(`cannot start moto: ${run.stderr}`);
  if (!(await answering(endpoint, 60_000))) throw new Error('moto container does not answer');
  return { endpoint, runner: 'haproxy-companion-moto container', stop: async () => void (await cli(['rm', '-f', name])) };
}

export function client(endpoint: string): Route53Client {
  return new Route53Client({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

/** Creates `name` as a public zone (ours) or a private one (the old pipeline's `private_zone: yes`). Returns the bare id. */
export async function createZone(endpoint: string, name: string, privateZone: boolean): Promise<string> {
  const c = client(endpoint);
  try {
    const { HostedZone } = await c.send(
      new CreateHostedZoneCommand({
        Name: name,
        CallerReference: randomUUID(),
        HostedZoneConfig: { Comment: 'haproxy-companion benchmark', PrivateZone: privateZone },
        ...(privateZone ? { VPC: { VPCRegion: 'us-east-1', VPCId: 'vpc-0bench000' } } : {}),
      }),
    );
    return HostedZone!.Id!.replace(/^\/hostedzone\//, '');
  } finally {
    c.destroy();
  }
}

/** Every record of a zone, straight from moto (not through a counting proxy). */
export async function listRecords(endpoint: string, zoneId: string): Promise<ResourceRecordSet[]> {
  const c = client(endpoint);
  const out: ResourceRecordSet[] = [];
  let start: { StartRecordName?: string; StartRecordType?: any; StartRecordIdentifier?: string } = {};
  try {
    for (let page = 0; page < 1_000; page++) {
      const r = await c.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, MaxItems: 1000, ...start }));
      out.push(...(r.ResourceRecordSets ?? []));
      if (!r.IsTruncated) break;
      start = { StartRecordName: r.NextRecordName, StartRecordType: r.NextRecordType, StartRecordIdentifier: r.NextRecordIdentifier };
    }
    return out;
  } finally {
    c.destroy();
  }
}

/** Names (without the trailing dot) that have an A record in the zone. */
export async function aRecordNames(endpoint: string, zoneId: string): Promise<Set<string>> {
  return new Set((await listRecords(endpoint, zoneId)).filter((r) => r.Type === 'A').map((r) => r.Name!.replace(/\.$/, '')));
}

export async function countingProxy(motoEndpoint: string): Promise<FaultProxy> {
  return startFaultProxy(motoEndpoint);
}

/** ChangeResourceRecordSets and all Route53 requests the proxy saw since `sinceMs` (Date.now()). */
export function requestsSince(proxy: FaultProxy, sinceMs: number, untilMs = Infinity): { changes: number; total: number } {
  const log = proxy.stats().log.filter((r) => r.at >= sinceMs && r.at <= untilMs && !r.path.startsWith('/moto-api/'));
  return { changes: log.filter((r) => r.operation === 'ChangeResourceRecordSets').length, total: log.length };
}
