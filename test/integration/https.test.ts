/**
 * HTTPS from TLS_CERTS_DIR against the real image: the certificate HAProxy chooses per SNI (checked by a
 * client that trusts only the test CA), HTTP/2 through ALPN, unknown names refused at the handshake, each
 * route's choice for plain HTTP (redirect, only, both) and HSTS, the redirect of a host DEFAULT_SERVICE serves, a refused certificate beside good ones,
 * and certificates added, renewed and removed in the directory while HAProxy runs: no reload, and a
 * download on a connection made before the renewal completes.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../helpers/certs.js';
import { docker, TestRun } from '../helpers/docker.js';
import { get, request } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18160;
const httpsPort = 18161;
let ca: TestCa;
let certsDir: string;

const route = (name: string, labels: Record<string, string>) =>
  Object.fromEntries(Object.entries(labels).map(([key, value]) => [`haproxy-companion.${name}.${key}`, value]));
const statusJson = async () => (await (await fetch(`http://127.0.0.1:${port + 1000}/status`)).json()) as any;
const metric = async (name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${port + 1000}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
};

interface Handshake {
  /** The served certificate's subject alternative names, e.g. `DNS:www.example.com, DNS:example.com`. */
  names: string;
  fingerprint: string;
  alpn: string | false;
}

/** A TLS handshake with HTTPS_PORT asking for `servername`, trusting only the test CA. */
function handshake(servername: string, alpn?: string[]): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername, ca: ca.cert, ALPNProtocols: alpn, timeout: 5_000 }, () => {
      const cert = socket.getPeerCertificate();
      resolve({ names: cert.subjectaltname ?? '', fingerprint: cert.fingerprint256, alpn: socket.alpnProtocol ?? false });
      socket.end();
    });
    socket.on('error', reject);
    socket.on('timeout', () => socket.destroy(new Error('handshake timeout')));
  });
}

/** GET over HTTPS to `host`, which is also the SNI name. */
function httpsGet(host: string, urlPath = '/'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: httpsPort,
        servername: host,
        ca: ca.cert,
        path: urlPath,
        headers: { Host: host },
        agent: false,
        timeout: 5_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body.trim() }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET https://${host}${urlPath}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

/** Writes a new certificate for `names` as `<name>.pem` and returns its fingerprint (as `getPeerCertificate` shows it). */
async function writeCertificate(name: string, names: string[]): Promise<string> {
  const leaf = await ca.issue(names);
  // Written whole under another name, then renamed over the old one, as certbot and `cp` + `mv` do.
  const file = path.join(certsDir, `${name}.pem`);
  await writeFile(`${file}.tmp`, `${leaf.cert}${leaf.chain}${leaf.key}`);
  await rename(`${file}.tmp`, file);
  return new X509Certificate(leaf.cert).fingerprint256;
}

beforeAll(async () => {
  ca = await createTestCa();
  certsDir = await mkdtemp(path.join(tmpdir(), 'hc-https-'));
  // One file with everything; a .crt + .key pair for a wildcard; a file without its key (refused).
  await writeCertificate('www', ['www.example.com', 'example.com']);
  const wildcard = await ca.issue(['*.example.com']);
  await writeFile(path.join(certsDir, 'wildcard.crt'), `${wildcard.cert}${wildcard.chain}`);
  await writeFile(path.join(certsDir, 'wildcard.key'), wildcard.key);
  await writeFile(path.join(certsDir, 'broken.pem'), wildcard.cert);

  await run.backend({
    text: 'www',
    labels: route('web', { domain: 'www' }),
    setup: 'dd if=/dev/zero of=/www/big bs=1M count=32 2>/dev/null',
  });
  await run.backend({ text: 'api', labels: route('api', { domain: 'api', https: 'only', hsts: '0' }) });
  await run.backend({
    text: 'legacy',
    labels: route('old', { domain: 'legacy', https: 'both' }),
    // A CGI script that echoes the X-Forwarded-Proto it received.
    setup:
      'printf \'#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho "$HTTP_X_FORWARDED_PROTO"\\n\' > /www/cgi-bin/proto && chmod +x /www/cgi-bin/proto',
  });
  await run.companion({
    port,
    env: { TLS_CERTS_DIR: '/certs', HTTPS_PORT: String(httpsPort), HSTS_MAX_AGE: '300', DEFAULT_SERVICE: 'www' },
    args: ['-v', `${certsDir}:/certs:ro`],
  });
  await waitFor(async () => (await httpsGet('www.example.com').catch(() => undefined))?.body === 'www', { what: 'www over HTTPS' });
}, 180_000);

afterAll(async () => {
  await run.cleanup();
  await rm(certsDir, { recursive: true, force: true });
  await ca.close();
});

describe('HTTPS from TLS_CERTS_DIR', () => {
  it('serves the certificate for the name the client asks for, the exact one before the wildcard', async () => {
    expect((await handshake('www.example.com')).names).toBe('DNS:www.example.com, DNS:example.com');
    expect((await handshake('example.com')).names).toBe('DNS:www.example.com, DNS:example.com');
    expect((await handshake('api.example.com')).names).toBe('DNS:*.example.com');
    expect((await httpsGet('api.example.com')).body).toBe('api');
  });

  it('refuses the handshake for a name no certificate covers, and without a name (no TLS_DEFAULT_CERT)', async () => {
    await expect(handshake('other.org')).rejects.toThrow();
    await expect(handshake('a.b.example.com')).rejects.toThrow();
    // Node sends no SNI to an IP address.
    await expect(handshake('127.0.0.1')).rejects.toThrow();
  });

  it('speaks HTTP/2 to a client that offers it (ALPN), HTTP/1.1 to one that does not', async () => {
    expect((await handshake('www.example.com', ['h2', 'http/1.1'])).alpn).toBe('h2');
    expect((await handshake('www.example.com', ['http/1.1'])).alpn).toBe('http/1.1');
    const session = http2.connect(`https://www.example.com:${httpsPort}`, {
      createConnection: () =>
        tls.connect({ host: '127.0.0.1', port: httpsPort, servername: 'www.example.com', ca: ca.cert, ALPNProtocols: ['h2'] }),
    });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/', ':authority': 'www.example.com' });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (text += chunk));
        stream.on('end', () => resolve(text.trim()));
        stream.on('error', reject);
      });
      expect(body).toBe('www');
    } finally {
      session.close();
    }
  });

  it('redirects plain HTTP by default, keeping path and query, with HSTS (HSTS_MAX_AGE) on HTTPS answers only', async () => {
    const plain = await request(port, 'www.example.com', '/a/b?c=1');
    expect(plain.status).toBe(301);
    expect(plain.headers.location).toBe(`https://www.example.com:${httpsPort}/a/b?c=1`);
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    const secure = await httpsGet('www.example.com');
    expect(secure.headers['strict-transport-security']).toBe('max-age=300');
  });

  it('redirects a host no route names (served by DEFAULT_SERVICE) to the default service’s name, never to the client’s Host', async () => {
    for (const host of ['evil.test', 'evil.test:8443', 'example.com', '127.0.0.1']) {
      const plain = await request(port, host, '/a/b?c=1');
      expect([host, plain.status, plain.headers.location]).toEqual([host, 301, `https://www.example.com:${httpsPort}/a/b?c=1`]);
    }
  });

  it('refuses plain HTTP to an `https=only` route (no redirect), serves both ways with `https=both`', async () => {
    expect((await get(port, 'api.example.com')).status).toBe(403);
    const api = await httpsGet('api.example.com');
    expect(api.status).toBe(200);
    // hsts=0: none for this route, whatever HSTS_MAX_AGE says.
    expect(api.headers['strict-transport-security']).toBeUndefined();
    expect(await get(port, 'legacy.example.com', '/cgi-bin/proto')).toEqual({ status: 200, body: 'http' });
    const legacy = await httpsGet('legacy.example.com', '/cgi-bin/proto');
    expect(legacy.body).toBe('https');
    // `both`: its plain HTTP is meant to be used, so no HSTS_MAX_AGE on it.
    expect(legacy.headers['strict-transport-security']).toBeUndefined();
  });

  it('refuses a certificate without its key alone, saying why in /status and /metrics, and serves the others', async () => {
    const status = await statusJson();
    expect(status.tls.certificates.map((c: { name: string }) => c.name)).toEqual(['wildcard', 'www']);
    expect(status.tls.certificates[0]).toMatchObject({ hostnames: ['*.example.com'], daysLeft: 29 });
    expect(status.tls.refused).toEqual([{ name: 'broken', reason: 'broken.pem: has no private key (PRIVATE KEY block)' }]);
    expect(JSON.stringify(status)).not.toMatch(/PRIVATE KEY-----/);
    expect(await metric('haproxy_companion_certificates_refused')).toBe(1);
    expect(await metric('haproxy_companion_certificate_not_after_timestamp_seconds{certificate="www"}')).toBeGreaterThan(Date.now() / 1000);
  });

  it('takes a renewed, a new and a removed certificate without a reload; a download begun before the renewal completes', async () => {
    const reloads = await metric('haproxy_companion_reloads_total');
    const before = await handshake('www.example.com');

    // A download of 32 MB, begun on the old certificate and held back while the certificate changes.
    const download = new Promise<number>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: httpsPort,
          servername: 'www.example.com',
          ca: ca.cert,
          path: '/big',
          headers: { Host: 'www.example.com' },
          agent: false,
        },
        (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            if (bytes === 0) {
              res.pause();
              setTimeout(() => res.resume(), 3_000);
            }
            bytes += chunk.length;
          });
          res.on('end', () => resolve(bytes));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });

    const renewed = await writeCertificate('www', ['www.example.com', 'example.com']);
    await writeCertificate('extra', ['extra.other.org']);
    expect(renewed).not.toBe(before.fingerprint);
    await waitFor(async () => (await handshake('www.example.com')).fingerprint === renewed, { what: 'the renewed certificate' });
    await waitFor(async () => (await handshake('extra.other.org').catch(() => undefined))?.names === 'DNS:extra.other.org', {
      what: 'the new certificate',
    });
    expect(await download).toBe(32 * 1024 * 1024);

    await rm(path.join(certsDir, 'extra.pem'));
    await waitFor(async () => (await handshake('extra.other.org').catch(() => 'refused')) === 'refused', {
      what: 'the removed certificate gone',
    });
    expect(await metric('haproxy_companion_reloads_total')).toBe(reloads);
    // The files HAProxy would read at its next reload are the ones it runs with now.
    const companion = (await docker('ps', '-q', '--filter', `label=${run.label}-companion`)).trim();
    const list = await docker(
      'exec',
      companion,
      'sh',
      '-c',
      'cat /tmp/*/certs.list; ls /tmp/*/certs; stat -c %a /tmp/*/certs /tmp/*/certs/www.pem',
    );
    expect(list.split('\n')).toEqual([
      expect.stringMatching(/certs\/wildcard\.pem$/),
      expect.stringMatching(/certs\/www\.pem$/),
      'wildcard.pem',
      'www.pem',
      '700',
      '600',
    ]);
  });

  it('refuses alone a certificate HAProxy would not load (a key on a 192-bit curve): every change after it still goes through', async () => {
    const weak = await ca.issue(['weak.example.com'], { keyType: 'ec-p192' });
    await writeFile(path.join(certsDir, 'weak.pem'), `${weak.cert}${weak.chain}${weak.key}`);
    await waitFor(async () => (await statusJson()).tls.refused.some((r: { name: string }) => r.name === 'weak'), {
      what: 'the certificate with the small key refused',
    });
    const refused = (await statusJson()).tls.refused.find((r: { name: string }) => r.name === 'weak');
    expect(refused.reason).toMatch(/^HAProxy refuses it: .*ee key too small/);
    // Served as before, and a new certificate after it is served too: it did not fail the configuration.
    const later = await writeCertificate('later', ['later.other.org']);
    await waitFor(async () => (await handshake('later.other.org').catch(() => undefined))?.fingerprint === later, {
      what: 'a certificate added after the refused one served',
    });
    expect((await httpsGet('www.example.com')).body).toBe('www');
    await rm(path.join(certsDir, 'weak.pem'));
    await rm(path.join(certsDir, 'later.pem'));
  });
});
