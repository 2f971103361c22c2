import { describe, expect, it } from 'vitest';
import { hstsMaxAgeOf } from '../../../src/model/hsts.js';
import type { RoutePolicy } from '../../../src/model/route-labels.js';
import type { Service } from '../../../src/model/services.js';

const http = (policy: RoutePolicy): Service => ({
  key: 'www',
  kind: 'http',
  domain: 'www',
  path: '/',
  hostnames: ['www.example.com'],
  policy,
  route: 'web',
  owner: { key: 'image:app', description: 'image "app"' },
  servers: [],
});
const YEAR = 31_536_000;

describe('hstsMaxAgeOf', () => {
  it.each<[string, Service | undefined, { hstsMaxAge?: number } | undefined, number | null]>([
    ['a route that redirects plain HTTP (the default): HSTS_MAX_AGE', http({}), { hstsMaxAge: YEAR }, YEAR],
    ['https=redirect said outright', http({ https: 'redirect' }), { hstsMaxAge: YEAR }, YEAR],
    ['https=only', http({ https: 'only' }), { hstsMaxAge: 300 }, 300],
    ['https=both: none by default, its plain HTTP is meant to be used', http({ https: 'both' }), { hstsMaxAge: YEAR }, null],
    ['https=both with its own hsts label: the label', http({ https: 'both', hstsMaxAge: 600 }), { hstsMaxAge: YEAR }, 600],
    ['hsts=0: none, whatever HSTS_MAX_AGE says', http({ hstsMaxAge: 0 }), { hstsMaxAge: YEAR }, null],
    ['an hsts label over HSTS_MAX_AGE=0', http({ hstsMaxAge: 600 }), { hstsMaxAge: 0 }, 600],
    ['HSTS_MAX_AGE=0: none', http({}), { hstsMaxAge: 0 }, null],
    ['no default given: none', http({}), {}, null],
    ['a spare backend: as a route without policy', undefined, { hstsMaxAge: YEAR }, YEAR],
    ['without HTTPS: none, labels or not', http({ hstsMaxAge: 600 }), undefined, null],
    ['a TCP route: none', { ...http({}), kind: 'tcp', key: 'tcp:5432' }, { hstsMaxAge: YEAR }, null],
  ])('%s', (_, service, https, expected) => {
    expect(hstsMaxAgeOf(service, https)).toBe(expected);
  });
});
