/**
 * Keeps this host's records in the zone equal to the domains it serves. It runs beside the proxy,
 * never in its way: the supervisor hands it the domain list and moves on. Each sync diffs the desired
 * records against the records this host owns and sends the difference in as few requests as Route53
 * allows; a failed sync is retried with backoff until it succeeds, so no change is ever dropped.
 *
 * A fleet shares one account's 5 requests a second, so requests go to changes first (issue 15):
 * - The zone's name is checked once per process (GetHostedZone), not at every retry: in `multivalue`
 *   mode a check Route53 throttles or cannot answer is put off to the next reconcile, and the host goes on
 *   (Route53 refuses names outside the zone; a zone found to be named otherwise later stops it, and what it
 *   wrote there is deleted).
 * - The zone is listed before the first write only while Route53 has room for it: once a request of this
 *   host has been throttled or failed, the host writes what it owns first, with CREATEs that Route53
 *   refuses over anything in the way, and leaves the listing to the reconcile. A refusal makes it list at
 *   once and go on by the listing's rules.
 * - The reconcile (full listing) runs at a jittered interval, stretched so that the fleet's listings
 *   together take at most {@link LISTING_SHARE_PER_S} requests a second, and put off when Route53
 *   throttles it: a listing is never worth more than a change.
 * - A failed sync is retried after a fully jittered backoff, so hosts that failed together do not retry
 *   together; a throttled request is known not to have been applied, so nothing is listed again for it.
 *
 * Leases (DNS_LEASE_S): this host's markers carry an expiry, renewed a third of the way into the lease.
 * At every reconcile it removes the records of other hosts whose lease lapsed ({@link lapsedRecords}).
 *
 * Owners (issue #21): each marker names the owner this host serves the name for, and in `multivalue` mode
 * a name whose live markers (as last listed) name another owner is left out (fleet-ownership.ts).
 */

import type { BlockList } from 'node:net';
import { createDebouncer, type Debouncer } from '../debounce.js';
import { asError, CompanionError } from '../errors.js';
import { backoffDelay, jittered } from '../lib/backoff.js';
import { sleep } from '../lib/sleep.js';
import type { Logger } from '../log.js';
import type { DnsHalf, DnsStatus, SyncReport } from './dns-half.js';
import { type NameOwner, unitHash } from './fleet-owners.js';
import { nameClaims, ownerConflicts } from './fleet-ownership.js';
import { type FleetPeers, NO_PEERS, peerHosts, peersFrom, samePeers } from './fleet-peers.js';
import type { HostIdentity } from './host-identity.js';
import { LeftOutNames } from './left-out-names.js';
import { type LiveMarker, liveMarkers } from './live-markers.js';
import {
  applyChanges,
  baseName,
  type Change,
  DEFAULT_MAX_NAMES,
  desiredRecords,
  diffRecords,
  foreignConflicts,
  groupByName,
  LIST_PAGE_SIZE,
  lapsedRecords,
  liveOwners,
  normaliseName,
  ownedRecords,
  type RecordContext,
  type RecordMode,
  type RecordSet,
  recordKey,
  splitIntoBatches,
} from './records.js';
import type { ZoneApi } from './route53-zone.js';

/** DNS_LEASE_S's default: Route53 throttling would have to block a live host's renewals for 40 minutes. */
export const DEFAULT_LEASE_MS = 3_600_000;
/** The fleet's listings together, in requests a second: a tenth of the account's 5. */
export const LISTING_SHARE_PER_S = 0.5;
/** The longest wait before retrying a sync Route53 throttled (the AWS SDK's own maximum backoff). */
const THROTTLED_RETRY_MAX_MS = 20_000;
/** Deregistration's syncs: the first and up to three retries. */
const DEREGISTER_ATTEMPTS = 4;
/** A throttled reconcile is put off by its interval times 2, 4, ... up to this factor. */
const MAX_RECONCILE_BACKOFF = 8;

export interface RegistrarOptions {
  zone: string;
  ttl: number;
  mode: RecordMode;
  identity: HostIdentity;
  /**
   * Full list-and-diff interval (±25 % jitter), repairing drift such as a record deleted by hand and
   * removing the records of hosts whose lease lapsed. Stretched for a large fleet: see {@link LISTING_SHARE_PER_S}.
   */
  reconcileIntervalMs: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /**
   * Changes of the served domains are gathered before a sync: one request once they have been quiet
   * for `minMs`, or `maxMs` after the first, so a burst of container starts costs one or two requests
   * of the fleet's shared 5/s, not one each. Defaults 5 s and 60 s (DNS_DEBOUNCE_MIN_MS/MAX_MS): Docker
   * can take half a minute to start 50 containers, and Route53 itself takes about a minute to propagate.
   */
  debounce?: { minMs: number; maxMs: number };
  /** DNS_MAX_NAMES: names beyond it, in sorted order, are served but not registered. Default {@link DEFAULT_MAX_NAMES}. */
  maxNames?: number;
  /**
   * DNS_LEASE_S: how long this host's markers vouch for its records without a renewal; renewed a third of
   * the way in. 0: markers without an expiry, which no other host ever removes. Default {@link DEFAULT_LEASE_MS}.
   */
  leaseMs?: number;
  /** The wall clock in ms (leases are absolute times, compared across hosts). Tests only. */
  now?: () => number;
  /** Called when a listing shows other hosts serving other names than before (FLEET_FALLBACK). */
  onFleetChanged?: () => void;
  /** FLEET_PEER_CIDRS: other hosts count only at these addresses; absent: any (but loopback and the like). */
  peerNetworks?: BlockList;
  /** FLEET_SHARED_OWNERS, as written (`image:app-a`): a name the fleet serves for one of them is joined all the same. */
  sharedOwners?: string[];
}

/** Route53 refused the request before doing anything with it: nothing of it was applied. */
function refusedUnapplied(error: Error): boolean {
  return error.name === 'Throttling' || error.name === 'ThrottlingException' || error.name === 'PriorRequestNotComplete';
}

/** Route53 is busy or out of reach, rather than refusing what we asked (a wrong zone id, missing permissions). */
function transient(error: Error & { $metadata?: { httpStatusCode?: number } }): boolean {
  const status = error.$metadata?.httpStatusCode;
  return refusedUnapplied(error) || status === undefined || status >= 500;
}

export class DnsRegistrar implements DnsHalf {
  private readonly ctx: RecordContext;
  private domains: string[] = [];
  /** This host's owner of each served domain; a domain without one is registered with a marker of an unknown owner. */
  private owners: ReadonlyMap<string, NameOwner> = new Map();
  /** Other hosts' live markers, from the last listing: the fleet's owners and peers of each name. */
  private markers: LiveMarker[] = [];
  private readonly sharedUnits: ReadonlySet<string>;
  /** Records this host owns: as last listed, or as written since the start, and since updated by our own changes. */
  private known: RecordSet[] = [];
  /** Whether `known` comes from a full listing; until then this host has only its own writes to go by. */
  private listed = false;
  /** Writing before a listing: first writes are CREATEs, and a refusal means "list first" (see the file comment). */
  private blind = false;
  /** Before any listing: keys this host deleted itself, so it knows they are absent. */
  private readonly deletedBlind = new Set<string>();
  /** Before any listing: names whose marker this host CREATEd, so no marker vouched for anything there before. */
  private readonly markersCreatedBlind = new Set<string>();
  /**
   * Record sets at this host's SetIdentifiers that were there before its marker (found by the first listing
   * after a blind write): its marker vouches for them, but they are not its own, now or at any later listing.
   */
  private readonly disowned = new Set<string>();
  /** Batches whose outcome is unknown (a 5xx, a timeout): sent again as they were before anything else. */
  private uncertain: Change[][] = [];
  private zoneVerified = false;
  /** The zone check Route53 could not answer, put off to the next reconcile. */
  private zoneCheckDeferred = false;
  /** Set once the zone turned out not to be DOMAIN_NAME: nothing more is written. */
  private zoneMismatch: CompanionError | undefined;
  /** Route53 throttled or failed a request of this host since it started: it writes before listing. */
  private busy = false;
  /** Served names kept out of Route53: a record set this host did not write holds them, or DNS_MAX_NAMES. */
  private readonly leftOut: LeftOutNames;
  /**
   * A full listing is due: `first` before the first write while Route53 has room for it, `required` before
   * anything else is sent, `reconcile` when Route53 has room for it.
   */
  private listing: 'first' | 'required' | 'reconcile' | undefined;
  /** Other hosts' record sets whose lease lapsed, from the last listing, to delete. */
  private lapsed: Change[] = [];
  /** The fleet as the last listing showed it: hosts with a live marker, and the listing's pages. */
  private fleet = { hosts: 1, pages: 1 };
  /** The other hosts serving each name, from the last listing. */
  private peers: FleetPeers = NO_PEERS;
  private reconcileBackoff = 0;
  private readonly leaseMs: number;
  /** When the lease in `ctx` is due for renewal (ms). */
  private renewAtMs = 0;
  /** The lease of this host's markers as last written whole (unix s). */
  private writtenLeaseS: number | undefined;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The one serialiser of syncs: changes of the domains wait for its debounce, reconciles and retries run now. */
  private readonly syncs: Debouncer;
  lastSync: SyncReport | undefined;

  private readonly api: ZoneApi;
  private readonly options: RegistrarOptions;
  private readonly log: Logger;

  // Plain fields, not parameter properties: the benchmark loads this module with Node's type stripping.
  constructor(api: ZoneApi, options: RegistrarOptions, log: Logger) {
    this.api = api;
    this.options = options;
    this.log = log;
    this.ctx = {
      zone: options.zone,
      hostId: options.identity.id,
      hostIp: options.identity.ip,
      hostIpv6: options.identity.ipv6,
      ttl: options.ttl,
      mode: options.mode,
    };
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.sharedUnits = new Set((options.sharedOwners ?? []).map(unitHash));
    this.leftOut = new LeftOutNames(options.zone, options.maxNames ?? DEFAULT_MAX_NAMES, log);
    this.syncs = createDebouncer({ ...(options.debounce ?? { minMs: 5_000, maxMs: 60_000 }), run: () => this.syncAndRetry() });
  }

  /** Changes not yet in the zone; -1 while the outcome of a request is unknown. */
  get pendingChanges(): number {
    return this.uncertain.length > 0 ? -1 : this.plan().length;
  }

  status(): DnsStatus {
    return {
      enabled: true,
      domains: this.domains,
      mode: this.ctx.mode,
      ttl: this.ctx.ttl,
      identity: this.options.identity,
      lastSync: this.lastSync,
      pendingChanges: this.pendingChanges,
      ...(this.ctx.leaseExpiresS === undefined ? {} : { leaseExpiresAt: new Date(this.ctx.leaseExpiresS * 1000).toISOString() }),
      ...this.leftOut.status(),
      fleet: { hosts: peerHosts(this.peers), names: this.peers.size },
    };
  }

  fleetPeers(): FleetPeers {
    return this.peers;
  }

  start(): void {
    this.scheduleReconcile();
    this.syncs.now();
  }

  /**
   * `owners`: this host's owner of each domain (fleet-owners.ts `nameOwners`), named in its markers; it may
   * name more domains than `domains` (services other hosts cover now), whose owners only choose peers.
   */
  setDomains(domains: string[], owners: ReadonlyMap<string, NameOwner> = new Map()): void {
    const next = [...new Set(domains)].sort();
    const ownersOf = (list: string[], of: ReadonlyMap<string, NameOwner>) =>
      list.map((d) => `${d}=${of.get(d)?.unit ?? ''}/${of.get(d)?.project ?? ''}`).join();
    if (ownersOf(next, owners) === ownersOf(this.domains, this.owners)) return;
    this.domains = next;
    this.owners = owners;
    this.judgeOwners();
    // /status and the gauges follow the served names at once; Route53 follows after the debounce.
    this.leftOut.report(this.domains);
    this.syncs.trigger();
  }

  stop(): void {
    this.stopped = true;
    this.syncs.cancel();
    clearTimeout(this.retryTimer);
    clearTimeout(this.reconcileTimer);
    clearTimeout(this.renewTimer);
  }

  idle(): Promise<void> {
    return this.syncs.idle();
  }

  async deregister(): Promise<void> {
    this.stop();
    await this.idle();
    this.domains = [];
    this.leftOut.forgetRefusals();
    // No sync comes after this one to retry it: a few attempts here (the caller bounds the time they take).
    for (let attempt = 0; ; attempt++) {
      // Every record this host owns, also ones a previous process wrote and this one never knew of.
      this.listing = 'required';
      try {
        await this.sync();
        break;
      } catch (error) {
        if (attempt + 1 >= DEREGISTER_ATTEMPTS) throw error;
        await sleep(
          backoffDelay(attempt, { minMs: this.options.retryMinMs ?? 1_000, maxMs: this.options.retryMaxMs ?? 60_000, jitter: 1 }),
        );
      }
    }
    this.log.info({ hostId: this.ctx.hostId }, 'dns records of this host removed');
  }

  private scheduleReconcile(): void {
    clearTimeout(this.reconcileTimer);
    if (this.stopped) return;
    // A host alone in its zone reconciles at the interval it was given; a fleet's are stretched to its share.
    const { hosts, pages } = this.fleet;
    const fleetMs = hosts > 1 ? (hosts * pages * 1000) / LISTING_SHARE_PER_S : 0;
    const interval = Math.max(this.options.reconcileIntervalMs, fleetMs);
    // Jitter spreads a fleet's reconciles over the interval instead of lining them up.
    this.reconcileTimer = setTimeout(
      () => {
        this.listing ??= 'reconcile';
        this.zoneCheckDeferred = false;
        this.leftOut.forgetRefusals();
        this.syncs.now();
        this.scheduleReconcile();
      },
      jittered(interval * 2 ** this.reconcileBackoff, 0.25),
    );
  }

  /** One sync; a failed one is retried with backoff until one succeeds, so no change is ever dropped. */
  private async syncAndRetry(): Promise<void> {
    clearTimeout(this.retryTimer);
    try {
      await this.sync();
      this.failures = 0;
    } catch (thrown) {
      const error = asError(thrown);
      this.busy = true;
      // Full jitter: a fleet throttled together spreads its retries over the whole window. Throttled, the
      // window stops at 20 s: N hosts then try about 2N/20 times a second, twice the account's 5 for 50
      // hosts, 5 times for 250 (a throttled request takes none of the 5); longer leaves the budget idle.
      const maxMs = this.options.retryMaxMs ?? 60_000;
      const delay = backoffDelay(this.failures++, {
        minMs: this.options.retryMinMs ?? 1_000,
        maxMs: refusedUnapplied(error) ? Math.min(maxMs, THROTTLED_RETRY_MAX_MS) : maxMs,
        jitter: 1,
      });
      this.log.warn({ err: error, errorName: error.name, retryInMs: delay, failures: this.failures }, 'dns sync failed; will retry');
      if (!this.stopped) this.retryTimer = setTimeout(() => this.syncs.now(), delay);
    }
  }

  private desired(): RecordSet[] {
    const { markers } = nameClaims(this.owners, this.known, this.ctx.zone, Math.floor(this.now() / 1000));
    return desiredRecords(this.leftOut.registrable(this.domains), this.ctx, markers);
  }

  /**
   * Judges this host's names against the fleet's owners as last listed ({@link ownerConflicts}), and its
   * peers against its owners: at every listing, and when its names or their owners change.
   */
  private judgeOwners(): void {
    const nowS = Math.floor(this.now() / 1000);
    // `owners` also names services other hosts cover right now: they choose peers, never records.
    const registering = new Set(this.domains);
    const { mine } = nameClaims(new Map([...this.owners].filter(([d]) => registering.has(d))), this.known, this.ctx.zone, nowS);
    const ownerOf = new Map([...this.owners].map(([d, owner]) => [normaliseName(`${d}.${this.ctx.zone}`), owner]));
    // `simple` mode: the first writer already keeps a name (foreignConflicts), whoever its owner.
    this.leftOut.setOwnerConflicts(
      this.ctx.mode === 'multivalue'
        ? ownerConflicts(this.markers, mine, { hostId: this.ctx.hostId, shared: this.sharedUnits, nowS })
        : new Map(),
    );
    const peers = peersFrom(
      this.markers,
      {
        ...this.ctx,
        peerNetworks: this.options.peerNetworks,
        // Without owners (a caller before owners), any host as before; with them, a name of no owner has no peers.
        unitOf: this.owners.size > 0 ? (name) => mine.get(name)?.owner ?? ownerOf.get(name) : undefined,
      },
      nowS,
    );
    if (!samePeers(peers, this.peers)) {
      this.peers = peers;
      this.options.onFleetChanged?.();
    }
  }

  /** The changes from what this host owns to what it wants; before any listing, first writes are CREATEs. */
  private plan(): Change[] {
    const blind = this.listed ? undefined : (r: RecordSet) => !this.deletedBlind.has(recordKey(r));
    return diffRecords(this.desired(), this.known, blind);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private async sync(): Promise<void> {
    const report: SyncReport = { at: new Date().toISOString(), ok: false, upserts: 0, deletes: 0, requests: 0 };
    try {
      await this.verifyZone(report);
      const nowMs = this.now();
      // This host's own lease lapsed (Route53 out of reach for most of a lease): another host may have
      // removed its records, which it would otherwise believe in place.
      if (this.writtenLeaseS !== undefined && nowMs >= this.writtenLeaseS * 1000) this.listing = 'required';
      if (!this.listed && this.listing === undefined && !this.blind) {
        // Before the first write: list while Route53 has room (as a single host always finds it), else write blind.
        if (this.ctx.mode === 'simple' || !this.busy) this.listing = 'first';
        else {
          this.blind = true;
          this.log.info({ failures: this.failures }, 'route53 is busy: writing the records of this host before listing the zone');
        }
      }
      await this.settleUncertain(report);
      if (this.listing !== undefined) await this.list(report);
      this.renewLease(nowMs);
      this.leftOut.report(this.domains);
      if (!(await this.applyAll(this.plan(), report))) {
        // Refused before any listing: what is in the way is only known from a listing.
        await this.list(report);
        this.leftOut.report(this.domains);
        await this.applyAll(this.plan(), report);
      }
      if (!this.stopped) await this.removeLapsed(report);
      report.ok = true;
      this.writtenLeaseS = this.ctx.leaseExpiresS;
      if (report.upserts + report.deletes > 0) {
        this.log.info(
          { upserts: report.upserts, deletes: report.deletes, requests: report.requests, domains: this.domains.length },
          'dns records updated',
        );
      }
    } catch (error) {
      report.error = (error as Error).message;
      throw error;
    } finally {
      this.lastSync = report;
    }
  }

  /**
   * GetHostedZone, once per process: again only when Route53 could not answer it, and then with the next
   * reconcile (multivalue mode), not with every retry of a sync.
   */
  private async verifyZone(report: SyncReport): Promise<void> {
    if (this.zoneMismatch) throw this.zoneMismatch;
    if (this.zoneVerified || this.zoneCheckDeferred) return;
    let name: string;
    try {
      name = await this.api.zoneName();
    } catch (thrown) {
      const error = asError(thrown);
      if (this.ctx.mode === 'simple' || !transient(error)) throw error;
      this.zoneCheckDeferred = true;
      this.busy = true;
      this.log.info({ errorName: error.name }, 'hosted zone check put off to the next reconcile: route53 is busy');
      return;
    }
    if (name !== this.ctx.zone) {
      this.zoneMismatch = new CompanionError(
        `hosted zone is ${name}, but DOMAIN_NAME is ${this.ctx.zone}: set DOMAIN_NAME=${name}, or HOSTED_ZONE_ID to the id of the ${this.ctx.zone} zone`,
      );
      // Written before the check could answer: records of this host in a zone that is not DOMAIN_NAME.
      const written = this.known.filter((r) => r.name.endsWith(`.${name}`));
      if (written.length > 0) {
        this.log.error({ zone: name, records: written.length }, 'hosted zone is not DOMAIN_NAME: deleting what this host wrote there');
        await this.applyAll(diffRecords([], written), report).catch(() => undefined);
        this.known = [];
      }
      throw this.zoneMismatch;
    }
    this.zoneVerified = true;
    const { hostId, hostIp, hostIpv6, mode } = this.ctx;
    this.log.info({ zone: name, hostId, hostIp, hostIpv6, mode }, 'hosted zone verified');
  }

  /** Sets a new lease when none is set or the current one is a third gone, and wakes a sync for the next renewal. */
  private renewLease(nowMs: number): void {
    if (this.leaseMs <= 0 || (this.ctx.leaseExpiresS !== undefined && nowMs < this.renewAtMs)) return;
    this.ctx.leaseExpiresS = Math.ceil((nowMs + this.leaseMs) / 1000);
    const renewInMs = jittered(this.leaseMs / 3, 0.1);
    this.renewAtMs = nowMs + renewInMs;
    clearTimeout(this.renewTimer);
    if (!this.stopped) this.renewTimer = setTimeout(() => this.syncs.now(), renewInMs);
  }

  /**
   * A full listing: what this host owns, what holds names it serves, how big the fleet is, and whose lease
   * lapsed. A reconcile that Route53 throttles is put off (a listing is never worth more than a change);
   * a required one fails the sync.
   */
  private async list(report: SyncReport): Promise<void> {
    const reason = this.listing ?? 'required';
    this.listing = undefined;
    let zone: RecordSet[];
    try {
      zone = await this.api.listRecords();
    } catch (thrown) {
      const error = asError(thrown);
      if (reason === 'reconcile' && refusedUnapplied(error)) {
        this.reconcileBackoff = Math.min(this.reconcileBackoff + 1, Math.log2(MAX_RECONCILE_BACKOFF));
        this.log.info({ errorName: error.name, backoff: 2 ** this.reconcileBackoff }, 'dns reconcile put off: route53 is busy');
        this.scheduleReconcile();
        return;
      }
      // A first listing Route53 throttled is decided again: in multivalue mode, the host then writes first.
      this.listing = reason === 'first' && refusedUnapplied(error) ? undefined : reason;
      throw error;
    }
    report.requests += Math.max(1, Math.ceil(zone.length / LIST_PAGE_SIZE));
    this.reconcileBackoff = 0;
    const nowS = Math.floor(this.now() / 1000);
    if (this.markersCreatedBlind.size > 0) {
      // Where this host CREATEd the marker, no marker of its own vouched for anything before: a record at
      // its SetIdentifier there that it did not write is someone else's, and a conflict like any other.
      const written = new Set(this.known.map(recordKey));
      for (const r of ownedRecords(zone, this.ctx)) {
        if (r.type !== 'TXT' && this.markersCreatedBlind.has(r.name) && !written.has(recordKey(r))) this.disowned.add(recordKey(r));
      }
    }
    this.known = ownedRecords(zone, this.ctx).filter((r) => !this.disowned.has(recordKey(r)));
    this.listed = true;
    this.blind = false;
    this.deletedBlind.clear();
    this.markersCreatedBlind.clear();
    // Re-evaluated at every full listing: a hand-made record deleted since frees its name.
    this.leftOut.setListed(foreignConflicts(zone, this.known, this.ctx));
    const lapsed = lapsedRecords(zone, this.ctx, nowS);
    this.lapsed = diffRecords(
      [],
      [...lapsed.values()].flatMap((l) => l.records),
    );
    for (const [owner, { expiresS, records }] of lapsed) {
      this.log.info(
        { owner, expiredAt: new Date(expiresS * 1000).toISOString(), names: new Set(records.map((r) => baseName(r.name))).size },
        'dns lease of another host lapsed; removing its records',
      );
    }
    this.fleet = { hosts: Math.max(1, liveOwners(zone, nowS).size), pages: Math.max(1, Math.ceil(zone.length / LIST_PAGE_SIZE)) };
    this.markers = liveMarkers(zone, this.ctx, nowS);
    this.judgeOwners();
    // The next reconcile is an interval after this listing, stretched for the fleet it showed.
    this.scheduleReconcile();
  }

  /** Sends the batches left uncertain by a failed request, as they were; a refusal means the zone must be listed. */
  private async settleUncertain(report: SyncReport): Promise<void> {
    for (let batch = this.uncertain[0]; batch !== undefined; batch = this.uncertain[0]) {
      if (this.listing !== undefined) {
        // The listing about to be taken shows the outcome.
        this.uncertain = [];
        return;
      }
      report.requests++;
      try {
        await this.api.applyChanges(batch);
      } catch (error) {
        if ((error as Error).name !== 'InvalidChangeBatch') throw error;
        this.uncertain = [];
        this.listing = 'required';
        return;
      }
      this.uncertain.shift();
      this.applied(batch, report);
    }
  }

  /** Sends the changes in batches within Route53's limits; false when a refusal before any listing calls for one. */
  private async applyAll(changes: Change[], report: SyncReport): Promise<boolean> {
    for (const batch of splitIntoBatches(changes)) {
      if (!(await this.applyIsolating(batch, report))) return false;
    }
    return true;
  }

  /**
   * Sends one batch. Route53 applies a batch all or nothing, so one refused name (InvalidChangeBatch)
   * would block every other: split the batch until the refused name stands alone, then set it aside.
   * Before any listing a refusal is no conflict yet (it may be this host's own records of an earlier run):
   * false, to list and plan again.
   */
  private async applyIsolating(batch: Change[], report: SyncReport): Promise<boolean> {
    report.requests++;
    try {
      await this.api.applyChanges(batch);
    } catch (thrown) {
      const error = asError(thrown);
      if (error.name !== 'InvalidChangeBatch') {
        if (!refusedUnapplied(error)) this.uncertain.push(batch);
        throw error;
      }
      if (!this.listed) {
        this.log.info({ reason: error.message }, 'route53 refused a write made before listing the zone; listing it');
        return false;
      }
      const groups = groupByName(batch);
      if (groups.length === 1) {
        // Most likely a record set made since the listing, in the way of our CREATE: a conflict like any other.
        const name = baseName(batch[0]?.record.name ?? '');
        this.leftOut.refuse(name, `route53 refused it: ${error.message}`);
        this.listing = 'required';
        this.log.error(
          { name, reason: error.message },
          'route53 refused the records for this name; left out until the next full reconcile',
        );
        return true;
      }
      const half = Math.ceil(groups.length / 2);
      return (
        (await this.applyIsolating(groups.slice(0, half).flat(), report)) && (await this.applyIsolating(groups.slice(half).flat(), report))
      );
    }
    this.applied(batch, report);
    return true;
  }

  /** What a batch Route53 accepted changes in what this host knows it owns. */
  private applied(batch: Change[], report: SyncReport): void {
    for (const change of batch) {
      if (change.action === 'DELETE') report.deletes++;
      else report.upserts++;
      if (change.action !== 'DELETE') this.disowned.delete(recordKey(change.record));
      if (this.listed) continue;
      if (change.action === 'DELETE') this.deletedBlind.add(recordKey(change.record));
      else if (change.action === 'CREATE' && change.record.type === 'TXT') this.markersCreatedBlind.add(baseName(change.record.name));
    }
    this.known = applyChanges(this.known, batch);
  }

  /**
   * Deletes other hosts' records whose lease lapsed, with the values the listing showed: Route53 refuses a
   * DELETE that does not match exactly, so a host that renewed since keeps its records. A refused batch is
   * split until the refused name stands alone, which is dropped (renewed, or removed by another host first).
   */
  private async removeLapsed(report: SyncReport): Promise<void> {
    const lapsed = this.lapsed;
    this.lapsed = [];
    const send = async (batch: Change[]): Promise<void> => {
      report.requests++;
      try {
        await this.api.applyChanges(batch);
        report.deletes += batch.length;
      } catch (thrown) {
        const error = asError(thrown);
        if (error.name !== 'InvalidChangeBatch') {
          // Throttled: again at the next sync. Otherwise the next listing shows what is left.
          if (refusedUnapplied(error)) this.lapsed.push(...batch);
          throw error;
        }
        const groups = groupByName(batch);
        if (groups.length === 1) {
          this.log.info({ name: baseName(batch[0]?.record.name ?? ''), reason: error.message }, 'lapsed records not removed: they changed');
          return;
        }
        const half = Math.ceil(groups.length / 2);
        await send(groups.slice(0, half).flat());
        await send(groups.slice(half).flat());
      }
    };
    const batches = splitIntoBatches(lapsed);
    for (const [i, batch] of batches.entries()) {
      try {
        await send(batch);
      } catch (error) {
        if (refusedUnapplied(asError(error))) this.lapsed.push(...batches.slice(i + 1).flat());
        throw error;
      }
    }
  }
}
