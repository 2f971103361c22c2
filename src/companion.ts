/**
 * The long-running companion: the Docker source, the template, HAProxy and the DNS half wired
 * together, the status endpoint beside them, and shutdown as a good PID-1 child does it (tini
 * forwards signals to us): a first signal drains, a second exits at once.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import chokidar from 'chokidar';
import type { Config } from './config.js';
import { createDnsHalf } from './dns/create-dns-half.js';
import { nameOwners } from './dns/fleet-owners.js';
import { watchLifecycle } from './dns/lifecycle-watch.js';
import { createContainerSource } from './docker/container-snapshots.js';
import { watchEvents } from './docker/docker-events.js';
import { otherCompanion } from './docker/successor.js';
import { haproxyCertificateCheck } from './haproxy/certificate-check.js';
import { createHaproxyController } from './haproxy/haproxy-controller.js';
import { writeHoldScript } from './haproxy/hold-script.js';
import { listenOnIpv6 } from './haproxy/listen-ipv6.js';
import { runtimePaths } from './haproxy/paths.js';
import { busyPorts } from './haproxy/port-probe.js';
import { sleep } from './lib/sleep.js';
import type { Logger } from './log.js';
import { metrics } from './metrics.js';
import { modelBuilder, registeredDomains, type Service } from './model/services.js';
import { peerServersOf } from './render/fleet-servers.js';
import { loadTemplate, renderFiles } from './render/render-config.js';
import { loadTenures, tenureWriter } from './state/ownership-file.js';
import { startStatusServer } from './status/status-server.js';
import { buildSnapshot, healthOf } from './status/status-snapshot.js';
import { Supervisor } from './supervisor.js';
import { CertificateSource } from './tls/certificate-source.js';
import { certificateNameOf } from './tls/tls-files.js';

export async function runCompanion(config: Config, log: Logger): Promise<void> {
  const { docker, selfId, snapshots: containers } = await createContainerSource(config);
  const abort = new AbortController();
  const startedAt = new Date().toISOString();
  let dockerConnected = false;
  // The zone shows other hosts serving our names (FLEET_FALLBACK): render them in as backup servers.
  let onFleetChanged = () => {};
  const dns = await createDnsHalf(config, log, { onFleetChanged: () => onFleetChanged() });
  const peersOf = (service: Service) => peerServersOf(service, dns.fleetPeers());
  const paths = runtimePaths(config.runtimeDir);
  await mkdir(config.runtimeDir, { recursive: true });
  await writeHoldScript(paths.holdScript);
  // LISTEN_IPV6=auto is settled once, here: the listeners stay what HAProxy started with.
  const ipv6 = await listenOnIpv6(config.listenIpv6);
  // FLEET_CA_FILE: HAProxy reads the copy that each check makes (haproxy/config-files.ts), never the operator's path.
  const fleetCaFile = config.fleet?.caFile;
  const settings = { ...config, ipv6, ...(fleetCaFile !== undefined && { fleet: { ...config.fleet, caFile: paths.fleetCa } }) };
  const haproxy = createHaproxyController({
    bin: config.haproxyBin,
    paths,
    fleetCaFile,
    log,
    // The access log: HAProxy writes to the container's stdout itself.
    output: config.accessLog === 'json' ? { stdoutFd: 1 } : {},
    onFatal: (error) => {
      log.fatal({ err: error }, 'giving up; exiting so the container restart policy takes over');
      process.exit(1);
    },
  });

  // HTTPS: the certificates are read before the first pass, so HAProxy starts with them.
  const certificates =
    config.tls && new CertificateSource(config.tls.certsDir, log.child({ component: 'tls' }), haproxyCertificateCheck(config.haproxyBin));
  await certificates?.load();

  // Who held each key (OWNERSHIP_GRACE_S): read before the first pass, so that a restart hands nothing over.
  const writeTenures = tenureWriter(config.stateDir, log);
  const supervisor = new Supervisor({
    log,
    haproxy,
    debounce: config.debounce,
    snapshot: () => containers.snapshot(),
    buildModel: modelBuilder({
      selfId,
      zone: config.zone,
      ...config.model,
      tenures: await loadTenures(config.stateDir, log),
      onTenures: (tenures) => void writeTenures(tenures),
    }),
    busyPorts: (ports) => busyPorts(ports, { ipv6 }),
    loadTemplate: () => loadTemplate(config.templatePath),
    render: (renderer, services, layout) =>
      renderFiles(renderer, services, layout, settings, paths, certificates?.certificates, dns.fleetPeers()),
    // The owners of covered services too: they decide which other hosts may cover them.
    onServing: (services, all) => dns.setDomains(registeredDomains(services), nameOwners(all)),
    lingerMs: config.holdRequestsMs,
    // Until its deregistration has been sent (DNS debounce) and resolvers' cached answers have expired.
    ...(config.fleet && { coverMs: config.dns.debounce.maxMs + config.dns.ttl * 1000, covered: (service) => peersOf(service).length > 0 }),
  });

  onFleetChanged = () => supervisor.trigger('fleet-changed');

  log.info(
    {
      zone: config.zone,
      httpPort: config.httpPort,
      ipv6,
      proxyProtocol: config.proxyProtocol,
      accessLog: config.accessLog,
      template: config.templatePath,
      selfId: selfId?.slice(0, 12),
    },
    'haproxy-companion starting',
  );
  await supervisor.start();
  dns.start();
  // The fleet's ACME certificate: served from the store (or ordered) once there; HTTP and the other
  // certificates do not wait for it.
  const tlsConfig = config.tls;
  const acme =
    tlsConfig?.acme &&
    certificates &&
    (await (async () => {
      const { createAcmeIssuer } = await import('./tls/acme/create-acme.js');
      return createAcmeIssuer(
        config,
        tlsConfig.acme as NonNullable<typeof tlsConfig.acme>,
        log.child({ component: 'acme' }),
        (certificate) => {
          certificates.setAcme(certificate);
          supervisor.trigger('acme-certificate');
        },
      );
    })());
  acme?.start();

  void watchEvents(docker, {
    signal: abort.signal,
    log,
    onEvent: (event) => {
      if (event.containerId && event.stopping) containers.markStopping(event.containerId);
      else if (event.containerId && event.reason === 'container:start') containers.clearStopping(event.containerId);
      else if (event.containerId) containers.markDirty(event.containerId);
      else containers.markAllDirty();
      // A stop signal: the app may already refuse connections, so its servers leave rotation without waiting for the burst.
      if (event.stopping) supervisor.triggerNow(event.reason);
      else supervisor.trigger(event.reason);
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
    containers.markListDue();
    supervisor.trigger('periodic-resync');
  }, config.resyncIntervalMs);
  const watcher = watchTemplate(config.templatePath, supervisor, log);
  // Auto Scaling taking this instance out: its records go first, then it serves while cached answers
  // expire, until the instance is stopped (SIGTERM below).
  const lifecycle = !config.dns.watchLifecycle
    ? undefined
    : watchLifecycle({
        imdsEndpoint: config.dns.imdsEndpoint,
        log: log.child({ component: 'lifecycle' }),
        onTerminating: () =>
          void dns
            .deregister()
            .then(() =>
              log.info(
                { waitMs: Math.max(config.dns.deregisterWaitMs, config.dns.ttl * 1000) },
                'deregistered; serving while cached DNS answers expire',
              ),
            )
            .catch((error: unknown) => log.error({ err: error }, 'dns deregistration failed')),
      });
  certificates?.watch(() => supervisor.trigger('certificates-changed'));
  const statusServer =
    config.status &&
    startStatusServer({
      ...config.status,
      containerId: selfId,
      log,
      health: () => healthOf({ haproxyRunning: haproxy.running, dockerConnected }),
      snapshot: async () =>
        buildSnapshot({
          zone: config.zone,
          startedAt,
          services: supervisor.services,
          skipped: supervisor.skipped,
          haproxyRunning: haproxy.running,
          dockerConnected,
          lastApply: supervisor.recorder.lastApply,
          drainingServers: haproxy.drainingServers,
          dns: dns.status(),
          ...(config.fleet && { peersOf }),
          ...(await haproxy.stats().then((stats) => ({ serverStates: stats.servers, backendTraffic: stats.backends }))),
          tls:
            config.tls &&
            certificates?.status(config.tls.port, config.tls.defaultCert && certificateNameOf(config.tls.defaultCert), acme?.status()),
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
    lifecycle?.stop();
    statusServer?.close();
    await watcher.close();
    await certificates?.close();
    acme?.stop();
    // A companion replacing this one on the same host (an upgrade) serves these records from now on; one
    // that cannot show it is a live companion within a few seconds is none (logged), and they go.
    const successor =
      config.dns.deregisterOnExit && selfId !== undefined
        ? await otherCompanion(docker, selfId, { log }).catch((error: unknown) => {
            log.warn({ err: error }, 'could not look for a successor; deregistering');
            return undefined;
          })
        : undefined;
    if (successor !== undefined) log.info({ successor }, 'another companion runs on this host: its records stay');
    if (config.dns.deregisterOnExit && successor === undefined) {
      // Remove our records first, so clients stop being sent here while HAProxy finishes what it has.
      await Promise.race([
        dns.deregister().catch((error: unknown) => log.error({ err: error }, 'dns deregistration failed')),
        sleep(config.shutdownGraceMs),
      ]);
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
  const watcher = chokidar.watch(path.dirname(templatePath), {
    ignoreInitial: true,
    depth: 0,
    awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 20 },
  });
  watcher.on('all', (event, file) => {
    log.info({ event, file }, 'template changed');
    supervisor.templateChanged();
  });
  watcher.on('error', (error) => log.warn({ err: error }, 'template watcher error'));
  return watcher;
}
