#!/usr/bin/env node
/**
 * Entry point: read the configuration, wire the Docker source, the template and HAProxy together,
 * and behave as a good PID-1 child (tini forwards signals to us).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import chokidar from 'chokidar';
import { loadConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { ConfigError } from './errors.js';
import { ContainerSnapshots, sleep, watchEvents, type DockerApi } from './docker/docker-source.js';
import { findSelfContainerId } from './docker/self-id.js';
import { createRenderer } from './render/render-config.js';
import { Supervisor } from './supervisor.js';
import { resolveHostIdentity } from './dns/host-identity.js';
import { DnsPreview, DnsRegistrar, type DnsHalf } from './dns/dns-registrar.js';
import { createRoute53Client, createZoneApi } from './dns/route53-zone.js';
import type { Config } from './config.js';
import { metrics } from './metrics.js';
import { sendCliCommand } from './haproxy/cli-socket.js';
import { startStatusServer } from './status/status-server.js';
import { buildSnapshot, parseServerStates } from './status/status-snapshot.js';

const DEFAULT_TEMPLATE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../templates/haproxy.cfg.njk');
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, DEFAULT_TEMPLATE);
  } catch (error) {
    if (error instanceof ConfigError) {
      createLogger({ level: 'info', format: 'json' }).fatal({ problems: error.problems }, error.message);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.log);
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
  const resync = setInterval(() => {
    containers.markAllDirty();
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
    log.info({ signal, graceMs: SHUTDOWN_GRACE_MS }, 'shutting down');
    abort.abort();
    clearInterval(resync);
    statusServer?.close();
    await watcher.close();
    if (config.dns.deregisterOnExit) {
      // Remove our records first, so clients stop being sent here while HAProxy finishes what it has.
      await Promise.race([dns.deregister().catch((error: Error) => log.error({ err: error.message }, 'dns deregistration failed')), sleep(SHUTDOWN_GRACE_MS)]);
    }
    dns.stop();
    await supervisor.stop(SHUTDOWN_GRACE_MS);
    log.info('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, (s) => void shutdown(s));
}

/** The Route53 registrar when HOSTED_ZONE_ID is set; otherwise a preview that only logs. */
async function createDnsHalf(config: Config, log: Logger): Promise<DnsHalf> {
  const dnsLog = log.child({ component: 'dns' });
  const { dns } = config;
  if (dns.hostedZoneId === undefined) return new DnsPreview(config.zone, dnsLog);
  // A wrong identity would publish wrong records for the whole fleet to see: no identity, no start.
  const identity = await resolveHostIdentity({
    imdsEndpoint: dns.imdsEndpoint,
    imdsDisabled: dns.imdsDisabled,
    ...(dns.hostIp !== undefined ? { hostIp: dns.hostIp } : {}),
    ...(dns.hostId !== undefined ? { hostId: dns.hostId } : {}),
  });
  const api = createZoneApi(createRoute53Client(dns.region !== undefined ? { region: dns.region } : {}), dns.hostedZoneId);
  return new DnsRegistrar(api, { zone: config.zone, ttl: dns.ttl, mode: dns.mode, identity, reconcileIntervalMs: dns.reconcileIntervalMs }, dnsLog);
}

/** A user's template is re-rendered and re-applied whenever it changes on disk. */
function watchTemplate(templatePath: string, supervisor: Supervisor, log: Logger) {
  // Watch the directory: editors and config tools replace files (rename) rather than write them in place.
  const watcher = chokidar.watch(path.dirname(templatePath), { ignoreInitial: true, depth: 0 });
  watcher.on('all', (event, file) => {
    log.info({ event, file }, 'template changed');
    void supervisor.forcePass('template-changed');
  });
  watcher.on('error', (error) => log.warn({ err: (error as Error).message }, 'template watcher error'));
  return watcher;
}

main().catch((error: unknown) => {
  const log = createLogger({ level: 'info', format: 'json' });
  log.fatal({ err: error instanceof Error ? error.message : String(error) }, 'haproxy-companion failed to start');
  process.exit(1);
});
