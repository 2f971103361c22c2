/**
 * One pass: snapshot containers -> services -> haproxy.cfg -> apply when the text changed.
 * Events, timers and template edits only call {@link Supervisor.trigger}; every pass rebuilds the
 * whole picture, so a missed event cannot leave stale state.
 */
import { mkdir } from 'node:fs/promises';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { ContainerInfo } from './model/container.js';
import { buildServices, placementOf, type Service, type ServiceModel, type SkippedContainer } from './model/services.js';
import { renderFiles, type Renderer, type RenderedFiles } from './render/render-config.js';
import { freshLayout, keepLayout, type BackendLayout } from './model/backend-pool.js';
import { runtimePaths, type RuntimePaths } from './haproxy/paths.js';
import { createDebouncer, type Debouncer } from './debounce.js';
import { installConfig, reloadHaproxy, restoreConfig } from './haproxy/config-applier.js';
import { planRuntimeUpdate, RuntimeUpdater, type RuntimePlan } from './haproxy/runtime-update.js';
import { sendCliCommand } from './haproxy/cli-socket.js';
import { HaproxyProcess } from './haproxy/haproxy-process.js';
import { CompanionError, ConfigInvalidError, ReloadFailedError } from './errors.js';
import { metrics } from './metrics.js';
import { explainDockerError } from './docker/docker-source.js';

/** The outcome of the last pass that tried to change what HAProxy runs. */
export interface ApplyReport {
  at: string;
  ok: boolean;
  how?: 'started' | 'runtime' | 'reloaded';
  durationMs: number;
  error?: string;
  haproxy?: string[];
}

export interface SupervisorDeps {
  config: Config;
  log: Logger;
  renderer: Renderer;
  snapshot: () => Promise<ContainerInfo[]>;
  selfId: string | undefined;
  /** Called when HAProxy cannot be kept running, so the process can exit non-zero. */
  onFatal: (error: Error) => void;
  /** Called after every pass whose services HAProxy now serves (applied, or unchanged): DNS follows it. */
  onServing?: (model: ServiceModel) => void;
}

const EMPTY_MODEL: ServiceModel = { services: [], skipped: [] };
/** HAProxy restarts allowed within {@link RESTART_WINDOW_MS} before giving up (and letting Docker restart us). */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const RETRY_AFTER_FAILURE_MS = 2_000;

/** What one pass would install, the backend layout it was rendered with, and how it can be applied without a reload. */
interface Candidate {
  installed: RenderedFiles;
  layout: BackendLayout;
  services: Service[];
  plan?: RuntimePlan;
}

const sameRenderedFiles = (a: RenderedFiles | undefined, b: RenderedFiles) => a !== undefined && a.config === b.config && a.hostsMap === b.hostsMap;

export class Supervisor {
  readonly paths: RuntimePaths;
  private readonly debouncer: Debouncer;
  private readonly haproxy: HaproxyProcess;
  private readonly runtime: RuntimeUpdater;
  private model: ServiceModel = EMPTY_MODEL;
  /** What HAProxy runs (and the files on disk say), with the backend layout it was rendered with. */
  private applied: Candidate | undefined;
  /** The last candidate that failed, so an unchanged broken template is not re-validated and re-logged every pass. */
  private failed: RenderedFiles | undefined;
  private skippedReasons = new Map<string, string>();
  private restarts: number[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastStartError: Error | undefined;
  lastApply: ApplyReport | undefined;

  constructor(private readonly deps: SupervisorDeps) {
    this.paths = runtimePaths(deps.config.runtimeDir);
    this.haproxy = new HaproxyProcess(deps.config.haproxyBin, this.paths, deps.log.child({ component: 'haproxy' }));
    this.runtime = new RuntimeUpdater(
      (command) => sendCliCommand(this.paths.adminSocket, command, 5_000),
      this.paths.hostsMap,
      (error) => deps.log.warn({ err: error.message }, 'removing a drained server failed'),
    );
    // Leading edge: a lone change is applied at once; the rest of a burst waits for the debounce.
    this.debouncer = createDebouncer({ ...deps.config.debounce, leading: true, run: () => this.pass() });
  }

  /** The services of the last pass, each with the backend HAProxy serves it from. */
  get services(): ServiceModel {
    const backendOf = new Map(this.applied?.services.map((s) => [s.domain, s.backend]));
    return { ...this.model, services: this.model.services.map((s) => ({ ...s, backend: backendOf.get(s.domain) ?? s.backend })) };
  }

  get haproxyRunning(): boolean {
    return this.haproxy.running;
  }

  get drainingServers(): string[] {
    return this.runtime.drainingServers;
  }

  /** Renders the first config from the first snapshot (or no services if Docker is not there yet) and starts HAProxy. */
  async start(): Promise<void> {
    await mkdir(this.deps.config.runtimeDir, { recursive: true });
    await this.pass();
    if (this.applied === undefined) {
      // Nothing is serving yet, so there is no running config to keep: fail loudly with the reason.
      throw this.lastStartError ?? new CompanionError('no configuration could be rendered');
    }
  }

  trigger(reason: string): void {
    if (this.stopped) return;
    this.deps.log.debug({ reason }, 'pass requested');
    this.debouncer.trigger();
  }

  idle(): Promise<void> {
    return this.debouncer.idle();
  }

  /** Also re-renders when the services did not change: the template itself may have. */
  async forcePass(reason: string): Promise<void> {
    this.deps.log.info({ reason }, 'full re-render requested');
    this.failed = undefined;
    this.trigger(reason);
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.debouncer.cancel();
    clearTimeout(this.retryTimer);
    this.runtime.reset();
    await this.debouncer.idle();
    await this.haproxy.stop(graceMs);
  }

  private async pass(): Promise<void> {
    const { log } = this.deps;
    const started = performance.now();
    // Where a pass spends its time, in the log line of every apply: Docker, rendering, writing the files
    // (with `haproxy -c` unless the runtime API applies the change), HAProxy.
    const phases: Record<string, number> = {};
    let last = started;
    const lap = (phase: string) => {
      const now = performance.now();
      phases[phase] = Math.round(now - last);
      last = now;
    };
    let containers: ContainerInfo[] | undefined;
    try {
      containers = await this.deps.snapshot();
    } catch (error) {
      // Keep routing with the last known picture; the event stream's reconnect will trigger a resync.
      log.warn({ err: explainDockerError(error as Error) }, 'cannot list containers; keeping current routes');
      this.scheduleRetry();
      if (this.applied !== undefined) return;
    }
    lap('snapshotMs');
    if (containers) this.model = buildServices(containers, placementOf(containers, this.deps.selfId), { zone: this.deps.config.zone });
    this.reportSkipped(this.model.skipped);
    metrics.services.set(this.model.services.length);
    metrics.servers.set(this.model.services.reduce((n, s) => n + s.servers.length, 0));
    metrics.skipped.set(this.model.skipped.length);

    let next: Candidate;
    try {
      next = this.candidate(this.model.services);
    } catch (error) {
      this.recordFailure(error as Error, started, 'template failed to render; running configuration kept');
      return;
    }
    lap('renderMs');
    if (sameRenderedFiles(this.applied?.installed, next.installed)) {
      this.deps.onServing?.(this.services);
      return;
    }
    if (sameRenderedFiles(this.failed, next.installed)) return;

    try {
      // Spawning `haproxy -c` costs 20-130 ms depending on the machine: not worth it for a change the
      // runtime API applies, which checks it itself (a refusal falls back to a reload, validated in full).
      const viaRuntime = next.plan !== undefined && this.haproxy.running;
      const previous = await installConfig(this.applierOptions, next.installed, { check: !viaRuntime });
      lap('checkMs');
      const how = await this.activate(next, previous, viaRuntime);
      lap('applyMs');
      const durationMs = performance.now() - started;
      log.info({ ...this.summary(durationMs), how, phases }, how === 'runtime' ? 'servers updated at runtime' : `haproxy ${how}`);
      this.lastApply = { at: new Date().toISOString(), ok: true, how, durationMs: Math.round(durationMs) };
      metrics.passDuration.observe(durationMs / 1000);
      this.applied = next;
      this.failed = undefined;
      this.deps.onServing?.(this.services);
    } catch (error) {
      // HAProxy's verdict on a text does not change, so it is not retried until the text does; anything
      // else (a full disk, an unwritable directory, a reload that timed out) may pass next time.
      if (error instanceof ConfigInvalidError || error instanceof ReloadFailedError) this.failed = next.installed;
      else this.scheduleRetry();
      this.recordFailure(error as Error, started, 'configuration rejected; running configuration kept');
    }
  }

  /**
   * Renders `services` in the running backends when they have room and nothing but servers and host
   * map entries change, so the runtime API can apply it; else in a fresh layout, for a reload.
   */
  private candidate(services: Service[]): Candidate {
    const render = (layout: BackendLayout): Candidate => {
      const { files, services: placed } = renderFiles(this.deps.renderer, services, layout, this.deps.config, this.paths);
      return { installed: files, layout, services: placed };
    };
    const kept = this.applied && this.haproxy.running ? keepLayout(services, this.applied.layout) : undefined;
    if (kept && this.applied) {
      const candidate = render(kept);
      const plan = planRuntimeUpdate(this.applied.installed, candidate.installed);
      if (plan) return { ...candidate, plan };
    }
    return render(freshLayout(services));
  }

  /** Logs a failed pass with HAProxy's own lines when there are some, and keeps it for /status. */
  private recordFailure(error: Error, started: number, message: string): void {
    this.lastStartError = error;
    const details = (error as { details?: string[] }).details;
    const haproxy = details ? { haproxy: details } : {};
    this.lastApply = { at: new Date().toISOString(), ok: false, durationMs: Math.round(performance.now() - started), error: error.message, ...haproxy };
    metrics.rejectedConfigs.inc();
    this.deps.log.error({ err: error.message, ...haproxy }, message);
  }

  private get applierOptions() {
    return { bin: this.deps.config.haproxyBin, ...this.paths };
  }

  /**
   * Makes HAProxy run the installed `next`: through the runtime API when only servers and host map
   * entries changed, else (or when the runtime API refuses) by a reload; the first time, by starting it.
   * If the reload fails, `previous` goes back on disk.
   */
  private async activate(next: Candidate, previous: RenderedFiles | undefined, viaRuntime: boolean): Promise<'started' | 'runtime' | 'reloaded'> {
    if (!this.haproxy.running) {
      this.runtime.reset();
      this.haproxy.start((code) => this.onHaproxyExit(code));
      metrics.haproxyStarts.inc();
      return 'started';
    }
    if (viaRuntime && next.plan) {
      try {
        await this.runtime.apply(next.plan);
        metrics.runtimeUpdates.inc();
        return 'runtime';
      } catch (error) {
        this.deps.log.warn({ err: (error as Error).message }, 'runtime update failed; reloading instead');
      }
    }
    try {
      this.runtime.reset();
      await reloadHaproxy(this.paths.masterSocket);
    } catch (error) {
      await restoreConfig(this.applierOptions, previous);
      // Part of a refused runtime change may have gone through: reload the previous files, so what runs is what they say.
      if (viaRuntime) await reloadHaproxy(this.paths.masterSocket).catch(() => undefined);
      throw error;
    }
    metrics.reloads.inc();
    return 'reloaded';
  }

  /** Logs a skipped container once per reason, not on every pass. */
  private reportSkipped(skipped: SkippedContainer[]): void {
    const current = new Map<string, string>();
    for (const entry of skipped) {
      current.set(entry.containerId, entry.reason);
      if (this.skippedReasons.get(entry.containerId) !== entry.reason) {
        this.deps.log.warn(
          { container: entry.containerName, containerId: entry.containerId.slice(0, 12), domain: entry.domain, reason: entry.reason },
          'container skipped',
        );
      }
    }
    this.skippedReasons = current;
  }

  private summary(durationMs: number) {
    return {
      services: this.model.services.length,
      servers: this.model.services.reduce((n, s) => n + s.servers.length, 0),
      skipped: this.model.skipped.length,
      durationMs: Math.round(durationMs),
    };
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.trigger('retry-after-failure');
    }, RETRY_AFTER_FAILURE_MS);
  }

  private onHaproxyExit(code: number | undefined): void {
    if (this.stopped) return;
    const now = Date.now();
    this.restarts = [...this.restarts.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (this.restarts.length > MAX_RESTARTS) {
      this.deps.onFatal(new CompanionError(`haproxy exited ${this.restarts.length} times within a minute (last exit code ${code})`));
      return;
    }
    const delay = 250 * 2 ** (this.restarts.length - 1);
    this.deps.log.warn({ restartInMs: delay, attempt: this.restarts.length }, 'restarting haproxy with the last good configuration');
    setTimeout(() => {
      if (this.stopped || this.haproxy.running) return;
      this.runtime.reset();
      this.haproxy.start((c) => this.onHaproxyExit(c));
      metrics.haproxyStarts.inc();
    }, delay);
  }
}
