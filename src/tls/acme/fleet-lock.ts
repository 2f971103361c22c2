/**
 * Which host of the fleet orders the certificate: the one holding `_hc-acme-lock.<zone>`, a TXT record in
 * the zone every host can already write. Taking it is a compare-and-swap that Route53 itself arbitrates:
 * one change batch deletes the exact value read and creates the taker's, and Route53 refuses the whole
 * batch when the value is no longer the one read (a DELETE must match exactly), so of hosts racing for
 * the same value one wins. The holder writes when its lease ends; a holder that dies is replaced once its
 * lease has run out. A new holder confirms, after a short settle, that the record still holds its value
 * before it orders (the first CREATE of the record is the one step that is not a compare-and-swap on
 * emulators that let a CREATE overwrite).
 *
 * The lock only saves the fleet's ACME rate limits (Let's Encrypt: 5 identical certificates a week); two
 * holders at once would cost one more order, never a wrong certificate.
 */
import { randomBytes } from 'node:crypto';
import type { Change, RecordSet } from '../../dns/records.js';
import type { ZoneApi } from '../../dns/route53-zone.js';
import { sleep } from '../../lib/sleep.js';

export const LOCK_PREFIX = '_hc-acme-lock.';

export interface LockState {
  holder: string;
  /** Unix milliseconds. */
  expiresAt: number;
}

export interface FleetLockOptions {
  zone: Pick<ZoneApi, 'recordsAt' | 'applyChanges'>;
  zoneName: string;
  hostId: string;
  leaseMs: number;
  /** How long a new holder waits before it confirms it still holds the lock. */
  settleMs?: number;
  now?: () => number;
}

const TTL = 60;

export class FleetLock {
  private readonly name: string;
  private readonly now: () => number;
  /** The value this host last wrote, while it holds the lock. */
  private mine: string | undefined;

  constructor(private readonly options: FleetLockOptions) {
    this.name = `${LOCK_PREFIX}${options.zoneName}`;
    this.now = options.now ?? Date.now;
  }

  /** Who holds the lock now, if anyone does (an expired lease is no holder). */
  async holder(): Promise<LockState | undefined> {
    const state = parseLock((await this.read())?.values[0]);
    return state && state.expiresAt > this.now() ? state : undefined;
  }

  /** true when this host now holds the lock for a whole lease. */
  async acquire(): Promise<boolean> {
    let current = await this.read();
    if (current === undefined) {
      // The record's first value. Route53 refuses a CREATE over an existing record (someone was first: read again).
      await this.options.zone.applyChanges([{ action: 'CREATE', record: this.record(this.free()) }]).catch(() => undefined);
      current = await this.read();
      if (current === undefined) return false;
    }
    const state = parseLock(current.values[0]);
    if (state && state.expiresAt > this.now() && state.holder !== this.options.hostId) return false;
    if (!(await this.swap(current, this.claim()))) return false;
    await sleep(this.options.settleMs ?? 2_000);
    const confirmed = (await this.read())?.values[0] === this.mine;
    if (!confirmed) this.mine = undefined;
    return confirmed;
  }

  /** Extends the lease; false when the lock is no longer this host's. */
  async renew(): Promise<boolean> {
    const current = await this.read();
    if (this.mine === undefined || current?.values[0] !== this.mine) return false;
    return this.swap(current, this.claim());
  }

  /** Frees the lock if this host still holds it. */
  async release(): Promise<void> {
    const current = await this.read();
    if (this.mine !== undefined && current?.values[0] === this.mine) await this.swap(current, this.free());
    this.mine = undefined;
  }

  /**
   * A free lock says since when, and who freed it: every value written is new, as a compare-and-swap
   * needs (moto, for one, refuses to CREATE a value it created at that name before).
   */
  private free(): string {
    return `"free since=${this.now()} by=${this.options.hostId} n=${nonce()}"`;
  }

  private claim(): string {
    return `"holder=${this.options.hostId} expires=${this.now() + this.options.leaseMs} n=${nonce()}"`;
  }

  /** The compare-and-swap: false when the record no longer holds what was read. */
  private async swap(current: RecordSet, value: string): Promise<boolean> {
    const changes: Change[] = [
      { action: 'DELETE', record: current },
      { action: 'CREATE', record: this.record(value) },
    ];
    try {
      await this.options.zone.applyChanges(changes);
    } catch {
      return false;
    }
    this.mine = parseLock(value) ? value : undefined;
    return true;
  }

  private record(value: string): RecordSet {
    return { name: this.name, type: 'TXT', ttl: TTL, values: [value] };
  }

  private async read(): Promise<RecordSet | undefined> {
    const records = await this.options.zone.recordsAt(this.name);
    return records.find((r) => r.type === 'TXT' && r.setIdentifier === undefined);
  }
}

function nonce(): string {
  return randomBytes(4).toString('hex');
}

/** `"holder=<id> expires=<ms> n=<nonce>"`; anything else (`"free …"`, a stranger's value) holds nothing. */
export function parseLock(value: string | undefined): LockState | undefined {
  const match = /^"holder=(\S+) expires=(\d+)(?: n=[0-9a-f]+)?"$/.exec(value ?? '');
  return match ? { holder: match[1] as string, expiresAt: Number(match[2]) } : undefined;
}
