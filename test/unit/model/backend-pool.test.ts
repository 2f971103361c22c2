import { describe, expect, it } from 'vitest';
import {
  type BackendLayout,
  freshLayout,
  hostsMapText,
  keepLayout,
  MIN_SPARE_BACKENDS,
  placeServices,
  spareCount,
} from '../../../src/model/backend-pool.js';
import type { Service } from '../../../src/model/services.js';

const service = (domain: string, servers = 1): Service => ({
  key: domain,
  kind: 'http',
  domain,
  path: '/',
  policy: {},
  route: 'default',
  owner: { key: 'image:app', description: 'image "app"' },
  hostnames: [`${domain}.example.com`, domain],
  servers: Array.from({ length: servers }, (_, i) => ({
    name: `${domain}-${i + 1}`,
    containerId: `${domain}${i}`,
    containerName: `${domain}-${i + 1}`,
    address: `10.0.0.${i + 1}`,
    port: 80,
    endpoint: `10.0.0.${i + 1}:80`,
    checkInter: '2s',
  })),
});
const assigned = (layout: BackendLayout) => Object.fromEntries([...layout].filter(([, d]) => d !== undefined));

describe('freshLayout', () => {
  it('gives each service the backend named after it, and adds spares: at least 32, and half as many as services', () => {
    const layout = freshLayout([service('api'), service('login')]);
    expect(assigned(layout)).toEqual({ be_api: 'api', be_login: 'login' });
    const spares = [...layout.keys()].filter((name) => name.startsWith('spare_'));
    expect(spares).toHaveLength(MIN_SPARE_BACKENDS);
    expect(spares[0]).toBe('spare_001');
    expect([spareCount(0), spareCount(64), spareCount(65), spareCount(500)]).toEqual([32, 32, 33, 250]);
  });
});

describe('keepLayout', () => {
  const start = freshLayout([service('api'), service('login')]);

  it('keeps every backend name, so the config skeleton stays the same, and puts a new domain in the first spare', () => {
    const next = keepLayout([service('api'), service('login'), service('fresh'), service('more')], start)!;
    expect([...next.keys()]).toEqual([...start.keys()]);
    expect(assigned(next)).toEqual({ be_api: 'api', be_login: 'login', spare_001: 'fresh', spare_002: 'more' });
  });

  it('keeps a domain in its spare while it lives, frees the spare when it goes, and gives a returning domain its own backend back', () => {
    const withFresh = keepLayout([service('api'), service('login'), service('fresh')], start)!;
    const loginGone = keepLayout([service('api'), service('fresh')], withFresh)!;
    expect(assigned(loginGone)).toEqual({ be_api: 'api', spare_001: 'fresh' });
    const freshGone = keepLayout([service('api')], loginGone)!;
    expect(freshGone.get('spare_001')).toBeUndefined();
    const back = keepLayout([service('api'), service('login'), service('other')], freshGone)!;
    expect(assigned(back)).toEqual({ be_api: 'api', be_login: 'login', spare_001: 'other' });
  });

  it("never hands a gone domain's own backend to another domain, and says when the spares run out", () => {
    const few = new Map([
      ['be_gone', undefined],
      ['spare_001', undefined],
    ]);
    expect(assigned(keepLayout([service('a')], few)!)).toEqual({ spare_001: 'a' });
    expect(keepLayout([service('a'), service('b')], few)).toBeUndefined();
  });

  it('takes a burst of new domains without a reload as long as the spares last', () => {
    let layout: BackendLayout = freshLayout([]);
    const live: Service[] = [];
    for (let i = 0; i < MIN_SPARE_BACKENDS; i++) {
      live.push(service(`s${i}`));
      layout = keepLayout(live, layout)!;
      expect(layout, `domain ${i + 1}`).toBeDefined();
    }
    expect(keepLayout([...live, service('one-too-many')], layout)).toBeUndefined();
  });
});

describe('placeServices and hostsMapText', () => {
  it('puts each service and its servers in its backend, lists every backend by name, and maps its host names there', () => {
    const layout = keepLayout([service('api', 2), service('fresh')], freshLayout([service('api')]))!;
    const placed = placeServices([service('api', 2), service('fresh')], layout);
    expect(placed.services.map((s) => s.backend)).toEqual(['be_api', 'spare_001']);
    expect(placed.backends.map((b) => b.name)).toEqual([...layout.keys()].sort());
    expect(placed.backends.find((b) => b.name === 'spare_001')!.servers.map((s) => s.name)).toEqual(['fresh-1']);
    expect(placed.backends.find((b) => b.name === 'spare_002')!.servers).toEqual([]);
    expect(hostsMapText(placed.services)).toBe('api be_api\napi.example.com be_api\nfresh spare_001\nfresh.example.com spare_001\n');
  });
});
