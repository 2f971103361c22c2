/**
 * The operator's certificates (TLS_CERTS_DIR), read at start and again whenever the directory changes
 * (certbot renewing, a secret mounted anew, a file copied in): each change asks for a pass, which installs
 * what changed through the runtime API. A directory that cannot be read keeps the certificates last read,
 * so HTTPS never goes down because a volume was briefly away.
 */
import chokidar from 'chokidar';
import type { Logger } from '../log.js';
import { metrics } from '../metrics.js';
import { type CertificateSet, type RefusedCertificate, readCertificateDir } from './cert-dir.js';
import type { Certificate } from './certificate.js';

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
  certificates: CertificateStatus[];
  refused: RefusedCertificate[];
  /** The default certificate's name, or why there is none. */
  defaultCertificate: string | null;
  /** The last read of the directory failed: the certificates above are from the read before. */
  readError?: string;
}

export class CertificateSource {
  private set: CertificateSet = { certificates: [], refused: [] };
  private readError: string | undefined;
  /** Reads run one after the other: a burst of file events never has two reads racing. */
  private reading: Promise<void> = Promise.resolve();
  private watcher: ReturnType<typeof chokidar.watch> | undefined;

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  get certificates(): Certificate[] {
    return this.set.certificates;
  }

  /** Reads the directory again; never throws. */
  load(): Promise<void> {
    this.reading = this.reading.then(() => this.read());
    return this.reading;
  }

  /** Calls `changed` after each read that a change in the directory caused. */
  watch(changed: () => void): void {
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

  status(port: number, defaultName: string | undefined, now = Date.now()): TlsStatus {
    const byName = (name: string) => this.set.certificates.find((c) => c.name === name);
    return {
      port,
      certificates: this.set.certificates.map((c) => ({
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

  private async read(): Promise<void> {
    let next: CertificateSet;
    try {
      next = await readCertificateDir(this.dir);
    } catch (error) {
      const message = `${(error as NodeJS.ErrnoException).code ?? ''} ${(error as Error).message}`.trim();
      if (this.readError !== message)
        this.log.warn({ dir: this.dir, err: error }, 'cannot read the certificate directory; keeping the certificates read before');
      this.readError = message;
      return;
    }
    this.readError = undefined;
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
    metrics.certificateNotAfter.reset();
    for (const c of next.certificates) metrics.certificateNotAfter.set({ certificate: c.name }, Math.floor(c.notAfter.getTime() / 1000));
    metrics.certificatesRefused.set(next.refused.length);
  }
}
