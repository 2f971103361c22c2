/**
 * Test certificates, made by the host's `openssl` as an operator would: a test CA, and leaf certificates
 * it signs for the names a test needs. Clients in tests trust the CA (`curl --cacert`), so a test sees
 * which certificate HAProxy chose by the names in it, not by turning verification off.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export interface TestCa {
  /** PEM of the CA certificate: what clients trust. */
  cert: string;
  /** The CA certificate's file (for `curl --cacert`). */
  certFile: string;
  dir: string;
  /** A leaf certificate for `names` (the first is the subject), valid `days`. */
  /** keyType `ec-p192`: a key on a 192-bit curve, which Node's parser takes and HAProxy's OpenSSL refuses ("ee key too small"). */
  issue(names: string[], options?: { days?: number; keyType?: 'ec' | 'ec-p192' | 'rsa'; ipAddresses?: string[] }): Promise<TestCertificate>;
  close(): Promise<void>;
}

export interface TestCertificate {
  cert: string;
  key: string;
  /** The CA's certificate, as a chain file holds it. */
  chain: string;
}

let serial = 0;

export async function createTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hc-ca-'));
  const caKey = path.join(dir, 'ca.key');
  const certFile = path.join(dir, 'ca.crt');
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '30',
    '-subj',
    '/CN=haproxy-companion test CA',
    '-keyout',
    caKey,
    '-out',
    certFile,
  ]);
  const cert = await readFile(certFile, 'utf8');
  return {
    cert,
    certFile,
    dir,
    async issue(names, { days = 30, keyType = 'ec', ipAddresses = [] } = {}) {
      const n = ++serial;
      const base = path.join(dir, `leaf${n}`);
      const curve = { ec: 'prime256v1', 'ec-p192': 'prime192v1', rsa: undefined }[keyType];
      const keyArgs = curve ? ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`] : ['-newkey', 'rsa:2048'];
      await execa('openssl', [
        'req',
        '-new',
        ...keyArgs,
        '-nodes',
        '-subj',
        `/CN=${names[0]}`,
        '-keyout',
        `${base}.key`,
        '-out',
        `${base}.csr`,
      ]);
      const alternatives = [...names.map((name) => `DNS:${name}`), ...ipAddresses.map((ip) => `IP:${ip}`)];
      await writeFile(`${base}.ext`, `subjectAltName=${alternatives.join(',')}\n`);
      await execa('openssl', [
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        certFile,
        '-CAkey',
        caKey,
        '-CAcreateserial',
        '-days',
        String(days),
        '-extfile',
        `${base}.ext`,
        '-out',
        `${base}.crt`,
      ]);
      return { cert: await readFile(`${base}.crt`, 'utf8'), key: await readFile(`${base}.key`, 'utf8'), chain: cert };
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
