/**
 * The certificates HTTPS serves: the operator's (TLS_CERTS_DIR), read at start and again whenever the
 * directory changes (certbot renewing, a secret mounted anew, a file copied in), and the fleet's ACME
 * certificate (acme/acme-issuer.ts) as the certificate `_acme`. Each change asks for a pass, which
 * installs what changed through the runtime API. A directory that cannot be read keeps the certificates
 * last read, so HTTPS never goes down because a volume was briefly away.
 */
import chokidar from 'chokidar';
import type { CertificateCheck } from '../haproxy/certificate-check.js';
import { compare } from '../lib/compare.js';
import type { Logger } from '../log.js';
import { metrics } from '../metrics.js';
import type { AcmeStatus } from './acme/acme-issuer.js';
import { type CertificateSet, type RefusedCertificate, readCertificateDir } from './cert-dir.js';
import { type Certificate, parseCertificate } from './certificate.js';

/** A certificate as /status shows it: no key, no PEM. */
export interface CertificateStatus {
  name: string;
  hostnames: string[];
  notAfter: string;
  daysLeft: number;
  fingerprint: string;
}

export interface TlsStatus {
  port: number;
  /** The fleet's ACME certificate: its store, state, last error. */
  acme?: AcmeStatus;
  certificates: CertificateStatus[];
  refused: RefusedCertificate[];
  /** The default certificate's name, or why there is none. */
  defaultCertificate: string | null;
  /** The last read of the directory failed: the certificates above are from the read before. */
  readError?: string;
}

/** The ACME certificate's name: a directory's names never start with `_` (cert-dir.ts). */
export const ACME_CERTIFICATE = '_acme';

export class CertificateSource {
  private set: CertificateSet = { certificates: [], refused: [] };
  private acme: Certificate | undefined;
  private merged: Certificate[] = [];
  private readError: string | undefined;
  /** Reads run one after the other: a burst of file events never has two reads racing. */
  private reading: Promise<void> = Promise.resolve();
  private watcher: ReturnType<typeof chokidar.watch> | undefined;

  /** HAProxy's verdict on each certificate (its PEM) read last: undefined, it loads it; else why not. */
  private verdicts = new Map<string, string | undefined>();

  constructor(
    /** Absent: ACME's certificate alone. */
    private readonly dir: string | undefined,
    private readonly log: Logger,
    /** Whether HAProxy itself loads them (haproxy/certificate-check.ts); absent: not asked. */
    private readonly check?: CertificateCheck,
  ) {}

  /** Sorted by name; the same array until something changes (a pass compares by content anyway). */
  get certificates(): Certificate[] {
    return this.merged;
  }

  /** The fleet's ACME certificate, or a reason it cannot be served (logged). */
  setAcme(certificate: { certificate: string; privateKey: string }): void {
    const parsed = parseCertificate(ACME_CERTIFICATE, [certificate.certificate, certificate.privateKey]);
    if (!parsed.ok) {
      this.log.error({ reason: parsed.reason }, 'the certificate from the ACME store cannot be served');
      return;
    }
    this.acme = parsed.certificate;
    this.log.info(
      { certificate: ACME_CERTIFICATE, hostnames: this.acme.hostnames, notAfter: this.acme.notAfter.toISOString() },
      'certificate read',
    );
    this.merge();
  }

  /** Reads the directory again; never throws. */
  load(): Promise<void> {
    if (this.dir === undefined) return Promise.resolve();
    this.reading = this.reading.then(() => this.read(this.dir as string));
    return this.reading;
  }

  /** Calls `changed` after each read that a change in the directory caused. */
  watch(changed: () => void): void {
    if (this.dir === undefined) return;
    // awaitWriteFinish: a file is read once it stopped growing, never half-copied.
    this.watcher = chokidar.watch(this.dir, {
      ignoreInitial: true,
      depth: 1,
      awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 },
    });
    this.watcher.on('all', () => void this.load().then(changed));
    this.watcher.on('error', (error) => this.log.warn({ err: error }, 'certificate directory watcher error'));
  }

  async close(): Promise<void> {
    await this.watcher?.close();
  }

  status(port: number, defaultName: string | undefined, acme?: AcmeStatus, now = Date.now()): TlsStatus {
    const byName = (name: string) => this.merged.find((c) => c.name === name);
    return {
      port,
      ...(acme && { acme }),
      certificates: this.merged.map((c) => ({
        name: c.name,
        hostnames: c.hostnames,
        notAfter: c.notAfter.toISOString(),
        daysLeft: Math.floor((c.notAfter.getTime() - now) / 86_400_000),
        fingerprint: c.fingerprint,
      })),
      refused: this.set.refused,
      defaultCertificate: defaultName !== undefined && byName(defaultName) ? defaultName : null,
      ...(this.readError !== undefined && { readError: this.readError }),
    };
  }

  private merge(): void {
    this.merged = [...this.set.certificates, ...(this.acme ? [this.acme] : [])].sort((a, b) => compare(a.name, b.name));
    metrics.certificateNotAfter.reset();
    for (const c of this.merged) metrics.certificateNotAfter.set({ certificate: c.name }, Math.floor(c.notAfter.getTime() / 1000));
  }

  /**
   * `set` without the certificates HAProxy refuses, which join the refused ones with its reason: one of them
   * would fail every configuration that holds it. Each PEM is asked about once; a check that cannot run
   * (no HAProxy binary) refuses nothing.
   */
  private async loadable(set: CertificateSet): Promise<CertificateSet> {
    if (!this.check) return set;
    const unknown = set.certificates.filter((c) => !this.verdicts.has(c.pem));
    const answers = await (unknown.length === 0 ? Promise.resolve([]) : this.check(unknown.map((c) => c.pem))).catch((error: unknown) => {
      this.log.warn({ err: error }, 'cannot ask HAProxy about the certificates; serving them unchecked');
      return undefined;
    });
    const verdicts = new Map(set.certificates.map((c) => [c.pem, this.verdicts.get(c.pem)]));
    if (answers) for (const [i, c] of unknown.entries()) verdicts.set(c.pem, answers[i]);
    this.verdicts = answers ? verdicts : this.verdicts;
    const refused = set.certificates.filter((c) => verdicts.get(c.pem) !== undefined);
    if (refused.length === 0) return set;
    return {
      certificates: set.certificates.filter((c) => verdicts.get(c.pem) === undefined),
      refused: [...set.refused, ...refused.map((c) => ({ name: c.name, reason: `HAProxy refuses it: ${verdicts.get(c.pem)}` }))].sort(
        (a, b) => compare(a.name, b.name),
      ),
    };
  }

  private async read(dir: string): Promise<void> {
    let next: CertificateSet;
    try {
      next = await readCertificateDir(dir);
    } catch (error) {
      const message = `${(error as NodeJS.ErrnoException).code ?? ''} ${(error as Error).message}`.trim();
      if (this.readError !== message)
        this.log.warn({ dir, err: error }, 'cannot read the certificate directory; keeping the certificates read before');
      this.readError = message;
      return;
    }
    this.readError = undefined;
    next = keepServed(this.set, await this.loadable(next));
    const before = new Map(this.set.refused.map((r) => [r.name, r.reason]));
    for (const refused of next.refused) {
      if (before.get(refused.name) !== refused.reason)
        this.log.warn({ certificate: refused.name, reason: refused.reason }, 'certificate refused');
    }
    const known = new Map(this.set.certificates.map((c) => [c.name, c.fingerprint]));
    for (const c of next.certificates) {
      if (known.get(c.name) !== c.fingerprint) {
        this.log.info({ certificate: c.name, hostnames: c.hostnames.slice(0, 10), notAfter: c.notAfter.toISOString() }, 'certificate read');
      }
    }
    this.set = next;
    this.merge();
    metrics.certificatesRefused.set(next.refused.length);
  }
}

/**
 * A certificate that was served and now reads as refused keeps being served: a renewal caught half-way
 * (certbot repoints `fullchain.pem` and `privkey.pem` one after the other; a `.crt` copied before its
 * `.key`) or a broken copy must not take HTTPS down for its names. Its refusal is still reported. One
 * that is gone from the directory goes (the operator removed it).
 */
export function keepServed(previous: CertificateSet, next: CertificateSet): CertificateSet {
  const served = new Map(previous.certificates.map((c) => [c.name, c]));
  const read = new Set(next.certificates.map((c) => c.name));
  const kept = next.refused.flatMap((r) => {
    const certificate = served.get(r.name);
    return certificate && !read.has(r.name) ? [certificate] : [];
  });
  if (kept.length === 0) return next;
  const keptNames = new Set(kept.map((c) => c.name));
  return {
    certificates: [...next.certificates, ...kept].sort((a, b) => compare(a.name, b.name)),
    refused: next.refused.map((r) => (keptNames.has(r.name) ? { ...r, reason: `${r.reason}; serving the one read before` } : r)),
  };
}
