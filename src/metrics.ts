/** Prometheus metrics (prom-client), one registry for the process; served at /metrics. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'haproxy_companion_process_' });

const registers = [registry];

export const metrics = {
  reloads: new Counter({ name: 'haproxy_companion_reloads_total', help: 'HAProxy reloads through the master socket.', registers }),
  runtimeUpdates: new Counter({
    name: 'haproxy_companion_runtime_updates_total',
    help: 'Server changes applied through the runtime API, without a reload.',
    registers,
  }),
  haproxyStarts: new Counter({
    name: 'haproxy_companion_haproxy_starts_total',
    help: 'HAProxy master starts (the first one and every restart after it died).',
    registers,
  }),
  rejectedConfigs: new Counter({
    name: 'haproxy_companion_rejected_configs_total',
    help: 'Rendered configurations refused (template error, haproxy -c, or reload), while the running one kept serving.',
    registers,
  }),
  dockerReconnects: new Counter({
    name: 'haproxy_companion_docker_reconnects_total',
    help: 'Times the Docker event stream was lost and reconnection started.',
    registers,
  }),
  route53Requests: new Counter({
    name: 'haproxy_companion_route53_requests_total',
    help: 'Route53 API attempts (each SDK retry counts), by operation and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    registers,
  }),
  passDuration: new Histogram({
    name: 'haproxy_companion_pass_duration_seconds',
    help: 'One pass: list, inspect, render, validate, apply.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  }),
  backendInfo: new Gauge({
    name: 'haproxy_companion_backend_info',
    help: 'Which service each HAProxy backend serves now (1): join haproxy_backend_* series on `backend` (spare backends change service over time).',
    labelNames: ['backend', 'service', 'domain', 'path'] as const,
    registers,
  }),
  services: new Gauge({ name: 'haproxy_companion_services', help: 'Services (domains) routed.', registers }),
  servers: new Gauge({ name: 'haproxy_companion_servers', help: 'Servers (containers) routed.', registers }),
  skipped: new Gauge({
    name: 'haproxy_companion_skipped_containers',
    help: 'Containers that asked for a route and were skipped.',
    registers,
  }),
  dnsConflicts: new Gauge({
    name: 'haproxy_companion_dns_conflicts',
    help: 'Served names left out of Route53 because a record set this host did not write holds them (still served by the proxy).',
    registers,
  }),
  dnsOwnerConflicts: new Gauge({
    name: 'haproxy_companion_dns_owner_conflicts',
    help: 'Of the dns_conflicts, the names left out because the fleet serves them for another owner (FLEET_SHARED_OWNERS lets owners share).',
    registers,
  }),
  certificateNotAfter: new Gauge({
    name: 'haproxy_companion_certificate_not_after_timestamp_seconds',
    help: 'When each certificate HTTPS serves expires (Unix time), by its name in TLS_CERTS_DIR.',
    labelNames: ['certificate'] as const,
    registers,
  }),
  certificatesRefused: new Gauge({
    name: 'haproxy_companion_certificates_refused',
    help: 'Certificates in TLS_CERTS_DIR that cannot be served (no key, a key of another certificate, unreadable…).',
    registers,
  }),
  acmeOrders: new Counter({
    name: 'haproxy_companion_acme_orders_total',
    help: 'ACME orders this host made for the fleet, by outcome (issued, failed).',
    labelNames: ['outcome'] as const,
    registers,
  }),
  acmeFailures: new Gauge({
    name: 'haproxy_companion_acme_consecutive_failures',
    help: 'Failed looks at the fleet certificate (store, lock or order) in a row; 0 when the last one went through.',
    registers,
  }),
  dnsNamesOverCap: new Gauge({
    name: 'haproxy_companion_dns_names_over_cap',
    help: 'Served names beyond DNS_MAX_NAMES, not registered in Route53 (still served by the proxy).',
    registers,
  }),
};
