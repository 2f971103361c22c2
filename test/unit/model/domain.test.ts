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

  // Trust boundary, point 2: a name given without the zone is read relative to it, so one that already
  // looks like a name elsewhere (a public name, an address, the host itself) is refused with a way to write it.
  it.each([
    ['www.google.com', /top-level domain "com".*outside example\.com.*www\.google\.com\.example\.com/],
    ['evil.co.uk', /top-level domain "uk"/],
    ['a.shop', /top-level domain "shop"/],
    ['x.xn--p1ai', /top-level domain "xn--p1ai"/], // рф, which the list spells in Unicode
    ['127.0.0.1', /IP address.*127\.0\.0\.1\.example\.com/],
    ['169.254.169.254', /IP address/],
    ['10.0.0.1', /IP address/],
    ['a.1', /IP address/],
    ['a.0x7f', /IP address/],
    ['foo.localhost', /localhost.*foo\.localhost\.example\.com/],
    ['localhost', /localhost, the host itself/],
    ['LOCALHOST.', /localhost, the host itself/],
    ['localhost.example.com', /localhost, the host itself/],
    ['123', /all digits/],
    ['2130706433.example.com', /all digits/],
    ['0x7f000001', /IP address/],
  ])('refuses %j, a name outside the zone or one that Host reads as another', (raw, reason) => {
    const result = parseServiceDomain(raw, zone);
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
  });

  it.each([
    ['shop', 'shop'], // a top-level domain itself is a fine single-label name: no Host `shop` resolves anywhere
    ['app', 'app'],
    ['www.google.com.example.com', 'www.google.com'],
    ['127.0.0.1.example.com', '127.0.0.1'],
    ['foo.localhost.example.com', 'foo.localhost'],
    ['api.v2', 'api.v2'],
    ['login.example', 'login.example'],
    ['a1', 'a1'],
    ['0xyz', '0xyz'],
  ])('accepts %j, written inside the zone', (raw, expected) => {
    expect(parseServiceDomain(raw, zone)).toEqual({ ok: true, name: expected });
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
