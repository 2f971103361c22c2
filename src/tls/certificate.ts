/**
 * One TLS certificate as HAProxy loads it: the leaf, its chain and its private key in one PEM text.
 * The operator's files come in every layout the peers accept (one `.pem` with everything, `name.crt` +
 * `name.key`, certbot's `live/<name>/` with `fullchain.pem` and `privkey.pem`): whatever the layout, the
 * blocks of one certificate's files are pooled, the key's own certificate is the leaf, and the other
 * certificates follow it as the chain. A file HAProxy would refuse fails the whole configuration, so each
 * certificate is checked here and refused alone, with a reason, before HAProxy sees it.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';

export interface Certificate {
  /** Its name in TLS_CERTS_DIR: a file's name without extension, or a subdirectory's name. */
  name: string;
  /** Leaf, chain, key: the file HAProxy reads, and what `set ssl cert` sends. No blank line (the CLI's end of payload). */
  pem: string;
  /** The DNS names it is valid for (subject alternative names, or the common name without any), lower-case. */
  hostnames: string[];
  notAfter: Date;
  /** SHA-256 of the leaf (DER), as `openssl x509 -fingerprint -sha256` shows it, without colons. */
  fingerprint: string;
}

export type CertificateResult = { ok: true; certificate: Certificate } | { ok: false; reason: string };

/** A name that is one safe word in a file name, a crt-list line and a CLI command. */
export const CERTIFICATE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const KEY_BLOCK = /^(?:RSA |EC )?PRIVATE KEY$/;

/** Pools the PEM blocks of `texts` (one certificate's files) into one certificate, or says why it cannot be one. */
export function parseCertificate(name: string, texts: string[]): CertificateResult {
  if (!CERTIFICATE_NAME.test(name)) {
    return { ok: false, reason: 'its name must be letters, digits, dots, dashes and underscores (at most 128)' };
  }
  const certificates: X509Certificate[] = [];
  const seen = new Set<string>();
  const keys: KeyObject[] = [];
  for (const text of texts) {
    for (const [block, kind] of text.matchAll(BLOCK)) {
      const normalised = `${block.replace(/\r/g, '').replace(/\n+/g, '\n')}\n`;
      if (kind === 'CERTIFICATE') {
        let certificate: X509Certificate;
        try {
          certificate = new X509Certificate(normalised);
        } catch (error) {
          return { ok: false, reason: `a CERTIFICATE block does not parse (${(error as Error).message})` };
        }
        if (seen.has(certificate.fingerprint256)) continue;
        seen.add(certificate.fingerprint256);
        certificates.push(certificate);
      } else if (KEY_BLOCK.test(kind ?? '')) {
        if (block.includes('ENCRYPTED'))
          return { ok: false, reason: 'its private key is encrypted; HAProxy needs it without a passphrase' };
        try {
          keys.push(createPrivateKey(normalised));
        } catch (error) {
          return { ok: false, reason: `a private key does not parse (${(error as Error).message})` };
        }
      } else if (kind === 'ENCRYPTED PRIVATE KEY') {
        return { ok: false, reason: 'its private key is encrypted; HAProxy needs it without a passphrase' };
      }
    }
  }
  if (keys.length !== 1) {
    return {
      ok: false,
      reason: keys.length === 0 ? 'has no private key (PRIVATE KEY block)' : `has ${keys.length} private keys; one is needed`,
    };
  }
  const key = keys[0] as KeyObject;
  // HAProxy's OpenSSL (security level 2) refuses a smaller RSA key, and would then refuse the whole file.
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType === 'rsa' && bits !== undefined && bits < 2048) {
    return { ok: false, reason: `its RSA key has ${bits} bits; HAProxy's OpenSSL needs at least 2048` };
  }
  const leaf = certificates.find((certificate) => certificate.checkPrivateKey(key));
  if (leaf === undefined) {
    return {
      ok: false,
      reason: certificates.length === 0 ? 'has no CERTIFICATE block' : 'none of its certificates belongs to its private key',
    };
  }
  const notAfter = new Date(leaf.validTo);
  const hostnames = hostnamesOf(leaf);
  if (hostnames.length === 0) return { ok: false, reason: 'names no DNS name (subject alternative name or common name)' };
  const chain = certificates.filter((certificate) => certificate !== leaf);
  const keyPem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
  return {
    ok: true,
    certificate: {
      name,
      pem: [leaf, ...chain].map((certificate) => certificate.toString()).join('') + keyPem,
      hostnames,
      notAfter,
      fingerprint: createHash('sha256').update(leaf.raw).digest('hex').toUpperCase(),
    },
  };
}

/** `DNS:` entries of the subject alternative names; browsers ignore the common name when there are any. */
function hostnamesOf(certificate: X509Certificate): string[] {
  const alternatives = subjectAltDnsNames(certificate);
  if (alternatives.length > 0) return [...new Set(alternatives)].sort();
  const commonName = /^CN=(.+)$/m.exec(certificate.subject)?.[1]?.toLowerCase();
  return commonName && /^[a-z0-9*][a-z0-9.-]*$/.test(commonName) ? [commonName] : [];
}

/** The `DNS:` subject alternative names, lower-case, in the certificate's order. */
export function subjectAltDnsNames(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
}

/** Whether a certificate for `pattern` (`a.example.com`, `*.example.com`) serves `hostname`, as TLS clients match. */
export function coversHostname(pattern: string, hostname: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === hostname;
  const dot = hostname.indexOf('.');
  return dot > 0 && hostname.slice(dot + 1) === pattern.slice(2);
}
