/**
 * The pass loop: snapshot containers -> services -> candidate files -> HAProxy, when the files changed.
 * Events, timers and template edits only call {@link Supervisor.trigger}; every pass rebuilds the whole
 * picture, so a missed event cannot leave stale state. Each side effect sits behind a port (the
 * snapshot, the template, the HAProxy controller), so the loop is unit-tested with fakes.
 */
import { createDebouncer, type Debouncer } from './debounce.js';
import { explainDockerError } from './docker/docker-events.js';
import { asError, CompanionError, isRetryable } from './errors.js';
import type { HaproxyController } from './haproxy/haproxy-controller.js';
import type { Logger } from './log.js';
import { type BackendLayout, homeBackend, type PlacedService } from './model/backend-pool.js';
import type { ContainerInfo } from './model/container.js';
import { byServiceOrder, type Service, type ServiceModel, type SkippedContainer, withoutBusyTcpPorts } from './model/services.js';
import { PassRecorder } from './pass-recorder.js';
import { type Candidate, chooseCandidate, sameFiles } from './render/candidate.js';
import type { RenderedFiles, Renderer } from './render/render-config.js';

export interface SupervisorDeps {
  log: Logger;
  haproxy: HaproxyController;
  /** The running containers; throws when Docker cannot be reached. */
  snapshot: () => Promise<ContainerInfo[]>;
  /** Containers -> services: pure. */
  buildModel: (containers: ContainerInfo[]) => ServiceModel;
  /** Of these TCP ports (new ones, HAProxy does not hold them yet), those something else holds on the host. */
  busyPorts?: (ports: number[]) => Promise<Set<number>>;
  /** Reads and compiles the template: at the first pass and after {@link Supervisor.templateChanged}. */
  loadTemplate: () => Promise<Renderer>;
  render: (renderer: Renderer, services: Service[], layout: BackendLayout) => { files: RenderedFiles; services: PlacedService[] };
  debounce: { minMs: number; maxMs: number };
  /** After a failure that may pass next time (Docker unreachable, a busy disk), the pass runs again after this. */
  retryDelayMs?: number;
  /**
   * Called after every pass whose services HAProxy now serves (applied, or unchanged): DNS follows it.
   * `services`: the ones to be found by in DNS (not those other hosts cover); `all`: every service served.
   */
  onServing?: (services: Service[], all: Service[]) => void;
  /**
   * How long an HTTP service whose last container went (stopping, crashed, being replaced) keeps its
   * routes, with no server: requests for it wait for a new one (HOLD_REQUESTS_S) instead of meeting an
   * unknown host, and DNS does not drop and re-add its names. 0: it goes at once.
   */
  lingerMs?: number;
  /**
   * FLEET_FALLBACK: after the linger, a service that other hosts serve (`covered`) stays routed to them
   * this much longer, out of DNS: clients holding this host's address from a cached answer still arrive.
   */
  coverMs?: number;
  covered?: (service: Service) => boolean;
  now?: () => number;
}

const EMPTY_MODEL: ServiceModel = { services: [], skipped: [] };

export class Supervisor {
  readonly recorder: PassRecorder;
  private readonly debouncer: Debouncer;
  private model: ServiceModel = EMPTY_MODEL;
  private renderer: Renderer | undefined;
  /** Bumped by every template change: a load that a change overtook is not kept. */
  private templateVersion = 0;
  /** What HAProxy runs (and the files on disk say), with the backend layout it was rendered with. */
  private applied: Candidate | undefined;
  /** Files HAProxy refused: not offered again until the next pass renders something else. */
  private refused: RenderedFiles | undefined;
  private lastFailure: Error | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Services whose last container went, kept without servers until the time given. */
  private lingering = new Map<string, { service: Service; until: number; covering: boolean }>();
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: SupervisorDeps) {
    this.recorder = new PassRecorder(deps.log);
    // Leading edge: a lone change is applied at once; the rest of a burst waits for the debounce.
    this.debouncer = createDebouncer({ ...deps.debounce, leading: true, run: () => this.pass() });
  }

  /** The services of the last pass, each with the backend HAProxy serves it from. */
  get services(): PlacedService[] {
    const backendOf = new Map(this.applied?.services.map((s) => [s.key, s.backend]));
    return this.model.services.map((s) => ({ ...s, backend: backendOf.get(s.key) ?? homeBackend(s.key) }));
  }

  get skipped(): SkippedContainer[] {
    return this.model.skipped;
  }

  /** Runs the first pass: HAProxy starts with what Docker says now (or with no services if Docker is not there yet). */
  async start(): Promise<void> {
    await this.pass();
    // Nothing is serving yet, so there is no running config to keep: fail loudly with the reason.
    if (this.applied === undefined) throw this.lastFailure ?? new CompanionError('no configuration could be rendered');
  }

  trigger(reason: string): void {
    if (this.stopped) return;
    this.deps.log.debug({ reason }, 'pass requested');
    this.debouncer.trigger();
  }

  /**
   * A pass without waiting for the burst to end (right after the one running, if any): a container that
   * got its stop signal may already refuse connections, and every millisecond in rotation costs requests.
   */
  triggerNow(reason: string): void {
    if (this.stopped) return;
    this.deps.log.debug({ reason }, 'pass requested at once');
    this.debouncer.now();
  }

  /** The template changed on disk: read it again, and offer HAProxy what it renders even if refused before. */
  templateChanged(): void {
    this.deps.log.info({ reason: 'template-changed' }, 'full re-render requested');
    this.renderer = undefined;
    this.templateVersion++;
    this.refused = undefined;
    this.trigger('template-changed');
  }

  idle(): Promise<void> {
    return this.debouncer.idle();
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.debouncer.cancel();
    clearTimeout(this.retryTimer);
    clearTimeout(this.lingerTimer);
    await this.debouncer.idle();
    await this.deps.haproxy.stop(graceMs);
  }

  private async pass(): Promise<void> {
    const { log, haproxy } = this.deps;
    const started = performance.now();
    const containers = await this.deps.snapshot().catch((error: unknown) => {
      // Keep routing with the last known picture; the event stream's reconnect will trigger a resync too.
      log.warn({ err: explainDockerError(asError(error)) }, 'cannot list containers; keeping current routes');
      this.scheduleRetry();
    });
    // Before the first start there is no running picture to keep: start serving the empty one.
    if (containers === undefined && this.applied !== undefined) return;
    const snapshotMs = Math.round(performance.now() - started);
    if (containers) this.model = this.withLingering(this.model, await this.withoutBusyPorts(this.deps.buildModel(containers)));
    this.recorder.modelBuilt(this.model);

    let next: Candidate;
    try {
      const renderer = this.renderer ?? (await this.loadTemplate());
      next = chooseCandidate(this.model.services, haproxy.running ? this.applied : undefined, (s, layout) =>
        this.deps.render(renderer, s, layout),
      );
    } catch (error) {
      this.fail(error, started, 'template failed to render; running configuration kept');
      return;
    }
    const renderMs = Math.round(performance.now() - started) - snapshotMs;
    if (sameFiles(this.applied?.files, next.files)) return this.serving();
    if (sameFiles(this.refused, next.files)) return;

    try {
      const outcome = await haproxy.apply(next);
      this.applied = next;
      this.refused = undefined;
      this.recorder.applied(outcome, this.model, started, { snapshotMs, renderMs });
      this.serving();
    } catch (error) {
      // HAProxy's verdict on a text does not change, so it is not offered again until the text does.
      if (!isRetryable(error)) this.refused = next.files;
      this.fail(error, started, 'configuration rejected; running configuration kept');
    }
  }

  /**
   * `next`, plus the HTTP services of `previous` that it lost within the linger time, without servers
   * (ownership and policy as they were). A service claimed again comes back from the model as usual.
   */
  private withLingering(previous: ServiceModel, next: ServiceModel): ServiceModel {
    const lingerMs = this.deps.lingerMs ?? 0;
    const coverMs = this.deps.coverMs ?? 0;
    if (lingerMs <= 0 && coverMs <= 0) return next;
    const now = (this.deps.now ?? Date.now)();
    const present = new Set(next.services.map((s) => s.key));
    for (const service of previous.services) {
      if (!present.has(service.key) && service.kind === 'http' && !this.lingering.has(service.key)) {
        this.lingering.set(service.key, { service: { ...service, servers: [] }, until: now + lingerMs, covering: false });
      }
    }
    for (const [key, entry] of this.lingering) {
      // Covered no longer (the other hosts left the zone): it goes, as it would have after the linger.
      if (present.has(key) || (entry.covering && !this.deps.covered?.(entry.service))) this.lingering.delete(key);
      else if (entry.until <= now && !entry.covering && coverMs > 0 && this.deps.covered?.(entry.service)) {
        entry.covering = true;
        entry.until = now + coverMs;
      } else if (entry.until <= now) this.lingering.delete(key);
    }
    clearTimeout(this.lingerTimer);
    if (this.lingering.size === 0) return next;
    const first = Math.min(...[...this.lingering.values()].map((l) => l.until));
    this.lingerTimer = setTimeout(() => this.trigger('linger-ended'), Math.max(0, first - now) + 10);
    this.lingerTimer.unref();
    const services = [...next.services, ...[...this.lingering.values()].map((l) => l.service)].sort(byServiceOrder);
    return { services, skipped: next.skipped };
  }

  /** A TCP route on a port in use on the host would fail the whole reload: skip that route instead. */
  private async withoutBusyPorts(model: ServiceModel): Promise<ServiceModel> {
    const held = new Set(this.applied?.services.map((s) => s.tcpPort));
    const fresh = model.services.flatMap((s) => (s.tcpPort !== undefined && !held.has(s.tcpPort) ? [s.tcpPort] : []));
    if (fresh.length === 0 || !this.deps.busyPorts) return model;
    return withoutBusyTcpPorts(model, await this.deps.busyPorts(fresh));
  }

  private async loadTemplate(): Promise<Renderer> {
    const version = this.templateVersion;
    const renderer = await this.deps.loadTemplate();
    // Changed again while it was read: this pass uses what it read, the pass that change asked for reads again.
    if (version === this.templateVersion) this.renderer = renderer;
    return renderer;
  }

  private serving(): void {
    this.recorder.serving(this.services);
    // A service other hosts cover is theirs to be found by in DNS; its owner still decides which hosts cover it.
    this.deps.onServing?.(
      this.model.services.filter((s) => !this.lingering.get(s.key)?.covering),
      this.model.services,
    );
  }

  /** Records a failed pass; one that may pass next time (a busy disk, a timeout) is retried on its own. */
  private fail(error: unknown, started: number, message: string): void {
    this.lastFailure = asError(error);
    this.recorder.failed(this.lastFailure, started, message);
    if (isRetryable(error)) this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.trigger('retry-after-failure');
    }, this.deps.retryDelayMs ?? 2_000);
  }
}
