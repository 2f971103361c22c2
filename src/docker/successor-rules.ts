/**
 * Whether a running container is this companion's successor (README, "Upgrading the companion"): the rules,
 * pure. An exiting companion with DEREGISTER_ON_EXIT leaves its records to a successor, so a container
 * that only looks like one (the image with the same environment, run with `--entrypoint sleep`) would keep
 * the host in DNS with no proxy behind it. Everything a candidate says of itself (env, command, addresses)
 * is its own claim: the claims only narrow who is asked, and the proof is the candidate's own status
 * endpoint answering /healthz healthy with the candidate's container id, which only a live companion in
 * that container does (status-server.ts, self-id.ts).
 */
import { isIP } from 'node:net';
import { settingsSchema } from '../config.js';
import { isLoopback, isUnspecified } from '../lib/addresses.js';
import { imageRepository } from '../model/ownership.js';
import { type CodeSources, foreignCodeOf } from './foreign-code.js';

/** What `docker inspect` says of a container, as far as the rules need it. */
export interface InspectedCompanion extends CodeSources {
  Id: string;
  Name?: string;
  /** The image's id: the tag in `Config.Image` may name another image by now. */
  Image?: string;
  Config?: {
    Image?: string;
    Env?: string[] | null;
    Entrypoint?: string[] | string | null;
    Cmd?: string[] | string | null;
  };
  State?: { Running?: boolean; Paused?: boolean; Restarting?: boolean };
  HostConfig?: { NetworkMode?: string } & CodeSources['HostConfig'];
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string } | null> | null };
}

/** The settings that make two companions want the same records. */
const ROLE = ['DOMAIN_NAME', 'HOSTED_ZONE_ID', 'CONTAINER_LABEL_FILTER', 'HOST_ID'];

/** The commands (main.ts) that run the companion: none, or `run`; `dry-run` and `upgrade` exit. */
const COMPANION_COMMANDS = new Set([undefined, 'run']);

const statusSettings = settingsSchema.pick({ STATUS_ADDRESS: true, STATUS_PORT: true });

function envOf(container: InspectedCompanion): Map<string, string> {
  return new Map((container.Config?.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

/** A container's words in a log line: bounded, it chose them. */
const quote = (words: string[]) => JSON.stringify(words.join(' ').slice(0, 200));

const asList = (value: string[] | string | null | undefined): string[] => (typeof value === 'string' ? [value] : (value ?? []));

/**
 * Whether `candidate` claims this companion's role: another running container of the same image repository
 * (`haproxy-companion:NEW` replacing `…:OLD`) with the same zone, hosted zone, label filter and host id. Two
 * companions of one host with different label filters (one per environment) are not each other's successor.
 */
export function sameRole(self: InspectedCompanion, candidate: InspectedCompanion): boolean {
  if (self.Config?.Image === undefined || candidate.Config?.Image === undefined) return false;
  if (imageRepository(candidate.Config.Image) !== imageRepository(self.Config.Image)) return false;
  const mine = envOf(self);
  const theirs = envOf(candidate);
  return ROLE.every((key) => (mine.get(key) ?? '') === (theirs.get(key) ?? ''));
}

/**
 * Why `candidate` is no companion before it is asked anything, or undefined. The entrypoint must be the
 * image's (tini, then node running the companion's bundle); its flags are not judged, as they change
 * between versions and the old companion judges the new one. The command must be one that runs the
 * companion. Neither its environment (beside `imageEnv`, its image's) nor its mounts may bring code of
 * their own (foreign-code.ts): that code would answer /healthz in the companion's place.
 */
export function refusalOf(candidate: InspectedCompanion, imageEnv: readonly string[]): string | undefined {
  if (candidate.State?.Paused) return 'it is paused';
  if (candidate.State?.Restarting) return 'it is restarting';
  if (candidate.State?.Running === false) return 'it is not running';
  const entrypoint = asList(candidate.Config?.Entrypoint);
  const [init, separator, node] = entrypoint;
  const runsBundle =
    init === '/usr/bin/tini' && separator === '--' && node?.split('/').at(-1) === 'node' && entrypoint.at(-1) === '/app/bundle/main.cjs';
  if (!runsBundle) return `its entrypoint ${quote(entrypoint)} is not the image's (--entrypoint overrides it)`;
  const command = asList(candidate.Config?.Cmd);
  if (!COMPANION_COMMANDS.has(command[0])) return `its command ${quote(command)} is not the companion's (none, or run)`;
  return foreignCodeOf(candidate, imageEnv);
}

/**
 * Where `candidate`'s status endpoint answers from this container, or why it cannot be reached. An address
 * is asked only where it is the candidate's: loopback or one of this host's own addresses when both share
 * the host's network, else one Docker gave the candidate; never one it only names (instance metadata).
 */
export function statusUrlsOf(
  self: InspectedCompanion,
  candidate: InspectedCompanion,
  localAddresses: readonly string[],
): { urls: string[] } | { refusal: string } {
  const parsed = statusSettings.safeParse(Object.fromEntries(envOf(candidate)));
  if (!parsed.success) return { refusal: 'its STATUS_ADDRESS or STATUS_PORT is invalid: it cannot have started' };
  const { STATUS_ADDRESS: address, STATUS_PORT: port } = parsed.data;
  if (port === 0) return { refusal: 'its status endpoint is off (STATUS_PORT=0): nothing shows that it serves' };
  const url = (host: string) => `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}/healthz`;
  const hostNetwork = (container: InspectedCompanion) => container.HostConfig?.NetworkMode === 'host';

  if (hostNetwork(candidate)) {
    if (!hostNetwork(self))
      return { refusal: 'it runs on the host network and this companion does not: its status endpoint is out of reach' };
    if (isUnspecified(address)) return { urls: [url(isIP(address) === 6 ? '::1' : '127.0.0.1')] };
    if (isLoopback(address) || localAddresses.includes(address)) return { urls: [url(address)] };
    return { refusal: `its STATUS_ADDRESS ${address} is not one of this host's addresses` };
  }
  if (isLoopback(address)) return { refusal: `its status endpoint listens on its own loopback (${address}): out of reach` };
  const networks = Object.values(candidate.NetworkSettings?.Networks ?? {});
  const ipv4 = networks.map((n) => n?.IPAddress).filter((ip): ip is string => !!ip);
  const ipv6 = networks.map((n) => n?.GlobalIPv6Address).filter((ip): ip is string => !!ip);
  // Node's `::` takes IPv4 connections too.
  const own =
    address === '0.0.0.0' ? ipv4 : isUnspecified(address) ? [...ipv4, ...ipv6] : [...ipv4, ...ipv6].filter((ip) => ip === address);
  if (own.length > 0) return { urls: [...new Set(own)].map(url) };
  if (ipv4.length + ipv6.length === 0) return { refusal: 'it has no address on a Docker network to reach its status endpoint at' };
  return { refusal: `its STATUS_ADDRESS ${address} is not one of its addresses` };
}

/** Why an answer from a candidate's /healthz does not prove it is a live companion, or undefined. */
export function answerRefusal(answer: { status: number; body: string }, candidateId: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return `its status port answered ${answer.status} with a body that is not a companion's`;
  }
  const { healthy, container } = (typeof body === 'object' && body !== null ? body : {}) as { healthy?: unknown; container?: unknown };
  // Checked first: on the host network a port is anyone's, and this companion's own answer is not the candidate's.
  if (typeof container !== 'string') return 'its status port answered with no container id: not a companion of this version';
  if (container !== candidateId) return `its status port answered as another container (${container.slice(0, 12)})`;
  if (answer.status !== 200) return `its /healthz answered ${answer.status}`;
  if (healthy !== true) return 'its /healthz says it is not healthy';
  return undefined;
}
