/**
 * Everything /status, the status page and /healthz show, gathered in one place. It holds no
 * credentials and no environment: only what the companion decided and why.
 */
import type { ServiceModel, SkippedContainer } from '../model/services.js';
import type { ApplyReport } from '../supervisor.js';
import type { DnsStatus } from '../dns/dns-registrar.js';

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
  domain: string;
  hostnames: string[];
  backend: string;
  servers: ServerStatus[];
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
}

export interface SnapshotInputs {
  zone: string;
  startedAt: string;
  model: ServiceModel;
  haproxyRunning: boolean;
  dockerConnected: boolean;
  lastApply: ApplyReport | undefined;
  drainingServers: string[];
  dns: DnsStatus;
  /** `backend/server` -> HAProxy status. */
  serverStates: Map<string, string>;
}

export function buildSnapshot(inputs: SnapshotInputs): StatusSnapshot {
  return {
    healthy: inputs.haproxyRunning && inputs.dockerConnected,
    checks: { haproxyRunning: inputs.haproxyRunning, dockerConnected: inputs.dockerConnected },
    zone: inputs.zone,
    startedAt: inputs.startedAt,
    services: inputs.model.services.map((service) => ({
      domain: service.domain,
      hostnames: service.hostnames,
      backend: service.backend,
      servers: service.servers.map((server) => {
        const state = inputs.serverStates.get(`${service.backend}/${server.name}`);
        return {
          name: server.name,
          containerName: server.containerName,
          containerId: server.containerId.slice(0, 12),
          address: server.address,
          port: server.port,
          ...(state !== undefined ? { haproxy: state } : {}),
        };
      }),
    })),
    skipped: inputs.model.skipped.map((s) => ({ ...s, containerId: s.containerId.slice(0, 12) })),
    ...(inputs.lastApply ? { lastApply: inputs.lastApply } : {}),
    drainingServers: inputs.drainingServers,
    dns: inputs.dns,
  };
}

/** Parses `show stat` CSV into `backend/server` -> status (UP, DOWN, MAINT, …). */
export function parseServerStates(csv: string): Map<string, string> {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const header = (lines.shift() ?? '').replace(/^# /, '').split(',');
  const [px, sv, status] = ['pxname', 'svname', 'status'].map((name) => header.indexOf(name));
  const states = new Map<string, string>();
  if (px === undefined || sv === undefined || status === undefined || px < 0 || sv < 0 || status < 0) return states;
  for (const line of lines) {
    const fields = line.split(',');
    const server = fields[sv];
    if (!server || server === 'FRONTEND' || server === 'BACKEND') continue;
    states.set(`${fields[px]}/${server}`, fields[status] ?? '');
  }
  return states;
}
