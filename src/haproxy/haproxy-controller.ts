/**
 * HAProxy behind one port: the supervisor hands it a {@link Candidate} and learns how it was applied.
 * It owns everything that touches HAProxy: the files on disk, the master process (first start, restart
 * after a crash within a budget), the runtime API, reloads, and putting the previous files back when a
 * reload is refused. Its operations run one at a time (one queue, shared with the runtime executor's
 * drain sweep), so no two conversations with HAProxy ever interleave.
 */
import { CompanionError } from '../errors.js';
import { SerialQueue } from '../lib/serial-queue.js';
import { sleep } from '../lib/sleep.js';
import type { Logger } from '../log.js';
import { metrics } from '../metrics.js';
import type { Candidate } from '../render/candidate.js';
import type { RenderedFiles } from '../render/render-config.js';
import { sendCliCommand } from './cli-socket.js';
import { ConfigFiles } from './config-files.js';
import { type HaproxyMaster, type HaproxyOutput, HaproxyProcess } from './haproxy-process.js';
import type { RuntimePaths } from './paths.js';
import { RestartBudget } from './restart-budget.js';
import { RuntimeExecutor } from './runtime-executor.js';
import type { RuntimePlan } from './runtime-plan.js';
import { type HaproxyStats, parseShowStat } from './show-stat.js';

export type ApplyHow = 'started' | 'runtime' | 'reloaded';

const WORKER_READY_MS = 10_000;
const WORKER_POLL_MS = 25;

export interface ApplyOutcome {
  how: ApplyHow;
  /** Writing the files, with `haproxy -c` unless the runtime API applies the change (then after it). */
  checkMs: number;
  /** Starting, updating or reloading HAProxy. */
  applyMs: number;
}

/** The supervisor's view of HAProxy. */
export interface HaproxyController {
  readonly running: boolean;
  /** `backend/server` of servers taken out of rotation and still finishing their connections. */
  readonly drainingServers: string[];
  /**
   * Makes HAProxy run `candidate`: through the runtime API when it has a runtime plan and HAProxy runs,
   * else (or when the runtime API refuses) by a reload; the first time, by starting it. Throws when the
   * candidate was refused, with the previous configuration still running and back on disk.
   */
  apply(candidate: Candidate): Promise<ApplyOutcome>;
  /** Servers' states and backends' traffic (`show stat`); empty when HAProxy does not answer. */
  stats(): Promise<HaproxyStats>;
  /** Soft stop: in-flight requests finish, for at most `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

/** The side effects the controller drives: its unit tests fake each. */
export interface ControllerPorts {
  master: HaproxyMaster;
  files: {
    install(files: RenderedFiles, options: { check: boolean }): Promise<RenderedFiles | undefined>;
    restore(previous: RenderedFiles | undefined): Promise<void>;
  };
  runtime: { apply(plan: RuntimePlan): Promise<void>; reset(): void; readonly drainingServers: string[] };
  /** One command on the admin socket, for `show stat`. */
  ask(command: string): Promise<string>;
  queue: SerialQueue;
  budget: RestartBudget;
  log: Logger;
  /** HAProxy cannot be kept running: the process should exit so Docker's restart policy takes over. */
  onFatal(error: Error): void;
}

export class Haproxy implements HaproxyController {
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ports: ControllerPorts) {}

  get running(): boolean {
    return this.ports.master.running;
  }

  get drainingServers(): string[] {
    return this.ports.runtime.drainingServers;
  }

  apply(candidate: Candidate): Promise<ApplyOutcome> {
    return this.ports.queue.run(async () => {
      const { runtimePlan } = candidate;
      const viaRuntime = runtimePlan !== undefined && this.running;
      if (viaRuntime) {
        let started = performance.now();
        if (await this.applyAtRuntime(runtimePlan)) {
          const applyMs = Math.round(performance.now() - started);
          // The change is live first: the files matter only to the next reload, so a synced write (5-20 ms
          // on a busy disk) is not what a new container waits for. No `haproxy -c` either: the runtime API
          // checked the server lines itself, and map entries are data.
          started = performance.now();
          await this.ports.files.install(candidate.files, { check: false });
          return { how: 'runtime', checkMs: Math.round(performance.now() - started), applyMs };
        }
      }
      let started = performance.now();
      const previous = await this.installChecked(candidate.files, viaRuntime);
      const checkMs = Math.round(performance.now() - started);
      started = performance.now();
      const how = await this.activate(previous, viaRuntime);
      return { how, checkMs, applyMs: Math.round(performance.now() - started) };
    });
  }

  /** false when the runtime API refused part of the plan: a reload follows. */
  private async applyAtRuntime(plan: RuntimePlan): Promise<boolean> {
    try {
      await this.ports.runtime.apply(plan);
      metrics.runtimeUpdates.inc();
      return true;
    } catch (error) {
      this.ports.log.warn({ err: error }, 'runtime update failed; reloading instead');
      return false;
    }
  }

  /** Writes the files, checked by `haproxy -c`; after a refused runtime change, a refusal here still reloads. */
  private async installChecked(files: RenderedFiles, afterRefusedRuntime: boolean): Promise<RenderedFiles | undefined> {
    try {
      return await this.ports.files.install(files, { check: true });
    } catch (error) {
      // Part of the refused runtime change may have gone through: reload the files in place, so what runs is what they say.
      if (afterRefusedRuntime) await this.ports.master.reload().catch(() => undefined);
      throw error;
    }
  }

  /** Read-only, so outside the queue: /status never waits for a reload. */
  async stats(): Promise<HaproxyStats> {
    if (!this.running) return parseShowStat('');
    return parseShowStat(await this.ports.ask('show stat').catch(() => ''));
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.ports.queue.run(async () => {
      this.ports.runtime.reset();
      await this.ports.master.stop(graceMs);
    });
  }

  private async activate(previous: RenderedFiles | undefined, afterRefusedRuntime: boolean): Promise<ApplyHow> {
    const { master, runtime, files } = this.ports;
    if (!master.running) {
      this.start();
      await this.workerReady();
      return 'started';
    }
    try {
      runtime.reset();
      await master.reload();
    } catch (error) {
      await files.restore(previous);
      // Part of a refused runtime change may have gone through: reload the previous files, so what runs is what they say.
      if (afterRefusedRuntime) await master.reload().catch(() => undefined);
      throw error;
    }
    metrics.reloads.inc();
    return 'reloaded';
  }

  /**
   * Until the worker answers on the admin socket, which it opens with its listeners: "started" then
   * means serving (a companion started beside another during an upgrade lets the old one go only then).
   * Bounded: a worker that is slow to come up is not waited for forever.
   */
  private async workerReady(): Promise<void> {
    const deadline = Date.now() + WORKER_READY_MS;
    while (this.ports.master.running && Date.now() < deadline) {
      const answered = await this.ports.ask('show info').then(
        () => true,
        () => false,
      );
      if (answered) return;
      await sleep(WORKER_POLL_MS);
    }
  }

  private start(): void {
    this.ports.runtime.reset();
    this.ports.master.start((code) => this.onExit(code));
    metrics.haproxyStarts.inc();
  }

  /** Restarts HAProxy with the last good configuration (the one on disk), within the restart budget. */
  private onExit(code: number | undefined): void {
    if (this.stopped) return;
    const { budget, log, queue } = this.ports;
    const delay = budget.exited(Date.now());
    if (delay === undefined) {
      this.ports.onFatal(new CompanionError(`haproxy exited ${budget.recentExits} times within a minute (last exit code ${code})`));
      return;
    }
    log.warn({ restartInMs: delay, attempt: budget.recentExits }, 'restarting haproxy with the last good configuration');
    this.restartTimer = setTimeout(
      () =>
        void queue.run(async () => {
          if (!this.stopped && !this.running) this.start();
        }),
      delay,
    );
  }
}

/** The controller for the real HAProxy: its master process, its files and sockets under `paths`. */
export function createHaproxyController(options: {
  bin: string;
  paths: RuntimePaths;
  log: Logger;
  onFatal: (error: Error) => void;
  /** Where HAProxy's stdout goes (the access log): see {@link HaproxyOutput}. */
  output?: HaproxyOutput;
  /** FLEET_CA_FILE: copied to `paths.fleetCa` before each check, which the configuration names instead. */
  fleetCaFile?: string | undefined;
}): Haproxy {
  const { bin, paths, log } = options;
  const queue = new SerialQueue();
  const ask = (command: string) => sendCliCommand(paths.adminSocket, command, 5_000);
  return new Haproxy({
    master: new HaproxyProcess(bin, paths, log.child({ component: 'haproxy' }), options.output),
    files: new ConfigFiles({
      bin,
      ...paths,
      fleetCa: options.fleetCaFile === undefined ? undefined : { from: options.fleetCaFile, to: paths.fleetCa },
    }),
    runtime: new RuntimeExecutor(ask, { hostsMap: paths.hostsMap, pathsMap: paths.pathsMap, certList: paths.certList }, queue, (error) =>
      log.warn({ err: error }, 'removing a drained server failed'),
    ),
    ask: (command) => sendCliCommand(paths.adminSocket, command, 1_000),
    queue,
    budget: new RestartBudget(),
    log,
    onFatal: options.onFatal,
  });
}
