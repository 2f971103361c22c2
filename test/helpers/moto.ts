/**
 * A real Route53 emulator (moto) on 127.0.0.1 for tests. Uses the host's `moto_server` when it runs (the
 * development and CI machines have one); otherwise the image scripts/moto-image.sh builds, in host network
 * mode. `MOTO_RUNNER=host|docker` forces one of them.
 *
 * Every SDK client made here has static credentials, us-east-1 and a loopback endpoint: nothing may reach
 * AWS or the instance metadata service from a test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import {
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandInput,
  type ResourceRecordSet,
  Route53Client,
  type Route53ClientConfig,
} from '@aws-sdk/client-route-53';
import { docker } from './docker.js';
import { waitFor } from './wait-for.js';

export const MOTO_IMAGE = process.env.MOTO_IMAGE ?? 'haproxy-companion-moto:latest';

/**
 * The environment every test process or container that uses the AWS SDK gets (`vi.stubEnv` each, or `-e` for
 * a container), so that no default in the SDK's chains (credentials, region, IMDS) can reach out.
 */
export const AWS_TEST_ENV: Readonly<Record<string, string>> = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};

export interface Moto {
  /** e.g. http://127.0.0.1:41234; give it to the SDK as `endpoint`. */
  readonly endpoint: string;
  /** Which moto this is, for log lines when a test fails. */
  readonly runner: 'host' | 'docker';
  /** Forgets every zone and record (moto's `POST /moto-api/reset`). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export type MotoRunner = 'auto' | 'host' | 'docker';

/** Starts moto on a free loopback port and resolves once it answers. */
export async function startMoto(options: { runner?: MotoRunner; timeoutMs?: number } = {}): Promise<Moto> {
  const runner = options.runner ?? (process.env.MOTO_RUNNER as MotoRunner | undefined) ?? 'auto';
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (runner === 'host') return startHostMoto(timeoutMs);
  if (runner === 'docker') return startDockerMoto(timeoutMs);
  try {
    return await startHostMoto(timeoutMs);
  } catch {
    // No moto_server, or one that does not start (a pyenv shim for another Python): use the image.
    return startDockerMoto(timeoutMs);
  }
}

/** A Route53 client for tests: static credentials, us-east-1, the given loopback endpoint. */
export function route53Client(endpoint: string, config: Partial<Route53ClientConfig> = {}): Route53Client {
  return new Route53Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...config,
  });
}

/** Creates a public hosted zone and returns its id without the `/hostedzone/` prefix. */
export async function createHostedZone(endpoint: string, name: string): Promise<string> {
  const client = route53Client(endpoint);
  try {
    const { HostedZone } = await client.send(
      new CreateHostedZoneCommand({
        Name: name,
        CallerReference: randomUUID(),
        // moto rejects a CreateHostedZone without a Comment.
        HostedZoneConfig: { Comment: 'haproxy-companion test', PrivateZone: false },
      }),
    );
    if (!HostedZone?.Id) throw new Error(`CreateHostedZone ${name}: no zone id in the answer`);
    return HostedZone.Id.replace(/^\/hostedzone\//, '');
  } finally {
    client.destroy();
  }
}

/** Every record set of the zone, following IsTruncated across pages. */
export async function listRecords(
  endpoint: string,
  zoneId: string,
  { pageSize = 300 }: { pageSize?: number } = {},
): Promise<ResourceRecordSet[]> {
  const client = route53Client(endpoint);
  const records: ResourceRecordSet[] = [];
  let input: ListResourceRecordSetsCommandInput = { HostedZoneId: zoneId, MaxItems: pageSize };
  try {
    for (;;) {
      const page = await client.send(new ListResourceRecordSetsCommand(input));
      records.push(...(page.ResourceRecordSets ?? []));
      if (!page.IsTruncated) return records;
      const next = {
        StartRecordName: page.NextRecordName,
        StartRecordType: page.NextRecordType,
        StartRecordIdentifier: page.NextRecordIdentifier,
      };
      // moto never sends NextRecordIdentifier: a page boundary inside one name+type would repeat the page forever.
      if (
        next.StartRecordName === input.StartRecordName &&
        next.StartRecordType === input.StartRecordType &&
        next.StartRecordIdentifier === input.StartRecordIdentifier
      ) {
        throw new Error(
          `listRecords ${zoneId}: pagination does not advance past ${next.StartRecordName} ${next.StartRecordType}; use a larger pageSize`,
        );
      }
      input = { ...input, ...next };
    }
  } finally {
    client.destroy();
  }
}

// --- runners --------------------------------------------------------------------------------------------

/**
 * moto must not outlive the test process, even one killed without running its afterAll (vitest tears its
 * workers down with a signal, so no 'exit' handler runs). A detached shell waits for EOF on a pipe only this
 * process holds, then runs `cleanup`; stop() disarms it (kills the shell) and cleans up by itself.
 */
function watchdog(cleanup: string): () => void {
  const guard = spawn('sh', ['-c', `read _ ; ${cleanup}`], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  guard.unref();
  (guard.stdin as unknown as net.Socket).unref();
  return () => {
    try {
      if (guard.pid !== undefined) process.kill(guard.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
}

async function startHostMoto(timeoutMs: number): Promise<Moto> {
  const port = await freePort();
  // Own process group: moto_server may be a wrapper (pyenv shim) around the real Python process.
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const output = tail(child);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (code, signal) => resolve(`exited with ${signal ?? code}`));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const disarm =
    child.pid === undefined
      ? () => undefined
      : watchdog(`kill -s TERM -- -${child.pid} 2>/dev/null && sleep 3; kill -s KILL -- -${child.pid} 2>/dev/null`);
  const stop = async (): Promise<void> => {
    disarm();
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await Promise.race([
      waitUntilAnswering(endpoint, timeoutMs),
      exited.then((why) => Promise.reject(new Error(`moto_server ${why}: ${output()}`))),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, runner: 'host', reset: () => reset(endpoint), stop };
}

async function startDockerMoto(timeoutMs: number): Promise<Moto> {
  try {
    await docker('image', 'inspect', '--format', '{{.Id}}', MOTO_IMAGE);
  } catch {
    throw new Error(`no moto_server on this host and no ${MOTO_IMAGE} image: run scripts/moto-image.sh`);
  }
  const port = await freePort();
  const name = `hc-moto-${randomBytes(4).toString('hex')}`;
  const endpoint = `http://127.0.0.1:${port}`;
  // Host network: moto listens on the host's loopback only, like the host runner, with no port mapping.
  const server = `from moto.server import main; main(['-H', '127.0.0.1', '-p', '${port}'])`;
  const disarm = watchdog(`docker rm -f ${name} >/dev/null 2>&1`);
  await docker(
    'run',
    '-d',
    '--name',
    name,
    '--label',
    'haproxy-companion.test=moto',
    '--network',
    'host',
    MOTO_IMAGE,
    'python3',
    '-c',
    server,
  );
  const stop = async (): Promise<void> => {
    disarm();
    await docker('rm', '-f', name).catch(() => undefined);
  };
  try {
    await waitUntilAnswering(endpoint, timeoutMs);
  } catch (error) {
    const logs = await docker('logs', '--tail', '20', name).catch(() => '');
    await stop();
    throw new Error(`moto container ${name}: ${(error as Error).message}\n${logs}`);
  }
  return { endpoint, runner: 'docker', reset: () => reset(endpoint), stop };
}

async function reset(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset: HTTP ${response.status}`);
}

async function waitUntilAnswering(endpoint: string, timeoutMs: number): Promise<void> {
  await waitFor(async () => (await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) })).ok, {
    timeoutMs,
    what: `moto at ${endpoint}`,
  });
}

/** A port nothing listens on right now; the server started next binds it a moment later. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Keeps the last lines of a child's stderr (for error messages) and keeps draining it, so moto never blocks. */
function tail(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (text = (text + chunk).slice(-4_000)));
  return () => text.trim();
}
