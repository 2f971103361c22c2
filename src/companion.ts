/**
 * The long-running companion: the Docker source, the template, HAProxy and the DNS half wired
 * together, the status endpoint beside them, and shutdown as a good PID-1 child does it (tini
 * forwards signals to us): a first signal drains, a second exits at once.
 */
import path from 'node:path';
import Docker from 'dockerode';
import chokidar from 'chokidar';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { ContainerSnapshots, sleep, watchEvents, type DockerApi } from './docker/docker-source.js';
import { findSelfContainerId } from './docker/self-id.js';
import { createRenderer } from './render/render-config.js';
import { Supervisor } from './supervisor.js';
import { createDnsHalf } from './dns/create-dns-half.js';
import { metrics } from './metrics.js';
import { sendCliCommand } from './haproxy/cli-socket.js';
import { startStatusServer } from './status/status-server.js';
import { buildSnapshot, parseServerStates } from './status/status-snapshot.js';

export async function runCompanion(config: Config, log: Logger): Promise<void> {
  const docker = new Docker() as unknown as DockerApi; // DOCKER_HOST and friends are read by docker-modem
  const selfId = await findSelfContainerId();
  const abort = new AbortController();
  const startedAt = new Date().toISOString();
  let dockerConnected = false;
  const dns = await createDnsHalf(config, log);
  const containers = new ContainerSnapshots(docker, { ...(selfId ? { selfId } : {}), ...(config.labelFilter ? { labelFilter: config.labelFilter } : {}) });

  const supervisor = new Supervisor({
    config,
    log,
    selfId,
    renderer: createRenderer(config.templatePath),
    snapshot: () => containers.snapshot(),
    onServing: (model) => dns.setDomains(model.services.map((s) => s.domain)),
    onFatal: (error) => {
      log.fatal({ err: error.message }, 'giving up; exiting so the container restart policy takes over');
      process.exit(1);
    },
  });

  log.info({ zone: config.zone, httpPort: config.httpPort, template: config.templatePath, selfId: selfId?.slice(0, 12) }, 'haproxy-companion starting');
  await supervisor.start();
  dns.start();

  void watchEvents(docker, {
    signal: abort.signal,
    log,
    onEvent: (event) => {
      if (event.containerId) containers.markDirty(event.containerId);
      else containers.markAllDirty();
      supervisor.trigger(event.reason);
    },
    onConnected: () => {
      // Whatever happened while disconnected is unknown: look at everything again.
      dockerConnected = true;
      log.info('docker event stream connected');
      containers.markAllDirty();
      supervisor.trigger('docker-connected');
    },
    onDisconnected: () => {
      dockerConnected = false;
      metrics.dockerReconnects.inc();
    },
  });
  // A safety net for a missed event: the pass lists every container, and one whose list entry changed
  // is inspected again (ContainerSnapshots), so an idle host costs one list call per interval.
  const resync = setInterval(() => {
    supervisor.trigger('periodic-resync');
  }, config.resyncIntervalMs);
  const watcher = watchTemplate(config.templatePath, supervisor, log);
  const statusServer =
    config.status &&
    startStatusServer({
      ...config.status,
      log,
      snapshot: async () =>
        buildSnapshot({
          zone: config.zone,
          startedAt,
          model: supervisor.services,
          haproxyRunning: supervisor.haproxyRunning,
          dockerConnected,
          lastApply: supervisor.lastApply,
          drainingServers: supervisor.drainingServers,
          dns: dns.status(),
          serverStates: supervisor.haproxyRunning
            ? parseServerStates(await sendCliCommand(supervisor.paths.adminSocket, 'show stat', 1_000).catch(() => ''))
            : new Map(),
        }),
    });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
    abort.abort();
    clearInterval(resync);
    statusServer?.close();
    await watcher.close();
    if (config.dns.deregisterOnExit) {
      // Remove our records first, so clients stop being sent here while HAProxy finishes what it has.
      await Promise.race([dns.deregister().catch((error: Error) => log.error({ err: error.message }, 'dns deregistration failed')), sleep(config.shutdownGraceMs)]);
      // Resolvers may hand out the old answer for up to the TTL: keep serving those clients meanwhile.
      if (config.dns.deregisterWaitMs > 0) {
        log.info({ waitMs: config.dns.deregisterWaitMs }, 'serving while cached DNS answers expire');
        await sleep(config.dns.deregisterWaitMs);
      }
    }
    dns.stop();
    await supervisor.stop(config.shutdownGraceMs);
    log.info('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, (s) => void shutdown(s));
}

/** A user's template is re-rendered and re-applied whenever it changes on disk. */
function watchTemplate(templatePath: string, supervisor: Supervisor, log: Logger) {
  // Watch the directory: editors and config tools replace files (rename) rather than write them in place.
  // awaitWriteFinish: a change is reported once the file stopped growing, never half-written (a pass
  // starts at once on a lone event, and must not render a truncated template).
  const watcher = chokidar.watch(path.dirname(templatePath), { ignoreInitial: true, depth: 0, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 20 } });
  watcher.on('all', (event, file) => {
    log.info({ event, file }, 'template changed');
    void supervisor.forcePass('template-changed');
  });
  watcher.on('error', (error) => log.warn({ err: (error as Error).message }, 'template watcher error'));
  return watcher;
}
