import { describe, expect, it } from 'vitest';
import { TLS_PROFILES, tlsProfile } from '../../../src/tls/tls-profile.js';

describe('tlsProfile', () => {
  it('intermediate: TLS 1.2 suites with ECDHE key exchange and AEAD ciphers only (no CBC, no RSA key exchange), and TLS 1.3', () => {
    const { ciphers, bindOptions } = tlsProfile('intermediate');
    const suites = ciphers?.split(':') ?? [];
    expect(suites).toHaveLength(6);
    for (const suite of suites) expect(suite).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    expect(bindOptions).toContain('ssl-min-ver TLSv1.2');
  });

  it('modern: TLS 1.3 only, no TLS 1.2 suites', () => {
    expect(tlsProfile('modern')).toMatchObject({ ciphers: null, bindOptions: expect.stringContaining('ssl-min-ver TLSv1.3') });
    expect(tlsProfile('modern').serverOptions).toContain('ssl-min-ver TLSv1.3');
  });

  it.each(TLS_PROFILES)('%s: no session tickets, on HTTPS_PORT and towards other hosts', (name) => {
    const profile = tlsProfile(name);
    expect(profile.bindOptions).toMatch(/\bno-tls-tickets\b/);
    expect(profile.serverOptions).toMatch(/\bno-tls-tickets\b/);
    // prefer-client-ciphers is a bind option only: HAProxy refuses it among the server options.
    expect(profile.serverOptions).not.toContain('prefer-client-ciphers');
  });
});
