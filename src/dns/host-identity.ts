/**
 * Who this host is in DNS: its private IP (the A record's value), its IPv6 address if it has one (the
 * AAAA record's), and an id that keeps its records apart from every other host's. HOST_IP/HOST_IPV6/HOST_ID
 * win; otherwise EC2 instance metadata with IMDSv2.
 */
import { isIP } from 'node:net';
import { CompanionError } from '../errors.js';
import { canonicalIpv6, unreachableIpv6 } from '../lib/addresses.js';
import { plainHttp } from '../lib/plain-http.js';

export interface HostIdentity {
  ip: string;
  /** Absent: this host writes no AAAA records (and deletes the ones it wrote before). */
  ipv6?: string;
  id: string;
  source: 'env' | 'imds';
}

export interface IdentityOptions {
  hostIp?: string;
  /** HOST_IPV6; false: none, whatever instance metadata says; absent: instance metadata's, when it has one. */
  hostIpv6?: string | false;
  hostId?: string;
  /** e.g. http://169.254.169.254 (AWS_EC2_METADATA_SERVICE_ENDPOINT). */
  imdsEndpoint: string;
  imdsDisabled: boolean;
  timeoutMs?: number;
}

const TOKEN_TTL_SECONDS = '60';

/** Host ids end up in SetIdentifiers and TXT values: keep them to a safe, short alphabet. */
export const HOST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export async function resolveHostIdentity(options: IdentityOptions): Promise<HostIdentity> {
  const identity = await lookup(options);
  if (isIP(identity.ip) !== 4)
    throw new CompanionError(`host IP ${JSON.stringify(identity.ip)} (from ${identity.source}) is not an IPv4 address`);
  if (!HOST_ID_PATTERN.test(identity.id))
    throw new CompanionError(`host id ${JSON.stringify(identity.id)} (from ${identity.source}) must match ${HOST_ID_PATTERN}`);
  if (identity.ipv6 === undefined) return identity;
  const ipv6 = canonicalIpv6(identity.ipv6);
  const problem = ipv6 === undefined ? 'it is not an IPv6 address' : unreachableIpv6(ipv6);
  if (problem !== undefined || ipv6 === undefined)
    throw new CompanionError(
      `host IPv6 address ${JSON.stringify(identity.ipv6)} (from ${identity.source}) cannot be published: ${problem}`,
    );
  return { ...identity, ipv6 };
}

async function lookup(options: IdentityOptions): Promise<HostIdentity> {
  if (options.hostIp !== undefined && options.hostId !== undefined)
    return withIpv6({ ip: options.hostIp, id: options.hostId, source: 'env' }, options.hostIpv6 || undefined);
  if (options.imdsDisabled) {
    throw new CompanionError(
      'no host identity: set HOST_IP and HOST_ID, or allow EC2 instance metadata (AWS_EC2_METADATA_DISABLED is true)',
    );
  }
  const base = options.imdsEndpoint.replace(/\/$/, '');
  const timeoutMs = options.timeoutMs ?? 2_000;
  let token: string;
  try {
    const res = await plainHttp(`${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS },
      timeoutMs,
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    token = res.body;
  } catch (error) {
    throw new CompanionError(
      `cannot get an IMDSv2 token from ${base} (${(error as Error).message}). On EC2, a container on a bridge network ` +
        'needs the instance metadata hop limit raised to 2 (aws ec2 modify-instance-metadata-options ' +
        '--http-put-response-hop-limit 2), or run the companion with network_mode: host; elsewhere set HOST_IP and HOST_ID.',
    );
  }
  /** A category the instance lacks is a 404: undefined. */
  const read = async (path: string) => {
    const res = await plainHttp(`${base}/latest/meta-data/${path}`, { headers: { 'X-aws-ec2-metadata-token': token }, timeoutMs });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new CompanionError(`instance metadata ${path}: HTTP ${res.status}`);
    return res.body.trim();
  };
  const required = async (path: string) => {
    const value = await read(path);
    if (value === undefined) throw new CompanionError(`instance metadata ${path}: HTTP 404`);
    return value;
  };
  const ip = options.hostIp ?? (await required('local-ipv4'));
  const id = options.hostId ?? (await required('instance-id'));
  // `ipv6` is the primary network interface's IPv6 address (its first, should it list more), and a 404 on an
  // instance without one: no AAAA records then, not an error.
  const ipv6 = options.hostIpv6 === undefined ? (await read('ipv6'))?.split('\n')[0] : options.hostIpv6 || undefined;
  return withIpv6({ ip, id, source: 'imds' }, ipv6);
}

const withIpv6 = (identity: HostIdentity, ipv6: string | undefined): HostIdentity => (ipv6 ? { ...identity, ipv6 } : identity);
