/**
 * Everything /status, the status page and /healthz show, gathered in one place. It holds no
 * credentials and no environment: only what the companion decided and why.
 */

import type { DnsStatus } from '../dns/dns-half.js';
import type { BackendTraffic } from '../haproxy/show-stat.js';
import type { PlacedService } from '../model/backend-pool.js';
import type { RoutePolicy } from '../model/route-labels.js';
import type { SkippedContainer } from '../model/services.js';
import type { ApplyReport } from '../pass-recorder.js';
import type { PeerServer } from '../render/fleet-servers.js';
import type { TlsStatus } from '../tls/certificate-source.js';

export interface ServerStatus {
  name: string;
  containerName: string;
  containerId: string;
  address: string;
  port: number;
  /** HAProxy's view (UP, DOWN, MAINT, no check…), when the admin socket answered. */
  haproxy?: string;
}

export interface ServiceStatus {
  key: string;
  kind: 'http' | 'tcp';
  /** The route's label name on its oldest container. */
  route: string;
  domain: string;
  path: string;
  tcpPort?: number;
  hostnames: string[];
  backend: string;
  /** What the route's labels asked for; basic auth users and headers by name only (hashes and header values may be secrets). */
  policy: Omit<RoutePolicy, 'authUsers' | 'requestHeaders' | 'responseHeaders'> & {
    authUsers?: string[];
    requestHeaders?: HeaderAction[];
    responseHeaders?: HeaderAction[];
  };
  servers: ServerStatus[];
  /** FLEET_FALLBACK: the other hosts it falls back on (its backup servers), with HAProxy's view of each. */
  fleet?: { hostId: string; address: string; haproxy?: string }[];
  /** HAProxy's counters of the service's backend (this worker's, since its last reload); absent when HAProxy does not answer. */
  traffic?: BackendTraffic;
}

export interface StatusSnapshot {
  healthy: boolean;
  checks: { haproxyRunning: boolean; dockerConnected: boolean };
  zone: string;
  startedAt: string;
  services: ServiceStatus[];
  skipped: SkippedContainer[];
  lastApply?: ApplyReport;
  drainingServers: string[];
  dns: DnsStatus;
  /** Absent when HTTPS is off. */
  tls?: TlsStatus;
}

export interface SnapshotInputs {
  zone: string;
  startedAt: string;
  services: PlacedService[];
  skipped: SkippedContainer[];
  haproxyRunning: boolean;
  dockerConnected: boolean;
  lastApply: ApplyReport | undefined;
  drainingServers: string[];
  dns: DnsStatus;
  /** `backend/server` -> HAProxy status. */
  serverStates: Map<string, string>;
  /** Backend -> its traffic. */
  backendTraffic?: Map<string, BackendTraffic>;
  tls?: TlsStatus | undefined;
  /** FLEET_FALLBACK: the other hosts a service falls back on; absent when off. */
  peersOf?: (service: PlacedService) => PeerServer[];
}

export interface Health {
  healthy: boolean;
  checks: { haproxyRunning: boolean; dockerConnected: boolean };
}

/** What /healthz answers: cheap, so an orchestrator's probe never waits for HAProxy or Route53. */
export function healthOf(inputs: { haproxyRunning: boolean; dockerConnected: boolean }): Health {
  return {
    healthy: inputs.haproxyRunning && inputs.dockerConnected,
    checks: { haproxyRunning: inputs.haproxyRunning, dockerConnected: inputs.dockerConnected },
  };
}

export function buildSnapshot(inputs: SnapshotInputs): StatusSnapshot {
  return {
    ...healthOf(inputs),
    zone: inputs.zone,
    startedAt: inputs.startedAt,
    services: inputs.services.map((service) => ({
      key: service.key,
      kind: service.kind,
      route: service.route,
      domain: service.domain,
      path: service.path,
      ...(service.tcpPort !== undefined && { tcpPort: service.tcpPort }),
      hostnames: service.hostnames,
      backend: service.backend,
      policy: publicPolicy(service.policy),
      ...(inputs.backendTraffic?.has(service.backend) && { traffic: inputs.backendTraffic.get(service.backend) }),
      ...fleetOf(service, inputs),
      servers: service.servers.map((server) => {
        const state = inputs.serverStates.get(`${service.backend}/${server.name}`);
        return {
          name: server.name,
          containerName: server.containerName,
          containerId: server.containerId.slice(0, 12),
          address: server.address,
          port: server.port,
          haproxy: state,
        };
      }),
    })),
    skipped: inputs.skipped.map((s) => ({
      ...s,
      containerId: s.containerId.slice(0, 12),
      ...(s.ownedBy && { ownedBy: { ...s.ownedBy, containerId: s.ownedBy.containerId.slice(0, 12) } }),
    })),
    lastApply: inputs.lastApply,
    drainingServers: inputs.drainingServers,
    dns: inputs.dns,
    ...(inputs.tls && { tls: inputs.tls }),
  };
}

/** A header a route sets or removes, as /status shows it: its name, not its value. */
export interface HeaderAction {
  name: string;
  action: 'set' | 'remove';
}

/** A route's policy as /status shows it: password hashes and header values stay inside the companion and haproxy.cfg. */
function publicPolicy(policy: RoutePolicy): ServiceStatus['policy'] {
  const { authUsers, requestHeaders, responseHeaders, ...rest } = policy;
  const headers = (list: RoutePolicy['requestHeaders']) =>
    list?.map((h): HeaderAction => ({ name: h.name, action: h.value === null ? 'remove' : 'set' }));
  return {
    ...rest,
    ...(authUsers && { authUsers: authUsers.map((user) => user.name) }),
    ...(requestHeaders && { requestHeaders: headers(requestHeaders) }),
    ...(responseHeaders && { responseHeaders: headers(responseHeaders) }),
  };
}

function fleetOf(service: PlacedService, inputs: SnapshotInputs): Pick<ServiceStatus, 'fleet'> {
  const peers = inputs.peersOf?.(service) ?? [];
  if (peers.length === 0) return {};
  return {
    fleet: peers.map((peer) => ({
      hostId: peer.hostId,
      address: peer.address,
      haproxy: inputs.serverStates.get(`${service.backend}/${peer.name}`),
    })),
  };
}
