/**
 * TLS_CERTS_DIR holding files that are not regular files, against the real image, laid out as certbot's
 * /etc/letsencrypt (live/<name>/ linking into archive/): a FIFO in live/<name>/ at start, and another
 * appearing at run time. Before, the first read of a FIFO never returned and every certificate read after
 * it waited behind it: at start HAProxy never started (no HTTP, no HTTPS), at run time renewals stopped.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../helpers/certs.js';
import { type Companion, TestRun } from '../helpers/docker.js';
import { makeFifo, releaseFifo } from '../helpers/fifo.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18196;
const httpsPort = 18197;
let ca: TestCa;
let root: string;
let live: string;
let companion: Companion;
const fifos: string[] = [];

const statusJson = async () => (await (await fetch(`http://127.0.0.1:${port + 1000}/status`)).json()) as any;
const refused = async () => ((await statusJson()).tls.refused as { name: string; reason: string }[]) ?? [];
const metric = async (name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${port + 1000}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
};

/** The fingerprint of the certificate HTTPS_PORT shows for `servername`, trusting only the test CA. */
function servedFingerprint(servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername, ca: ca.cert, timeout: 5_000 }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
    socket.on('timeout', () => socket.destroy(new Error('handshake timeout')));
  });
}

/** As certbot writes a certificate: the files in archive/<name>/, links to them in live/<name>/. */
async function certbotCertificate(name: string, names: string[]): Promise<string> {
  const leaf = await ca.issue(names);
  await mkdir(path.join(root, 'archive', name), { recursive: true });
  await mkdir(path.join(live, name), { recursive: true });
  await writeFile(path.join(root, 'archive', name, 'fullchain1.pem'), `${leaf.cert}${leaf.chain}`);
  await writeFile(path.join(root, 'archive', name, 'privkey1.pem'), leaf.key);
  await symlink(`../../archive/${name}/fullchain1.pem`, path.join(live, name, 'fullchain.pem'));
  await symlink(`../../archive/${name}/privkey1.pem`, path.join(live, name, 'privkey.pem'));
  return new X509Certificate(leaf.cert).fingerprint256;
}

/** live/<name>/ with its key and a FIFO where its fullchain.pem would be. */
async function fifoCertificate(name: string): Promise<void> {
  await mkdir(path.join(live, name), { recursive: true });
  await writeFile(path.join(live, name, 'privkey.pem'), (await ca.issue([`${name}.example.com`])).key);
  const fifo = path.join(live, name, 'fullchain.pem');
  await makeFifo(fifo);
  fifos.push(fifo);
}

let wwwFingerprint: string;

beforeAll(async () => {
  ca = await createTestCa();
  root = await mkdtemp(path.join(tmpdir(), 'hc-letsencrypt-'));
  live = path.join(root, 'live');
  wwwFingerprint = await certbotCertificate('www', ['www.example.com']);
  await fifoCertificate('stuck');
  await run.backend({ text: 'www', labels: { 'haproxy-companion.web.domain': 'www' } });
  await run.backend({ text: 'api', labels: { 'haproxy-companion.api.domain': 'api' } });
  companion = await run.companion({
    port,
    env: { TLS_CERTS_DIR: '/letsencrypt/live', HTTPS_PORT: String(httpsPort) },
    args: ['-v', `${root}:/letsencrypt:ro`],
  });
  await waitFor(async () => (await servedFingerprint('www.example.com').catch(() => undefined)) === wwwFingerprint, {
    what: 'www over HTTPS',
    timeoutMs: 60_000,
  });
}, 180_000);

afterAll(async () => {
  await run.cleanup();
  for (const fifo of fifos) releaseFifo(fifo);
  await rm(root, { recursive: true, force: true });
  await ca.close();
});

describe('TLS_CERTS_DIR with a FIFO where a certificate file would be', () => {
  it('starts HAProxy with the other certificates; the FIFO’s certificate is refused alone, named in /status, the metric and the log', async () => {
    expect(await get(port, 'api.example.com')).toMatchObject({ status: 301 });
    expect(await refused()).toEqual([{ name: 'stuck', reason: 'stuck/fullchain.pem is not a regular file (a FIFO)' }]);
    expect(await metric('haproxy_companion_certificates_refused')).toBe(1);
    const logged = (await companion.logs()).filter((line) => line.msg === 'certificate refused');
    expect(logged).toContainEqual(
      expect.objectContaining({ certificate: 'stuck', reason: 'stuck/fullchain.pem is not a regular file (a FIFO)' }),
    );
  });

  it('refuses a FIFO appearing at run time alone, and takes a certificate added after it', async () => {
    await fifoCertificate('late');
    await waitFor(async () => (await refused()).some((r) => r.name === 'late'), { what: 'late refused', timeoutMs: 30_000 });
    expect(await refused()).toEqual([
      { name: 'late', reason: 'late/fullchain.pem is not a regular file (a FIFO)' },
      { name: 'stuck', reason: 'stuck/fullchain.pem is not a regular file (a FIFO)' },
    ]);
    const apiFingerprint = await certbotCertificate('api', ['api.example.com']);
    await waitFor(async () => (await servedFingerprint('api.example.com').catch(() => undefined)) === apiFingerprint, {
      what: 'api’s certificate served',
      timeoutMs: 30_000,
    });
    expect(await servedFingerprint('www.example.com')).toBe(wwwFingerprint);
    expect((await statusJson()).tls.certificates.map((c: { name: string }) => c.name)).toEqual(['api', 'www']);
  });
});
