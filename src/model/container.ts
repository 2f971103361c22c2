/**
 * What the companion needs to know about one container: a narrow, plain-data view of `docker inspect`,
 * so that the service model is a pure function testable with literal objects.
 */
import { compare } from '../lib/compare.js';
import { ComposeLabels, DOMAIN_ENV, LABEL_PREFIX } from './labels.js';

export interface ContainerNetwork {
  name: string;
  ip: string;
}

export interface ContainerInfo {
  id: string;
  /** Name without Docker's leading slash. */
  name: string;
  /** Only the labels the companion reads (see `toContainerInfo`). */
  labels: Record<string, string>;
  /** Only the variables the companion reads (`DOMAIN`). */
  env: Record<string, string>;
  /** Exposed ports as Docker lists them, e.g. `8080/tcp`, `53/udp`. */
  exposedPorts: string[];
  running: boolean;
  paused: boolean;
  /**
   * Docker sent it its stop signal (`docker stop`, a rolling `docker compose up -d`): still running,
   * finishing what it has, and out of rotation from now on. Set from the `kill` event, not from inspect.
   */
  stopping?: boolean;
  /** `starting`, `healthy` or `unhealthy` when the container has a health check. */
  health?: string;
  /** `host`, `bridge`, `none`, `container:<id>` or a network name. */
  networkMode: string;
  networks: ContainerNetwork[];
  /** The image reference the container was created from (`Config.Image`), e.g. `myapp:v2`: one way to tell its owner. */
  image: string;
  /**
   * When Docker created it, as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` so that string order is time order; empty
   * when unknown. The oldest container of a domain decides who owns it.
   */
  created: string;
}

/** The subset of the Docker Engine API's ContainerInspect response that we read. */
export interface InspectResponse {
  Id: string;
  Name?: string;
  Created?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null; Env?: string[] | null; ExposedPorts?: Record<string, unknown> | null };
  State?: { Running?: boolean; Paused?: boolean; Health?: { Status?: string } | null };
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string } | null> | null };
}

/**
 * Keeps only what the model reads of labels and env: `haproxy-companion.*`, Compose's project and service
 * (ownership), `alsoKeep` (the label filter's key) and `DOMAIN`. A Compose container carries a dozen labels
 * and often dozens of variables (secrets among them): at 1,000 containers, keeping them all cost megabytes.
 */
export function toContainerInfo(inspect: InspectResponse, alsoKeep?: string): ContainerInfo {
  const env: Record<string, string> = {};
  for (const entry of inspect.Config?.Env ?? []) {
    // Split on the first '=' only: values may contain '=' themselves.
    const eq = entry.indexOf('=');
    if (eq > 0 && entry.slice(0, eq) === DOMAIN_ENV) env[DOMAIN_ENV] = entry.slice(eq + 1);
  }
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(inspect.Config?.Labels ?? {})) {
    if (key.startsWith(LABEL_PREFIX) || key === ComposeLabels.project || key === ComposeLabels.service || key === alsoKeep)
      labels[key] = value;
  }
  const networks = Object.entries(inspect.NetworkSettings?.Networks ?? {})
    .map(([name, net]) => ({ name, ip: net?.IPAddress || net?.GlobalIPv6Address || '' }))
    .filter((net) => net.ip !== '')
    .sort((a, b) => compare(a.name, b.name));
  // An empty status (no health check configured) is no verdict.
  const health = inspect.State?.Health?.Status || undefined;
  return {
    id: inspect.Id,
    name: (inspect.Name ?? '').replace(/^\//, '') || inspect.Id.slice(0, 12),
    labels,
    env,
    exposedPorts: Object.keys(inspect.Config?.ExposedPorts ?? {}).sort(),
    running: inspect.State?.Running === true,
    paused: inspect.State?.Paused === true,
    health,
    networkMode: inspect.HostConfig?.NetworkMode ?? 'default',
    networks,
    image: inspect.Config?.Image ?? '',
    created: sortableTime(inspect.Created),
  };
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * Docker writes `Created` with up to nine fraction digits and trims trailing zeros (`…:30.5Z` after
 * `…:30.45Z`), so the raw strings do not sort by time: pad the fraction, and move any offset to UTC.
 */
function sortableTime(value: string | undefined): string {
  const match = RFC3339.exec(value ?? '');
  if (!match) return '';
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) return '';
  return `${new Date(seconds).toISOString().slice(0, 19)}.${(match[2] ?? '').padEnd(9, '0')}Z`;
}
