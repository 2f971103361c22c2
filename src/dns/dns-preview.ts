import type { Logger } from '../log.js';
import type { DnsHalf, DnsStatus } from './dns-half.js';
import { type FleetPeers, NO_PEERS } from './fleet-peers.js';

/** DNS registration off (no HOSTED_ZONE_ID): say once, then log what would have changed. */
export class DnsPreview implements DnsHalf {
  private domains: string[] = [];

  constructor(
    private readonly zone: string,
    private readonly log: Logger,
  ) {}

  status(): DnsStatus {
    return { enabled: false, domains: this.domains };
  }

  start(): void {
    this.log.info('HOSTED_ZONE_ID is not set: DNS registration is off; the records it would change are logged');
  }

  setDomains(domains: string[]): void {
    const next = [...new Set(domains)].sort();
    // Sets, not includes(): linear however many names a host serves.
    const before = new Set(this.domains);
    const after = new Set(next);
    const add = next.filter((d) => !before.has(d)).map((d) => `${d}.${this.zone}`);
    const remove = this.domains.filter((d) => !after.has(d)).map((d) => `${d}.${this.zone}`);
    this.domains = next;
    if (add.length + remove.length > 0) this.log.info({ register: add, deregister: remove }, 'dns registration off; would change records');
  }

  /** Without Route53 there is no fleet to know of. */
  fleetPeers(): FleetPeers {
    return NO_PEERS;
  }

  async deregister(): Promise<void> {}
  stop(): void {}
  async idle(): Promise<void> {}
}
