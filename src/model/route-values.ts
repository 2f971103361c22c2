/**
 * Values of the per-route labels (issue "Routes: several routes per container, path routing, per-route
 * policy"). Each comes from an untrusted container and what passes is written into haproxy.cfg, so every
 * parser accepts a narrow, documented grammar and returns a normalised value; anything else is refused
 * with a reason. Reasons read after `label <key>=…` (the caller adds that) and quote any part of the
 * value they point at with {@link quote}, which also keeps them short.
 *
 * Values written bare into the config (path prefixes, check paths, header names, allowed addresses, user
 * names, numbers) are limited to characters that HAProxy's config parser never treats specially; the
 * others (header values, redirect targets, password hashes) go through {@link configWord} or
 * {@link logFormatLiteral}.
 */
import { isIP } from 'node:net';
import { parseDnsName } from './domain.js';
import { quote } from './reasons.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** `U+000A`: names a character without writing it, so that a control or bidi character never reaches a log line raw. */
const codePoint = (c: string) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** The first character outside `allowed` (a one-character class), as a phrase for a reason. */
function firstOutside(value: string, allowed: RegExp): string {
  for (const c of value) if (!allowed.test(c)) return /^[\x21-\x7e]$/.test(c) ? `'${c}'` : codePoint(c);
  return '';
}

// ---------------------------------------------------------------------------------------------------------
// Paths

const PATH_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const MAX_PREFIX_LENGTH = 128;
const MAX_PREFIX_SEGMENTS = 16;

/**
 * Path prefix of a route: '/' or '/seg[/seg...]'; segments [A-Za-z0-9._~-]+ but never '.' or '..'; at most
 * 128 characters and 16 segments; a trailing '/' is dropped ('/v1/' -> '/v1'); '' or whitespace-only is
 * refused; surrounding whitespace trimmed. In lower case ('/Admin' -> '/admin'): requests are routed by
 * their path in lower case (the template's `txn.path`), since an application that reads paths
 * case-insensitively serves `/ADMIN` as `/admin`, and the prefix's policy must hold for it; so `/Admin`
 * and `/admin` are one prefix, one owner's.
 */
export function parsePathPrefix(raw: string): Parsed<string> {
  const trimmed = raw.trim();
  if (trimmed === '') return refuse('is empty (use / for every path)');
  if (!trimmed.startsWith('/')) return refuse('must start with / (e.g. /api)');
  if (trimmed === '/') return ok('/');
  // One trailing slash only: `/v1//` keeps an empty segment and is refused below.
  const prefix = trimmed.endsWith('/') ? trimmed.slice(0, -1) : trimmed;
  if (prefix.length > MAX_PREFIX_LENGTH) return refuse(`is longer than ${MAX_PREFIX_LENGTH} characters`);
  const segments = prefix.slice(1).split('/');
  if (segments.length > MAX_PREFIX_SEGMENTS) return refuse(`has more than ${MAX_PREFIX_SEGMENTS} segments`);
  for (const segment of segments) {
    const bad = badSegment(segment);
    if (bad !== undefined) return refuse(bad);
  }
  return ok(prefix.toLowerCase());
}

function badSegment(segment: string): string | undefined {
  if (segment === '') return 'has an empty segment (two slashes in a row)';
  // A client or backend may resolve dot segments away, so the prefix would not mean what it says.
  if (segment === '.' || segment === '..') return `has a ${quote(segment)} segment`;
  if (!PATH_SEGMENT.test(segment)) {
    return `may contain only letters, digits and . _ ~ - between slashes (found ${firstOutside(segment, /[A-Za-z0-9._~-]/)})`;
  }
  return undefined;
}

const CHECK_PATH = /^\/[A-Za-z0-9._~/?=&%-]*$/;
/** '%' only before two hex digits: then no `%[` (a sample fetch, were the path ever read as a log-format) can be formed. */
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const MAX_CHECK_PATH_LENGTH = 256;

/** HTTP health check path: starts with '/', characters [A-Za-z0-9._~/?=&%-] only, '%' only as a valid %XX escape, no '..' segment, at most 256 characters. */
export function parseCheckPath(raw: string): Parsed<string> {
  const path = raw.trim();
  if (path === '') return refuse('is empty');
  if (!path.startsWith('/')) return refuse('must start with / (e.g. /health)');
  if (path.length > MAX_CHECK_PATH_LENGTH) return refuse(`is longer than ${MAX_CHECK_PATH_LENGTH} characters`);
  if (!CHECK_PATH.test(path)) {
    return refuse(`may contain only letters, digits and . _ ~ / ? = & % - (found ${firstOutside(path, /[A-Za-z0-9._~/?=&%-]/)})`);
  }
  if (BAD_PERCENT.test(path)) return refuse('has a % that does not start a %XX escape (two hex digits)');
  const pathPart = path.split('?')[0] ?? '';
  if (pathPart.split('/').includes('..')) return refuse('has a ".." segment');
  return ok(path);
}

// ---------------------------------------------------------------------------------------------------------
// Booleans and numbers

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

/** true/false/1/0/yes/no, any case, surrounding spaces allowed. */
export function parseBoolean(raw: string): Parsed<boolean> {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return refuse('is not a boolean (true/false, yes/no, 1/0)');
}

const DURATION = /^([0-9]+)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const MAX_DURATION_MS = 24 * 3_600_000;
const MAX_DURATION_DIGITS = 10;

/** A duration as HAProxy writes them: <digits><unit>, unit one of ms, s, m, h (a bare number is refused: say to add a unit). Returns milliseconds. Range 1 ms .. 24 h inclusive. At most 10 digits. */
export function parseDuration(raw: string): Parsed<number> {
  const parsed = durationMs(raw);
  if (parsed.ok && !(parsed.value >= 1 && parsed.value <= MAX_DURATION_MS)) return refuse('is out of range (1ms to 24h)');
  return parsed;
}

/**
 * The shortest health check interval a route may ask for. Each check is a connection to the container, and
 * one name at `1ms` made hundreds a second; Kubernetes probes go no lower than 1 s either, HAProxy's default
 * is 2 s and AWS target groups start at 5 s. Below it the route is refused, as any bad value is: raised
 * silently, it would not do what the label says.
 */
export const MIN_CHECK_INTERVAL_MS = 1000;

/** A health check interval: a duration as {@link parseDuration} reads it, 1 s to 24 h. */
export function parseCheckInterval(raw: string): Parsed<number> {
  const parsed = durationMs(raw);
  if (!parsed.ok) return parsed;
  if (parsed.value > MAX_DURATION_MS) return refuse('is out of range (1s to 24h)');
  if (parsed.value < MIN_CHECK_INTERVAL_MS) {
    return refuse('is below 1s, the shortest health check interval (each check is a connection to the container)');
  }
  return parsed;
}

/** <digits><unit> in milliseconds, any size that 10 digits give. */
function durationMs(raw: string): Parsed<number> {
  const text = raw.trim();
  // HAProxy reads a bare number as milliseconds; `timeout=30` almost surely meant seconds, so say which.
  if (/^[0-9]+$/.test(text)) return refuse('is a bare number: add a unit (e.g. 500ms, 5s, 2m)');
  const match = DURATION.exec(text);
  if (match === null) return refuse('is not a duration (e.g. 500ms, 5s, 2m; units ms, s, m, h)');
  const [, digits = '', unit = ''] = match;
  if (digits.length > MAX_DURATION_DIGITS) return refuse(`has more than ${MAX_DURATION_DIGITS} digits`);
  return ok(Number(digits) * (UNIT_MS[unit] ?? Number.NaN));
}

/** Digits only (no sign, no `+`, no exponent or hex that Number() would take), within the range. */
function parseInteger(raw: string, min: number, max: number): number | undefined {
  const text = raw.trim();
  // No more digits than `max` has (`000080` is not a port, as before routes).
  if (!/^[0-9]+$/.test(text) || text.length > String(max).length) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/** 1..65535, digits only (no sign, no leading +, spaces trimmed). */
export function parsePort(raw: string): Parsed<number> {
  const port = parseInteger(raw, 1, 65535);
  return port === undefined ? refuse('is not a port number (1-65535)') : ok(port);
}

const MAX_MAXCONN = 100_000;

/** Per-server connection limit: 1..100000, digits only. */
export function parseMaxconn(raw: string): Parsed<number> {
  const n = parseInteger(raw, 1, MAX_MAXCONN);
  return n === undefined ? refuse(`is not a connection limit (1-${MAX_MAXCONN})`) : ok(n);
}

// ---------------------------------------------------------------------------------------------------------
// HTTPS

export const HTTPS_MODES = ['redirect', 'only', 'both'] as const;
/** What a route does with plain HTTP once HTTPS is on: redirect it, refuse it, or serve it as well. */
export type HttpsMode = (typeof HTTPS_MODES)[number];

export function parseHttpsMode(raw: string): Parsed<HttpsMode> {
  const word = raw.trim().toLowerCase();
  return (HTTPS_MODES as readonly string[]).includes(word) ? ok(word as HttpsMode) : refuse(`is not one of ${HTTPS_MODES.join(', ')}`);
}

/** Two years, the longest max-age the HSTS preload list asks for; 0 turns the header off. */
export const MAX_HSTS_AGE_S = 63_072_000;
/** A year, as nginx-proxy sends: what HSTS_MAX_AGE is unless set. */
export const DEFAULT_HSTS_MAX_AGE_S = 31_536_000;

/** `Strict-Transport-Security: max-age=<seconds>`; 0 turns it off for the route. */
export function parseHstsMaxAge(raw: string): Parsed<number> {
  const n = parseInteger(raw, 0, MAX_HSTS_AGE_S);
  return n === undefined ? refuse(`is not a max-age in seconds (0-${MAX_HSTS_AGE_S}, e.g. 31536000 for a year)`) : ok(n);
}

// ---------------------------------------------------------------------------------------------------------
// Client addresses

/** HAProxy reads at most 64 words on a line: `http-request deny deny_status 403 unless { src … }` takes 8. */
const MAX_ALLOW_ENTRIES = 48;
/** Before isIP: Node's isIP accepts an IPv6 zone (`fe80::1%eth0`), which has no place in an ACL. */
const ADDRESS_CHARS = /^[0-9A-Fa-f:./]+$/;
const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const PREFIX_LENGTH = /^(?:0|[1-9][0-9]{0,2})$/;

/** Comma-separated client addresses allowed: IPv4 or IPv6 addresses or CIDR ranges (prefix 0..32 / 0..128); at most 48 entries; empty entries refused; returned normalised (trimmed, IPv6 lower-case, e.g. '10.0.0.0/8', '192.168.1.7', '2001:db8::/32'). A host part that has bits set beyond the prefix (10.0.0.1/8) is refused with a reason suggesting the network address. Leading zeros in IPv4 octets (010.0.0.1) refused (ambiguous octal). */
export function parseAllowList(raw: string): Parsed<string[]> {
  const entries = raw.split(',').map((e) => e.trim());
  if (entries.length > MAX_ALLOW_ENTRIES) return refuse(`has more than ${MAX_ALLOW_ENTRIES} entries`);
  if (entries.length === 1 && entries[0] === '') return refuse('is empty');
  const values: string[] = [];
  for (const entry of entries) {
    const parsed = parseAllowEntry(entry);
    if (!parsed.ok) return parsed;
    values.push(parsed.value);
  }
  return ok(values);
}

function parseAllowEntry(entry: string): Parsed<string> {
  if (entry === '') return refuse('has an empty entry (two commas in a row, or one at either end)');
  if (!ADDRESS_CHARS.test(entry)) {
    // Quoted only when printable: JSON leaves DEL, C1 controls and bidi overrides raw in a log line.
    const shown = /^[\x21-\x7e]+$/.test(entry) ? quote(entry) : `an entry with ${firstOutside(entry, /[\x21-\x7e]/)}`;
    return refuse(`has ${shown}, which is not an IP address or CIDR range`);
  }
  const [address = '', prefix, ...rest] = entry.split('/');
  if (rest.length > 0) return refuse(`has ${quote(entry)}, which is not an IP address or CIDR range`);
  const family = addressFamily(address);
  if (!family.ok) return refuse(`has ${quote(entry)}: ${family.reason}`);
  const lower = address.toLowerCase();
  if (prefix === undefined) return ok(lower);
  const width = family.value === 4 ? 32 : 128;
  const bits = PREFIX_LENGTH.test(prefix) ? Number(prefix) : Number.NaN;
  if (!(bits <= width)) return refuse(`has ${quote(entry)}, whose prefix length is not 0-${width}`);
  const network = networkOf(lower, family.value, bits);
  if (network !== lower) {
    // HAProxy would silently widen 10.0.0.1/8 to 10.0.0.0/8: make the container say what it means.
    return refuse(`has ${quote(entry)}, which has bits set beyond the /${bits} prefix: write ${quote(`${network}/${bits}`)}`);
  }
  return ok(`${lower}/${bits}`);
}

function addressFamily(address: string): Parsed<4 | 6> {
  if (address.includes('.') && !address.includes(':')) {
    const octets = address.split('.');
    if (octets.length === 4 && octets.some((o) => /^0[0-9]/.test(o))) {
      return refuse('an octet has a leading zero, which some parsers read as octal');
    }
    if (octets.length !== 4 || !octets.every((o) => OCTET.test(o)) || isIP(address) !== 4) return refuse('not an IPv4 address');
    return ok(4);
  }
  // An embedded IPv4 part (::ffff:10.0.0.1) is held to the same octet rule, and told why.
  const tail = address.slice(address.lastIndexOf(':') + 1);
  if (tail.includes('.') && tail.split('.').some((o) => /^0[0-9]/.test(o))) {
    return refuse('an octet has a leading zero, which some parsers read as octal');
  }
  return isIP(address) === 6 ? ok(6) : refuse('not an IP address');
}

/** The network address of `address/bits`, written as the entry would be (dotted IPv4, compressed lower-case IPv6). */
function networkOf(address: string, family: 4 | 6, bits: number): string {
  const width = family === 4 ? 32 : 128;
  const value = family === 4 ? ipv4Value(address) : ipv6Value(address);
  const hostMask = (1n << BigInt(width - bits)) - 1n;
  const network = value & ~hostMask;
  if (network === value) return address;
  return family === 4 ? formatIpv4(network) : formatIpv6(network);
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

const formatIpv4 = (value: bigint) => [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');

/** The 128 bits of a valid IPv6 address, `::` and an embedded IPv4 tail included. */
function ipv6Value(address: string): bigint {
  const groupsOf = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [Number.parseInt(g, 16)];
          const v4 = Number(ipv4Value(g));
          return [v4 >>> 16, v4 & 0xffff];
        });
  const [head = '', tail] = address.split('::');
  const front = groupsOf(head);
  const back = tail === undefined ? [] : groupsOf(tail);
  const groups = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** RFC 5952 text: lower-case, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(16 * (7 - i))) & 0xffffn));
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(':');
  if (best.start < 0) return hex(groups);
  return `${hex(groups.slice(0, best.start))}::${hex(groups.slice(best.start + best.length))}`;
}

// ---------------------------------------------------------------------------------------------------------
// Basic auth users

const MAX_USERS = 32;
const USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const HASH_CHARS = /^[A-Za-z0-9./$=]+$/;
const MIN_HASH_LENGTH = 13;
const MAX_HASH_LENGTH = 512;
const B64 = '[./0-9A-Za-z]';
/**
 * The crypt(3) schemes glibc and musl both verify, at a cost HAProxy can afford: it checks a password on its
 * worker thread for every request that carries one, so a costly hash (`rounds=999999999`, bcrypt cost 31)
 * would stall every route and get the process killed by its watchdog. So SHA-crypt at most 9,999 rounds
 * (5,000 is the default), bcrypt cost at most 10, yescrypt with its default parameters only (`j9T`, as
 * `mkpasswd` writes it); scrypt, DES and anything unknown stay out.
 */
const CRYPT_HASHES = [
  new RegExp(`^\\$[156]\\$(?:rounds=[1-9][0-9]{0,3}\\$)?${B64}{1,16}\\$${B64}+$`), // MD5, SHA-256, SHA-512
  new RegExp(`^\\$2[aby]\\$(?:0[4-9]|10)\\$${B64}{53}$`), // bcrypt
  new RegExp(`^\\$y\\$j9T\\$${B64}*\\$${B64}+$`), // yescrypt, default cost
];
const HASH_HELP = 'give a crypt(3) hash, e.g. from `mkpasswd -m sha-512` or `openssl passwd -6`';

/**
 * HTTP basic auth users: comma-separated name:hash. name [A-Za-z0-9._-]{1,64}, distinct; hash a crypt(3) hash ONLY (never plain text): prefixes $1$, $5$, $6$ (optionally with rounds=N$, N < 10000), $2a$/$2b$/$2y$ (bcrypt, cost ≤ 10), $y$j9T$ (yescrypt, default cost); total hash charset [A-Za-z0-9./$=]; length 13..512. At most 32 users. A value with no '$' hash (plain text password) gets a reason that says to give a crypt(3) hash, e.g. from `mkpasswd -m sha-512` or `openssl passwd -6`, and never echoes the secret (do not quote the hash/password part in any reason; quoting the user name is fine).
 *
 * The raw value may hold a plain-text password: a caller must not quote it either.
 */
export function parseAuthUsers(raw: string): Parsed<{ name: string; hash: string }[]> {
  if (raw.trim() === '') return refuse('is empty');
  const entries = raw.split(',');
  if (entries.length > MAX_USERS) return refuse(`has more than ${MAX_USERS} users`);
  const users: { name: string; hash: string }[] = [];
  for (const [index, entry] of entries.entries()) {
    const user = parseAuthUser(entry, index + 1);
    if (!user.ok) return user;
    if (users.some((u) => u.name === user.value.name)) return refuse(`names user ${quote(user.value.name)} twice`);
    users.push(user.value);
  }
  return ok(users);
}

/** One `name:hash`. Reasons name the entry by its position, never by its text: it may be a password. */
function parseAuthUser(entry: string, position: number): Parsed<{ name: string; hash: string }> {
  if (entry.trim() === '') return refuse(`has an empty entry (number ${position})`);
  const colon = entry.indexOf(':');
  if (colon < 0) return refuse(`entry ${position} is not name:hash (no ':'); ${HASH_HELP}`);
  const name = entry.slice(0, colon).trim();
  const hash = entry.slice(colon + 1).trim();
  // Not quoted: when the colon was part of a password, the text before it is a secret too.
  if (!USER_NAME.test(name)) return refuse(`entry ${position}: the user name may contain only letters, digits and . _ - (1-64 characters)`);
  const bad = badHash(hash);
  return bad === undefined ? ok({ name, hash }) : refuse(`user ${quote(name)}: ${bad}`);
}

function badHash(hash: string): string | undefined {
  if (!hash.includes('$')) return `the password is plain text, which is never accepted: ${HASH_HELP}`;
  if (hash.length < MIN_HASH_LENGTH || hash.length > MAX_HASH_LENGTH || !HASH_CHARS.test(hash)) {
    return `the password is not a crypt(3) hash: ${HASH_HELP}`;
  }
  if (!CRYPT_HASHES.some((re) => re.test(hash))) {
    return `the password is not a supported crypt(3) hash ($1$, $5$, $6$, $2a$/$2b$/$2y$, $y$, $7$): ${HASH_HELP}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Headers

const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
/** Hop-by-hop and framing headers: set by a route they would let a container desynchronise or smuggle requests. */
const FORBIDDEN_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
]);

/** The companion's own: the server a request was sent to, which another host of the fleet reads as the hop marker (FLEET_FALLBACK). */
const COMPANION_HEADERS = new Set(['x-companion-server', 'x-companion-hops']);

/** An HTTP header name to set or remove: RFC 9110 token restricted to [A-Za-z0-9-]{1,64}; refused (with a reason) for hop-by-hop or framing headers that must not be set by a route: host, content-length, transfer-encoding, connection, upgrade, te, trailer, keep-alive, proxy-connection (case-insensitive), and X-Companion-Server and X-Companion-Hops, the companion's own. Returned as given (case kept). */
export function parseHeaderName(raw: string): Parsed<string> {
  const name = raw.trim();
  if (name === '') return refuse('is empty');
  if (name.length > 64) return refuse('is longer than 64 characters');
  if (!HEADER_NAME.test(name)) return refuse(`may contain only letters, digits and - (found ${firstOutside(name, /[A-Za-z0-9-]/)})`);
  if (FORBIDDEN_HEADERS.has(name.toLowerCase())) {
    return refuse(`names ${quote(name)}, a hop-by-hop or framing header that HAProxy manages: a route may not set or remove it`);
  }
  if (COMPANION_HEADERS.has(name.toLowerCase())) {
    return refuse(
      `names ${quote(name)}, the companion's own (the server a request goes to, the fleet's hop marker): a route may not set or remove it`,
    );
  }
  return ok(name);
}

const MAX_HEADER_VALUE_LENGTH = 1024;

/** A header value: '' (after trimming) means "remove the header" -> null; otherwise printable ASCII 0x20..0x7e only (no control characters, no CR/LF, no non-ASCII), at most 1024 characters, trimmed. */
export function parseHeaderValue(raw: string): Parsed<string | null> {
  const value = raw.trim();
  if (value === '') return ok(null);
  if (value.length > MAX_HEADER_VALUE_LENGTH) return refuse(`is longer than ${MAX_HEADER_VALUE_LENGTH} characters`);
  if (!/^[\x20-\x7e]+$/.test(value)) {
    return refuse(`may contain only printable ASCII characters (found ${firstOutside(value, /[\x20-\x7e]/)})`);
  }
  return ok(value);
}

// ---------------------------------------------------------------------------------------------------------
// Redirects

const MAX_REDIRECT_LENGTH = 512;
const REDIRECT = /^(https?):\/\/(\[[^\]]*\]|[^/:[\]]*)(?::([^/]*))?(\/.*)?$/i;
const REDIRECT_PATH = /^[A-Za-z0-9._~/-]*$/;
/** A last label that makes a host an IPv4 address for URL parsers (WHATWG "ends in a number"): `1`, `0x7f`. */
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/i;

/** Redirect target for a 301 that keeps the path: an absolute http:// or https:// URL with a host (DNS name per RFC 1123 labels, or an IPv4 address, or a bracketed IPv6), optional :port 1..65535, optional path of [A-Za-z0-9._~/-] (no '..' segment); no user info, no query, no fragment, no whitespace, no quotes or backslashes; at most 512 characters; a trailing '/' is dropped (HAProxy's `redirect prefix` appends the request path). Scheme and host returned lower-case. */
export function parseRedirect(raw: string): Parsed<string> {
  const url = raw.trim();
  if (url === '') return refuse('is empty');
  if (url.length > MAX_REDIRECT_LENGTH) return refuse(`is longer than ${MAX_REDIRECT_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(url)) {
    return refuse(`may contain only printable ASCII characters and no spaces (found ${firstOutside(url, /[\x21-\x7e]/)})`);
  }
  if (/["'\\`<>]/.test(url)) return refuse('may not contain quotes, backslashes or angle brackets');
  // `@` is in no part we accept, and would make `https://good.example@evil.example` read as the second host.
  if (url.includes('@')) return refuse('has user info (user@host), which is not allowed');
  if (/[?#]/.test(url)) {
    return refuse('has a query or a fragment: `redirect prefix` keeps the request path and query, so give only scheme, host and path');
  }
  const match = REDIRECT.exec(url);
  if (match === null) return refuse('is not an absolute http:// or https:// URL (e.g. https://example.com/new)');
  const [, scheme = '', host = '', port, path = ''] = match;
  const parsedHost = parseRedirectHost(host);
  if (!parsedHost.ok) return parsedHost;
  const parsedPort = port === undefined ? ok('') : parsePort(port);
  if (!parsedPort.ok) return refuse('has a port that is not a port number (1-65535)');
  const parsedPath = parseRedirectPath(path);
  if (!parsedPath.ok) return parsedPath;
  const portPart = port === undefined ? '' : `:${parsedPort.value}`;
  return ok(`${scheme.toLowerCase()}://${parsedHost.value}${portPart}${parsedPath.value}`);
}

function parseRedirectHost(host: string): Parsed<string> {
  if (host === '') return refuse('has no host');
  if (host.startsWith('[')) {
    const inner = host.slice(1, -1);
    return /^[0-9A-Fa-f:.]+$/.test(inner) && isIP(inner) === 6
      ? ok(`[${inner.toLowerCase()}]`)
      : refuse('has a bracketed host that is not an IPv6 address');
  }
  // Refused rather than dropped: `01.2.3.4.` would pass as a name once the dot is gone.
  if (host.endsWith('.')) return refuse(`has host ${quote(host)}, which ends in a dot`);
  const labels = host.split('.');
  // A name whose last label is a number is read as an IPv4 address by browsers: it must be a valid one.
  if (NUMERIC_LABEL.test(labels[labels.length - 1] ?? '')) {
    const family = addressFamily(host);
    return family.ok && family.value === 4 ? ok(host) : refuse(`has host ${quote(host)}, which is neither a DNS name nor an IPv4 address`);
  }
  const name = parseDnsName(host);
  return name.ok ? ok(name.name) : refuse(`has host ${quote(host)}, which ${name.reason}`);
}

function parseRedirectPath(path: string): Parsed<string> {
  if (!REDIRECT_PATH.test(path)) {
    return refuse(`has a path that may contain only letters, digits and . _ ~ / - (found ${firstOutside(path, /[A-Za-z0-9._~/-]/)})`);
  }
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const segments = trimmed.split('/').slice(1);
  if (segments.includes('')) return refuse('has an empty path segment (two slashes in a row)');
  if (segments.includes('..')) return refuse('has a ".." path segment');
  return ok(trimmed);
}

// ---------------------------------------------------------------------------------------------------------
// Writing values into haproxy.cfg

/**
 * `value` as one word of haproxy.cfg. HAProxy interprets backslash escapes in bare words and in double
 * quotes, environment variables in double quotes, and nothing inside single quotes, and it concatenates
 * adjacent quoted parts of a word: so the value is single-quoted, and a single quote inside it is written
 * as "'" between two single-quoted parts. Throws on characters that cannot be in a config line at all
 * (control characters incl. CR, LF, NUL, and non-ASCII), and on '': callers validate first.
 *
 * What HAProxy does, checked against its manual and sources rather than memory:
 * - Configuration manual, section 2.2 "Quoting and escaping": three forms, escaping with a backslash, weak
 *   quoting with double quotes and strong quoting with single quotes. Weak quoting stops space, `'` and `#`
 *   from being special but still interprets escapes and variables; "Inside single quotes, nothing is
 *   interpreted". "Quoted and escaped strings are replaced in memory by their interpreted equivalent, it
 *   allows you to perform concatenation", e.g. `log-format "%{+Q}o %t"' %s %{-Q}r'` is one word. Section
 *   2.3: environment variables (`$VAR`, `${VAR}`) "are interpreted only within double quotes".
 * - parse_line() in src/tools.c, as readcfgfile() calls it (PARSE_OPT_ENV | PARSE_OPT_DQUOTE |
 *   PARSE_OPT_SQUOTE | PARSE_OPT_BKSLASH | PARSE_OPT_SHARP | PARSE_OPT_WORD_EXPAND): a quote only toggles
 *   a state and never ends the word (so `'a'"'"'b'` is the one word `a'b`); `"` inside single quotes and
 *   `'` inside double quotes are plain characters; `$` is expanded only inside double quotes when those are
 *   enabled, as they are for the config file, and a backslash escapes only outside single quotes; NUL, LF
 *   and CR end the line even inside quotes. Those three could only be written as `\n`-style escapes,
 *   outside single quotes where `$` and `\` mean something again: not worth it for values we validate.
 * - parse_line does not count an empty word at the very end of a line (`''` there is no argument), so an
 *   empty value is refused rather than silently lost.
 */
export function configWord(value: string): string {
  if (value === '') throw new Error('configWord: an empty value cannot be written as a haproxy.cfg word');
  const bad = /[^\x20-\x7e]/.exec(value);
  if (bad !== null) throw new Error(`configWord: character ${codePoint(bad[0])} cannot be written in haproxy.cfg`);
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

/**
 * A literal text for a log-format argument (the value of `http-request set-header` and friends): '%' doubled so that HAProxy does not read %[...] as a sample fetch, then {@link configWord}.
 *
 * In a log-format string only `%` is special (`%[fetch]`, `%{flags}`, `%var`); `%%` is a literal `%`
 * (lf_expr_compile() in src/log.c), and spaces are kept as text outside the `log-format` directive itself.
 */
export function logFormatLiteral(value: string): string {
  return configWord(value.replaceAll('%', '%%'));
}
