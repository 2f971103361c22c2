/**
 * The served names this host leaves out of Route53, and why: a record set it did not write holds the
 * name (found in the last full listing, or Route53 refused our CREATE), the fleet serves it for another
 * owner (fleet-ownership.ts), or the name is beyond DNS_MAX_NAMES. The proxy still serves every one of
 * them. Each change is logged once, not at every sync, and counted in /metrics.
 */
import type { Logger } from '../log.js';
import { metrics } from '../metrics.js';
import { registrableDomains } from './records.js';

export interface LeftOutStatus {
  /** Name -> why a record set this host did not write keeps it out of Route53. */
  conflicts: Record<string, string>;
  /** Served names beyond DNS_MAX_NAMES (in sorted order), not registered. */
  overCap?: { limit: number; names: string[] };
}

export class LeftOutNames {
  /** From the last full listing; every name of the zone, served or not. */
  private listed: ReadonlyMap<string, string> = new Map();
  /** Names the fleet serves for another owner, as last judged. */
  private owners: ReadonlyMap<string, string> = new Map();
  /** Names Route53 refused, until the next periodic reconcile: a refusal the listing cannot explain is not retried at every sync. */
  private readonly refusals = new Map<string, string>();
  /** Served names in conflict as last logged. */
  private reported = new Map<string, string>();
  private overCap: string[] = [];

  private readonly zone: string;
  private readonly maxNames: number;
  private readonly log: Logger;

  // Plain fields, not parameter properties: the benchmark loads this module with Node's type stripping.
  constructor(zone: string, maxNames: number, log: Logger) {
    this.zone = zone;
    this.maxNames = maxNames;
    this.log = log;
  }

  /** After a full listing: the conflicts it shows replace the previous listing's. */
  setListed(conflicts: ReadonlyMap<string, string>): void {
    this.listed = conflicts;
  }

  /** The names the fleet serves for another owner, with the reason; replaces the previous judgement. */
  setOwnerConflicts(conflicts: ReadonlyMap<string, string>): void {
    this.owners = conflicts;
  }

  /** Route53 refused the name's records (e.g. a CREATE over a record set made since the listing). */
  refuse(name: string, reason: string): void {
    this.refusals.set(name, reason);
    this.reported.set(name, reason);
    metrics.dnsConflicts.set(this.reported.size);
  }

  /** The periodic reconcile, and deregistration, give refused names another chance. */
  forgetRefusals(): void {
    this.refusals.clear();
  }

  /** The served domains (sorted, distinct) to register: the first DNS_MAX_NAMES that no conflict holds. */
  registrable(domains: string[]): string[] {
    return registrableDomains(domains, this.conflicts(), this.zone, this.maxNames);
  }

  /** Brings the report up to date with the served domains: logs what changed since the last report, sets the gauges. */
  report(domains: string[]): void {
    const over = domains.slice(this.maxNames).map((d) => this.fqdn(d));
    if (over.length !== this.overCap.length && over.length > 0) {
      this.log.warn(
        { limit: this.maxNames, count: over.length, first: over[0] },
        'more served names than DNS_MAX_NAMES; the rest are served but not registered',
      );
    } else if (over.length === 0 && this.overCap.length > 0) {
      this.log.info({ limit: this.maxNames }, 'served names fit under DNS_MAX_NAMES again');
    }
    this.overCap = over;

    const conflicts = this.conflicts();
    const served = new Set<string>();
    const now = new Map<string, string>();
    for (const d of domains.slice(0, this.maxNames)) {
      const name = this.fqdn(d);
      served.add(name);
      const reason = conflicts.get(name);
      if (reason === undefined) continue;
      now.set(name, reason);
      if (this.reported.has(name)) continue;
      if (this.byOwner(name)) this.log.warn({ name, reason }, 'dns name left out of route53: the fleet serves it for another owner');
      else this.log.warn({ name, reason }, 'dns name left out of route53: a record this host did not write holds it');
    }
    for (const name of this.reported.keys()) {
      if (!now.has(name) && served.has(name)) this.log.info({ name }, 'dns name free again; registering it');
    }
    this.reported = now;
    metrics.dnsConflicts.set(now.size);
    metrics.dnsOwnerConflicts.set([...now.keys()].filter((name) => this.byOwner(name)).length);
    metrics.dnsNamesOverCap.set(over.length);
  }

  status(): LeftOutStatus {
    return {
      conflicts: Object.fromEntries(this.reported),
      overCap: this.overCap.length > 0 ? { limit: this.maxNames, names: this.overCap } : undefined,
    };
  }

  /** A record in the way says more than the fleet's owners: it is what the operator has to remove first. */
  private conflicts(): ReadonlyMap<string, string> {
    if (this.refusals.size === 0 && this.owners.size === 0) return this.listed;
    return new Map([...this.owners, ...this.listed, ...this.refusals]);
  }

  /** Left out for the fleet's owners alone, with no record in the way. */
  private byOwner(name: string): boolean {
    return this.owners.has(name) && !this.listed.has(name) && !this.refusals.has(name);
  }

  private fqdn(domain: string): string {
    return `${domain}.${this.zone}`;
  }
}
