/**
 * The fleet's ACME certificate, on every host: each host reads the store on a timer and serves what is
 * there; when the certificate is missing, does not cover the names, or is within ACME_RENEW_BEFORE_DAYS
 * of its end, the hosts race for the fleet lock (fleet-lock.ts) and its one winner orders a new one
 * (acme-orderer.ts), writes it to the store and serves it; the others pick it up from the store at their
 * next look, sooner while they wait for it. Any failure (ACME rate limit, DNS not in sync, store or
 * Route53 unreachable) leaves HTTP and the current certificate as they are and is retried with backoff;
 * `/status` and `/metrics` show it.
 */
import { X509Certificate } from 'node:crypto';
import { backoffDelay, jittered } from '../../lib/backoff.js';
import type { Logger } from '../../log.js';
import { metrics } from '../../metrics.js';
import { subjectAltDnsNames } from '../certificate.js';
import type { Orderer, OrderRequest } from './acme-orderer.js';
import type { CertStore, StoredCertificate } from './cert-store.js';
import type { ChallengeRecords } from './challenge-records.js';
import type { FleetLock } from './fleet-lock.js';

export interface AcmeSettings {
  email: string;
  directoryUrl: string;
  /** Fully qualified: `*.example.com`, `example.com`. */
  names: string[];
  hostId: string;
  renewBeforeMs: number;
  /** How often a host looks at the store when nothing is due. */
  checkIntervalMs: number;
  /** How often while another host orders, or after a failure (the first retry; it doubles up to checkIntervalMs). */
  retryMs: number;
  ca?: string | undefined;
}

export interface AcmePorts {
  store: CertStore;
  lock: Pick<FleetLock, 'acquire' | 'release' | 'holder' | 'renew'>;
  /** How often the lock's lease is renewed while this host orders; default a third of ACME's 10-minute lease. */
  renewLockEveryMs?: number;
  challenges: Pick<ChallengeRecords, 'add' | 'remove'>;
  order: Orderer;
  log: Logger;
  now?: () => number;
}

export type AcmeState = 'starting' | 'current' | 'ordering' | 'waiting-for-issuer' | 'failing';

export interface AcmeStatus {
  store: string;
  names: string[];
  state: AcmeState;
  /** The host ordering, while another one does. */
  issuer?: string;
  certificate?: { notAfter: string; issuedBy: string; issuedAt: string };
  lastCheck?: string;
  nextCheck?: string;
  lastError?: string;
  consecutiveFailures: number;
}

export type CheckOutcome = 'current' | 'ordered' | 'waiting';

export class AcmeIssuer {
  private state: AcmeState = 'starting';
  private served: StoredCertificate | undefined;
  private issuer: string | undefined;
  private lastCheck: number | undefined;
  private nextCheck: number | undefined;
  private lastError: string | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly settings: AcmeSettings,
    private readonly ports: AcmePorts,
    /** Called with each certificate this host should serve (from the store, or just ordered). */
    private readonly onCertificate: (certificate: StoredCertificate) => void,
  ) {
    this.now = ports.now ?? Date.now;
  }

  /** Checks now, then on its own timer until {@link stop}. */
  start(): void {
    void this.runAndSchedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  status(): AcmeStatus {
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    return {
      store: this.ports.store.description,
      names: this.settings.names,
      state: this.state,
      ...(this.issuer !== undefined && { issuer: this.issuer }),
      ...(this.served && {
        certificate: { notAfter: this.served.notAfter, issuedBy: this.served.issuedBy, issuedAt: this.served.issuedAt },
      }),
      ...(this.lastCheck !== undefined && { lastCheck: iso(this.lastCheck) }),
      ...(this.nextCheck !== undefined && { nextCheck: iso(this.nextCheck) }),
      ...(this.lastError !== undefined && { lastError: this.lastError }),
      consecutiveFailures: this.failures,
    };
  }

  /** One look at the store, and an order if one is due and this host wins the lock. Throws on failure. */
  async check(): Promise<CheckOutcome> {
    this.lastCheck = this.now();
    const contents = await this.ports.store.read();
    if (contents.certificate && this.covers(contents.certificate)) this.serve(contents.certificate);
    if (!this.due(contents.certificate)) {
      this.state = 'current';
      this.issuer = undefined;
      return 'current';
    }
    if (!(await this.ports.lock.acquire())) {
      this.state = 'waiting-for-issuer';
      this.issuer = (await this.ports.lock.holder().catch(() => undefined))?.holder;
      return 'waiting';
    }
    try {
      // Another host may have finished between this host's look and its lock.
      const again = await this.ports.store.read();
      if (again.certificate && !this.due(again.certificate)) {
        this.serve(again.certificate);
        this.state = 'current';
        return 'current';
      }
      this.state = 'ordering';
      this.issuer = this.settings.hostId;
      this.ports.log.info({ names: this.settings.names, directory: this.settings.directoryUrl }, 'ordering the fleet certificate');
      const request: OrderRequest = {
        directoryUrl: this.settings.directoryUrl,
        email: this.settings.email,
        accountKey: again.accountKey,
        names: this.settings.names,
        challenges: this.ports.challenges,
        ca: this.settings.ca,
      };
      let result: Awaited<ReturnType<Orderer>>;
      // An order can outlast the lease (DNS slow to sync): keep it, so no second host orders meanwhile.
      const renewal = setInterval(
        () => void this.ports.lock.renew().catch((error: unknown) => this.ports.log.warn({ err: error }, 'renewing the ACME lock failed')),
        this.ports.renewLockEveryMs ?? 200_000,
      );
      try {
        result = await this.ports.order(request);
      } catch (error) {
        metrics.acmeOrders.inc({ outcome: 'failed' });
        throw error;
      } finally {
        clearInterval(renewal);
      }
      const leaf = new X509Certificate(result.certificate);
      const issuedFor = subjectAltDnsNames(leaf);
      const missing = this.settings.names.filter((name) => !issuedFor.includes(name));
      if (missing.length > 0) {
        metrics.acmeOrders.inc({ outcome: 'failed' });
        throw new Error(
          `the ACME server issued a certificate without ${missing.join(', ')} (it names ${issuedFor.join(', ')}); not stored`,
        );
      }
      metrics.acmeOrders.inc({ outcome: 'issued' });
      const stored: StoredCertificate = {
        certificate: result.certificate,
        privateKey: result.privateKey,
        names: issuedFor,
        notAfter: new Date(leaf.validTo).toISOString(),
        issuedBy: this.settings.hostId,
        issuedAt: new Date(this.now()).toISOString(),
      };
      await this.ports.store.write({ accountKey: result.accountKey, certificate: stored });
      this.ports.log.info(
        { names: stored.names, notAfter: stored.notAfter, store: this.ports.store.description },
        'fleet certificate issued and stored',
      );
      this.serve(stored);
      this.state = 'current';
      this.issuer = undefined;
      return 'ordered';
    } finally {
      await this.ports.lock.release().catch((error: unknown) => this.ports.log.warn({ err: error }, 'releasing the ACME lock failed'));
    }
  }

  private async runAndSchedule(): Promise<void> {
    if (this.stopped) return;
    let delay: number;
    try {
      const outcome = await this.check();
      this.failures = 0;
      this.lastError = undefined;
      delay = outcome === 'waiting' ? jittered(this.settings.retryMs, 0.25) : jittered(this.settings.checkIntervalMs, 0.25);
    } catch (error) {
      this.failures++;
      this.state = 'failing';
      this.lastError = (error as Error).message;
      delay = backoffDelay(this.failures - 1, { minMs: this.settings.retryMs, maxMs: this.settings.checkIntervalMs });
      this.ports.log.warn(
        { err: error, attempt: this.failures, retryInMs: delay },
        'fleet certificate check failed; serving what there is, retrying',
      );
    }
    metrics.acmeFailures.set(this.failures);
    this.nextCheck = this.now() + delay;
    if (!this.stopped) this.timer = setTimeout(() => void this.runAndSchedule(), delay);
  }

  private covers(certificate: StoredCertificate): boolean {
    return this.settings.names.every((name) => certificate.names.includes(name));
  }

  private due(certificate: StoredCertificate | undefined): boolean {
    if (certificate === undefined || !this.covers(certificate)) return true;
    return Date.parse(certificate.notAfter) - this.now() < this.settings.renewBeforeMs;
  }

  private serve(certificate: StoredCertificate): void {
    if (this.served?.certificate === certificate.certificate) return;
    this.served = certificate;
    this.onCertificate(certificate);
  }
}

/** The names to order: ACME_DOMAINS, or the zone's wildcard and the zone itself. */
export function acmeNames(zone: string, domains: string[] | undefined): string[] {
  return domains && domains.length > 0 ? domains : [`*.${zone}`, zone];
}
