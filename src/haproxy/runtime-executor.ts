/**
 * Applies runtime plans (runtime-plan.ts) on the admin socket of the running worker. Host names stop
 * routing before their servers go, and start routing once their servers are in. A removed server goes
 * to maintenance at once (no new requests) and is deleted once HAProxy lets it go: HAProxy refuses to
 * delete a server that still has connections, so until then it waits here, draining, and a sweep
 * retries. A server re-added while it drains (a container restarted under the same name) is simply made
 * ready again.
 *
 * Every conversation with the admin socket goes through one {@link SerialQueue}, shared with the
 * controller's reloads: a sweep's `del server` can never interleave with an apply that re-adds the
 * server, nor reach a worker started by a reload it did not see. {@link RuntimeExecutor.apply} and
 * {@link RuntimeExecutor.reset} are called from inside that queue; the sweep queues itself.
 */
import { CompanionError, RuntimeApiError } from '../errors.js';
import type { SerialQueue } from '../lib/serial-queue.js';
import type { RuntimePlan, ServerLine } from './runtime-plan.js';

export type CliSender = (command: string) => Promise<string>;

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
    /** The map's file name, as the config names it: the runtime API knows a map by it. */
    private readonly hostsMapPath: string,
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

  /** Throws on any refusal; the caller then reloads, which always works. */
  async apply(plan: RuntimePlan): Promise<void> {
    for (const host of plan.deleteHosts) await this.expect(`del map ${this.hostsMapPath} ${host}`, /^$/);
    for (const server of plan.remove) {
      const id = `${server.backend}/${server.name}`;
      await this.expect(`set server ${id} state maint`, /^$/);
      if (!(await this.tryDelete(id))) this.draining.set(id, { server, since: Date.now() });
    }
    for (const server of plan.add) await this.addServer(server);
    for (const [host, backend] of plan.changeHosts) await this.expect(`set map ${this.hostsMapPath} ${host} ${backend}`, /^$/);
    for (const [host, backend] of plan.addHosts) await this.expect(`add map ${this.hostsMapPath} ${host} ${backend}`, /^$/);
    if (this.draining.size > 0 && !this.sweeper) {
      this.sweeper = setInterval(() => this.queueSweep(), SWEEP_INTERVAL_MS);
      this.sweeper.unref();
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
