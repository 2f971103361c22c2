/**
 * Applies runtime plans (runtime-plan.ts) on the admin socket of the running worker. Host names and
 * paths (the entries of both maps) stop routing before their servers go, and start routing once their
 * servers are in. A removed server goes to maintenance at once (no new requests) and is deleted once
 * HAProxy lets it go: HAProxy refuses to delete a server that still has connections, so until then it
 * waits here, draining, and a sweep retries. A server re-added while it drains (a container restarted
 * under the same name) is simply made ready again.
 *
 * Every conversation with the admin socket goes through one {@link SerialQueue}, shared with the
 * controller's reloads: a sweep's `del server` can never interleave with an apply that re-adds the
 * server, nor reach a worker started by a reload it did not see. {@link RuntimeExecutor.apply} and
 * {@link RuntimeExecutor.reset} are called from inside that queue; the sweep queues itself.
 */
import { CompanionError, RuntimeApiError } from '../errors.js';
import type { SerialQueue } from '../lib/serial-queue.js';
import type { CertificateChanges, MapChanges, RuntimePlan, ServerLine } from './runtime-plan.js';

export type CliSender = (command: string) => Promise<string>;

/** The maps' file names, as the config names them: the runtime API knows a map by its file name. */
export interface MapFiles {
  hostsMap: string;
  pathsMap: string;
  /** The crt-list of the HTTPS bind line, by the name the config gives it. */
  certList?: string;
}

/** How long a removed server may keep connections (in-flight requests, idle keep-alives) before they are cut. */
const DRAIN_LIMIT_MS = 30_000;
const SWEEP_INTERVAL_MS = 1_000;

export class RuntimeExecutor {
  private draining = new Map<string, { server: ServerLine; since: number }>();
  private sweeper: NodeJS.Timeout | undefined;
  /** A sweep waits in the queue: a blocked queue (a slow reload) must not pile up one per interval. */
  private sweepQueued = false;

  constructor(
    private readonly send: CliSender,
    private readonly maps: MapFiles,
    private readonly queue: SerialQueue,
    private readonly onSweepError: (error: Error) => void = () => undefined,
  ) {}

  /** After a reload or restart the new worker has none of the draining servers. */
  reset(): void {
    this.draining.clear();
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** `backend/server` of each server taken out of rotation and not yet deleted. */
  get drainingServers(): string[] {
    return [...this.draining.keys()];
  }

  /**
   * Throws on any refusal; the caller then reloads, which always works. A path's entry goes in before its
   * host's and out after it, so a request for the path never meets the host's entry alone (which routes
   * the host's other paths).
   */
  async apply(plan: RuntimePlan): Promise<void> {
    checkMapEntries(plan.hosts);
    checkMapEntries(plan.paths);
    // New and renewed certificates first: a name that starts routing below finds its certificate there.
    if (plan.certificates) await this.putCertificates(plan.certificates);
    await this.deleteEntries(this.maps.hostsMap, plan.hosts);
    await this.deleteEntries(this.maps.pathsMap, plan.paths);
    for (const server of plan.remove) {
      const id = `${server.backend}/${server.name}`;
      await this.expect(`set server ${id} state maint`, /^$/);
      if (!(await this.tryDelete(id))) this.draining.set(id, { server, since: Date.now() });
    }
    for (const server of plan.add) await this.addServer(server);
    await this.setEntries(this.maps.pathsMap, plan.paths);
    await this.setEntries(this.maps.hostsMap, plan.hosts);
    if (plan.certificates) await this.dropCertificates(plan.certificates.delete);
    if (this.draining.size > 0 && !this.sweeper) {
      this.sweeper = setInterval(() => this.queueSweep(), SWEEP_INTERVAL_MS);
      this.sweeper.unref();
    }
  }

  private async deleteEntries(map: string, changes: MapChanges): Promise<void> {
    for (const key of changes.delete) await this.expect(`del map ${map} ${key}`, /^$/);
  }

  private async setEntries(map: string, changes: MapChanges): Promise<void> {
    for (const [key, backend] of changes.change) await this.expect(`set map ${map} ${key} ${backend}`, /^$/);
    for (const [key, backend] of changes.add) await this.expect(`add map ${map} ${key} ${backend}`, /^$/);
  }

  /**
   * A certificate is replaced in one transaction (`set` then `commit ssl cert`): handshakes from then on
   * get the new one, connections already open keep theirs; a new one is made, filled and added to the
   * crt-list. A refused step aborts its transaction, and the caller reloads (which reads the files).
   */
  private async putCertificates(changes: CertificateChanges): Promise<void> {
    const list = this.maps.certList;
    if (list === undefined) throw new CompanionError('runtime API: no crt-list to add certificates to');
    checkCertificates(changes);
    for (const [file] of changes.add) await this.expect(`new ssl cert ${file}`, /^New empty certificate store/);
    for (const [file, pem] of [...changes.add, ...changes.change]) {
      await this.expect(`set ssl cert ${file} <<\n${pem.trimEnd()}\n`, /^Transaction (?:created|updated) for certificate/);
      const answer = (await this.send(`commit ssl cert ${file}`)).trim();
      if (!/Success!$/.test(answer)) {
        await this.send(`abort ssl cert ${file}`).catch(() => undefined);
        throw new RuntimeApiError(`commit ssl cert ${file}`, answer);
      }
    }
    for (const [file] of changes.add) await this.expect(`add ssl crt-list ${list} ${file}`, /Success!$/);
  }

  private async dropCertificates(files: string[]): Promise<void> {
    for (const file of files) {
      await this.expect(`del ssl crt-list ${this.maps.certList} ${file}`, /deleted/);
      await this.expect(`del ssl cert ${file}`, /deleted/);
    }
  }

  private async addServer(server: ServerLine): Promise<void> {
    const id = `${server.backend}/${server.name}`;
    const drained = this.draining.get(id);
    if (drained?.server.args === server.args) {
      this.draining.delete(id);
      await this.expect(`set server ${id} state ready`, /^$/);
      return;
    }
    if (drained) {
      await this.expect(`shutdown sessions server ${id}`, /^$/);
      if (!(await this.tryDelete(id))) throw new CompanionError(`runtime API: cannot delete ${id} to re-add it`);
      this.draining.delete(id);
    }
    await this.expect(`add server ${id} ${server.args}`, /^New server registered\.?$/);
    await this.expect(`enable server ${id}`, /^$/);
    if (/(^|\s)check(\s|$)/.test(server.args)) await this.expect(`enable health ${id}`, /^$/);
  }

  private queueSweep(): void {
    if (this.sweepQueued) return;
    this.sweepQueued = true;
    void this.queue
      .run(() => {
        this.sweepQueued = false;
        return this.sweep();
      })
      .catch(this.onSweepError);
  }

  /** Deletes what has drained; cuts what is still connected after {@link DRAIN_LIMIT_MS}. */
  private async sweep(): Promise<void> {
    for (const [id, { since }] of this.draining) {
      if (Date.now() - since > DRAIN_LIMIT_MS) await this.send(`shutdown sessions server ${id}`);
      if (await this.tryDelete(id)) this.draining.delete(id);
    }
    if (this.draining.size === 0) this.reset();
  }

  /** true when deleted (or already gone), false while connections remain. */
  private async tryDelete(id: string): Promise<boolean> {
    const answer = (await this.send(`del server ${id}`)).trim();
    if (/^Server deleted\.?$/.test(answer) || /^No such server/.test(answer)) return true;
    if (/connection|queue/i.test(answer)) return false;
    throw new RuntimeApiError(`del server ${id}`, answer);
  }

  private async expect(command: string, ok: RegExp): Promise<void> {
    const answer = (await this.send(command)).trim();
    if (!ok.test(answer)) throw new RuntimeApiError(command, answer);
  }
}

/** Blank, white space or a control character: anything that would not be one word of one CLI line. */
const NOT_ONE_WORD = /^$|[\s\p{Cc}]/u;

/**
 * The CLI splits a command on white space and ends it at a line break, so a key or backend that is not
 * one plain word would send another command than planned. The model lets none through; this holds the
 * line even so, before anything is sent, so a refused plan changes nothing (the caller reloads).
 */
function checkMapEntries(changes: MapChanges): void {
  const words = [...changes.add.flat(), ...changes.change.flat(), ...changes.delete];
  const bad = words.find((word) => NOT_ONE_WORD.test(word));
  if (bad !== undefined) {
    throw new CompanionError(`runtime API: map entry ${JSON.stringify(bad)} is not one word; not sent`, { retryable: false });
  }
}

/** A certificate's file is one word of the command line, and its PEM a payload without a blank line (its end). */
function checkCertificates(changes: CertificateChanges): void {
  for (const [file, pem] of [...changes.add, ...changes.change]) {
    if (NOT_ONE_WORD.test(file) || /\n\s*\n/.test(pem.trimEnd())) {
      throw new CompanionError(`runtime API: certificate ${JSON.stringify(file)} cannot be sent; not sent`, { retryable: false });
    }
  }
}
