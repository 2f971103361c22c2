import { describe, expect, it } from 'vitest';
import { parseDnsName, parseServiceDomain } from '../../../src/model/domain.js';

describe('parseServiceDomain', () => {
  const zone = 'example.com';
  it.each([
    ['login', 'login'],
    ['Login', 'login'],
    ['  login  ', 'login'],
    ['login\n', 'login'],
    ['login.example.com', 'login'],
    ['LOGIN.Example.COM.', 'login'],
    ['api.v2', 'api.v2'],
    ['a-b-c', 'a-b-c'],
    ['x1', 'x1'],
    ['a'.repeat(63), 'a'.repeat(63)],
  ])('accepts %j as %j', (raw, expected) => {
    expect(parseServiceDomain(raw, zone)).toEqual({ ok: true, name: expected });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['login\nbackend evil', /RFC 1123/],
    ['log in', /RFC 1123/],
    ['login#x', /RFC 1123/],
    ['"login"', /RFC 1123/],
    ["login'", /RFC 1123/],
    ['login;rm', /RFC 1123/],
    ['login}}', /RFC 1123/],
    ['{{ services }}', /RFC 1123/],
    ['lögin', /RFC 1123/],
    ['登录', /RFC 1123/],
    ['under_score', /RFC 1123/],
    ['-login', /RFC 1123/],
    ['login-', /RFC 1123/],
    ['a..b', /empty label/],
    ['.login', /empty label/],
    ['a'.repeat(64), /longer than 63/],
    [`${'a'.repeat(60)}.`.repeat(5), /longer than 253/],
    ['example.com', /zone apex/],
    ['*.login', /RFC 1123/],
    ['login:80', /RFC 1123/],
    ['login/path', /RFC 1123/],
    // Found by the property tests: each of these used to be accepted.
    ['0\u212aa', /RFC 1123/], // KELVIN SIGN lower-cases to an ASCII k
    ['example.com.example.com', /zone example\.com twice/],
    ['login.example.com.example.com', /zone example\.com twice/],
    [`${'a'.repeat(30)}.`.repeat(7) + 'b'.repeat(15), /room for the ownership marker/],
  ])('rejects %j', (raw, reason) => {
    const result = parseServiceDomain(raw, zone);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('rejects a name that is too long once the zone is appended', () => {
    const longZone = `${'z'.repeat(60)}.${'y'.repeat(60)}.${'x'.repeat(60)}.com`;
    const result = parseServiceDomain(`${'a'.repeat(63)}.bbb`, longZone);
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/253/) });
  });
});

describe('parseDnsName', () => {
  it('lower-cases and drops a trailing dot', () => {
    expect(parseDnsName('Example.COM.')).toEqual({ ok: true, name: 'example.com' });
  });
});
