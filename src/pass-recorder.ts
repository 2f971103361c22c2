/**
 * What the passes leave for people and dashboards: the log lines, the metrics, and the read model that
 * /status shows (the outcome of the last apply). Kept apart from the pass loop so the loop only decides.
 */
import { isHaproxyRefusal } from './errors.js';
import type { ApplyOutcome } from './haproxy/haproxy-controller.js';
import type { Logger } from './log.js';
import { metrics } from './metrics.js';
import type { PlacedService } from './model/backend-pool.js';
import type { ServiceModel, SkippedContainer } from './model/services.js';

/** The outcome of the last pass that tried to change what HAProxy runs. */
export interface ApplyReport {
  at: string;
  ok: boolean;
  how?: ApplyOutcome['how'];
  durationMs: number;
  error?: string;
  haproxy?: string[];
}

export class PassRecorder {
  lastApply: ApplyReport | undefined;
  /** containerId -> the reason it was skipped, as last logged. */
  private skippedReasons = new Map<string, string>();

  constructor(private readonly log: Logger) {}

  /** Sets the gauges, and logs a skipped container once per reason, not on every pass. */
  modelBuilt(model: ServiceModel): void {
    metrics.services.set(model.services.length);
    metrics.servers.set(serverCount(model));
    metrics.skipped.set(model.skipped.length);
    const current = new Map<string, string>();
    for (const entry of model.skipped) {
      current.set(entry.containerId, entry.reason);
      if (this.skippedReasons.get(entry.containerId) !== entry.reason) this.log.warn(skippedFields(entry), 'container skipped');
    }
    this.skippedReasons = current;
  }

  applied(outcome: ApplyOutcome, model: ServiceModel, started: number, phases: { snapshotMs: number; renderMs: number }): void {
    const durationMs = performance.now() - started;
    const summary = {
      services: model.services.length,
      servers: serverCount(model),
      skipped: model.skipped.length,
      durationMs: Math.round(durationMs),
    };
    const allPhases = { ...phases, checkMs: outcome.checkMs, applyMs: outcome.applyMs };
    this.log.info(
      { ...summary, how: outcome.how, phases: allPhases },
      outcome.how === 'runtime' ? 'servers updated at runtime' : `haproxy ${outcome.how}`,
    );
    this.lastApply = { at: new Date().toISOString(), ok: true, how: outcome.how, durationMs: Math.round(durationMs) };
    metrics.passDuration.observe(durationMs / 1000);
  }

  /** Logs a failed pass with HAProxy's own lines when there are some, and keeps it for /status. */
  /**
   * Which service each backend serves now, as a metric dashboards join HAProxy's own per-backend series
   * on: spare backends (`spare_NNN`) change service over time, so their names alone say nothing.
   */
  serving(services: PlacedService[]): void {
    metrics.backendInfo.reset();
    for (const s of services) metrics.backendInfo.set({ backend: s.backend, service: s.key, domain: s.domain, path: s.path }, 1);
  }

  failed(error: Error, started: number, message: string): void {
    const haproxy = isHaproxyRefusal(error) ? error.haproxyLines : undefined;
    this.lastApply = {
      at: new Date().toISOString(),
      ok: false,
      durationMs: Math.round(performance.now() - started),
      error: error.message,
      haproxy,
    };
    metrics.rejectedConfigs.inc();
    this.log.error({ err: error, haproxy }, message);
  }
}

function serverCount(model: ServiceModel): number {
  return model.services.reduce((n, s) => n + s.servers.length, 0);
}

function skippedFields(entry: SkippedContainer) {
  return {
    container: entry.containerName,
    containerId: entry.containerId.slice(0, 12),
    route: entry.route,
    domain: entry.domain,
    reason: entry.reason,
  };
}
