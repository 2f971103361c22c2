import { describe, expect, it } from 'vitest';
import { renderStatusPage } from '../../../src/status/status-page.js';
import { buildSnapshot, type SnapshotInputs } from '../../../src/status/status-snapshot.js';

const inputs: SnapshotInputs = {
  zone: 'example.com',
  startedAt: '2024-01-01T00:00:00.000Z',
  services: [],
  skipped: [
    {
      containerId: 'b'.repeat(64),
      containerName: 'intruder',
      domain: 'login',
      reason: 'domain "login" belongs to container "login-1" (image "login"), older than this one (image "other"); …',
      ownedBy: { containerId: 'a'.repeat(64), containerName: 'login-1' },
    },
  ],
  haproxyRunning: true,
  dockerConnected: true,
  lastApply: undefined,
  drainingServers: [],
  dns: { enabled: false } as SnapshotInputs['dns'],
  serverStates: new Map(),
};

describe('buildSnapshot', () => {
  it('names both containers of an ownership conflict, with short ids', () => {
    expect(buildSnapshot(inputs).skipped).toEqual([
      {
        containerId: 'b'.repeat(12),
        containerName: 'intruder',
        domain: 'login',
        reason: inputs.skipped[0]!.reason,
        ownedBy: { containerId: 'a'.repeat(12), containerName: 'login-1' },
      },
    ]);
  });

  it('shows, per service, the other hosts of the fleet it falls back on, with HAProxy’s view of each', () => {
    const service = {
      key: 'login',
      kind: 'http' as const,
      domain: 'login',
      path: '/',
      hostnames: ['login.example.com', 'login'],
      policy: {},
      route: 'default',
      owner: { key: 'image:app', description: 'image "app"' },
      servers: [],
      backend: 'be_login',
    };
    const snapshot = buildSnapshot({
      ...inputs,
      services: [service, { ...service, key: 'api', domain: 'api', backend: 'be_api' }],
      serverStates: new Map([['be_login/fleet:i-b', 'UP']]),
      peersOf: (s) => (s.key === 'login' ? [{ name: 'fleet:i-b', hostId: 'i-b', address: '10.0.0.2' }] : []),
    });
    expect(snapshot.services.map((s) => s.fleet)).toEqual([[{ hostId: 'i-b', address: '10.0.0.2', haproxy: 'UP' }], undefined]);
    expect(renderStatusPage(snapshot)).toContain('other hosts: i-b (UP)');
  });

  it('shows the owning container on the page too', () => {
    const page = renderStatusPage(buildSnapshot(inputs));
    expect(page).toContain(`<small>held by login-1 ${'a'.repeat(12)}</small>`);
  });

  it('shows each route with its path and policy, basic auth users by name only, never their hashes', () => {
    const hash = `$6$${'s'.repeat(16)}$${'h'.repeat(86)}`;
    const snapshot = buildSnapshot({
      ...inputs,
      services: [
        {
          key: 'shop/api',
          kind: 'http',
          domain: 'shop',
          path: '/api',
          hostnames: ['shop.example.com', 'shop'],
          policy: {
            stripPath: true,
            authUsers: [{ name: 'alice', hash }],
            requestHeaders: [{ name: 'Authorization', value: 'Bearer s3cret' }],
          },
          route: 'api',
          owner: { key: 'image:app', description: 'image "app"' },
          backend: 'be_shop_api_abcdef',
          servers: [],
        },
      ],
    });
    expect(snapshot.services[0]).toMatchObject({
      key: 'shop/api',
      route: 'api',
      path: '/api',
      policy: { stripPath: true, authUsers: ['alice'] },
    });
    expect(snapshot.services[0]?.policy.requestHeaders).toEqual([{ name: 'Authorization', action: 'set' }]);
    expect(JSON.stringify(snapshot)).not.toContain(hash);
    expect(JSON.stringify(snapshot)).not.toContain('s3cret');
    const page = renderStatusPage(snapshot);
    expect(page).toContain('shop.example.com/api');
    expect(page).toContain('route api');
    expect(page).not.toContain(hash);
  });
});
