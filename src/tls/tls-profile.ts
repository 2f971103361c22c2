/**
 * TLS_PROFILE: which protocols, suites and key exchanges HAProxy offers on HTTPS_PORT (`ssl-default-bind-*`)
 * and asks for on its HTTPS connections to other hosts of the fleet (`ssl-default-server-*`). Mozilla's
 * server-side TLS guideline 6.0 (ssl-config.mozilla.org, HAProxy 3.0, OpenSSL 3.5):
 * - intermediate: TLS 1.2 with ECDHE key exchange and AEAD ciphers only (no CBC, which LUCKY13 and its kin
 *   attack, and no RSA key exchange, which has no forward secrecy), and TLS 1.3;
 * - modern: TLS 1.3 only.
 * Both without session tickets (see `options`).
 */

export const TLS_PROFILES = ['intermediate', 'modern'] as const;
export type TlsProfileName = (typeof TLS_PROFILES)[number];

/** What the template prints in `global`, each a value of HAProxy's setting of that name. */
export interface TlsProfile {
  name: TlsProfileName;
  /** `ssl-default-bind-ciphers` and `-server-ciphers`: the TLS 1.2 suites; null when TLS 1.2 is off. */
  ciphers: string | null;
  /** `ssl-default-bind-ciphersuites` and `-server-ciphersuites`: the TLS 1.3 suites. */
  ciphersuites: string;
  /** `ssl-default-bind-curves` and `-server-curves`: the key exchange groups, the post-quantum hybrid first (OpenSSL 3.5). */
  curves: string;
  /**
   * `ssl-default-bind-options`. `no-tls-tickets`: a ticket is the session's secret sealed with a key that
   * lives as long as the HAProxy process (weeks, between reloads), so whoever reads that key decrypts every
   * recorded TLS 1.2 session it sealed: forward secrecy would last as long as the process. Without tickets,
   * resumption uses HAProxy's session cache (in memory, entries of 5 minutes, gone with a reload, which
   * costs returning clients one full handshake). `prefer-client-ciphers`: every suite offered is strong, and
   * the client knows whether it has AES hardware (else ChaCha20 is faster).
   */
  bindOptions: string;
  /** `ssl-default-server-options`: the same, for connections to other hosts. */
  serverOptions: string;
}

const CIPHERSUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';
const CURVES = 'X25519MLKEM768:X25519:prime256v1:secp384r1';

const PROFILES: Record<TlsProfileName, TlsProfile> = {
  intermediate: {
    name: 'intermediate',
    ciphers: [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-CHACHA20-POLY1305',
    ].join(':'),
    ciphersuites: CIPHERSUITES,
    curves: CURVES,
    bindOptions: 'prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets',
    serverOptions: 'ssl-min-ver TLSv1.2 no-tls-tickets',
  },
  modern: {
    name: 'modern',
    ciphers: null,
    ciphersuites: CIPHERSUITES,
    curves: CURVES,
    bindOptions: 'prefer-client-ciphers ssl-min-ver TLSv1.3 no-tls-tickets',
    serverOptions: 'ssl-min-ver TLSv1.3 no-tls-tickets',
  },
};

export function tlsProfile(name: TlsProfileName): TlsProfile {
  return PROFILES[name];
}
