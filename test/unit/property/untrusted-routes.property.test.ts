/**
 * Issue "Routes" (#13): "Every value is validated like DOMAIN is today: a bad value skips that route with a
 * reason naming the label; the container's other routes and every other service keep working; nothing a
 * label says reaches haproxy.cfg, a map or the runtime API unvalidated." Properties over the route labels
 * (`haproxy-companion.<route>.<key>=<value>`) through the whole pipeline: inspect -> toContainerInfo ->
 * buildServices -> backends -> the built-in template and the two maps -> the runtime plan.
 *
 * The setting: the well-behaved neighbours of untrusted-render.property.test.ts, neighbours that use routes
 * (paths, policy of every kind, a redirect, a TCP route, a wildcard), and one container with arbitrary route
 * labels. That one is the youngest and has an owner of its own (its image), so it can never hold a name a
 * neighbour holds, nor a path or an exact name under one (README, "One owner per domain" and "No part of
 * another's host"): whatever it says, the neighbours' lines must stay as they are, and none of their
 * requests may go to it.
 */
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRuntimeUpdate, type RuntimePlan } from '../../../src/haproxy/runtime-plan.js';
import { type BackendLayout, freshLayout, keepLayout } from '../../../src/model/backend-pool.js';
import type { ContainerInfo } from '../../../src/model/container.js';
import { clip, MAX_QUOTED } from '../../../src/model/reasons.js';
import { ROUTE_LABEL_KEYS } from '../../../src/model/route-labels.js';
import { buildServices, type Placement, type Service, type ServiceModel } from '../../../src/model/services.js';
import { chooseCandidate } from '../../../src/render/candidate.js';
import { loadTemplate, type RenderedFiles, renderFiles } from '../../../src/render/render-config.js';
import { container } from '../../helpers/containers.js';
import {
  type ContainerSpec,
  containerId,
  containerName,
  isLocalAddress,
  MODEL_OPTIONS,
  NEWCOMER_CREATED,
  PROPERTY_TIMEOUT_MS,
  placement,
  placements,
  portLabel,
  RESERVED_PORTS,
  ROUTE_LABEL_VALUES,
  routeDomainValue,
  routeLabels,
  showString,
  toContainer,
  wellBehavedContainers,
  ZONE,
} from './arbitraries.js';

const templatePath = fileURLToPath(new URL('../../../templates/haproxy.cfg.njk', import.meta.url));
const renderer = await loadTemplate(templatePath);
const PATHS = {
  adminSocket: '/var/run/haproxy-companion/admin.sock',
  hostsMap: '/var/run/haproxy-companion/hosts.map',
  pathsMap: '/var/run/haproxy-companion/paths.map',
  certList: '/var/run/haproxy-companion/certs.list',
  certsDir: '/var/run/haproxy-companion/certs',
  holdScript: '/var/run/haproxy-companion/hold.lua',
};
// HTTPS on, with a default HSTS: every route writes its HTTPS lines (the default's, or its labels').
const renderIn = (services: Service[], layout: BackendLayout) =>
  renderFiles(renderer, services, layout, { zone: ZONE, httpPort: 80, tls: { port: 443, hstsMaxAge: 300 }, holdRequestsMs: 10_000 }, PATHS);
const model = (containers: ContainerInfo[], where: Placement): ServiceModel => buildServices(containers, where, MODEL_OPTIONS);

// ---------------------------------------------------------------------------------------------------------
// The neighbours, and the container with arbitrary route labels

const HASH = `$6$${'saltSALT./012345'}$${'h'.repeat(86)}`;

/** Neighbours that use routes: older than any newcomer (test/helpers/containers.ts: 2024), each its own owner. */
function routeNeighbours(): ContainerInfo[] {
  const p = 'haproxy-companion.';
  return [
    container({
      id: 'a'.repeat(64),
      name: 'store',
      image: 'store:1',
      exposedPorts: ['8080/tcp', '9090/tcp'],
      labels: {
        [`${p}web.domain`]: 'store',
        [`${p}web.port`]: '8080',
        [`${p}web.compress`]: 'true',
        [`${p}web.timeout.server`]: '120s',
        [`${p}web.headers.response.X-Frame-Options`]: 'DENY',
        [`${p}web.headers.response.Server`]: '',
        [`${p}api.domain`]: 'store',
        [`${p}api.port`]: '9090',
        [`${p}api.path`]: '/api',
        [`${p}api.strip-path`]: 'true',
        [`${p}api.check.path`]: '/healthz',
        [`${p}api.check.interval`]: '5s',
        [`${p}api.sticky`]: 'cookie',
        [`${p}api.maxconn`]: '200',
      },
    }),
    container({
      id: 'b'.repeat(64),
      name: 'admin',
      image: 'admin:1',
      labels: {
        [`${p}admin.domain`]: 'admin',
        [`${p}admin.allow`]: '10.0.0.0/8, 192.168.1.7, 2001:db8::/32',
        [`${p}admin.auth.users`]: `alice:${HASH}`,
        [`${p}admin.timeout.connect`]: '2s',
        [`${p}admin.headers.request.X-Note`]: `it's 100% "fine" \${HOME}`,
      },
    }),
    container({
      id: 'c'.repeat(64),
      name: 'old-site',
      image: 'busybox',
      exposedPorts: [],
      labels: { [`${p}old.domain`]: 'old', [`${p}old.redirect`]: 'https://store.example.com' },
    }),
    container({ id: 'd'.repeat(64), name: 'db', image: 'postgres', labels: { [`${p}db.tcp-port`]: '5432', [`${p}db.port`]: '5432' } }),
    container({ id: '8'.repeat(64), name: 'previews', image: 'preview', labels: { [`${p}preview.domain`]: '*.preview' } }),
  ];
}

const fixed = [...wellBehavedContainers(), ...routeNeighbours()];
const fixedIds = new Set(fixed.map((c) => c.id));

/** The route the arbitrary container always has, valid and on a name of its own: it must be served. */
const GOOD_ROUTE = 'zz-good';
const GOOD_DOMAIN = 'zz-good-route';
const GOOD_PORT = 8080;
const HOSTILE_IMAGE = 'hostile/app:1';
const hostPlacement = placements.find((p) => p.networks === undefined)!;

interface Hostile {
  spec: ContainerSpec;
  where: Placement;
}

/**
 * A container with arbitrary route labels (and, now and then, the forms before routes), running and
 * reachable, so that what happens to its routes is decided by its labels alone: on `bridge`, or on the host's
 * network (loopback, where the companion's own ports are refused) when the companion runs in host network mode.
 */
const hostileFields = fc.record({
  id: containerId.filter((id) => !fixedIds.has(id)),
  name: containerName,
  routeLabels,
  domainEnv: fc.option(routeDomainValue, { nil: undefined, freq: 4 }),
  domainLabel: fc.option(routeDomainValue, { nil: undefined, freq: 6 }),
  portLabel: fc.option(portLabel, { nil: undefined, freq: 4 }),
  exposedPorts: fc.oneof(
    { weight: 6, arbitrary: fc.constant<string[]>(['8080/tcp']) },
    { weight: 1, arbitrary: fc.constantFrom([] as string[], ['8080/tcp', '9090/tcp'], ['99999/tcp']) },
  ),
  ip: fc.ipV4().filter((ip) => !isLocalAddress(ip)),
  hostMode: fc.constantFrom(false, false, false, true),
  where: placement,
});
type HostileFields = typeof hostileFields extends fc.Arbitrary<infer T> ? T : never;

const toHostile = (h: HostileFields): Hostile => ({
  spec: {
    id: h.id,
    name: h.name,
    domainEnv: h.domainEnv,
    domainLabel: h.domainLabel,
    portLabel: h.portLabel,
    hostNetworkLabel: h.hostMode ? 'true' : undefined,
    image: HOSTILE_IMAGE,
    created: NEWCOMER_CREATED,
    routeLabels: {
      ...h.routeLabels,
      [`haproxy-companion.${GOOD_ROUTE}.domain`]: GOOD_DOMAIN,
      [`haproxy-companion.${GOOD_ROUTE}.port`]: String(GOOD_PORT),
    },
    extraLabels: {},
    extraEnv: [],
    exposedPorts: h.exposedPorts,
    running: true,
    paused: false,
    networkMode: h.hostMode ? 'host' : 'bridge',
    networks: h.hostMode ? [] : [{ name: 'bridge', ip: h.ip, v6: false }],
  },
  where: h.hostMode ? hostPlacement : h.where,
});

const hostile: fc.Arbitrary<Hostile> = hostileFields
  .filter(
    (h) =>
      !Object.keys(h.routeLabels).some((k) => k.startsWith(`haproxy-companion.${GOOD_ROUTE}.`)) &&
      ![...Object.values(h.routeLabels), h.domainEnv, h.domainLabel].some((v) => v?.includes(GOOD_DOMAIN)),
  )
  .map(toHostile);

/** The arbitrary container with these route labels, on `bridge`, nothing else set. */
const foundHostile = (routeLabels: Record<string, string>): [Hostile] => [
  toHostile({
    id: `${'9'.repeat(8)}${'0'.repeat(56)}`,
    name: 'found',
    routeLabels,
    domainEnv: undefined,
    domainLabel: undefined,
    portLabel: undefined,
    exposedPorts: ['8080/tcp'],
    ip: '172.17.0.99',
    hostMode: false,
    where: placements[0]!,
  }),
];

/** What these properties once found, replayed on every run whatever the seed (fast-check `examples`). */
const FOUND: [Hostile][] = [
  // 7b2fd36: two routes of one container on one host and path made one backend with two servers of one name,
  // which HAProxy refuses for the whole file.
  foundHostile({ 'haproxy-companion.a.domain': 'dup', 'haproxy-companion.b.domain': 'dup' }),
  foundHostile({ 'haproxy-companion.a.tcp-port': '7000', 'haproxy-companion.b.tcp-port': '7000' }),
  // 7b2fd36: a label key reached a reason raw (a space, a newline).
  foundHostile({ 'haproxy-companion.web.domain': 'web-found', 'haproxy-companion.web.x y\nz': 'v' }),
  // 0026845 (CI, seed -1141195725): a mistyped key holding `=` is quoted in its reason.
  foundHostile({ 'haproxy-companion.web.domain': 'web-found', 'haproxy-companion.web.=': 'x' }),
  // #21 (a full unit run): `https=only` came too rarely for (b) to see its line on every seed.
  foundHostile({ 'haproxy-companion.web.domain': 'only-found', 'haproxy-companion.web.https': 'only' }),
];

/** Without the arbitrary container: the model, and the files as at startup (each service in its own backend). */
const baselines = new Map(
  placements.map((where) => {
    const m = model(fixed, where);
    return [where, { model: m, candidate: chooseCandidate(m.services, undefined, renderIn) }];
  }),
);
const baseline = (where: Placement) => baselines.get(where)!;

/** Everything a property looks at, for one arbitrary container. */
function scenario({ spec, where }: Hostile) {
  const bad = toContainer(spec);
  const base = baseline(where);
  const withIt = model([...fixed, bad], where);
  const fresh = renderIn(withIt.services, freshLayout(withIt.services));
  const baseKeys = new Set(base.model.services.map((s) => s.key));
  const own = fresh.services.filter((s) => !baseKeys.has(s.key));
  return { bad, base, withIt, fresh, own, baseKeys };
}

/**
 * Whether `outer` would have to give `inner` some of its requests (README, "No part of another's host"):
 * the same host and a shorter path of whole segments, or `outer` the wildcard of `inner`'s exact name (one
 * label under it), its path a prefix of `inner`'s or under it (an exact name wins over a wildcard whatever
 * the path). Written from the lookup order, apart from ownership.ts.
 */
function covers(outer: Service, inner: Service): boolean {
  if (outer.kind !== 'http' || inner.kind !== 'http' || outer.key === inner.key) return false;
  const under = (a: string, b: string) => a === '/' || b === a || b.startsWith(`${a}/`);
  if (outer.domain === inner.domain) return under(outer.path, inner.path);
  const wildcardOf =
    inner.domain.startsWith('*.') || !inner.domain.includes('.') ? '' : `*${inner.domain.slice(inner.domain.indexOf('.'))}`;
  return outer.domain === wildcardOf && (under(outer.path, inner.path) || under(inner.path, outer.path));
}

// ---------------------------------------------------------------------------------------------------------
// Reading the rendered config

interface Section {
  header: string;
  body: string[];
}

/** Sections: a line at the start (not a comment) and the indented lines under it. */
function sections(config: string): Section[] {
  const list: Section[] = [];
  let current: Section | undefined;
  for (const line of config.split('\n')) {
    if (/^\s/.test(line)) current?.body.push(line);
    else if (line === '' || line.startsWith('#')) current = undefined;
    else {
      current = { header: line, body: [] };
      list.push(current);
    }
  }
  return list;
}

/** `frontend http` and its lines, up to the next line that is not indented. */
function frontendHttp(config: string): string {
  const section = sections(config).filter((s) => s.header === 'frontend http');
  expect(section, 'one frontend http').toHaveLength(1);
  return [section[0]!.header, ...section[0]!.body].join('\n');
}

const mapLines = (text: string) => text.split('\n').filter((l) => l !== '');

function countLines(lines: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

// ---------------------------------------------------------------------------------------------------------
// The grammar of what the template writes for a route (templates/haproxy.cfg.njk)

const NUMBER = `[1-9][0-9]{0,9}`;
const OCTET = `(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`;
const IPV4 = String.raw`${OCTET}(?:\.${OCTET}){3}`;
/** A DNS name relative to the zone or with it, lower case (validated names), a wildcard's `*.` in front. */
const DNS = String.raw`[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*`;
const HOST = String.raw`(?:\*\.)?${DNS}`;
/** A path prefix: validated segments, no trailing `/`, in lower case (requests are routed by their path in lower case). */
const PATH = `(?:/[a-z0-9._~-]+)+`;
/** backend-pool.ts homeBackend (a wildcard's `*` as `_`), and the spares. */
const BACKEND = String.raw`(?:be_(?:_2a\.)?${DNS}(?:[A-Za-z0-9.-]|_[0-9a-f]{2})*|be_tcp_${NUMBER}|spare_[0-9]{3,})`;
const SERVER_NAME = `[A-Za-z0-9_.-]+`;
const ENDPOINT = String.raw`(?:\[[0-9A-Fa-f:.]+\]|${IPV4}):(${NUMBER})`;
const ALLOW_ENTRY = `(?:${IPV4}(?:/(?:3[0-2]|[12]?[0-9]))?|[0-9a-f:.]*:[0-9a-f:.]*(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)`;
/**
 * logFormatLiteral: one single-quoted word of printable ASCII, a `'` inside written `'"'"'` (configWord), and
 * every `%` doubled (so `%[` can only be `%%[`, a literal). The other quoted values (a password hash, a realm,
 * a redirect) have no `'` or `%` in their alphabets.
 */
const QUOTED_LITERAL = String.raw`'(?:[\x20-\x24\x26\x28-\x7e]|%%|'"'"')+'`;
const CHECK_URI = `/(?:[A-Za-z0-9._~/?=&-]|%[0-9A-Fa-f]{2})*`;
const SERVER_ARGS = `${ENDPOINT} check inter (${NUMBER})(ms|s) fall 2 rise 2(?: maxconn (${NUMBER}))?(?: cookie (${SERVER_NAME}))?`;

type Place = 'top' | 'backend' | 'userlist' | 'tcp';
interface Rule {
  name: string;
  /** Where the line may stand: at the top (a section header, a comment) or inside a section of this kind. */
  in: Place;
  re: RegExp;
}
const rule = (name: string, place: Place, source: string): Rule => ({ name, in: place, re: new RegExp(`^${source}$`) });

/** Every line the template writes for a route, where it writes it. A rendered line that is none of these fails. */
const ROUTE_LINES: Rule[] = [
  rule('tcp comment', 'top', String.raw`# TCP route [a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?: port (${NUMBER}) of the host\.`),
  rule('frontend tcp', 'top', `frontend tcp_(${NUMBER})`),
  rule('userlist', 'top', `userlist users_(${BACKEND})`),
  rule('backend', 'top', `backend (${BACKEND})`),
  rule('mode tcp', 'tcp', '    mode tcp'),
  rule('bind', 'tcp', `    bind :(${NUMBER})`),
  rule('default_backend', 'tcp', `    default_backend (${BACKEND})`),
  rule('user', 'userlist', `    user ([A-Za-z0-9._-]{1,64}) password '[A-Za-z0-9./$=]{13,512}'`),
  rule('backend mode tcp', 'backend', '    mode tcp'),
  rule('timeout', 'backend', `    timeout (?:connect|server) (${NUMBER})ms`),
  rule(
    'https redirect',
    'backend',
    String.raw`    http-request redirect location https://%\[var\(txn\.host\)\]%\[pathq\] code 301 unless \{ var\(txn\.https\) -m bool \}`,
  ),
  rule(
    'https only',
    'backend',
    String.raw`    http-request return status 403 content-type text/plain string "This service answers over HTTPS only\." unless \{ var\(txn\.https\) -m bool \}`,
  ),
  rule('hold', 'backend', String.raw`    http-request lua\.hold_for_server 10000 if \{ nbsrv eq 0 \}`),
  rule(
    'hsts',
    'backend',
    String.raw`    http-after-response set-header Strict-Transport-Security max-age=(${NUMBER}) if \{ var\(txn\.https\) -m bool \}`,
  ),
  rule('allow', 'backend', String.raw`    http-request deny deny_status 403 unless \{ src ${ALLOW_ENTRY}(?: ${ALLOW_ENTRY})* \}`),
  rule('auth', 'backend', String.raw`    http-request auth realm '${HOST}' unless \{ http_auth\(users_(${BACKEND})\) \}`),
  rule(
    'redirect',
    'backend',
    String.raw`    http-request redirect prefix 'https?://(?:\[[0-9a-f:.]+\]|${IPV4}|${DNS})(?::(${NUMBER}))?(?:/[A-Za-z0-9._~-]+)*' code 301`,
  ),
  rule('set-header', 'backend', `    http-(?:request|response) set-header [A-Za-z0-9-]{1,64} ${QUOTED_LITERAL}`),
  rule('del-header', 'backend', `    http-(?:request|response) del-header [A-Za-z0-9-]{1,64}`),
  rule('strip path', 'backend', String.raw`    http-request set-path %\[path,bytes\((${NUMBER})\)\] if \{ path_beg -i (${PATH})/ \}`),
  rule('strip path itself', 'backend', String.raw`    http-request set-path / if \{ path -i ${PATH} \}`),
  rule('httpchk', 'backend', '    option httpchk'),
  rule('http-check', 'backend', String.raw`    http-check send meth GET uri ${CHECK_URI} hdr Host (?:wildcard\.)?${DNS}`),
  rule('cookie', 'backend', `    cookie hc_(${BACKEND}) insert indirect nocache httponly`),
  rule('compression filter', 'backend', '    filter compression'),
  rule('compression algo', 'backend', '    compression algo gzip'),
  rule(
    'compression type',
    'backend',
    String.raw`    compression type text/html text/plain text/css text/javascript application/javascript application/json application/xml image/svg\+xml`,
  ),
  rule('server', 'backend', `    server (${SERVER_NAME}) ${SERVER_ARGS}`),
];

const inRange = (text: string | undefined, min: number, max: number) => text === undefined || (Number(text) >= min && Number(text) <= max);

/** The checks a rule's captures must pass beyond its shape: ranges, and names that must agree with their section. */
function checkCaptures(name: string, m: RegExpExecArray, section: string, line: string): void {
  const why = `${name}: ${showString(line)} in ${showString(section)}`;
  switch (name) {
    case 'tcp comment':
    case 'frontend tcp':
    case 'bind':
      expect(inRange(m[1], 1, 65535), why).toBe(true);
      if (name === 'bind') expect(section, why).toBe(`frontend tcp_${m[1]}`);
      break;
    case 'timeout':
      expect(inRange(m[1], 1, 86_400_000), why).toBe(true);
      break;
    case 'hsts':
      expect(inRange(m[1], 1, 63_072_000), why).toBe(true);
      break;
    case 'auth':
      expect(section, why).toBe(`backend ${m[1]}`);
      break;
    case 'cookie':
      expect(section, why).toBe(`backend ${m[1]}`);
      break;
    case 'redirect':
      expect(inRange(m[1], 1, 65535), why).toBe(true);
      break;
    case 'strip path':
      expect(Number(m[1]), why).toBe(m[2]!.length);
      break;
    case 'server':
      expect(inRange(m[2], 1, 65535), why).toBe(true);
      // Never below the 1 s floor, never beyond a day, however stretched (check-budget.ts).
      expect(inRange(String(Number(m[3]) * (m[4] === 's' ? 1000 : 1)), 1000, 86_400_000), why).toBe(true);
      expect(inRange(m[5], 1, 100_000), why).toBe(true);
      if (m[6] !== undefined) expect(m[6], why).toBe(m[1]);
      break;
  }
}

/**
 * Property (b)'s check of one rendered config: each line is a line of `known` (the config without the
 * arbitrary container) or one of ROUTE_LINES in its place; and what HAProxy would refuse the whole file for is
 * absent: two sections of one name, two servers of one name in a backend, two users of one name in a
 * userlist, a name used (a map's backend, `default_backend`, an auth's userlist) that no section defines.
 * Returns the rules matched by lines that are new, or in sections that are (for the coverage of ROUTE_LINES).
 */
function expectGrammar(files: RenderedFiles, known: ReadonlySet<string>): Set<string> {
  const matched = new Set<string>();
  let place: Place = 'top';
  let section = '';
  for (const line of files.config.split('\n')) {
    const indented = /^\s/.test(line);
    if (!indented) {
      section = line;
      place = line.startsWith('backend ')
        ? 'backend'
        : line.startsWith('userlist ')
          ? 'userlist'
          : line.startsWith('frontend tcp_')
            ? 'tcp'
            : 'top';
    }
    const where: Place = indented ? place : 'top';
    const found = ROUTE_LINES.map((r) => ({ r, m: r.in === where ? r.re.exec(line) : null })).find(({ m }) => m !== null);
    if (known.has(line)) {
      if (found && !known.has(section)) matched.add(found.r.name);
      continue;
    }
    if (!found) expect.fail(`line outside the template's grammar for a route: ${showString(line)} (in ${showString(section)})`);
    checkCaptures(found.r.name, found.m!, section, line);
    matched.add(found.r.name);
  }

  const all = sections(files.config);
  const headers = all.map((s) => s.header);
  expect(
    headers.filter((h, i) => headers.indexOf(h) !== i),
    'sections defined twice',
  ).toEqual([]);
  const backends = new Set(headers.filter((h) => h.startsWith('backend ')).map((h) => h.slice('backend '.length)));
  const userlists = new Set(headers.filter((h) => h.startsWith('userlist ')).map((h) => h.slice('userlist '.length)));
  for (const { header, body } of all) {
    const names = body.map((l) => /^ {4}(?:server|user) (\S+) /.exec(l)?.[1]).filter((n) => n !== undefined);
    expect(
      names.filter((n, i) => names.indexOf(n) !== i),
      `servers or users of one name in ${showString(header)}`,
    ).toEqual([]);
    for (const line of body) {
      const target = /^ {4}default_backend (\S+)$/.exec(line)?.[1];
      if (target !== undefined && header.startsWith('frontend tcp_')) expect(backends, `${header}: ${line}`).toContain(target);
      const users = /http_auth\((\S+)\)/.exec(line)?.[1];
      if (users !== undefined) expect(userlists, `${header}: ${line}`).toContain(users);
    }
  }
  for (const line of [...mapLines(files.hostsMap), ...mapLines(files.pathsMap)]) {
    expect(backends, `map line ${showString(line)} names no backend section`).toContain(line.split(' ')[1]);
  }
  return matched;
}

// ---------------------------------------------------------------------------------------------------------
// Maps and the runtime API

const HOST_KEY = new RegExp(`^${HOST}$`);
const PATH_KEY = new RegExp(`^${HOST}${PATH}/$`);
const BACKEND_NAME = new RegExp(`^${BACKEND}$`);
const SERVER_LINE_ARGS = new RegExp(`^${SERVER_ARGS}$`);
/** What must not be in a field sent to the runtime API: white space, control characters, `;` (the command separator). */
const NOT_ONE_WORD = (s: string) => /[\s;]/.test(s) || hasControl(s);

/** A C0 control character or DEL (written without one in a regex). */
const hasControl = (s: string) => [...s].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f');

/** `<key> <backend>`, the key a host name (with the zone, or a single label) or that and a path prefix with a `/`. */
function expectMap(text: string, key: RegExp): void {
  const keys: string[] = [];
  for (const line of mapLines(text)) {
    const [k = '', backend = '', ...rest] = line.split(' ');
    expect(rest, `map line ${showString(line)}`).toEqual([]);
    expect(k, `map key in ${showString(line)}`).toMatch(key);
    const host = k.split('/')[0]!;
    expect(host.endsWith(`.${ZONE}`) || !host.includes('.'), `map key ${showString(k)} outside the zone`).toBe(true);
    expect(backend, `map backend in ${showString(line)}`).toMatch(BACKEND_NAME);
    keys.push(k);
  }
  expect(
    keys.filter((k, i) => keys.indexOf(k) !== i),
    'map keys twice',
  ).toEqual([]);
}

/**
 * A runtime plan from the neighbours' files to files with the arbitrary container: it only adds (servers in
 * backends no service had, map entries for names no neighbour has), and every field is one word of the
 * validated alphabets, so nothing can be spliced into a command of the runtime API.
 */
function expectPlan(plan: RuntimePlan, running: { files: RenderedFiles; layout: BackendLayout }): void {
  expect(plan.remove, 'servers removed').toEqual([]);
  for (const map of [plan.hosts, plan.paths]) {
    expect(map.change, 'map entries pointed elsewhere').toEqual([]);
    expect(map.delete, 'map entries deleted').toEqual([]);
  }
  for (const server of plan.add) {
    const shown = showString(JSON.stringify(server));
    expect(server.backend, shown).toMatch(BACKEND_NAME);
    expect(running.layout.get(server.backend), `${shown}: a server added to a neighbour's backend`).toBeUndefined();
    expect(server.name, shown).toMatch(new RegExp(`^${SERVER_NAME}$`));
    expect(server.args, shown).toMatch(SERVER_LINE_ARGS);
    for (const word of server.args.split(' ')) expect(word !== '' && !NOT_ONE_WORD(word), shown).toBe(true);
  }
  for (const [key, backend] of plan.hosts.add) {
    expect(key, backend).toMatch(HOST_KEY);
    expect(backend).toMatch(BACKEND_NAME);
  }
  for (const [key, backend] of plan.paths.add) {
    expect(key, backend).toMatch(PATH_KEY);
    expect(backend).toMatch(BACKEND_NAME);
  }
  for (const field of [...plan.add.flatMap((s) => [s.backend, s.name]), ...plan.hosts.add.flat(), ...plan.paths.add.flat()]) {
    expect(NOT_ONE_WORD(field), showString(field)).toBe(false);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Skip reasons

const LABEL = 'haproxy-companion.';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const RESERVED = RESERVED_PORTS.join(', ');

/**
 * Every reason a route can be skipped for (route-labels.ts, services.ts, target.ts, ownership.ts), as said
 * for route `route`: a bad value names its label (`label haproxy-companion.<route>.<key>=…`); the others
 * are about the route as a whole, and name the labels involved.
 */
function routeReasons(route: string): RegExp[] {
  const label = (key: string) => escapeRe(`${LABEL}${route}.${key}`);
  const labelShown = (prefix: string) => `(?:${label(prefix)}[^=\\s]*|"${label(prefix)}(?:[^"\\\\]|\\\\.)*")`;
  const port = route === 'default' ? `(?:${escapeRe(`${LABEL}port`)})` : label('port');
  return [
    // A bad value: the label, then its value quoted (route-labels.ts declaredRoutes).
    new RegExp(`^label ${label('')}\\S*=".*" `),
    new RegExp(`^label "${label('')}.*"=".*" `),
    // Values that may be secrets, never echoed: a password list (the user it is about instead), a header
    // value, and the value of a key that is no route label (a mistyped `auth.user`).
    new RegExp(`^label ${label('auth.users')} (?:user ".*": |\\S)`),
    // The label bare, or quoted when it holds more than a word's characters (an `=` among them).
    new RegExp(`^label ${labelShown('headers.')} (?:names a header|is one header too many|sets a header|may |has |is )`),
    new RegExp(`^label ${labelShown('')} is not a route label \\(known: `),
    new RegExp(`^a route is either HTTP \\(${label('domain')}\\) or TCP \\(${label('tcp-port')}\\), not both$`),
    new RegExp(`^a TCP route \\(${label('tcp-port')}\\) takes no HTTP policy \\(path, headers, auth…\\)$`),
    new RegExp(`^has no ${label('domain')} \\(or ${label('tcp-port')}\\) to route$`),
    new RegExp(`^${label('strip-path')} needs a ${label('path')} to strip$`),
    // Two routes of one container on one host and path, or one TCP port (route-labels.ts).
    new RegExp(
      `^(?:${label('domain')} names ".*"(?: with path \\S+)?|${label('tcp-port')} is TCP port \\d+), as route "[a-z0-9-]+" of this container does: .*$`,
    ),
    // services.ts and target.ts: ports.
    new RegExp(`^TCP port \\d+ is the companion's own \\(reserved: ${escapeRe(RESERVED)}\\)$`),
    new RegExp(`^port \\d+ on 127\\.0\\.0\\.1 is the companion's own \\(reserved: ${escapeRe(RESERVED)}\\)$`),
    new RegExp(`^exposed port \\d+ is not a port number \\(1-65535\\); set label ${port}$`),
    new RegExp(`^no exposed TCP port; set label ${port} to the port the service listens on$`),
    new RegExp(`^several exposed TCP ports \\([0-9, ]+\\); set label ${port} to choose one$`),
    // ownership.ts: another owner's older container holds a name (and path) or the port.
    /^(?:domain ".*"|host and path ".*"|TCP port \d+) belongs to container ".*" \(.*\), older than this one \(image "hostile\/app"\); to share it, give both the same label haproxy-companion\.group$/,
    // ownership.ts: a path or an exact name under another owner's older host, path or wildcard, or an exact
    // name over another owner's older wildcard path.
    /^(?:domain ".*"|host and path ".*") is under (?:domain ".*"|host and path ".*"|wildcard ".*"|wildcard and path ".*"), which belongs to container ".*" \(.*\), older than this one \(image "hostile\/app"\); to share it, give both the same label haproxy-companion\.group$/,
    /^(?:domain ".*"|host and path ".*") would take this name's requests from wildcard and path ".*", which belongs to container ".*" \(.*\), older than this one \(image "hostile\/app"\); to share it, give both the same label haproxy-companion\.group$/,
    // services.ts: the oldest container of the route says its policy (cannot happen across owners, listed for completeness).
    /^its policy labels differ from those of the same route on ".*", the oldest container serving it, whose labels apply$/,
    // The forms before routes are the route `default` (route-labels.ts legacyDefault).
    ...(route === 'default'
      ? [
          // A bad domain of DOMAIN or haproxy-companion.domain, in the words they have always had (`domain "<name>" <why>`);
          // a route's domain label is a bad value as any other (the first pattern).
          /^domain ".*" \S/,
          new RegExp(`^label ${escapeRe(`${LABEL}port`)}=".*" `),
          new RegExp(`^both ${escapeRe(`${LABEL}domain`)} \\(or DOMAIN\\) and ${label('domain')} are set: keep one$`),
          new RegExp(`^both ${escapeRe(`${LABEL}port`)} and ${label('port')} are set: keep one$`),
        ]
      : []),
    // `s`: a quoted value may hold U+2028 or U+2029, which JSON (quote) leaves as they are.
  ].map((re) => new RegExp(re.source, 's'));
}

/** Refusals of the whole container: bounds on the work its labels may cause. */
const WHOLE_CONTAINER_REASONS = [
  /^declares more than 32 routes$/,
  /^declares \d+ domains; at most 100 are allowed \(MAX_DOMAINS_PER_CONTAINER\)$/,
];

const ROUTE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** The routes a container declares, as skip entries name them (an invalid name cut like a quoted value). */
function declaredRouteNames(c: ContainerInfo): Set<string> {
  const names = new Set<string>();
  for (const key of Object.keys(c.labels)) {
    if (!key.startsWith(LABEL)) continue;
    const rest = key.slice(LABEL.length);
    const dot = rest.indexOf('.');
    if (dot < 0) continue;
    const name = rest.slice(0, dot);
    names.add(ROUTE_NAME.test(name) ? name : clip(name, MAX_QUOTED));
  }
  if (c.labels[`${LABEL}domain`] !== undefined || c.env.DOMAIN !== undefined) names.add('default');
  return names;
}

// ---------------------------------------------------------------------------------------------------------

describe('untrusted route labels: the setting', () => {
  it('generates values for every key a route takes', () => {
    expect(Object.keys(ROUTE_LABEL_VALUES).sort()).toEqual([...ROUTE_LABEL_KEYS].sort());
  });

  it('serves every neighbour but the broken one, under both placements', () => {
    for (const where of placements) {
      const { model: m, candidate } = baseline(where);
      expect(m.skipped.map((s) => s.containerName)).toEqual(['broken']);
      expect(m.services.map((s) => s.key)).toEqual(
        expect.arrayContaining(['store', 'store/api', 'admin', 'old', 'tcp:5432', '*.preview', 'login']),
      );
      // The neighbours' own lines are in the grammar too (they are the baseline of the others' checks).
      expectGrammar(candidate.files, new Set(renderIn([], freshLayout([])).files.config.split('\n')));
    }
  });
});

describe('untrusted route labels: one container with arbitrary route labels', () => {
  it('(a) cannot remove or change a line of the neighbours: config sections, frontend, host and paths maps', {
    timeout: PROPERTY_TIMEOUT_MS,
  }, () => {
    // For the neighbours plus one container with arbitrary route labels (the youngest, its own owner), the
    // model of the neighbours is unchanged, every section of the config without it is in the config with
    // it, once and byte for byte (`frontend http` included, which per-route lines never touch: TCP routes
    // get sections of their own), every line of it is still there, and every map line too, new map lines
    // naming none of the neighbours' backends.
    const seen = { ownServices: 0, refusedUnderNeighbour: 0 };
    fc.assert(
      fc.property(hostile, (h) => {
        const { bad, base, withIt, fresh, own, baseKeys } = scenario(h);
        const before = base.candidate.files;
        const after = fresh.files;

        expect(withIt.services.filter((s) => baseKeys.has(s.key))).toEqual(base.model.services);
        expect(withIt.skipped.filter((s) => s.containerId !== bad.id)).toEqual(base.model.skipped);

        const afterSections = sections(after.config);
        for (const section of sections(before.config)) {
          const same = afterSections.filter((s) => s.header === section.header);
          expect(same, `section ${showString(section.header)}`).toHaveLength(1);
          expect(same[0]!.body, `section ${showString(section.header)}`).toEqual(section.body);
        }
        expect(frontendHttp(after.config)).toBe(frontendHttp(before.config));
        const counts = countLines(after.config.split('\n'));
        for (const [line, n] of countLines(before.config.split('\n'))) {
          expect(counts.get(line) ?? 0, `line ${showString(line)}`).toBeGreaterThanOrEqual(n);
        }

        const neighbourBackends = new Set(base.candidate.services.map((s) => s.backend));
        for (const [map, text] of [
          ['hosts', 'hostsMap'],
          ['paths', 'pathsMap'],
        ] as const) {
          const kept = new Set(mapLines(after[text]));
          const beforeLines = mapLines(before[text]);
          for (const line of beforeLines) expect(kept.has(line), `${map} map line ${showString(line)} lost`).toBe(true);
          for (const line of mapLines(after[text]).filter((l) => !beforeLines.includes(l))) {
            expect(neighbourBackends.has(line.split(' ')[1]!), `${map} map line ${showString(line)} takes a neighbour's backend`).toBe(
              false,
            );
          }
        }

        // Nor any part of a neighbour's requests: no service of its own is under a neighbour's (a path of its
        // host or path, an exact name of its wildcard), as it is of another owner and project and younger.
        for (const s of own) {
          const over = base.model.services.find((b) => covers(b, s));
          expect(over, `${showString(s.key)} served under the neighbour's ${showString(over?.key ?? '')}`).toBeUndefined();
        }
        if (own.length > 1) seen.ownServices++;
        if (withIt.skipped.some((s) => s.containerId === bad.id && / is under | would take this name's requests /.test(s.reason)))
          seen.refusedUnderNeighbour++;
      }),
      { numRuns: 300, examples: FOUND },
    );
    // Not vacuous: the container often served more than its good route, and often asked for a part of a neighbour's.
    expect(seen.ownServices).toBeGreaterThan(60);
    expect(seen.refusedUnderNeighbour).toBeGreaterThan(3);
  });

  it('(b) writes only lines of the template’s grammar for a route, and nothing HAProxy would refuse the file for', {
    timeout: PROPERTY_TIMEOUT_MS,
  }, () => {
    // Every line of the config with the arbitrary container is a line of the config without it or one of
    // ROUTE_LINES, in its place, with names and values in the validated alphabets (quoted values one
    // single-quoted word whose only splice is '"'"', `%` doubled in log-format arguments), numbers in range;
    // no section, server or user is defined twice, and every name used is defined.
    const matched = new Map<string, number>();
    fc.assert(
      fc.property(hostile, (h) => {
        const { base, fresh } = scenario(h);
        const known = new Set(base.candidate.files.config.split('\n'));
        for (const name of expectGrammar(fresh.files, known)) matched.set(name, (matched.get(name) ?? 0) + 1);
      }),
      { numRuns: 300, examples: FOUND },
    );
    // Not vacuous: the arbitrary container made the template write every kind of route line.
    expect(ROUTE_LINES.map((r) => r.name).filter((name) => !matched.has(name))).toEqual([]);
  });

  it('(c) is skipped route by route, each with a reason that names the route’s label or says what is wrong with the route; its good route is served', {
    timeout: PROPERTY_TIMEOUT_MS,
  }, () => {
    // Each skip entry of the container names a route it declares, with one of the reasons of routeReasons;
    // a reason quotes what the container wrote (no raw control character, at most 300 characters). Each
    // route it declares is served or skipped, never both, never neither; and its always-valid route is
    // served, unless the whole container is refused for the work its labels would cause.
    const seen = { skippedRoutes: 0, wholeContainer: 0, reasons: new Set<number>() };
    fc.assert(
      fc.property(hostile, (h) => {
        const { bad, withIt, own } = scenario(h);
        const entries = withIt.skipped.filter((s) => s.containerId === bad.id);
        for (const entry of entries) {
          const shown = `${showString(entry.route ?? '(container)')}: ${showString(entry.reason)}`;
          expect(entry.reason.length, shown).toBeLessThanOrEqual(300);
          expect(hasControl(entry.reason), `a raw control character in ${shown}`).toBe(false);
          if (entry.route === undefined) {
            expect(
              WHOLE_CONTAINER_REASONS.some((re) => re.test(entry.reason)),
              shown,
            ).toBe(true);
            continue;
          }
          const patterns = routeReasons(entry.route);
          const at = patterns.findIndex((re) => re.test(entry.reason));
          // An invalid route name: the label quoted, its name cut like a value (route-labels.ts declaredRoutes).
          const badName = Object.keys(bad.labels).some((key) => {
            const name = key.startsWith(LABEL) ? key.slice(LABEL.length).split('.')[0]! : '';
            return (
              key.slice(LABEL.length).includes('.') &&
              !ROUTE_NAME.test(name) &&
              clip(name, MAX_QUOTED) === entry.route &&
              // One entry for all such labels, naming the first (and how many more).
              entry.reason.startsWith(
                clip(
                  `label ${JSON.stringify(clip(key, MAX_QUOTED))}: a route name is lower-case letters, digits and inner hyphens, at most 32`,
                  300,
                ),
              )
            );
          });
          expect(at >= 0 || badName, `reason outside the list: ${shown}`).toBe(true);
          seen.reasons.add(badName ? -1 : at);
          // A bad value: the label is one the container has, for this route, written bare or quoted.
          if (at === 0) expect(Object.keys(bad.labels), shown).toContain(/^label (\S+?)=/.exec(entry.reason)?.[1]);
          if (at === 1) {
            const quoted = JSON.parse(/^label ("(?:[^"\\]|\\.)*")=/.exec(entry.reason)?.[1] ?? '""') as string;
            expect(
              Object.keys(bad.labels).map((key) => clip(key, MAX_QUOTED)),
              shown,
            ).toContain(quoted);
          }
        }

        const whole = entries.some((e) => e.route === undefined);
        if (whole) {
          seen.wholeContainer++;
          expect(own, 'a refused container serves nothing').toEqual([]);
          return;
        }
        const served = new Set(own.map((s) => s.route));
        const skipped = new Set(entries.map((e) => e.route!));
        // Routes with invalid names share one skip entry, which names the first of them.
        const badNamesEntry = entries.some((e) => /: a route name is lower-case letters/.test(e.reason));
        for (const route of declaredRouteNames(bad)) {
          if (!ROUTE_NAME.test(route) && badNamesEntry && !served.has(route)) continue;
          expect(served.has(route) !== skipped.has(route), `route ${showString(route)} served xor skipped`).toBe(true);
        }
        for (const route of skipped) expect(declaredRouteNames(bad), showString(route)).toContain(route);
        const good = own.find((s) => s.key === GOOD_DOMAIN);
        expect(good?.route).toBe(GOOD_ROUTE);
        expect(good?.servers.map((v) => [v.containerId, v.port])).toEqual([[bad.id, GOOD_PORT]]);
        if (skipped.size > 0) seen.skippedRoutes++;
      }),
      { numRuns: 300, examples: FOUND },
    );
    expect(seen.skippedRoutes).toBeGreaterThan(150);
    // Not vacuous: a good share of the reasons came up (labels, domains, TCP vs HTTP, no domain, ports, ownership).
    expect(seen.reasons.size).toBeGreaterThanOrEqual(8);
  });

  it('(d) writes map lines and runtime commands of validated words only, and only adds to what the neighbours have', {
    timeout: PROPERTY_TIMEOUT_MS,
  }, () => {
    // The host map and the paths map (`<host> <backend>`, `<host><path>/ <backend>`) hold only validated keys
    // and backend names, once each. The runtime plan from the neighbours' running files to the files with
    // the container (as a pass would choose them: in the running backends when there is room, else for a
    // reload; and between two fresh renderings) is a reload, or adds servers and map entries and nothing
    // else, each field one word of the validated alphabets. The files chosen are in the grammar too.
    const seen = { plans: 0, planAdds: 0, reloads: 0 };
    fc.assert(
      fc.property(hostile, (h) => {
        const { base, withIt, fresh } = scenario(h);
        expectMap(fresh.files.hostsMap, HOST_KEY);
        expectMap(fresh.files.pathsMap, PATH_KEY);

        const running = base.candidate;
        const next = chooseCandidate(withIt.services, running, renderIn);
        expectMap(next.files.hostsMap, HOST_KEY);
        expectMap(next.files.pathsMap, PATH_KEY);
        expectGrammar(next.files, new Set(running.files.config.split('\n')));
        if (next.runtimePlan) {
          expectPlan(next.runtimePlan, running);
          seen.plans++;
          if (next.runtimePlan.add.length + next.runtimePlan.hosts.add.length + next.runtimePlan.paths.add.length > 0) seen.planAdds++;
        } else seen.reloads++;

        // In the running backends even when that takes a reload: what the plan would say is still checked.
        const kept = keepLayout(withIt.services, running.layout);
        if (kept) {
          const plan = planRuntimeUpdate(running.files, renderIn(withIt.services, kept).files);
          if (plan) expectPlan(plan, running);
        }
        const direct = planRuntimeUpdate(running.files, fresh.files);
        if (direct) expectPlan(direct, running);
      }),
      { numRuns: 300, examples: FOUND },
    );
    // Not vacuous: both ways were taken, and plans added servers and map entries.
    expect(seen.planAdds).toBeGreaterThan(30);
    expect(seen.reloads).toBeGreaterThan(30);
  });
});
