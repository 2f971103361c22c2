/**
 * The only place that reads the environment. Every setting is validated once at startup; all bad
 * values are reported together, then the result is frozen.
 */
import * as z from 'zod';
import { parseSharedOwner } from './dns/fleet-owners.js';
import { HOST_ID_PATTERN } from './dns/host-identity.js';
import { DEFAULT_MAX_NAMES, type RecordMode } from './dns/records.js';
import { ConfigError } from './errors.js';
import { canonicalIpv6, unreachableIpv6 } from './lib/addresses.js';
import { parseDnsName, parseServiceDomain } from './model/domain.js';
import { DEFAULT_HSTS_MAX_AGE_S, MAX_HSTS_AGE_S } from './model/route-values.js';
import { DEFAULT_MAX_DOMAINS_PER_CONTAINER, type ModelOptions } from './model/services.js';
import { parseStoreSetting, type StoreSetting } from './tls/acme/cert-store.js';
import { CERTIFICATE_NAME } from './tls/certificate.js';
import { TLS_PROFILES, type TlsProfileName } from './tls/tls-profile.js';

const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const boolean = z
  .string()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** A comma-separated list, its entries trimmed, empty ones dropped. */
const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== ''),
);

/** Each entry documents one environment variable; the README's table is tested against this list. */
export const settingsSchema = z.object({
  DOMAIN_NAME: z.string({ error: 'is required: the DNS zone the services live in, e.g. example.com' }).transform((value, ctx) => {
    const parsed = parseDnsName(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: `must be a DNS name (${parsed.reason})` });
      return z.NEVER;
    }
    return parsed.name;
  }),
  HTTP_PORT: integer(1, 65535).default(80),
  // `auto`: where the host can open an IPv6 socket, resolved at startup (haproxy/listen-ipv6.ts).
  LISTEN_IPV6: z
    .string()
    .toLowerCase()
    .pipe(z.enum(['auto', 'true', 'false', '1', '0', 'yes', 'no'], { error: 'must be auto, true or false' }))
    .transform((value) => (value === 'auto' ? value : value === 'true' || value === '1' || value === 'yes'))
    .default('auto'),
  // Defaults to 443 once TLS_CERTS_DIR is set (loadConfig).
  HTTPS_PORT: integer(1, 65535).optional(),
  TLS_CERTS_DIR: z.string().min(1).optional(),
  TLS_DEFAULT_CERT: z
    .string()
    .regex(CERTIFICATE_NAME, 'must name a certificate in TLS_CERTS_DIR: its file name (with or without extension) or subdirectory')
    .optional(),
  // Both default once HTTPS is on (loadConfig): a year, and intermediate.
  HSTS_MAX_AGE: integer(0, MAX_HSTS_AGE_S).optional(),
  TLS_PROFILE: z.enum(TLS_PROFILES, { error: `must be one of ${TLS_PROFILES.join(', ')}` }).optional(),
  ACME_EMAIL: z.email({ error: 'must be an e-mail address: the ACME account’s contact' }).optional(),
  ACME_DIRECTORY_URL: z.url({ protocol: /^https$/, error: 'must be an https:// ACME directory URL' }).default(LETS_ENCRYPT),
  // Checked against DOMAIN_NAME in loadConfig.
  ACME_DOMAINS: z.string().optional(),
  ACME_RENEW_BEFORE_DAYS: integer(1, 89).default(30),
  ACME_CHECK_INTERVAL_S: integer(60, 86_400).default(3_600),
  TLS_STORE: z
    .string()
    .transform((value, ctx) => {
      const parsed = parseStoreSetting(value);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    })
    .optional(),
  HAPROXY_TEMPLATE: z.string().min(1).optional(),
  HAPROXY_STATS_PORT: integer(1, 65535).optional(),
  HAPROXY_BIN: z.string().min(1).default('haproxy'),
  HAPROXY_HARD_STOP_AFTER_S: integer(1, 86_400).default(600),
  HAPROXY_MAX_OLD_WORKERS: integer(1, 100).default(3),
  HOLD_REQUESTS_S: integer(0, 60).default(10),
  TRUSTED_PROXIES: commaList
    .pipe(
      z.array(
        z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], {
          error: 'must be IP addresses or CIDRs, comma-separated, e.g. 10.0.0.0/16,10.1.0.7',
        }),
      ),
    )
    .optional(),
  // Needs TRUSTED_PROXIES: checked in loadConfig.
  PROXY_PROTOCOL: boolean.default(false),
  ACCESS_LOG: z.enum(['json', 'off']).default('off'),
  RUNTIME_DIR: z.string().min(1).default('/var/run/haproxy-companion'),
  STATE_DIR: z.string().min(1).default('/var/lib/haproxy-companion'),
  OWNERSHIP_GRACE_S: integer(0, 86_400).default(300),
  CONTAINER_LABEL_FILTER: z
    .string()
    .regex(/^[^=\s]+(=[^\s]*)?$/, 'must be a label key or key=value, e.g. com.example.env=prod')
    .optional(),
  DEBOUNCE_MIN_MS: integer(0, 60_000).default(50),
  DEBOUNCE_MAX_MS: integer(0, 600_000).default(1000),
  RESYNC_INTERVAL_S: integer(1, 86_400).default(60),
  ALLOW_HOST_NETWORK: boolean.default(false),
  // Checked against DOMAIN_NAME in loadConfig.
  DEFAULT_SERVICE: z.string().optional(),
  TCP_PORTS: z
    .string()
    .transform((value, ctx) => {
      const ranges: [number, number][] = [];
      for (const part of value.split(',').map((p) => p.trim())) {
        const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
        const [min, max] = match ? [Number(match[1]), Number(match[2] ?? match[1])] : [0, 0];
        if (!match || min < 1 || max > 65535 || min > max) {
          ctx.addIssue({ code: 'custom', message: 'must be ports or ranges, comma-separated, e.g. 5432,6379,7000-7099' });
          return z.NEVER;
        }
        ranges.push([min, max]);
      }
      return ranges;
    })
    .optional(),
  MAX_DOMAINS_PER_CONTAINER: integer(1, 100_000).default(DEFAULT_MAX_DOMAINS_PER_CONTAINER),
  HOSTED_ZONE_ID: z
    .string()
    .transform((value) => value.replace(/^\/?hostedzone\//, ''))
    .pipe(z.string().regex(/^[A-Z0-9]{1,32}$/, 'must be a Route53 hosted zone id such as Z0123456789ABCDEFGHIJ'))
    .optional(),
  RECORD_TTL: integer(0, 172_800).default(60),
  RECORD_MODE: z.enum(['multivalue', 'simple']).default('multivalue'),
  HOST_IP: z.ipv4({ error: 'must be an IPv4 address (the A records point at it)' }).optional(),
  HOST_IPV6: z
    .string()
    .transform((value, ctx) => {
      if (value.toLowerCase() === 'none') return false as const;
      const address = canonicalIpv6(value);
      const problem = address === undefined ? undefined : unreachableIpv6(address);
      if (address === undefined || problem !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `must be an IPv6 address other hosts can reach (the AAAA records point at it), e.g. 2001:db8::10, or none${problem ? `: ${problem}` : ''}`,
        });
        return z.NEVER;
      }
      return address;
    })
    .optional(),
  HOST_ID: z.string().regex(HOST_ID_PATTERN, 'must be 1-63 letters, digits, dots, dashes or underscores, e.g. i-0abc123').optional(),
  DEREGISTER_ON_EXIT: boolean.default(false),
  DEREGISTER_WAIT_S: integer(0, 3_600).default(0),
  ASG_LIFECYCLE: z.enum(['auto', 'off']).default('auto'),
  DNS_RECONCILE_INTERVAL_S: integer(10, 86_400).default(300),
  FLEET_FALLBACK: boolean.default(true),
  FLEET_PEER_CIDRS: commaList
    .pipe(
      z
        .array(z.union([z.ipv4(), z.cidrv4()], { error: 'must be IPv4 addresses or CIDRs, comma-separated, e.g. 10.0.0.0/16' }))
        .min(1, 'must name at least one network, e.g. 10.0.0.0/16'),
    )
    .optional(),
  FLEET_SHARED_OWNERS: commaList
    .transform((entries, ctx) => {
      const owners: string[] = [];
      for (const entry of entries) {
        const parsed = parseSharedOwner(entry);
        if (parsed.ok) owners.push(parsed.owner);
        else ctx.addIssue({ code: 'custom', message: parsed.reason });
      }
      return owners;
    })
    .optional(),
  FLEET_CA_FILE: z
    .string()
    .regex(/^\/[^\s"'#\\]*$/, 'must be an absolute path without spaces or quotes, e.g. /etc/ssl/fleet-ca.pem')
    .optional(),
  // 0: no lease. Otherwise long enough that throttling cannot keep a live host from renewing (it renews a third of the way in).
  DNS_LEASE_S: z.coerce
    .number()
    .int()
    .refine((s) => s === 0 || (s >= 300 && s <= 604_800), 'must be 0 (no lease) or 300 to 604800 seconds')
    .default(3_600),
  DNS_DEBOUNCE_MIN_MS: integer(0, 600_000).default(5_000),
  DNS_DEBOUNCE_MAX_MS: integer(0, 3_600_000).default(60_000),
  // No real host serves 1,000 names; a zone's default quota is 10,000 record sets, and each name costs 2 (3 with IPv6).
  DNS_MAX_NAMES: integer(1, 50_000).default(DEFAULT_MAX_NAMES),
  AWS_REGION: z.string().min(1).optional(),
  AWS_EC2_METADATA_SERVICE_ENDPOINT: z.url().default('http://169.254.169.254'),
  AWS_EC2_METADATA_DISABLED: boolean.default(false),
  STATUS_ADDRESS: z
    .union([z.ipv4(), z.ipv6()], { error: 'must be an IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0' })
    .default('127.0.0.1'),
  STATUS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{16,256}$/, 'must be 16-256 printable characters without spaces, e.g. from `openssl rand -hex 32`')
    .optional(),
  STATUS_PORT: integer(0, 65535).default(8404),
  SHUTDOWN_GRACE_S: integer(0, 3_600).default(10),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
});

export type Settings = z.infer<typeof settingsSchema>;

export interface Config {
  zone: string;
  httpPort: number;
  /** HAProxy's stats page and Prometheus exporter; off when absent. */
  haproxyStatsPort?: number;
  /** HTTPS: off when absent. */
  tls?: TlsSettings;
  /** Forwarding headers are kept only from these addresses/CIDRs (e.g. a load balancer's subnets). */
  trustedProxies: string[];
  /** HTTP and HTTPS take a PROXY protocol header from `trustedProxies`, and only from them. */
  proxyProtocol: boolean;
  /** Whether HAProxy listens on IPv6 as well; `auto`: where the host has it (resolved at startup). */
  listenIpv6: 'auto' | boolean;
  /** `json`: one JSON line per request (per connection on TCP routes) on HAProxy's stdout. */
  accessLog: Settings['ACCESS_LOG'];
  /** After a reload, old workers are stopped this long after, whatever they still serve. */
  hardStopAfterS: number;
  /** Old workers alive at once, at most. */
  maxOldWorkers: number;
  /** A request for a service with no server up waits this long for one; the service keeps its routes as long after its last container went. */
  holdRequestsMs: number;
  /** FLEET_FALLBACK: other hosts serving a name take its requests while no local server can; absent when off (or without HOSTED_ZONE_ID). */
  fleet?: { caFile?: string | undefined; peerCidrs?: string[] | undefined };
  /** DEFAULT_SERVICE, relative to the zone: where hosts no route names go. */
  defaultService?: string;
  templatePath: string;
  haproxyBin: string;
  runtimeDir: string;
  /** STATE_DIR: what outlives a restart (the ownership memory); a volume there outlives an upgrade too. */
  stateDir: string;
  labelFilter?: string;
  debounce: { minMs: number; maxMs: number };
  resyncIntervalMs: number;
  log: { level: Settings['LOG_LEVEL']; format: Settings['LOG_FORMAT'] };
  /** Bound on each shutdown step: deregistration, then HAProxy finishing in-flight requests. */
  shutdownGraceMs: number;
  /** Absent when STATUS_PORT=0. */
  status?: { address: string; port: number; token: string | undefined };
  /** What the model takes from the settings (the zone aside). */
  model: Required<Omit<ModelOptions, 'zone'>>;
  dns: {
    /** Absent: registration is off, and the would-be changes are logged. */
    hostedZoneId?: string;
    ttl: number;
    mode: RecordMode;
    hostIp?: string;
    /** HOST_IPV6: the AAAA records' value; false (`none`): no AAAA records; absent: from instance metadata, if any. */
    hostIpv6?: string | false;
    hostId?: string;
    deregisterOnExit: boolean;
    /** After deregistering on exit, how long to keep serving clients with cached answers. */
    deregisterWaitMs: number;
    /** Watch instance metadata for Auto Scaling taking this instance out (ASG_LIFECYCLE=auto, with registration on and metadata allowed). */
    watchLifecycle: boolean;
    reconcileIntervalMs: number;
    /** How long this host's markers vouch for its records without a renewal; 0: no lease (never taken for dead). */
    leaseMs: number;
    /** Route53 changes wait until no service changed for minMs, or maxMs after the first change: one request per burst. */
    debounce: { minMs: number; maxMs: number };
    /** Served names beyond this many (in sorted order) are not registered. */
    maxNames: number;
    /** FLEET_SHARED_OWNERS: owners (as written, e.g. `image:app-a`) whose names this host joins though its own owner differs. */
    sharedOwners: string[];
    region?: string;
    imdsEndpoint: string;
    imdsDisabled: boolean;
  };
}

export interface TlsSettings {
  port: number;
  /** The operator's certificates (TLS_CERTS_DIR), watched; absent with ACME alone. */
  certsDir?: string;
  /** The fleet's certificate from ACME (DNS-01 through HOSTED_ZONE_ID); absent: off. */
  acme?: AcmeConfig;
  /** The certificate for clients that name no host it knows (or none); absent: their handshake fails. */
  defaultCert?: string;
  /** Strict-Transport-Security max-age for routes that set none and send plain HTTP to HTTPS (`redirect`, `only`); 0: no header. */
  hstsMaxAge: number;
  /** The protocols and suites HAProxy offers and asks for (TLS_PROFILE). */
  profile: TlsProfileName;
}

export interface AcmeConfig {
  email: string;
  directoryUrl: string;
  /** Fully qualified, in the zone: `*.example.com`, `example.com` by default. */
  names: string[];
  store: StoreSetting;
  renewBeforeDays: number;
  checkIntervalMs: number;
}

export function loadConfig(env: NodeJS.ProcessEnv, defaultTemplatePath: string): Readonly<Config> {
  // Empty values mean "unset", as with most Docker-deployed tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = settingsSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const s = result.data;
  for (const prefix of ['', 'DNS_'] as const) {
    const [min, max] = [s[`${prefix}DEBOUNCE_MIN_MS`], s[`${prefix}DEBOUNCE_MAX_MS`]];
    if (max < min) throw new ConfigError([`${prefix}DEBOUNCE_MAX_MS: must be at least ${prefix}DEBOUNCE_MIN_MS (${min})`]);
  }
  const defaultService = s.DEFAULT_SERVICE === undefined ? undefined : parseServiceDomain(s.DEFAULT_SERVICE, s.DOMAIN_NAME);
  if (defaultService && !defaultService.ok) {
    throw new ConfigError([`DEFAULT_SERVICE: must be a domain in ${s.DOMAIN_NAME}, e.g. www (${defaultService.reason})`]);
  }
  if (s.PROXY_PROTOCOL && (s.TRUSTED_PROXIES ?? []).length === 0) {
    throw new ConfigError([
      'PROXY_PROTOCOL: needs TRUSTED_PROXIES, the addresses of the load balancers that send the PROXY header (from anyone else the header would be a client claiming any address)',
    ]);
  }
  const tls = tlsSettings(s);
  return Object.freeze({
    zone: s.DOMAIN_NAME,
    tls,
    defaultService: defaultService?.name,
    httpPort: s.HTTP_PORT,
    haproxyStatsPort: s.HAPROXY_STATS_PORT,
    trustedProxies: s.TRUSTED_PROXIES ?? [],
    proxyProtocol: s.PROXY_PROTOCOL,
    listenIpv6: s.LISTEN_IPV6,
    accessLog: s.ACCESS_LOG,
    hardStopAfterS: s.HAPROXY_HARD_STOP_AFTER_S,
    maxOldWorkers: s.HAPROXY_MAX_OLD_WORKERS,
    holdRequestsMs: s.HOLD_REQUESTS_S * 1000,
    templatePath: s.HAPROXY_TEMPLATE ?? defaultTemplatePath,
    haproxyBin: s.HAPROXY_BIN,
    runtimeDir: s.RUNTIME_DIR,
    stateDir: s.STATE_DIR,
    labelFilter: s.CONTAINER_LABEL_FILTER,
    debounce: { minMs: s.DEBOUNCE_MIN_MS, maxMs: s.DEBOUNCE_MAX_MS },
    resyncIntervalMs: s.RESYNC_INTERVAL_S * 1000,
    log: { level: s.LOG_LEVEL, format: s.LOG_FORMAT },
    shutdownGraceMs: s.SHUTDOWN_GRACE_S * 1000,
    // The fleet is known from the zone: without Route53 there is none to fall back on.
    fleet: s.FLEET_FALLBACK && s.HOSTED_ZONE_ID !== undefined ? { caFile: s.FLEET_CA_FILE, peerCidrs: s.FLEET_PEER_CIDRS } : undefined,
    status: s.STATUS_PORT !== 0 ? { address: s.STATUS_ADDRESS, port: s.STATUS_PORT, token: s.STATUS_TOKEN } : undefined,
    model: {
      allowHostNetwork: s.ALLOW_HOST_NETWORK,
      maxDomainsPerContainer: s.MAX_DOMAINS_PER_CONTAINER,
      ownershipGraceMs: s.OWNERSHIP_GRACE_S * 1000,
      tcpPorts: s.TCP_PORTS ?? [],
      // Every port the companion listens on, so that no host-network label can point HAProxy at them;
      // a port added later (HTTPS) belongs here too.
      reservedPorts: [s.HTTP_PORT, tls?.port, s.STATUS_PORT, s.HAPROXY_STATS_PORT].filter(
        (port): port is number => port !== undefined && port !== 0,
      ),
    },
    dns: {
      hostedZoneId: s.HOSTED_ZONE_ID,
      ttl: s.RECORD_TTL,
      mode: s.RECORD_MODE,
      hostIp: s.HOST_IP,
      hostIpv6: s.HOST_IPV6,
      hostId: s.HOST_ID,
      deregisterOnExit: s.DEREGISTER_ON_EXIT,
      deregisterWaitMs: s.DEREGISTER_WAIT_S * 1000,
      watchLifecycle: s.ASG_LIFECYCLE === 'auto' && s.HOSTED_ZONE_ID !== undefined && !s.AWS_EC2_METADATA_DISABLED,
      reconcileIntervalMs: s.DNS_RECONCILE_INTERVAL_S * 1000,
      leaseMs: s.DNS_LEASE_S * 1000,
      debounce: { minMs: s.DNS_DEBOUNCE_MIN_MS, maxMs: s.DNS_DEBOUNCE_MAX_MS },
      maxNames: s.DNS_MAX_NAMES,
      sharedOwners: s.FLEET_SHARED_OWNERS ?? [],
      region: s.AWS_REGION,
      imdsEndpoint: s.AWS_EC2_METADATA_SERVICE_ENDPOINT,
      imdsDisabled: s.AWS_EC2_METADATA_DISABLED,
    },
  });
}

/** HTTPS is on when certificates are configured (a directory, ACME or both); each setting that needs them says so when they are not. */
function tlsSettings(s: Settings): TlsSettings | undefined {
  const acme = acmeSettings(s);
  if (s.TLS_CERTS_DIR === undefined && acme === undefined) {
    const needing = (['HTTPS_PORT', 'TLS_DEFAULT_CERT', 'HSTS_MAX_AGE', 'TLS_PROFILE', 'FLEET_CA_FILE'] as const).filter(
      (key) => s[key] !== undefined,
    );
    if (needing.length > 0) {
      throw new ConfigError(
        needing.map((key) => `${key}: needs TLS_CERTS_DIR (a directory of certificates) or ACME_EMAIL (certificates from ACME)`),
      );
    }
    return undefined;
  }
  const port = s.HTTPS_PORT ?? 443;
  const clash = (['HTTP_PORT', 'STATUS_PORT', 'HAPROXY_STATS_PORT'] as const).find((key) => s[key] === port);
  if (clash) throw new ConfigError([`HTTPS_PORT: ${port} is ${clash} too; give HTTPS a port of its own`]);
  return {
    port,
    certsDir: s.TLS_CERTS_DIR,
    acme,
    defaultCert: s.TLS_DEFAULT_CERT,
    hstsMaxAge: s.HSTS_MAX_AGE ?? DEFAULT_HSTS_MAX_AGE_S,
    profile: s.TLS_PROFILE ?? 'intermediate',
  };
}

/** ACME: on with ACME_EMAIL, which needs the zone (DNS-01) and a store the fleet shares. */
function acmeSettings(s: Settings): AcmeConfig | undefined {
  if (s.ACME_EMAIL === undefined) {
    const needing = (['ACME_DOMAINS', 'TLS_STORE'] as const).filter((key) => s[key] !== undefined);
    if (needing.length > 0) throw new ConfigError(needing.map((key) => `${key}: needs ACME_EMAIL (ACME is off without it)`));
    return undefined;
  }
  const problems: string[] = [];
  if (s.HOSTED_ZONE_ID === undefined) problems.push('ACME_EMAIL: needs HOSTED_ZONE_ID: the DNS-01 challenges are written to that zone');
  if (s.TLS_STORE === undefined) {
    problems.push(
      'ACME_EMAIL: needs TLS_STORE, where the certificate is kept between restarts and shared by the fleet: secretsmanager:<name>, or file:<path> on a volume for one host',
    );
  }
  const names: string[] = [];
  for (const raw of (s.ACME_DOMAINS ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const wildcard = raw.startsWith('*.');
    const parsed = parseDnsName(wildcard ? raw.slice(2) : raw);
    if (!parsed.ok || !(parsed.name === s.DOMAIN_NAME || parsed.name.endsWith(`.${s.DOMAIN_NAME}`))) {
      problems.push(`ACME_DOMAINS: ${JSON.stringify(raw)} is not a name in ${s.DOMAIN_NAME} (a wildcard *.<name> is one)`);
      continue;
    }
    names.push(`${wildcard ? '*.' : ''}${parsed.name}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    email: s.ACME_EMAIL,
    directoryUrl: s.ACME_DIRECTORY_URL,
    names: names.length > 0 ? [...new Set(names)] : [`*.${s.DOMAIN_NAME}`, s.DOMAIN_NAME],
    store: s.TLS_STORE as StoreSetting,
    renewBeforeDays: s.ACME_RENEW_BEFORE_DAYS,
    checkIntervalMs: s.ACME_CHECK_INTERVAL_S * 1000,
  };
}
