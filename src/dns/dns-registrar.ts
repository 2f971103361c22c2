/**
 * Keeps this host's records in the zone equal to the domains it serves. It runs beside the proxy,
 * never in its way: the supervisor hands it the domain list and moves on. Each sync diffs the desired
 * records against the records this host owns and sends the difference in as few requests as Route53
 * allows; a failed sync is retried with backoff until it succeeds, so no change is ever dropped.
 */
import { createDebouncer, type Debouncer } from '../debounce.js';
import { asError, CompanionError } from '../errors.js';
import { backoffDelay, jittered } from '../lib/backoff.js';
import type { Logger } from '../log.js';
import type { DnsHalf, DnsStatus, SyncReport } from './dns-half.js';
import type { HostIdentity } from './host-identity.js';
import { LeftOutNames } from './left-out-names.js';
import {
  applyChanges,
  baseName,
  type Change,
  DEFAULT_MAX_NAMES,
  desiredRecords,
  diffRecords,
  foreignConflicts,
  groupByName,
  ownedRecords,
  type RecordContext,
  type RecordMode,
  type RecordSet,
  splitIntoBatches,
} from './records.js';
import type { ZoneApi } from './route53-zone.js';

export interface RegistrarOptions {
  zone: string;
  ttl: number;
  mode: RecordMode;
  identity: HostIdentity;
  /** Full list-and-diff interval, repairing drift such as a record deleted by hand. */
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
}

export class DnsRegistrar implements DnsHalf {
  private readonly ctx: RecordContext;
  private domains: string[] = [];
  /** Records this host owns, as last listed and since updated by our own changes; undefined: list first. */
  private known: RecordSet[] | undefined;
  private zoneVerified = false;
  /** Served names kept out of Route53: a record set this host did not write holds them, or DNS_MAX_NAMES. */
  private readonly leftOut: LeftOutNames;
  private forceList = true;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The one serialiser of syncs: changes of the domains wait for its debounce, reconciles and retries run now. */
  private readonly syncs: Debouncer;
  lastSync: SyncReport | undefined;

  constructor(
    private readonly api: ZoneApi,
    private readonly options: RegistrarOptions,
    private readonly log: Logger,
  ) {
    this.ctx = {
      zone: options.zone,
      hostId: options.identity.id,
      hostIp: options.identity.ip,
      hostIpv6: options.identity.ipv6,
      ttl: options.ttl,
      mode: options.mode,
    };
    this.leftOut = new LeftOutNames(options.zone, options.maxNames ?? DEFAULT_MAX_NAMES, log);
    this.syncs = createDebouncer({ ...(options.debounce ?? { minMs: 5_000, maxMs: 60_000 }), run: () => this.syncAndRetry() });
  }

  get pendingChanges(): number {
    return this.known === undefined ? -1 : diffRecords(this.desired(), this.known).length;
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
      ...this.leftOut.status(),
    };
  }

  start(): void {
    const tick = () => {
      // Jitter spreads a fleet's reconciles over the interval instead of lining them up.
      this.reconcileTimer = setTimeout(
        () => {
          this.forceList = true;
          this.leftOut.forgetRefusals();
          this.syncs.now();
          tick();
        },
        jittered(this.options.reconcileIntervalMs, 0.25),
      );
    };
    tick();
    this.syncs.now();
  }

  setDomains(domains: string[]): void {
    const next = [...new Set(domains)].sort();
    if (next.join() === this.domains.join()) return;
    this.domains = next;
    // /status and the gauges follow the served names at once; Route53 follows after the debounce.
    this.leftOut.report(this.domains);
    this.syncs.trigger();
  }

  stop(): void {
    this.stopped = true;
    this.syncs.cancel();
    clearTimeout(this.retryTimer);
    clearTimeout(this.reconcileTimer);
  }

  idle(): Promise<void> {
    return this.syncs.idle();
  }

  async deregister(): Promise<void> {
    this.stop();
    await this.idle();
    this.domains = [];
    this.forceList = true;
    this.leftOut.forgetRefusals();
    await this.sync();
    this.log.info({ hostId: this.ctx.hostId }, 'dns records of this host removed');
  }

  /** One sync; a failed one is retried with backoff until one succeeds, so no change is ever dropped. */
  private async syncAndRetry(): Promise<void> {
    clearTimeout(this.retryTimer);
    try {
      await this.sync();
      this.failures = 0;
    } catch (thrown) {
      const error = asError(thrown);
      const delay = backoffDelay(this.failures++, { minMs: this.options.retryMinMs ?? 1_000, maxMs: this.options.retryMaxMs ?? 60_000 });
      this.log.warn({ err: error, errorName: error.name, retryInMs: delay, failures: this.failures }, 'dns sync failed; will retry');
      if (!this.stopped) this.retryTimer = setTimeout(() => this.syncs.now(), delay);
    }
  }

  private desired(): RecordSet[] {
    return desiredRecords(this.leftOut.registrable(this.domains), this.ctx);
  }

  private async sync(): Promise<void> {
    const report: SyncReport = { at: new Date().toISOString(), ok: false, upserts: 0, deletes: 0, requests: 0 };
    try {
      if (!this.zoneVerified) {
        const name = await this.api.zoneName();
        if (name !== this.ctx.zone) {
          throw new CompanionError(
            `hosted zone is ${name}, but DOMAIN_NAME is ${this.ctx.zone}: set DOMAIN_NAME=${name}, or HOSTED_ZONE_ID to the id of the ${this.ctx.zone} zone`,
          );
        }
        this.zoneVerified = true;
        const { hostId, hostIp, hostIpv6, mode } = this.ctx;
        this.log.info({ zone: name, hostId, hostIp, hostIpv6, mode }, 'hosted zone verified');
      }
      if (this.forceList || this.known === undefined) {
        this.forceList = false;
        const zone = await this.api.listRecords();
        this.known = ownedRecords(zone, this.ctx);
        // Re-evaluated at every full listing: a hand-made record deleted since frees its name.
        this.leftOut.setListed(foreignConflicts(zone, this.known, this.ctx));
        report.requests++;
      }
      this.leftOut.report(this.domains);
      const changes = diffRecords(this.desired(), this.known);
      for (const batch of splitIntoBatches(changes)) await this.applyIsolating(batch, report);
      report.ok = true;
      if (report.upserts + report.deletes > 0) {
        this.log.info(
          { upserts: report.upserts, deletes: report.deletes, requests: report.requests, domains: this.domains.length },
          'dns records updated',
        );
      }
    } catch (error) {
      // The outcome of a failed request is unknown (a 5xx may still have applied): list again next time.
      this.known = undefined;
      report.error = (error as Error).message;
      throw error;
    } finally {
      this.lastSync = report;
    }
  }

  /**
   * Sends one batch. Route53 applies a batch all or nothing, so one refused name (InvalidChangeBatch)
   * would block every other: split the batch until the refused name stands alone, then set it aside.
   */
  private async applyIsolating(batch: Change[], report: SyncReport): Promise<void> {
    report.requests++;
    try {
      await this.api.applyChanges(batch);
    } catch (error) {
      if ((error as Error).name !== 'InvalidChangeBatch') throw error;
      const groups = groupByName(batch);
      if (groups.length === 1) {
        // Most likely a record set made since the listing, in the way of our CREATE: a conflict like any other.
        const name = baseName(batch[0]?.record.name ?? '');
        this.leftOut.refuse(name, `route53 refused it: ${(error as Error).message}`);
        this.known = undefined;
        this.forceList = true;
        this.log.error(
          { name, reason: (error as Error).message },
          'route53 refused the records for this name; left out until the next full reconcile',
        );
        return;
      }
      const half = Math.ceil(groups.length / 2);
      await this.applyIsolating(groups.slice(0, half).flat(), report);
      await this.applyIsolating(groups.slice(half).flat(), report);
      return;
    }
    for (const change of batch) {
      if (change.action === 'DELETE') report.deletes++;
      else report.upserts++;
    }
    if (this.known) this.known = applyChanges(this.known, batch);
  }
}
