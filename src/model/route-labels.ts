/**
 * The routes a container declares. A route is the unit of routing: host names (and a path prefix) or a
 * TCP port, the container port behind it, and its policy. Labels follow the grammar users know from
 * Traefik and caddy-docker-proxy, one route per name: `haproxy-companion.<route>.<key>=<value>`. The forms
 * that came before routes (`DOMAIN`, `haproxy-companion.domain`, `haproxy-companion.port`) are the route
 * named `default`.
 *
 * Every value is a container's word: each is validated (route-values.ts) and a bad one refuses its route
 * alone, with a reason naming the label; the container's other routes stand.
 */
import { compare } from '../lib/compare.js';
import type { ContainerInfo } from './container.js';
import { parseRouteDomain } from './domain.js';
import { DOMAIN_ENV, LABEL_PREFIX, Labels } from './labels.js';
import { clip, MAX_QUOTED, quote } from './reasons.js';
import {
  type HttpsMode,
  type Parsed,
  parseAllowList,
  parseAuthUsers,
  parseBoolean,
  parseCheckInterval,
  parseCheckPath,
  parseDuration,
  parseHeaderName,
  parseHeaderValue,
  parseHstsMaxAge,
  parseHttpsMode,
  parseMaxconn,
  parsePathPrefix,
  parsePort,
  parseRedirect,
} from './route-values.js';
import { routeKeys } from './service-key.js';

/** What a route asks of HAProxy beyond "send these hosts to these servers"; absent fields take the defaults. */
export interface RoutePolicy {
  /** The backend sees `/x` for `<path>/x`. */
  stripPath?: boolean;
  /** HTTP health check path (GET); absent: a TCP connect check. */
  checkPath?: string;
  checkIntervalMs?: number;
  timeoutServerMs?: number;
  timeoutConnectMs?: number;
  /** Cookie-based stickiness: a client keeps its server. */
  sticky?: boolean;
  /** Client addresses allowed (addresses and CIDR ranges); others get 403. */
  allow?: string[];
  /** HTTP basic auth: user names and crypt(3) hashes. */
  authUsers?: { name: string; hash: string }[];
  /** Headers to set (`value`) or remove (`value: null`), in name order. */
  requestHeaders?: { name: string; value: string | null }[];
  responseHeaders?: { name: string; value: string | null }[];
  /** 301 to this URL prefix (the request path kept); the route needs no server then. */
  redirect?: string;
  compress?: boolean;
  /** Per server. */
  maxconn?: number;
  /** Plain HTTP once HTTPS is on; absent: the default, `redirect`. */
  https?: HttpsMode;
  /** Strict-Transport-Security max-age on HTTPS answers; absent: HSTS_MAX_AGE; 0: none. */
  hstsMaxAge?: number;
}

export interface RouteSpec {
  /** `default` for the forms that came before routes. */
  name: string;
  /** Names relative to the zone (`api`, `*.preview`); empty for a TCP route. */
  domains: string[];
  /** Path prefix, `/` for the whole host. */
  path: string;
  /** The container port; absent: the one port the container exposes. */
  port?: number;
  /** A TCP route: HAProxy listens on this port of the host in TCP mode. */
  tcpPort?: number;
  policy: RoutePolicy;
}

export interface RouteRefusal {
  /** Absent: the whole container (too many routes or names). */
  route?: string;
  /** The route's names, when they are valid (the reason is about something else). */
  names?: string[];
  reason: string;
}

export interface DeclaredRoutes {
  routes: RouteSpec[];
  refused: RouteRefusal[];
}

export const DEFAULT_ROUTE = 'default';
/** Generous for real use, and a bound on the work one container's labels can cause. */
export const MAX_ROUTES_PER_CONTAINER = 32;
export const MAX_HEADERS_PER_ROUTE = 32;

const ROUTE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

type Setter = (route: Draft, value: string, key: string) => string | undefined;

interface Draft {
  domainsRaw?: string;
  /** The label `domainsRaw` came from; absent for the forms before routes (`DOMAIN`, `haproxy-companion.domain`). */
  domainsLabel?: string;
  spec: RouteSpec;
}

/** Applies a parsed value, or says why not (the caller names the label). */
const use =
  <T>(parse: (raw: string) => Parsed<T>, set: (draft: Draft, value: T) => void): Setter =>
  (draft, raw) => {
    const parsed = parse(raw);
    if (!parsed.ok) return parsed.reason;
    set(draft, parsed.value);
    return undefined;
  };

const STICKY: (raw: string) => Parsed<boolean> = (raw) =>
  raw.trim().toLowerCase() === 'cookie' ? { ok: true, value: true } : { ok: false, reason: `is ${quote(raw)}; the only kind is "cookie"` };

/** A policy field set from its parser. */
const policy = <K extends keyof RoutePolicy>(field: K, parse: (raw: string) => Parsed<RoutePolicy[K]>): Setter =>
  use(parse, (draft, value) => {
    draft.spec.policy[field] = value;
  });

/** `true` sets the policy, `false` leaves it at its default (absent), as if the label were not there. */
const flag = (raw: string): Parsed<true | undefined> => {
  const parsed = parseBoolean(raw);
  return parsed.ok ? { ok: true, value: parsed.value || undefined } : parsed;
};

/** The keys a route takes, after `haproxy-companion.<route>.`. */
const ROUTE_KEYS: Record<string, Setter> = {
  domain: (draft, raw, key) => {
    draft.domainsRaw = raw;
    draft.domainsLabel = key;
    return undefined;
  },
  port: use(parsePort, (d, v) => {
    d.spec.port = v;
  }),
  path: use(parsePathPrefix, (d, v) => {
    d.spec.path = v;
  }),
  'strip-path': policy('stripPath', flag),
  'check.path': policy('checkPath', parseCheckPath),
  'check.interval': policy('checkIntervalMs', parseCheckInterval),
  'timeout.server': policy('timeoutServerMs', parseDuration),
  'timeout.connect': policy('timeoutConnectMs', parseDuration),
  sticky: policy('sticky', STICKY),
  allow: policy('allow', parseAllowList),
  'auth.users': policy('authUsers', parseAuthUsers),
  redirect: policy('redirect', parseRedirect),
  compress: policy('compress', flag),
  maxconn: policy('maxconn', parseMaxconn),
  https: policy('https', parseHttpsMode),
  hsts: policy('hstsMaxAge', parseHstsMaxAge),
  'tcp-port': use(parsePort, (d, v) => {
    d.spec.tcpPort = v;
  }),
};

/** Every key a route takes, as the README's route label table lists them. */
export const ROUTE_LABEL_KEYS = [...Object.keys(ROUTE_KEYS), 'headers.request.<Name>', 'headers.response.<Name>'];

/** `headers.request.<Name>` and `headers.response.<Name>`: a value sets the header, an empty one removes it. */
function setHeader(draft: Draft, direction: 'request' | 'response', rawName: string, rawValue: string): string | undefined {
  const name = parseHeaderName(rawName);
  if (!name.ok) return `names a header that ${name.reason}`;
  const value = parseHeaderValue(rawValue);
  if (!value.ok) return value.reason;
  const field = direction === 'request' ? 'requestHeaders' : 'responseHeaders';
  const list = draft.spec.policy[field] ?? [];
  draft.spec.policy[field] = list;
  // Bounded: each header is a config line, and the duplicate check below is linear.
  if (list.length >= MAX_HEADERS_PER_ROUTE) return `is one header too many: at most ${MAX_HEADERS_PER_ROUTE} ${direction} headers a route`;
  if (list.some((h) => h.name.toLowerCase() === name.value.toLowerCase())) return 'sets a header another label of this route sets too';
  list.push({ name: name.value, value: value.value });
  return undefined;
}

/** The longest key a route takes: `haproxy-companion.<32>.headers.response.<64>`. */
const MAX_ROUTE_KEY = LABEL_PREFIX.length + 32 + '.headers.response.'.length + 64;

/**
 * A label's key as a reason writes it. The key is the container's word as much as its value: bare when it
 * reads as a label name (every key a route takes does), else quoted and cut like a value, so that a newline,
 * another control character or 10,000 characters in a key (`…web.headers.request.X\nY`, an unknown key)
 * never reach a log line or /status raw.
 */
function labelKey(key: string): string {
  return /^[A-Za-z0-9._-]+$/.test(key) && key.length <= MAX_ROUTE_KEY ? key : quote(key);
}

function newDraft(name: string): Draft {
  return { spec: { name, domains: [], path: '/', policy: {} } };
}

/**
 * The routes `container` declares, each validated, relative to `zone`. `maxDomains` bounds the names of
 * all its routes together (MAX_DOMAINS_PER_CONTAINER).
 */
export function declaredRoutes(container: ContainerInfo, zone: string, maxDomains: number): DeclaredRoutes {
  const drafts = new Map<string, Draft>();
  const refusals = new Map<string, string>();
  const badNames: { count: number; first?: { name: string; key: string } } = { count: 0 };
  const refuse = (route: string, reason: string) => {
    if (!refusals.has(route)) refusals.set(route, reason);
  };
  const draftOf = (name: string) => {
    let draft = drafts.get(name);
    if (draft === undefined) {
      draft = newDraft(name);
      drafts.set(name, draft);
    }
    return draft;
  };

  for (const [key, value] of Object.entries(container.labels)) {
    if (!key.startsWith(LABEL_PREFIX)) continue;
    const rest = key.slice(LABEL_PREFIX.length);
    const dot = rest.indexOf('.');
    if (dot < 0) continue; // container-wide (domain, port, enable…) or not ours
    const name = rest.slice(0, dot);
    const routeKey = rest.slice(dot + 1);
    if (!ROUTE_NAME.test(name)) {
      // One refusal for all of them: a container with 100,000 such labels must not make 100,000 skip entries.
      badNames.count++;
      badNames.first ??= { name: clip(name, MAX_QUOTED), key };
      continue;
    }
    if (drafts.size >= MAX_ROUTES_PER_CONTAINER && !drafts.has(name)) {
      return { routes: [], refused: [{ reason: `declares more than ${MAX_ROUTES_PER_CONTAINER} routes` }] };
    }
    const draft = draftOf(name);
    const header = /^headers\.(request|response)\.(.*)$/.exec(routeKey);
    // Own keys only: `__proto__`, `constructor` or `hasOwnProperty` after a route's name are the container's
    // words too, and an inherited member called as a setter threw out of the whole model (every container's).
    const setter = Object.hasOwn(ROUTE_KEYS, routeKey) ? ROUTE_KEYS[routeKey] : undefined;
    const problem = header
      ? setHeader(draft, header[1] as 'request' | 'response', header[2] ?? '', value)
      : setter
        ? setter(draft, value, key)
        : `is not a route label (known: ${ROUTE_LABEL_KEYS.join(', ')})`;
    // Echoed only for keys whose values are no secret: not a password list (it may hold a plain-text
    // password; the reason says which user), not a header value (`Authorization`), not a mistyped key.
    const echo = setter !== undefined && routeKey !== 'auth.users';
    if (problem !== undefined)
      refuse(name, echo ? `label ${labelKey(key)}=${quote(value)} ${problem}` : `label ${labelKey(key)} ${problem}`);
  }
  if (badNames.first) {
    const more = badNames.count > 1 ? ` (and ${badNames.count - 1} more labels with such names)` : '';
    refuse(
      badNames.first.name,
      `label ${quote(badNames.first.key)}: a route name is lower-case letters, digits and inner hyphens, at most 32${more}`,
    );
  }
  legacyDefault(container, drafts, draftOf, refuse);

  // Counted before any name is parsed: one label listing 40,000 names must cost no more than the cap.
  let names = 0;
  for (const draft of drafts.values()) names += draft.domainsRaw?.split(',').length ?? 0;
  if (names > maxDomains) {
    return {
      routes: [],
      refused: [{ reason: `declares ${names} domains; at most ${maxDomains} are allowed (MAX_DOMAINS_PER_CONTAINER)` }],
    };
  }
  const routes: RouteSpec[] = [];
  /** Host and path (or TCP port) -> the route of this container that names it. */
  const taken = new Map<string, string>();
  for (const [name, draft] of [...drafts].sort(([a], [b]) => compare(a, b))) {
    if (refusals.has(name)) continue;
    const problem = finish(draft, zone) ?? sharedWithAnother(draft.spec, taken);
    if (problem === undefined) routes.push(draft.spec);
    else refuse(name, problem);
  }
  const refused = [...refusals]
    .map(([route, reason]): RouteRefusal => {
      const names = validNames(drafts.get(route), zone);
      return names ? { route, names, reason } : { route, reason };
    })
    .sort((a, b) => compare(a.route ?? '', b.route ?? ''));
  return { routes, refused };
}

/**
 * Why `spec` may not have a name (and path) or a TCP port that an earlier route of the same container has,
 * if it does; else records what it has in `taken`. Two routes of one container on one host and path would
 * be one service with two servers of one name (the container's) in its backend, and HAProxy refuses the
 * whole configuration for that ("another server named … was already defined"), every other route's with it.
 */
function sharedWithAnother(spec: RouteSpec, taken: Map<string, string>): string | undefined {
  const keys = routeKeys(spec).map((key, i) => ({
    key,
    says:
      spec.tcpPort !== undefined
        ? `${LABEL_PREFIX}${spec.name}.tcp-port is TCP port ${spec.tcpPort}`
        : `${LABEL_PREFIX}${spec.name}.domain names ${quote(spec.domains[i] ?? '')}${spec.path === '/' ? '' : ` with path ${spec.path}`}`,
  }));
  const shared = keys.find(({ key }) => taken.has(key));
  if (shared !== undefined) {
    return `${shared.says}, as route ${quote(taken.get(shared.key) ?? '')} of this container does: one container serves a host and path, or a TCP port, through one route`;
  }
  for (const { key } of keys) taken.set(key, spec.name);
  return undefined;
}

/** `DOMAIN`, `haproxy-companion.domain` and `haproxy-companion.port`: the route `default`, as before routes. */
function legacyDefault(
  container: ContainerInfo,
  drafts: Map<string, Draft>,
  draftOf: (name: string) => Draft,
  refuse: (route: string, reason: string) => void,
): void {
  const domain = container.labels[Labels.domain] ?? container.env[DOMAIN_ENV];
  const port = container.labels[Labels.port];
  if (domain === undefined && port === undefined) return;
  const explicit = drafts.get(DEFAULT_ROUTE);
  if (domain !== undefined) {
    if (explicit?.domainsRaw !== undefined) {
      refuse(DEFAULT_ROUTE, `both ${Labels.domain} (or DOMAIN) and ${LABEL_PREFIX}${DEFAULT_ROUTE}.domain are set: keep one`);
      return;
    }
    draftOf(DEFAULT_ROUTE).domainsRaw = domain;
  }
  if (port !== undefined) {
    // A container-wide port label with no legacy domain still chose the port of the `default` route.
    if (explicit?.spec.port !== undefined) {
      refuse(DEFAULT_ROUTE, `both ${Labels.port} and ${LABEL_PREFIX}${DEFAULT_ROUTE}.port are set: keep one`);
      return;
    }
    if (domain === undefined && explicit === undefined) return;
    const parsed = parsePort(port);
    if (!parsed.ok) refuse(DEFAULT_ROUTE, `label ${Labels.port}=${quote(port)} ${parsed.reason}`);
    else draftOf(DEFAULT_ROUTE).spec.port = parsed.value;
  }
}

/** A refused route's names, for its skip entry, when they are all valid. */
function validNames(draft: Draft | undefined, zone: string): string[] | undefined {
  if (draft?.domainsRaw === undefined) return draft?.spec.tcpPort !== undefined ? routeKeys(draft.spec) : undefined;
  const names = parseNames(draft.domainsRaw, zone);
  return names.ok ? names.value : undefined;
}

/** The distinct names of a `domain` value, relative to the zone, or the first bad one's reason. */
function parseNames(raw: string, zone: string): { ok: true; value: string[] } | { ok: false; name: string; reason: string } {
  const names = new Set<string>();
  for (const part of raw.split(',')) {
    const parsed = parseRouteDomain(part, zone);
    if (!parsed.ok) return { ok: false, name: part.trim(), reason: parsed.reason };
    names.add(parsed.name);
  }
  return { ok: true, value: [...names] };
}

/**
 * Why a route's names are refused: the label and its value, as for any other bad value, and which name of
 * a list it is. The forms before routes keep the words they have always had: `domain "<name>" <why>`.
 */
function badName(draft: Draft, bad: { name: string; reason: string }): string {
  const name = `domain ${quote(bad.name)} ${bad.reason}`;
  if (draft.domainsLabel === undefined || draft.domainsRaw === undefined) return name;
  const label = `label ${labelKey(draft.domainsLabel)}=${quote(draft.domainsRaw)}`;
  return draft.domainsRaw.includes(',') ? `${label}: ${name}` : `${label} ${bad.reason}`;
}

/** Checks what a route needs as a whole, and parses its names; a reason when it cannot be routed. */
function finish(draft: Draft, zone: string): string | undefined {
  const { spec } = draft;
  // In name order, sorted once: the order labels come in says nothing.
  for (const list of [spec.policy.requestHeaders, spec.policy.responseHeaders])
    list?.sort((a, b) => compare(a.name.toLowerCase(), b.name.toLowerCase()));
  const label = (key: string) => `${LABEL_PREFIX}${spec.name}.${key}`;
  if (spec.tcpPort !== undefined) {
    if (draft.domainsRaw !== undefined) return `a route is either HTTP (${label('domain')}) or TCP (${label('tcp-port')}), not both`;
    const httpOnly = Object.keys(spec.policy).filter(
      (k) => !['checkIntervalMs', 'timeoutServerMs', 'timeoutConnectMs', 'maxconn'].includes(k),
    );
    if (spec.path !== '/' || httpOnly.length > 0) return `a TCP route (${label('tcp-port')}) takes no HTTP policy (path, headers, auth…)`;
    return undefined;
  }
  if (draft.domainsRaw === undefined) return `has no ${label('domain')} (or ${label('tcp-port')}) to route`;
  const names = parseNames(draft.domainsRaw, zone);
  if (!names.ok) return badName(draft, names);
  spec.domains = names.value;
  if (spec.policy.stripPath && spec.path === '/') return `${label('strip-path')} needs a ${label('path')} to strip`;
  return undefined;
}
