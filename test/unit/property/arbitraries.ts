/**
 * fast-check generators for what a container can put in front of the companion: its name, the DOMAIN
 * env, the haproxy-companion.* labels, its exposed ports, its networks and their addresses. Each mixes
 * realistic values (so that a good share of containers is actually routed and the properties are not
 * vacuous) with hostile ones: arbitrary unicode, newlines, `#`, quotes, template delimiters, spaces,
 * case-folding oddities, very long labels, out-of-range ports.
 *
 * Containers are generated as `docker inspect` responses and go through `toContainerInfo`, the real data
 * flow, so the env splitting and network flattening are exercised too. Route labels
 * (`haproxy-companion.<route>.<key>`, {@link routeLabels}) are an optional part of a container
 * (`ContainerSpec.routeLabels`): the generators of the properties before routes leave it out.
 */
import { BlockList, isIP } from 'node:net';
import fc from 'fast-check';
import { type ContainerInfo, type InspectResponse, toContainerInfo } from '../../../src/model/container.js';
import type { Placement } from '../../../src/model/services.js';
import { container } from '../../helpers/containers.js';

export const ZONE = 'example.com';

/**
 * Each property runs in well under a second on an idle machine (the whole directory in about 2-3 s), but
 * the unit suite shares 2 cores with Docker and other suites, and shrinking a counterexample takes longer
 * than finding it: allow for that rather than time out. `npm run mutate` runs them instrumented, several
 * times slower, and sets PROPERTY_TIMEOUT_MS (vitest.stryker.config.ts).
 */
export const PROPERTY_TIMEOUT_MS = Number(process.env.PROPERTY_TIMEOUT_MS ?? 30_000);

/** JSON with every character outside printable ASCII as \\uXXXX, so that a counterexample reads unambiguously. */
export const showString = (s: string): string =>
  JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Pieces that break config files, templates or naive validators. */
export const HOSTILE_PIECES = [
  '\n',
  '\r',
  '\r\n',
  '\t',
  ' ',
  '\v',
  '\f',
  '#',
  '"',
  "'",
  '`',
  '\\',
  '{{',
  '}}',
  '{%',
  '%}',
  '{#',
  '#}',
  '${',
  ';',
  '$',
  '%',
  '&',
  '|',
  '<',
  '>',
  '/',
  ':',
  '_',
  '=',
  '@',
  '*',
  '[',
  ']',
  '(',
  ')',
  '!',
  '?',
  '~',
  '+',
  '\u0000',
  '\u00a0' /* NBSP */,
  '\u200b' /* zero width space */,
  '\u2028',
  '\u3000',
  '\ufeff',
  '\u202e' /* RTL override */,
  'é',
  'ß',
  'ﬁ',
  '💥',
  'Ω',
  '\u0130' /* İ: lower-cases to i + combining dot */,
  '\u212a' /* KELVIN SIGN: lower-cases to ASCII "k" */,
  '\u017f' /* ſ: upper-cases to ASCII "S" */,
  '\uff4c' /* fullwidth l */,
  '\u0661' /* Arabic-Indic 1 */,
  '\uff18' /* fullwidth 8 */,
  '\n    server evil 6.6.6.6:80',
  '\nbackend evil',
  ' }\n    use_backend be_evil if TRUE',
  '} }',
  ' if TRUE',
  ',',
  '.',
  '..',
  '-',
  'a'.repeat(64),
];

const alnum = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ldh = `${alnum}-`;

/** Strings a container could set anywhere: arbitrary code points, graphemes, hostile pieces mixed with words, very long runs. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc
    .array(fc.oneof(fc.constantFrom(...HOSTILE_PIECES), fc.stringMatching(/^[A-Za-z0-9.-]{1,8}$/)), { maxLength: 8 })
    .map((parts) => parts.join('')),
  fc.string({ unit: fc.constantFrom('a', 'Z', '9', '-', '.', ' ', '\n'), minLength: 60, maxLength: 300 }),
);

/** One RFC 1123 label of the given length range. */
export function dnsLabel(minLength = 1, maxLength = 63): fc.Arbitrary<string> {
  return fc
    .integer({ min: minLength, max: maxLength })
    .chain((n) =>
      n === 1
        ? fc.constantFrom(...alnum)
        : fc
            .tuple(
              fc.constantFrom(...alnum),
              fc.string({ unit: fc.constantFrom(...ldh), minLength: n - 2, maxLength: n - 2 }),
              fc.constantFrom(...alnum),
            )
            .map(([a, mid, b]) => a + mid + b),
    );
}

/**
 * Names of 220-250 characters: with the zone (12 characters) and the `_hc-owner.` prefix (10) they land on
 * either side of the 253-character limit of a DNS name.
 */
const nearTheLengthLimit: fc.Arbitrary<string> = fc
  .tuple(
    fc.integer({ min: 220, max: 250 }),
    fc.integer({ min: 30, max: 63 }),
    fc.string({ unit: fc.constantFrom(...alnum), minLength: 250, maxLength: 250 }),
  )
  .map(([length, labelLength, chars]) => {
    let name = '';
    let used = 0;
    for (;;) {
      const room = length - name.length - (name === '' ? 0 : 1);
      if (room < 1) return name;
      const take = Math.min(labelLength, room);
      name += (name === '' ? '' : '.') + chars.slice(used, used + take);
      used += take;
    }
  });

/**
 * Well-formed names relative to the zone, short and realistic most of the time, sometimes long enough
 * (200-260 characters) to cross the 253-character limit of a DNS name, with or without the zone and the
 * `_hc-owner.` marker prefix.
 */
export const relativeDomain: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('login', 'publish', 'api.v2', 'www', 'shop', 'new-service', 'a', 'x-1.y-2') },
  { weight: 3, arbitrary: fc.array(dnsLabel(1, 12), { minLength: 1, maxLength: 3 }).map((labels) => insideTheZone(labels.join('.'))) },
  { weight: 2, arbitrary: fc.domain().map(insideTheZone) },
  { weight: 1, arbitrary: dnsLabel(50, 63).map(insideTheZone) },
  {
    weight: 2,
    arbitrary: fc.array(dnsLabel(40, 63), { minLength: 3, maxLength: 5 }).map((labels) => insideTheZone(labels.join('.'))),
  },
  { weight: 2, arbitrary: nearTheLengthLimit.map(insideTheZone) },
);

/**
 * The name with its last label made one that reads as inside the zone: a letter first and a digit last,
 * so it is no top-level domain (those are letters only, or `xn--` and letters), no number and not
 * `localhost`. Relative names that look like names elsewhere are {@link outsideZoneName}'s business.
 */
function insideTheZone(name: string): string {
  return name.replace(/[^.]*$/, (last) => (last.length === 1 ? 'a' : `a${last.slice(1, -1)}1`));
}

/** Real top-level domains, including one the IANA list spells in Unicode (`xn--p1ai`, рф). */
export const SOME_TLDS = ['com', 'net', 'org', 'uk', 'io', 'de', 'shop', 'app', 'dev', 'cloud', 'google', 'aws', 'xn--p1ai', 'xn--fiqs8s'];

/**
 * Names that, read relative to the zone, would look like a name elsewhere: under a public top-level
 * domain, an IP address (dotted, a plain number, `0x` hex), or localhost. Short, so a reason quotes them whole.
 */
export const outsideZoneName: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.array(dnsLabel(1, 8), { minLength: 1, maxLength: 2 }), fc.constantFrom(...SOME_TLDS))
    .map(([l, tld]) => [...l, tld].join('.')),
  fc.ipV4(),
  fc.constantFrom('169.254.169.254', '127.0.0.1', '10.0.0.1', 'localhost', '2130706433', '0x7f000001', '0x', '00'),
  fc.nat().map(String),
  fc.tuple(fc.array(dnsLabel(1, 8), { minLength: 1, maxLength: 2 }), fc.nat()).map(([l, n]) => [...l, String(n)].join('.')),
  fc
    .tuple(fc.array(dnsLabel(1, 8), { minLength: 1, maxLength: 2 }), fc.stringMatching(/^0x[0-9a-f]{0,8}$/))
    .map(([l, h]) => [...l, h].join('.')),
  fc.array(dnsLabel(1, 8), { minLength: 1, maxLength: 2 }).map((l) => [...l, 'localhost'].join('.')),
);

/** Values far longer than anything legitimate: a reason must quote only a bounded part of them. */
export const hugeString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('a', 'x.', '-', ' ', 'é', '\n', '"'), fc.integer({ min: 1_000, max: 30_000 }))
  .map(([piece, n]) => piece.repeat(n));

/**
 * A list of more domains than MAX_DOMAINS_PER_CONTAINER allows by default (100). Not just under it: a
 * hundred routed services take more spare backends than the neighbours' baseline, which property 1
 * compares byte for byte (test/unit/model/services.test.ts routes exactly 100).
 */
export const manyDomains: fc.Arbitrary<string> = fc
  .integer({ min: 101, max: 140 })
  .map((n) => Array.from({ length: n }, (_, i) => `d${i}`).join(','));

/** Upper-casing one character per code unit, ASCII only (what a human might type). */
const upper = (s: string) => s.replace(/[a-z]/g, (c) => c.toUpperCase());

/**
 * Well-formed domain values as a container would write them: optionally upper-case, followed by the zone
 * zero, one or two times (`login`, `login.example.com`, `login.example.com.example.com`; an empty prefix
 * gives the apex itself), with a trailing dot, padded with whitespace.
 */
export const decoratedDomain: fc.Arbitrary<string> = fc
  .record({
    base: fc.oneof({ weight: 10, arbitrary: relativeDomain }, { weight: 1, arbitrary: fc.constant('') }),
    zoneSuffixes: fc.constantFrom(0, 0, 0, 1, 1, 2),
    upperCase: fc.boolean(),
    trailingDot: fc.constantFrom(false, false, true),
    pad: fc.constantFrom('', '', '', ' ', '\t', '\n', ' \r\n'),
  })
  .map(({ base, zoneSuffixes, upperCase, trailingDot, pad }) => {
    let name = base + `.${ZONE}`.repeat(zoneSuffixes);
    if (name.startsWith('.')) name = name.slice(1);
    if (upperCase) name = upper(name);
    return `${pad}${name}${trailingDot ? '.' : ''}${pad}`;
  });

/** Non-ASCII characters with surprising case mappings: KELVIN SIGN -> "k", İ -> "i̇", ſ -> "S" upper-cased, ß -> "SS", ﬁ -> "FI", ẞ -> "ß". */
export const CASE_MAPPING_SPECIALS = ['\u212a', '\u0130', '\u017f', 'ß', '\ufb01', '\u1e9e', '\u2126' /* OHM SIGN -> ω */];

/** Pieces that make a domain invalid wherever they stand inside it (not `,` `.` `-`, which can be legal there). */
export const FORBIDDEN_INSIDE_A_NAME = HOSTILE_PIECES.filter((p) => ![',', '.', '-', 'a'.repeat(64)].includes(p));

/**
 * Domain values that must be rejected: a forbidden piece (or any code point outside [A-Za-z0-9.,-]) inserted
 * strictly inside a valid name, so trimming cannot remove it; structurally broken names; too-long labels
 * and names; the apex; and lists with one bad element.
 */
export const invalidDomain: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.stringMatching(/^[a-z0-9]{2,10}$/),
        fc.oneof(
          fc.constantFrom(...FORBIDDEN_INSIDE_A_NAME),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }).filter((s) => /[^A-Za-z0-9.,-]/.test(s) && !s.includes(',')),
          // Characters whose case mapping changes length or lands in ASCII: the classic way past a
          // validator that lower-cases before it checks.
          fc.constantFrom(...CASE_MAPPING_SPECIALS),
        ),
        fc.nat(),
      )
      .map(([name, piece, at]) => {
        const i = 1 + (at % (name.length - 1));
        return name.slice(0, i) + piece + name.slice(i);
      }),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      ',',
      'login,',
      ',login',
      'a..b',
      '.login',
      '-login',
      'login-',
      'lo--',
      'a.-b',
      'a-.b',
      `${ZONE}`,
      ` ${upper(ZONE)}. `,
      '**.login',
      '*.*.login',
      'a*.login',
      'lo_gin',
      'xn--',
      '..',
    ),
  },
  { weight: 1, arbitrary: dnsLabel(64, 80) }, // one label over 63 characters
  { weight: 1, arbitrary: fc.array(dnsLabel(60, 63), { minLength: 4, maxLength: 5 }).map((labels) => labels.join('.')) }, // > 241 characters: too long with the zone
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.array(decoratedDomain, { maxLength: 2 }), fc.constantFrom('lo gin', 'login#', 'lo\ngin', 'x"y', 'a{{b}}', ''), fc.nat())
      .map(([good, bad, at]) => {
        const list = [...good];
        list.splice(at % (list.length + 1), 0, bad);
        return list.join(',');
      }),
  },
);

/** Any value of the DOMAIN env or the domain label: well-formed, hostile, broken, or a list of those. */
export const domainValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: decoratedDomain },
  { weight: 2, arbitrary: hostileString },
  { weight: 2, arbitrary: invalidDomain },
  { weight: 1, arbitrary: outsideZoneName },
  { weight: 1, arbitrary: fc.oneof(hugeString, manyDomains) },
  {
    weight: 1,
    arbitrary: fc.array(fc.oneof(decoratedDomain, hostileString), { minLength: 2, maxLength: 3 }).map((parts) => parts.join(',')),
  },
);

/** Values of haproxy-companion.port: valid ports, out-of-range integers, padded, non-ASCII digits, garbage. */
export const portLabel: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 65535 }).map(String) },
  { weight: 2, arbitrary: fc.integer({ min: -100, max: 200_000 }).map(String) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 65535 }).map((p) => ` ${p}\n`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0',
      '00080',
      '65535',
      '65536',
      '99999',
      '1e3',
      '0x50',
      '80.0',
      '+80',
      '-80',
      '８０',
      '٨٠',
      '',
      ' ',
      '80 81',
      '80#',
      '9'.repeat(400),
    ),
  },
  { weight: 1, arbitrary: hostileString },
);

/** Keys of Config.ExposedPorts: mostly `<port>/tcp`, also udp, out-of-range and absurd numbers, garbage. */
export const exposedPort: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 65535 }).map((p) => `${p}/tcp`) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 65535 }).map((p) => `${p}/udp`) },
  { weight: 1, arbitrary: fc.integer({ min: -10, max: 200_000 }).map((p) => `${p}/tcp`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0/tcp',
      '65536/tcp',
      '99999/tcp',
      `${'9'.repeat(400)}/tcp`,
      '08080/tcp',
      '80/TCP',
      '80-90/tcp',
      '80/sctp',
      '８０/tcp',
      '80',
    ),
  },
  { weight: 1, arbitrary: hostileString },
);

/**
 * Addresses as a network entry could carry them: IPv4, IPv6 in any notation, and strings that are no
 * address at all. Not a scoped IPv6 address (`fe80::1%eth0`): Docker never reports one.
 */
export const ipAddress: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.ipV4() },
  { weight: 3, arbitrary: fc.ipV6() },
  { weight: 1, arbitrary: fc.ipV6().map(upper) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '172.17.0.9\n',
      '1.2.3.4 #x',
      '::1]:80 backup',
      '999.1.1.1',
      '01.2.3.4',
      'localhost',
      '1.2.3.4:80',
      '[::1]',
    ),
  },
  { weight: 1, arbitrary: hostileString },
);

const LOCAL = new BlockList();
LOCAL.addSubnet('127.0.0.0', 8, 'ipv4');
LOCAL.addAddress('0.0.0.0', 'ipv4');
LOCAL.addAddress('::1', 'ipv6');
LOCAL.addAddress('::', 'ipv6');

/** Loopback or unspecified (IPv4-mapped forms included): the host itself, never a container's own address. */
export const isLocalAddress = (ip: string): boolean => isIP(ip) !== 0 && LOCAL.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');

export const networkName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('bridge', 'v6', 'app_net', 'other') },
  { weight: 1, arbitrary: hostileString },
);

/** Names as Docker allows them (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`), which the daemon keeps unique per host. */
export const dockerName: fc.Arbitrary<string> = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,40}$/);

export const containerName: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: dockerName },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constant('') },
);

export const containerId: fc.Arbitrary<string> = fc.stringMatching(/^[0-9a-f]{64}$/);

const optional = <T>(arb: fc.Arbitrary<T>, freq = 1) => fc.option(arb, { nil: undefined, freq });

export interface ContainerSpec {
  id: string;
  name: string;
  domainLabel?: string | undefined;
  domainEnv?: string | undefined;
  portLabel?: string | undefined;
  networkLabel?: string | undefined;
  enableLabel?: string | undefined;
  hostNetworkLabel?: string | undefined;
  groupLabel?: string | undefined;
  /** `haproxy-companion.<route>.<key>` labels ({@link routeLabels}), added after `extraLabels`. */
  routeLabels?: Record<string, string> | undefined;
  /** `Config.Image`; absent: `app:latest`, the image of the well-behaved neighbours. */
  image?: string | undefined;
  /** Docker's `Created`; absent: {@link NEWCOMER_CREATED}, after every well-behaved neighbour. */
  created?: string | undefined;
  extraLabels: Record<string, string>;
  extraEnv: string[];
  exposedPorts: string[];
  running: boolean;
  paused: boolean;
  health?: string | undefined;
  networkMode: string;
  networks: { name: string; ip: string; v6: boolean }[];
}

/** A generated container is created after the well-behaved neighbours (test/helpers/containers.ts: 2024). */
export const NEWCOMER_CREATED = '2025-01-01T00:00:00Z';

/** Images: the neighbours' own (so a newcomer may join them), others, and hostile references. */
export const imageRef: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('app:latest', 'app:v2', 'app@sha256:0123', 'other:1', 'registry:5000/team/app:v1', '') },
  { weight: 1, arbitrary: hostileString },
);

/** Values of haproxy-companion.host-network: opt-ins, opt-outs, garbage. */
export const flagLabel: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('true', 'TRUE', ' yes ', '1', 'false', '0', 'no', '') },
  { weight: 1, arbitrary: hostileString },
);

/** The `docker inspect` a container with this spec would give, through the real conversion. */
export function toContainer(spec: ContainerSpec): ContainerInfo {
  const labels: Record<string, string> = { ...spec.extraLabels, ...spec.routeLabels };
  if (spec.domainLabel !== undefined) labels['haproxy-companion.domain'] = spec.domainLabel;
  if (spec.portLabel !== undefined) labels['haproxy-companion.port'] = spec.portLabel;
  if (spec.networkLabel !== undefined) labels['haproxy-companion.network'] = spec.networkLabel;
  if (spec.enableLabel !== undefined) labels['haproxy-companion.enable'] = spec.enableLabel;
  if (spec.hostNetworkLabel !== undefined) labels['haproxy-companion.host-network'] = spec.hostNetworkLabel;
  if (spec.groupLabel !== undefined) labels['haproxy-companion.group'] = spec.groupLabel;
  const inspect: InspectResponse = {
    Id: spec.id,
    Name: `/${spec.name}`,
    Created: spec.created ?? NEWCOMER_CREATED,
    Config: {
      Image: spec.image ?? 'app:latest',
      Labels: labels,
      Env: [...spec.extraEnv, ...(spec.domainEnv !== undefined ? [`DOMAIN=${spec.domainEnv}`] : [])],
      ExposedPorts: Object.fromEntries(spec.exposedPorts.map((p) => [p, {}])),
    },
    State: { Running: spec.running, Paused: spec.paused, ...(spec.health !== undefined ? { Health: { Status: spec.health } } : {}) },
    HostConfig: { NetworkMode: spec.networkMode },
    NetworkSettings: {
      Networks: Object.fromEntries(
        spec.networks.map((n) => [n.name, n.v6 ? { IPAddress: '', GlobalIPv6Address: n.ip } : { IPAddress: n.ip }]),
      ),
    },
  };
  return toContainerInfo(inspect);
}

const networks = fc.uniqueArray(fc.record({ name: networkName, ip: ipAddress, v6: fc.boolean() }), {
  maxLength: 3,
  selector: (n) => n.name,
});

/**
 * A container every field of which is arbitrary. Most are skipped or ignored (not opted in, broken
 * values), which is what property 2 and the grammar want; {@link plausibleContainer} makes sure many
 * are routed too.
 */
export const arbitraryContainer: fc.Arbitrary<ContainerSpec> = fc.record({
  id: containerId,
  name: containerName,
  domainLabel: optional(domainValue, 1),
  domainEnv: optional(domainValue, 1),
  portLabel: optional(portLabel, 1),
  networkLabel: optional(fc.oneof(networkName, hostileString), 2),
  enableLabel: optional(fc.oneof(fc.constantFrom('true', 'false', 'FALSE', ' no ', '0', '1', 'yes'), hostileString), 3),
  hostNetworkLabel: optional(flagLabel, 2),
  groupLabel: optional(fc.oneof(fc.constantFrom('app', 'team-a'), hostileString, hugeString), 3),
  image: optional(imageRef, 1),
  created: optional(fc.constantFrom('2025-06-01T00:00:00.5Z', '2025-06-01T00:00:00.45Z', '', 'garbage'), 2),
  extraLabels: fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
  extraEnv: fc.array(hostileString, { maxLength: 3 }),
  exposedPorts: fc.uniqueArray(exposedPort, { maxLength: 3 }),
  running: fc.constantFrom(true, true, true, true, false),
  paused: fc.constantFrom(false, false, false, false, true),
  health: optional(fc.oneof(fc.constantFrom('healthy', 'starting', 'unhealthy'), hostileString), 2),
  networkMode: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('bridge', 'default', 'app_net', 'host', 'none', 'container:0123abcd') },
    { weight: 1, arbitrary: hostileString },
  ),
  networks,
});

/**
 * A container that opted in with realistic settings, except that its name, domain, port and addresses
 * come from the hostile pools part of the time. Many of these are routed.
 */
export const plausibleContainer: fc.Arbitrary<ContainerSpec> = fc
  .record({
    id: containerId,
    name: containerName,
    domain: fc.oneof({ weight: 4, arbitrary: decoratedDomain }, { weight: 1, arbitrary: domainValue }),
    domainAs: fc.constantFrom('label', 'env', 'both'),
    port: fc.oneof(
      { weight: 3, arbitrary: fc.record({ exposed: fc.integer({ min: 1, max: 65535 }).map((p) => [`${p}/tcp`]) }) },
      {
        weight: 2,
        arbitrary: fc.record({
          label: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 65535 }).map(String) }, { weight: 1, arbitrary: portLabel }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ exposed: fc.uniqueArray(exposedPort, { maxLength: 2 }) }) },
    ),
    hostMode: fc.constantFrom(false, false, false, false, true),
    network: fc.record({
      name: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('bridge', 'v6') }, { weight: 1, arbitrary: networkName }),
      ip: fc.oneof({ weight: 3, arbitrary: fc.ipV4() }, { weight: 2, arbitrary: fc.ipV6() }, { weight: 1, arbitrary: ipAddress }),
      v6: fc.boolean(),
    }),
    pinNetwork: fc.constantFrom(false, false, true),
    // Host networking is opted in most of the time, so that some of these are routed on loopback.
    hostNetworkLabel: fc.constantFrom('true', 'true', 'true', undefined),
    image: fc.constantFrom('app:latest', 'app:latest', 'app:v3', 'other'),
    extraLabels: fc.dictionary(hostileString, hostileString, { maxKeys: 2 }),
  })
  .map(
    (c): ContainerSpec => ({
      id: c.id,
      name: c.name,
      domainLabel: c.domainAs !== 'env' ? c.domain : undefined,
      domainEnv: c.domainAs === 'env' ? c.domain : c.domainAs === 'both' ? 'from-env-loses' : undefined,
      portLabel: 'label' in c.port ? c.port.label : undefined,
      networkLabel: c.pinNetwork ? c.network.name : undefined,
      enableLabel: undefined,
      hostNetworkLabel: c.hostMode ? c.hostNetworkLabel : undefined,
      image: c.image,
      extraLabels: c.extraLabels,
      extraEnv: [],
      exposedPorts: 'exposed' in c.port ? c.port.exposed : ['8080/tcp'],
      running: true,
      paused: false,
      networkMode: c.hostMode ? 'host' : 'bridge',
      networks: c.hostMode ? [] : [c.network],
    }),
  );

export const anyContainer: fc.Arbitrary<ContainerSpec> = fc.oneof(
  { weight: 2, arbitrary: plausibleContainer },
  { weight: 1, arbitrary: arbitraryContainer },
);

/** The companion's own container, in the snapshot like in production; it must never be routed. */
export const SELF_ID = 'e'.repeat(64);

/** The companion's own ports: never a target on loopback. */
export const RESERVED_PORTS = [80, 8404, 8405];

/** The model's options in the properties: host networking allowed, so that both opt-ins are exercised. */
export const MODEL_OPTIONS = {
  zone: ZONE,
  allowHostNetwork: true,
  reservedPorts: RESERVED_PORTS,
  tcpPorts: [[1, 65535]] as [number, number][],
};

/** Host network mode (reaches every bridge network), or on the `bridge` and `v6` networks only. */
export const placements: Placement[] = [{ selfId: SELF_ID }, { selfId: SELF_ID, networks: ['bridge', 'v6'] }];
export const placement: fc.Arbitrary<Placement> = fc.constantFrom(...placements);

/**
 * The well-behaved neighbours: routed under both placements, including a shared backend, a custom port,
 * IPv6 and a multi-name container; plus one broken and one indifferent container and the companion itself.
 */
export function wellBehavedContainers(): ContainerInfo[] {
  return [
    container({ id: SELF_ID, name: 'companion', env: { DOMAIN: 'companion' }, networkMode: 'host', networks: [] }),
    container({ id: '1'.repeat(64), name: 'login-1', env: { DOMAIN: 'login' }, networks: [{ name: 'bridge', ip: '172.17.0.2' }] }),
    container({
      id: '2'.repeat(64),
      name: 'login_2',
      env: { DOMAIN: 'login' },
      labels: { 'haproxy-companion.port': '8081' },
      networks: [{ name: 'bridge', ip: '172.17.0.3' }],
    }),
    container({
      id: '3'.repeat(64),
      name: 'publish_service',
      labels: { 'haproxy-companion.domain': 'publish' },
      exposedPorts: ['3000/tcp'],
      networks: [{ name: 'bridge', ip: '172.17.0.4' }],
    }),
    container({
      id: '4'.repeat(64),
      name: 'api',
      labels: { 'haproxy-companion.domain': 'api.v2', 'haproxy-companion.port': '9000' },
      networks: [{ name: 'v6', ip: 'fd00::5' }],
    }),
    container({
      id: '5'.repeat(64),
      name: 'shop.1',
      env: { DOMAIN: 'www, shop.example.com' },
      exposedPorts: ['80/tcp'],
      networks: [{ name: 'bridge', ip: '172.17.0.6' }],
    }),
    container({ id: '6'.repeat(64), name: 'broken', env: { DOMAIN: 'bad domain' }, networks: [{ name: 'bridge', ip: '172.17.0.7' }] }),
    container({ id: '7'.repeat(64), name: 'plain-db', exposedPorts: ['5432/tcp'], networks: [{ name: 'bridge', ip: '172.17.0.8' }] }),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Route labels: `haproxy-companion.<route>.<key>=<value>` (src/model/route-labels.ts)

/** The values of one label: those its parser accepts, and those it must refuse (hostile strings come on top). */
interface LabelValues {
  valid: fc.Arbitrary<string>;
  invalid: fc.Arbitrary<string>;
}

/** Valid values most of the time (so that routes get through and render), refused and hostile ones otherwise. */
const mostlyValid = ({ valid, invalid }: LabelValues): fc.Arbitrary<string> =>
  fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: fc.oneof(invalid, hostileString) });

/** Pieces that break a config line or a template, for values that must never reach one raw. */
const CONFIG_BREAKERS = ['\n', '\r\n', '#', "'", '"', '%[src]', '${HOME}', '}}', '{{', '{%', ' ', '\\', ';', '\t'];
/** A plausible value with one of {@link CONFIG_BREAKERS} inside it. */
const broken = (base: string) =>
  fc
    .tuple(fc.constantFrom(...CONFIG_BREAKERS), fc.nat())
    .map(([piece, at]) => `${base.slice(0, 1 + (at % base.length))}${piece}${base.slice(1 + (at % base.length))}`);

/** Route names: a small pool (so that labels meet on one route), the whole valid grammar, and names it refuses. */
export const routeName: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('web', 'api', 'db', 'admin', 'old', 'default', 'a', 'x-1') },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      'Web',
      'API',
      '-a',
      'a-',
      'a_b',
      'a b',
      'é',
      'web\n',
      '{{x}}',
      'a%b',
      "a'b",
      'a'.repeat(33),
      'a'.repeat(300),
      '\u212aelvin' /* lower-cases to ASCII */,
    ),
  },
  { weight: 1, arbitrary: hostileString },
);

const DOMAIN: LabelValues = {
  // Names of the neighbours (to meet their owners) and fresh ones, wildcards, lists.
  valid: fc.oneof(
    { weight: 4, arbitrary: decoratedDomain },
    { weight: 2, arbitrary: fc.constantFrom('store', 'admin', 'login', 'old', 'fresh', 'a,b', 'x, y.example.com', '*.preview', '*.new') },
    { weight: 1, arbitrary: relativeDomain.map((d) => `*.${d}`) },
  ),
  invalid: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('*', '*.', '**.a', 'a.*', '*.*.a', '*a.b', '*.example.com') },
    { weight: 2, arbitrary: invalidDomain },
    { weight: 2, arbitrary: outsideZoneName },
    // Rare: a whole-container refusal (more names than MAX_DOMAINS_PER_CONTAINER), or a value no reason may echo whole.
    { weight: 1, arbitrary: fc.oneof({ weight: 3, arbitrary: hugeString }, { weight: 1, arbitrary: manyDomains }) },
  ),
};

/** Ports of a route (`port`, `tcp-port`): the companion's own and the neighbours' (80, 8404, 5432) among the valid ones. */
const PORT: LabelValues = {
  valid: fc.oneof(
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 65535 }).map(String) },
    { weight: 1, arbitrary: fc.constantFrom('80', '8404', '8405', '5432', '8080', ' 9090 ', '6379') },
  ),
  invalid: portLabel.filter((p) => !/^[0-9]{1,5}$/.test(p.trim()) || !(Number(p) >= 1 && Number(p) <= 65535)),
};

/** Path segments as a path prefix takes them. */
const pathSegment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,10}$/).filter((s) => s !== '.' && s !== '..');

const PATH_PREFIX: LabelValues = {
  valid: fc.oneof(
    fc.constantFrom('/api', '/api/', '/v1/users', '/a_b', '/a~b', '/api/v2'),
    fc.array(pathSegment, { minLength: 1, maxLength: 4 }).map((segments) => `/${segments.join('/')}`),
  ),
  invalid: fc.oneof(
    fc.constantFrom('', ' ', 'api', '/a/../b', '/./a', '/a//b', '//', '/a b', '/%2e%2e', '/ü', '/a?b', '/a#b', `/${'x'.repeat(130)}`),
    broken('/api/v1'),
  ),
};

const CHECK_PATH: LabelValues = {
  valid: fc.oneof(
    fc.constantFrom('/', '/health', '/healthz?full=1&x=%20', '/status/ready', '/a-b_c.d~e'),
    fc.array(pathSegment, { minLength: 1, maxLength: 3 }).map((segments) => `/${segments.join('/')}`),
  ),
  invalid: fc.oneof(fc.constantFrom('', 'health', '/a%zz', '/a%', '/%%', '/../x', '/a b', '/ä', `/${'x'.repeat(260)}`), broken('/health')),
};

const BOOLEAN: LabelValues = {
  valid: fc.constantFrom('true', 'false', '1', '0', 'yes', 'no', ' TRUE ', 'No'),
  invalid: fc.constantFrom('', 'on', 'off', 'y', 'truee', '2'),
};

/** `true` mostly: a route's policy only shows in the config when it is on. */
const MOSTLY_TRUE: LabelValues = { valid: fc.constantFrom('true', 'TRUE', ' yes ', '1', 'false'), invalid: BOOLEAN.invalid };

const DURATION: LabelValues = {
  valid: fc.oneof(
    fc.constantFrom('500ms', '5s', '2m', '1h', '24h', ' 30s ', '1ms'),
    fc.tuple(fc.integer({ min: 1, max: 86_400 }), fc.constantFrom('ms', 's')).map(([n, unit]) => `${n}${unit}`),
  ),
  invalid: fc.constantFrom('', '30', '0s', '0ms', '25h', '1441m', '1.5s', '5 s', '5S', '-1s', '1e3ms', '99999999999ms', '5s;', 'forever'),
};

/** A health check interval: a duration of 1 s or more; below it is refused like any bad value. */
const CHECK_INTERVAL: LabelValues = {
  valid: fc.oneof(
    fc.constantFrom('1s', '1000ms', '5s', '2m', '1h', '24h', ' 30s '),
    fc.tuple(fc.integer({ min: 1, max: 86_400 }), fc.constantFrom('s')).map(([n, unit]) => `${n}${unit}`),
  ),
  invalid: fc.oneof(fc.constantFrom('1ms', '999ms', '500ms'), DURATION.invalid),
};

const STICKY: LabelValues = { valid: fc.constantFrom('cookie', ' Cookie ', 'COOKIE'), invalid: fc.constantFrom('', 'ip', 'true') };

const MAXCONN: LabelValues = {
  valid: fc.oneof(fc.integer({ min: 1, max: 100_000 }).map(String), fc.constantFrom('1', '100000', ' 200 ')),
  invalid: fc.constantFrom('', '0', '100001', '-1', '1e3', '0x10', '２００', '200 300'),
};

/** The network of `ip`/`bits`: host bits cleared, as parseAllowList wants it. */
function ipv4Network(ip: string, bits: number): string {
  const value = ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const network = value - (value % 2 ** (32 - bits));
  return [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
}

const allowEntry: fc.Arbitrary<string> = fc.oneof(
  fc.ipV4(),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, bits]) => `${ipv4Network(ip, bits)}/${bits}`),
  fc.constantFrom('10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1', 'fd00::/8', '2001:DB8::1', '::ffff:10.0.0.1'),
);

const ALLOW: LabelValues = {
  valid: fc.array(allowEntry, { minLength: 1, maxLength: 4 }).map((entries) => entries.join(', ')),
  invalid: fc.oneof(
    fc.constantFrom('', ',', '10.0.0.1/8', '010.0.0.1', '1.2.3.4/33', 'fe80::1%eth0', '10.0.0.0/8,', 'any', '0/0', '::/129', '1.2.3'),
    broken('10.0.0.0/8'),
  ),
};

const b64 = (length: number) => fc.stringMatching(new RegExp(`^[./0-9A-Za-z]{${length}}$`));

/** crypt(3) hashes as `openssl passwd` and `mkpasswd` print them: `$6$` + 16 salt + `$` + 86, `$5$`, bcrypt `$2y$`. */
export const cryptHash: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(b64(16), b64(86)).map(([salt, hash]) => `$6$${salt}$${hash}`),
  fc.tuple(b64(16), b64(43)).map(([salt, hash]) => `$5$rounds=5000$${salt}$${hash}`),
  fc.tuple(fc.integer({ min: 4, max: 10 }), b64(53)).map(([cost, hash]) => `$2y$${String(cost).padStart(2, '0')}$${hash}`),
);

const userName = fc.oneof(fc.constantFrom('alice', 'bob', 'ops.team', 'a-b_c'), fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/));

const AUTH_USERS: LabelValues = {
  valid: fc
    .uniqueArray(fc.tuple(userName, cryptHash), { minLength: 1, maxLength: 3, selector: ([name]) => name })
    .map((users) => users.map(([name, hash]) => `${name}:${hash}`).join(',')),
  invalid: fc.oneof(
    fc.constantFrom('alice:secret', 'alice', 'alice:', ':$6$abc$def', 'alice:$6$x$y', "alice:$6$abcdefgh$abc'def"),
    cryptHash.map((hash) => `al ice:${hash}`),
    cryptHash.map((hash) => `alice:${hash},alice:${hash}`),
    cryptHash.map((hash) => `alice:${hash}\nbob:${hash}`),
    cryptHash.map((hash) => `alice:${hash}#`),
  ),
};

/** Header names: common ones, the whole token grammar, hop-by-hop ones a route may not touch, and broken ones. */
export const headerName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('X-Frame-Options', 'Server', 'X-Request-Id', 'Cache-Control', 'x-a') },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'Host',
      'content-length',
      'Transfer-Encoding',
      'CONNECTION',
      'upgrade',
      '',
      'X A',
      'X_A',
      'X:A',
      'X.A',
      'x'.repeat(65),
      'X\nY',
      'X-A if TRUE',
    ),
  },
  { weight: 1, arbitrary: hostileString },
);

const printableAscii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });

/** Header values: printable ASCII with everything HAProxy could read specially (quotes, `$`, `%`, `#`, `\`), empty (remove). */
const HEADER_VALUE: LabelValues = {
  valid: fc.oneof(
    fc.constantFrom('DENY', 'nosniff', "it's", '"quoted"', '%[src]', '100%', '%%', '${HOME}', '$HOME', 'a # b', '\\', '}} {%'),
    fc.constantFrom("'\"'\"'", "a'b'c", '%{+Q}o', 'x;y', 'max-age=0, no-cache', 'v'.repeat(1024)),
    printableAscii,
    fc.constantFrom('', '  '),
  ),
  invalid: fc.constantFrom('a\nb', 'a\rb', 'a\u0000b', 'é', '\u202e', 'a\tb', 'v'.repeat(1025)),
};

/** Redirect targets: absolute http(s) URLs with a host, and what parseRedirect refuses. */
const REDIRECT: LabelValues = {
  valid: fc.oneof(
    fc.constantFrom('https://store.example.com', 'http://1.2.3.4:8080/new/', 'https://[2001:db8::1]/x', 'HTTPS://New.Example.org/A_b~c'),
    fc
      .tuple(fc.constantFrom('http', 'https'), dnsLabel(1, 12), fc.array(pathSegment, { maxLength: 2 }))
      .map(([scheme, host, segments]) => `${scheme}://${host}.example.org${segments.map((s) => `/${s}`).join('')}`),
  ),
  invalid: fc.oneof(
    fc.constantFrom(
      '',
      'javascript:alert(1)',
      'ftp://x.org',
      '//x.org',
      'https://a@b.org',
      'https://x.org/?q=1',
      'https://x.org/#f',
      'https://x.org/%41',
      'https://x.org:0',
      'https://x.org:99999',
      'https://1.2.3',
      'https://[::1',
      'https://x.org/a/../b',
    ),
    broken('https://x.org/a'),
  ),
};

/** What a route does with plain HTTP once HTTPS is on, and near misses. */
const HTTPS_MODE: LabelValues = {
  valid: fc.constantFrom('redirect', 'only', 'both', 'ONLY', ' both '),
  invalid: fc.oneof(fc.constantFrom('', 'yes', 'true', 'redirect,only', 'https', 'off'), hostileString),
};

/** HSTS max-age in seconds, 0 (off) to two years, and what is not one. */
const HSTS: LabelValues = {
  valid: fc.oneof(fc.constantFrom('0', '31536000', '63072000', ' 300 '), fc.integer({ min: 0, max: 63_072_000 }).map(String)),
  invalid: fc.oneof(fc.constantFrom('', '-1', '63072001', '1y', '1e9', '0x10', '31536000; includeSubDomains'), hostileString),
};

/** Keys no route takes: near misses, misplaced case, header keys without a name or direction, and anything. */
export const unknownRouteKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('domains', 'Domain', 'port ', 'check', 'timout.server', 'headers.request', 'headers.foo.X', 'headers', '', 'tcp_port'),
  hostileString,
);

/** Each key of ROUTE_LABEL_KEYS (the header keys stand for all their names) with its values. */
const ROUTE_LABEL_KEY_VALUES: Record<string, LabelValues> = {
  domain: DOMAIN,
  port: PORT,
  path: PATH_PREFIX,
  'strip-path': MOSTLY_TRUE,
  'check.path': CHECK_PATH,
  'check.interval': CHECK_INTERVAL,
  'timeout.server': DURATION,
  'timeout.connect': DURATION,
  sticky: STICKY,
  allow: ALLOW,
  'auth.users': AUTH_USERS,
  redirect: REDIRECT,
  compress: MOSTLY_TRUE,
  maxconn: MAXCONN,
  https: HTTPS_MODE,
  hsts: HSTS,
  'tcp-port': PORT,
  'headers.request.<Name>': HEADER_VALUE,
  'headers.response.<Name>': HEADER_VALUE,
};

/**
 * The values of each key a route takes, mostly valid. The property file checks that every key of
 * ROUTE_LABEL_KEYS has one here, so that a new key cannot go untested.
 */
export const ROUTE_LABEL_VALUES: Record<string, fc.Arbitrary<string>> = Object.fromEntries(
  Object.entries(ROUTE_LABEL_KEY_VALUES).map(([key, values]) => [key, mostlyValid(values)]),
);

/** Any value of `domain` (the DOMAIN env and label take the same). */
export const routeDomainValue: fc.Arbitrary<string> = ROUTE_LABEL_VALUES.domain!;

/** One `<key>=<value>` of a route, among `keys` (of ROUTE_LABEL_KEY_VALUES), header names generated; valid values only if `valid`. */
const routePair = (keys: string[], valid = false): fc.Arbitrary<[string, string]> =>
  fc.oneof(
    ...keys.map((key) => {
      const known = ROUTE_LABEL_KEY_VALUES[key];
      if (known === undefined) throw new Error(`no values for route label key ${key}`);
      const values = valid ? known.valid : mostlyValid(known);
      const header = /^headers\.(request|response)\.<Name>$/.exec(key);
      const name = valid ? fc.constantFrom('X-Frame-Options', 'Server', 'X-Request-Id', 'Cache-Control', 'x-a') : headerName;
      return header
        ? fc.tuple(
            name.map((n) => `headers.${header[1]}.${n}`),
            values,
          )
        : fc.tuple(fc.constant(key), values);
    }),
  );

/** What an HTTP route takes besides its domain and path (its port left to the container's one exposed port). */
const HTTP_KEYS = Object.keys(ROUTE_LABEL_KEY_VALUES).filter((k) => !['domain', 'tcp-port', 'path'].includes(k));
const POLICY_KEYS = HTTP_KEYS.filter((k) => k !== 'port');
/** What a TCP route takes besides its port. */
const TCP_KEYS = ['port', 'check.interval', 'timeout.server', 'timeout.connect', 'maxconn'];

/**
 * One route as a container would write it: an HTTP route (a domain, often a path, and HTTP keys), an HTTP
 * route whose policy is all valid (so that every kind of policy line gets written), a TCP route (a tcp-port
 * and the keys a TCP route takes), or any keys at all, unknown ones and hostile ones included. `again`: the
 * route names the host and path (or the TCP port) of the container's first route of its kind.
 */
const routeDeclaration = fc.record({
  name: routeName,
  kind: fc.constantFrom('http', 'http', 'policy', 'policy', 'tcp', 'any'),
  domain: routeDomainValue,
  path: fc.option(ROUTE_LABEL_VALUES.path!, { nil: undefined, freq: 2 }),
  tcpPort: ROUTE_LABEL_VALUES['tcp-port']!,
  again: fc.constantFrom(false, false, false, true),
  httpPairs: fc.array(routePair(HTTP_KEYS), { maxLength: 4 }),
  policyPairs: fc.uniqueArray(routePair(POLICY_KEYS, true), { minLength: 1, maxLength: 5, selector: ([key]) => key.toLowerCase() }),
  tcpPairs: fc.array(routePair(TCP_KEYS), { maxLength: 2 }),
  anyPairs: fc.array(
    fc.oneof(
      { weight: 3, arbitrary: routePair(Object.keys(ROUTE_LABEL_KEY_VALUES)) },
      { weight: 1, arbitrary: fc.tuple(unknownRouteKey, hostileString) },
    ),
    { minLength: 1, maxLength: 4 },
  ),
});

/**
 * The route labels of one container: a few routes, each valid or not; now and then two routes on one host
 * and path or one TCP port, a label of one route said twice (the later value wins, as in a dictionary), or
 * a route name shared by two declarations.
 */
export const routeLabels: fc.Arbitrary<Record<string, string>> = fc
  .array(routeDeclaration, { minLength: 1, maxLength: 4 })
  .map((routes) => {
    const firstHttp = routes.find((r) => r.kind === 'http' || r.kind === 'policy');
    const firstTcp = routes.find((r) => r.kind === 'tcp');
    const labels: [string, string][] = routes.flatMap((route) => {
      const { name, kind, again } = route;
      const http = again && firstHttp ? firstHttp : route;
      const tcp = again && firstTcp ? firstTcp : route;
      const where: [string, string][] = [
        ['domain', http.domain],
        ...(http.path === undefined ? [] : [['path', http.path] as [string, string]]),
      ];
      const pairs: [string, string][] =
        kind === 'http'
          ? [...where, ...route.httpPairs]
          : kind === 'policy'
            ? [...where, ...route.policyPairs]
            : kind === 'tcp'
              ? [['tcp-port', tcp.tcpPort], ...route.tcpPairs]
              : route.anyPairs;
      return pairs.map(([key, value]): [string, string] => [`haproxy-companion.${name}.${key}`, value]);
    });
    return Object.fromEntries(labels);
  });

/**
 * A routed-looking container spec with `overrides`, for the counterexamples the properties once found:
 * each property replays them as fast-check `examples` on every run, whatever the seed.
 */
export function exampleSpec(overrides: Partial<ContainerSpec>): ContainerSpec {
  return {
    id: `${'9'.repeat(8)}${'0'.repeat(56)}`,
    name: 'found',
    domainEnv: 'found',
    extraLabels: {},
    extraEnv: [],
    exposedPorts: ['8080/tcp'],
    running: true,
    paused: false,
    networkMode: 'bridge',
    networks: [{ name: 'bridge', ip: '172.17.0.99', v6: false }],
    ...overrides,
  };
}

/** `DOMAIN` values the properties found accepted when they should not have been (3df66ce), one per hole. */
export const FOUND_DOMAINS = [
  // KELVIN SIGN, which lower-cases to an ASCII `k`.
  '0\u212aa',
  // The zone named twice: `x.<zone>.<zone>` claimed `x.<zone>`, `<zone>.<zone>` the apex.
  `login.${ZONE}.${ZONE}`,
  `${ZONE}.${ZONE}`,
  // A name whose ownership marker `_hc-owner.<name>.<zone>` is over 253 characters.
  `${`${'a'.repeat(30)}.`.repeat(7)}${'b'.repeat(15)}`,
];

/** Containers the properties found routed when they should not have been: the domains above, exposed ports 0 and 99999. */
export const FOUND_CONTAINERS: ContainerSpec[] = [
  ...FOUND_DOMAINS.map((domainEnv) => ({ domainEnv })),
  { exposedPorts: ['0/tcp'] },
  { exposedPorts: ['99999/tcp'] },
].map((overrides, i) => exampleSpec({ id: `${'9'.repeat(8)}${String(i).padStart(56, '0')}`, name: `found-${i}`, ...overrides }));
