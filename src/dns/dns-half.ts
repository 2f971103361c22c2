/** The DNS half's interface (the registrar, or the preview when registration is off) and what /status shows of it. */
import type { NameOwner } from './fleet-owners.js';
import type { FleetPeers } from './fleet-peers.js';
import type { HostIdentity } from './host-identity.js';
import type { LeftOutStatus } from './left-out-names.js';
import type { RecordMode } from './records.js';

export interface SyncReport {
  at: string;
  ok: boolean;
  /** CREATEs and UPSERTs. */
  upserts: number;
  deletes: number;
  requests: number;
  error?: string;
}

/** What /status shows of the DNS half. No credentials, nothing from the environment. */
export interface DnsStatus extends Partial<LeftOutStatus> {
  enabled: boolean;
  domains: string[];
  mode?: RecordMode;
  ttl?: number;
  identity?: HostIdentity;
  lastSync?: SyncReport;
  /** Changes not yet in the zone (-1: unknown while the outcome of a failed request is). */
  pendingChanges?: number;
  /** When this host's ownership markers lapse unless renewed (DNS_LEASE_S); absent without a lease. */
  leaseExpiresAt?: string;
  /** The other hosts the last listing showed serving names this host could fall back on (FLEET_FALLBACK). */
  fleet?: { hosts: string[]; names: number };
}

/** The DNS half as the rest of the companion sees it. */
export interface DnsHalf {
  status(): DnsStatus;
  /** The served domains, and this host's owner of each (named in its markers: fleet-owners.ts). */
  setDomains(domains: string[], owners?: ReadonlyMap<string, NameOwner>): void;
  start(): void;
  /** Per name, the other hosts of the fleet that serve it, as the zone showed them last. */
  fleetPeers(): FleetPeers;
  /** Removes every record this host owns (DEREGISTER_ON_EXIT). */
  deregister(): Promise<void>;
  stop(): void;
  /** Resolves once no sync is running or scheduled (tests, shutdown). */
  idle(): Promise<void>;
}
