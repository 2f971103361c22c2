/**
 * Debian's `pebble` (Let's Encrypt's RFC 8555 test server) on 127.0.0.1 for tests, with real DNS-01
 * validation against a test DNS server (zone-dns.ts). Its HTTPS listener uses a certificate of the test
 * CA (certs.ts), which clients pass as `ca`; the certificates it issues chain to a root it makes at start
 * ({@link Pebble.issuingRoot}).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { createTestCa, type TestCa } from './certs.js';
import { waitFor } from './wait-for.js';

export interface Pebble {
  directoryUrl: string;
  /** PEM of the CA that signed pebble's own HTTPS certificate. */
  ca: string;
  /** PEM of the root pebble's issued certificates chain to. */
  issuingRoot(): Promise<string>;
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, timeout: 2_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

export async function startPebble(options: { dnsServer: string }): Promise<Pebble> {
  const testCa: TestCa = await createTestCa();
  const leaf = await testCa.issue(['localhost'], { ipAddresses: ['127.0.0.1'] });
  const [port, management, httpPort, tlsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const certFile = path.join(testCa.dir, 'pebble.crt');
  const keyFile = path.join(testCa.dir, 'pebble.key');
  await writeFile(certFile, `${leaf.cert}${leaf.chain}`);
  await writeFile(keyFile, leaf.key);
  const configFile = path.join(testCa.dir, 'pebble.json');
  await writeFile(
    configFile,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: certFile,
        privateKey: keyFile,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  let output = '';
  const child: ChildProcess = spawn('pebble', ['-config', configFile, '-dnsserver', options.dnsServer], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const directoryUrl = `https://127.0.0.1:${port}/dir`;
  await waitFor(async () => (await httpsGet(directoryUrl, testCa.cert).catch(() => undefined))?.status === 200, {
    what: `pebble at ${directoryUrl}`,
    timeoutMs: 15_000,
  });
  return {
    directoryUrl,
    ca: testCa.cert,
    issuingRoot: async () => (await httpsGet(`https://127.0.0.1:${management}/roots/0`, testCa.cert)).body,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve).once('error', resolve));
      await testCa.close();
    },
  };
}
