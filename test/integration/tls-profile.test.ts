/**
 * What a TLS scanner sees on HTTPS_PORT of the real image: `testssl.sh` lists every cipher the default
 * profile (TLS_PROFILE=intermediate, Mozilla's) offers per protocol, and none may be outside it (CBC, no
 * forward secrecy, TLS 1.0/1.1); TLS_PROFILE=modern refuses TLS 1.2. HSTS is on by default for the routes
 * that redirect to HTTPS or answer only HTTPS, never for `https=both`.
 * The certificates are an RSA and an ECDSA one for the same name, so that the suites of both key types show.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../helpers/certs.js';
import { TestRun } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const intermediate = { port: 18230, httpsPort: 18231 };
const modern = { port: 18232, httpsPort: 18233 };
const HOST = 'www.example.com';
let ca: TestCa;
let certsDir: string;

const route = (name: string, labels: Record<string, string>) =>
  Object.fromEntries(Object.entries(labels).map(([key, value]) => [`haproxy-companion.${name}.${key}`, value]));

/** Mozilla's intermediate profile (guideline 6.0), as testssl.sh names its suites: TLS 1.2 with ECDHE and AEAD only, and TLS 1.3. */
const INTERMEDIATE = [
  'TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256',
  'TLS 1.2 ECDHE-ECDSA-AES256-GCM-SHA384',
  'TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305',
  'TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256',
  'TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384',
  'TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305',
  'TLS 1.3 TLS_AES_128_GCM_SHA256',
  'TLS 1.3 TLS_AES_256_GCM_SHA384',
  'TLS 1.3 TLS_CHACHA20_POLY1305_SHA256',
];

/** A handshake with `httpsPort` for HOST; resolves with the protocol and cipher, or the error that refused it. */
function handshake(
  httpsPort: number,
  options: Pick<tls.ConnectionOptions, 'minVersion' | 'maxVersion' | 'ciphers'> = {},
): Promise<{ protocol: string | null; cipher: string; ticket: boolean } | Error> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername: HOST, ca: ca.cert, timeout: 5_000, ...options }, () => {
      // A session ticket comes after the handshake (TLS 1.2: before Finished; read once the socket settles).
      setTimeout(() => {
        resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().name, ticket: socket.getTLSTicket() !== undefined });
        socket.end();
      }, 100);
    });
    socket.on('error', (error) => resolve(error));
    socket.on('timeout', () => socket.destroy(new Error('handshake timeout')));
  });
}

function httpsGet(httpsPort: number, host: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: httpsPort, servername: host, ca: ca.cert, headers: { Host: host }, agent: false, timeout: 5_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET https://${host}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  ca = await createTestCa();
  certsDir = await mkdtemp(path.join(tmpdir(), 'hc-tls-profile-'));
  for (const keyType of ['rsa', 'ec'] as const) {
    const leaf = await ca.issue([HOST, 'api.example.com', 'legacy.example.com'], { keyType });
    await writeFile(path.join(certsDir, `www-${keyType}.pem`), `${leaf.cert}${leaf.chain}${leaf.key}`);
  }
  await run.backend({ text: 'www', labels: route('web', { domain: 'www' }) });
  await run.backend({ text: 'api', labels: route('api', { domain: 'api', https: 'only' }) });
  await run.backend({ text: 'legacy', labels: route('old', { domain: 'legacy', https: 'both' }) });
  for (const [{ port, httpsPort }, env] of [
    [intermediate, {}],
    [modern, { TLS_PROFILE: 'modern' }],
  ] as const) {
    await run.companion({
      port,
      env: { TLS_CERTS_DIR: '/certs', HTTPS_PORT: String(httpsPort), ...env },
      args: ['-v', `${certsDir}:/certs:ro`],
    });
  }
  for (const { httpsPort } of [intermediate, modern]) {
    await waitFor(async () => (await httpsGet(httpsPort, HOST).catch(() => undefined))?.status === 200, {
      what: `www over HTTPS on ${httpsPort}`,
    });
  }
}, 180_000);

afterAll(async () => {
  await run.cleanup();
  await rm(certsDir, { recursive: true, force: true });
  await ca.close();
});

describe('TLS_PROFILE=intermediate (the default)', () => {
  it('offers TLS 1.2 with ECDHE and AEAD suites only, and TLS 1.3: testssl.sh finds nothing else, in any protocol', async () => {
    const json = path.join(certsDir, 'testssl.json');
    // -E: every cipher, per protocol (a protocol none is found for is not offered). --ssl-native: through the
    // host's openssl only, which knows every suite HAProxy's OpenSSL can offer, at half the time of its bash sockets.
    const started = Date.now();
    await execa('testssl', [
      ...['--quiet', '--warnings', 'off', '--color', '0', '--ssl-native', '-E'],
      ...['--ip', '127.0.0.1', '--nodns', 'none', '--jsonfile', json, `${HOST}:${intermediate.httpsPort}`],
    ]);
    console.info(`testssl.sh -E --ssl-native: ${Math.round((Date.now() - started) / 1000)} s`);
    const findings = JSON.parse(await readFile(json, 'utf8')) as { id: string; finding: string }[];
    const offered = findings
      .filter((f) => f.id.startsWith('cipher-'))
      .map((f) => {
        // "TLS 1.2   xc02c   ECDHE-ECDSA-AES256-GCM-SHA384   ECDH 253 …": the protocol and the OpenSSL name.
        const [, protocol, name] = /^(SSLv\d|TLS 1(?:\.\d)?)\s+x[0-9a-f]+\s+(\S+)/.exec(f.finding) ?? [];
        return `${protocol} ${name}`;
      });
    expect(offered.sort()).toEqual(INTERMEDIATE);
  }, 400_000);

  it('refuses a CBC suite and one without forward secrecy, and issues no TLS 1.2 session ticket', async () => {
    for (const ciphers of ['ECDHE-RSA-AES128-SHA', 'AES128-GCM-SHA256', 'AES256-SHA']) {
      expect(await handshake(intermediate.httpsPort, { maxVersion: 'TLSv1.2', ciphers })).toBeInstanceOf(Error);
    }
    // A ticket's key lives as long as the HAProxy process: whoever reads it decrypts every session it sealed.
    expect(await handshake(intermediate.httpsPort, { maxVersion: 'TLSv1.2' })).toMatchObject({ protocol: 'TLSv1.2', ticket: false });
  });

  it('sends HSTS for a year on the routes that redirect to HTTPS or answer only HTTPS, never on `https=both`', async () => {
    for (const host of [HOST, 'api.example.com']) {
      expect((await httpsGet(intermediate.httpsPort, host)).headers['strict-transport-security']).toBe('max-age=31536000');
    }
    const legacy = await httpsGet(intermediate.httpsPort, 'legacy.example.com');
    expect(legacy.status).toBe(200);
    expect(legacy.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('TLS_PROFILE=modern', () => {
  it('refuses TLS 1.2 and serves TLS 1.3', async () => {
    expect(await handshake(modern.httpsPort, { maxVersion: 'TLSv1.2' })).toBeInstanceOf(Error);
    expect(await handshake(modern.httpsPort)).toMatchObject({ protocol: 'TLSv1.3' });
  });
});
