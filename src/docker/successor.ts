/**
 * Whether another companion in the same role runs on this host and proves it: the one replacing this one
 * during an upgrade (README, "Upgrading the companion"). An exiting companion with DEREGISTER_ON_EXIT must
 * leave the records to it, or the new one would serve a host the zone no longer names; and must not leave
 * them to a container that only looks like one, or the zone would name a host with no proxy until the
 * lease lapses. The rules are successor-rules.ts; this asks Docker (read-only) and the candidates.
 */
import { networkInterfaces } from 'node:os';
import { type PlainResponse, plainHttp } from '../lib/plain-http.js';
import { sleep } from '../lib/sleep.js';
import { imageRepository } from '../model/ownership.js';
import type { DockerApi } from './container-snapshots.js';
import { answerRefusal, type InspectedCompanion, refusalOf, sameRole, statusUrlsOf } from './successor-rules.js';

/**
 * How long candidates have to prove themselves. On the host network the successor's status endpoint binds
 * the port only once this companion closed it, within its rebind delay (1 s).
 */
export const SUCCESSOR_PROOF_MS = 5_000;

export interface SuccessorOptions {
  log: { warn(fields: object, msg: string): void };
  proofMs?: number;
  pollMs?: number;
  /** Tests fake the candidates' status endpoints and this host's addresses. */
  ask?: (url: string, timeoutMs: number) => Promise<PlainResponse>;
  localAddresses?: () => string[];
}

/** The name of another running companion in this one's role on this host that proved itself, if any. */
export async function otherCompanion(
  docker: Pick<DockerApi, 'listContainers' | 'getContainer' | 'getImage'>,
  selfId: string,
  options: SuccessorOptions,
): Promise<string | undefined> {
  const self = (await docker.getContainer(selfId).inspect()) as InspectedCompanion;
  if (self.Config?.Image === undefined) return undefined;
  const repository = imageRepository(self.Config.Image);
  const running = (await docker.listContainers({ filters: { status: ['running'] } })) as Array<{ Id: string; Image?: string }>;
  const candidates: InspectedCompanion[] = [];
  for (const { Id, Image } of running) {
    // Only containers of the image are inspected: a host may run a thousand others.
    if (Id === selfId || Image === undefined || imageRepository(Image) !== repository) continue;
    const candidate = (await docker.getContainer(Id).inspect()) as InspectedCompanion;
    if (sameRole(self, candidate)) candidates.push(candidate);
  }
  if (candidates.length === 0) return undefined;

  const done = new AbortController();
  const deadline = Date.now() + (options.proofMs ?? SUCCESSOR_PROOF_MS);
  const attempts = candidates.map(async (candidate) => {
    const name = candidate.Name?.replace(/^\//, '') || candidate.Id.slice(0, 12);
    const reason = await disproof(self, candidate, await imageEnvOf(docker, candidate), deadline, done.signal, options);
    if (reason === undefined) return name;
    if (!done.signal.aborted) options.log.warn({ candidate: name, reason }, 'not a successor: refused');
    throw new Error(reason);
  });
  try {
    return await Promise.any(attempts);
  } catch {
    return undefined;
  } finally {
    done.abort();
  }
}

/** Why `candidate` is not a live companion, or undefined once it proved it is. */
async function disproof(
  self: InspectedCompanion,
  candidate: InspectedCompanion,
  imageEnv: string[] | undefined,
  deadline: number,
  signal: AbortSignal,
  options: SuccessorOptions,
): Promise<string | undefined> {
  if (imageEnv === undefined) return 'its image cannot be inspected: what it brings is unknown';
  const refusal = refusalOf(candidate, imageEnv);
  if (refusal !== undefined) return refusal;
  const target = statusUrlsOf(self, candidate, (options.localAddresses ?? hostAddresses)());
  if ('refusal' in target) return target.refusal;
  const ask = options.ask ?? ((url: string, timeoutMs: number) => plainHttp(url, { timeoutMs, maxBodyBytes: 4_096 }));
  let last = 'no answer';
  for (;;) {
    for (const url of target.urls) {
      const timeoutMs = Math.max(100, Math.min(1_000, deadline - Date.now()));
      const answer = await ask(url, timeoutMs).catch((error: Error) => `nothing answered at ${url} (${error.message})`);
      const reason = typeof answer === 'string' ? answer : answerRefusal(answer, candidate.Id);
      if (reason === undefined) return undefined;
      last = reason;
    }
    if (Date.now() >= deadline || signal.aborted) return `no proof within ${options.proofMs ?? SUCCESSOR_PROOF_MS} ms: ${last}`;
    await sleep(Math.min(options.pollMs ?? 200, Math.max(0, deadline - Date.now())), signal);
  }
}

/** The environment the candidate's image sets, which the candidate inherits; undefined when it cannot be read. */
async function imageEnvOf(docker: Pick<DockerApi, 'getImage'>, candidate: InspectedCompanion): Promise<string[] | undefined> {
  if (candidate.Image === undefined) return undefined;
  const image = (await docker
    .getImage(candidate.Image)
    .inspect()
    .catch(() => undefined)) as { Config?: { Env?: string[] | null } } | undefined;
  return image === undefined ? undefined : (image.Config?.Env ?? []);
}

function hostAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address));
}
