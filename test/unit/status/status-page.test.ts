import { describe, expect, it } from 'vitest';
import type { DnsStatus } from '../../../src/dns/dns-half.js';
import { renderStatusPage } from '../../../src/status/status-page.js';
import { buildSnapshot } from '../../../src/status/status-snapshot.js';

const page = (dns: DnsStatus) =>
  renderStatusPage(
    buildSnapshot({
      zone: 'example.com',
      startedAt: '2026-01-01T00:00:00.000Z',
      services: [],
      skipped: [],
      haproxyRunning: true,
      dockerConnected: true,
      lastApply: undefined,
      drainingServers: [],
      dns,
      serverStates: new Map(),
    }),
  );

const registrar: DnsStatus = {
  enabled: true,
  domains: ['www'],
  mode: 'simple',
  identity: { id: 'host-a', ip: '10.0.0.1', source: 'env' },
  pendingChanges: 0,
};

describe('status page, DNS section', () => {
  it('lists the names left out of Route53 with the reason, escaped', () => {
    const html = page({ ...registrar, conflicts: { 'www.example.com': 'an A record this host did not write: <b>203.0.113.10</b>' } });
    expect(html).toMatch(/<table id="dns-conflicts">/);
    expect(html).toContain('<td>www.example.com</td><td>an A record this host did not write: &lt;b&gt;203.0.113.10&lt;/b&gt;</td>');
  });

  it('says how many names are beyond DNS_MAX_NAMES', () => {
    const names = Array.from({ length: 25 }, (_, i) => `s${i}.example.com`);
    const html = page({ ...registrar, conflicts: {}, overCap: { limit: 1000, names } });
    expect(html).toMatch(/<p id="dns-over-cap">25 names beyond DNS_MAX_NAMES \(1000\)/);
    expect(html).not.toMatch(/dns-conflicts/);
  });

  it('shows neither when nothing is left out', () => {
    expect(page({ ...registrar, conflicts: {} })).not.toMatch(/dns-conflicts|dns-over-cap/);
  });

  it('shows the host’s addresses: the IPv6 one only when it has one', () => {
    expect(page(registrar)).toContain('host host-a → 10.0.0.1.');
    const dualStack = page({ ...registrar, identity: { ...registrar.identity!, ipv6: '2001:db8::1' } });
    expect(dualStack).toContain('host host-a → 10.0.0.1, 2001:db8::1.');
  });
});

describe('status page, services', () => {
  it('shows each service’s traffic from HAProxy’s counters of its backend', () => {
    const service = {
      key: 'web',
      kind: 'http' as const,
      domain: 'web',
      path: '/',
      hostnames: ['web.example.com', 'web'],
      route: 'default',
      owner: { key: 'image:app', description: 'image "app"' },
      policy: {},
      backend: 'spare_007',
      servers: [],
    };
    const html = renderStatusPage(
      buildSnapshot({
        zone: 'example.com',
        startedAt: '2026-01-01T00:00:00.000Z',
        services: [service],
        skipped: [],
        haproxyRunning: true,
        dockerConnected: true,
        lastApply: undefined,
        drainingServers: [],
        dns: { enabled: false, domains: [] },
        serverStates: new Map(),
        backendTraffic: new Map([['spare_007', { requestsPerSecond: 42, responses5xx: 3, requestsTotal: 1200, responseTimeMs: 17 }]]),
      }),
    );
    expect(html).toContain('42 req/s · 17 ms · 3 5xx of 1200');
  });
});
