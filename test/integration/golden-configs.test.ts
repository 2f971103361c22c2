/** The renderer's golden files are configurations HAProxy 3 itself accepts (`haproxy -c` in the image). */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOLD_SCRIPT } from '../../src/haproxy/hold-script.js';
import { createTestCa, type TestCa } from '../helpers/certs.js';
import { IMAGE } from '../helpers/docker.js';

const dir = fileURLToPath(new URL('../unit/render/golden/', import.meta.url));

describe('golden configurations', async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cfg'));
  // The HTTPS cases read a crt-list and a default certificate: one made by a test CA.
  let ca: TestCa;
  let tlsDir: string;
  beforeAll(async () => {
    ca = await createTestCa();
    tlsDir = await mkdtemp(path.join(tmpdir(), 'hc-golden-tls-'));
    const leaf = await ca.issue(['www.example.com']);
    for (const name of ['a.pem', 'default.pem']) await writeFile(path.join(tlsDir, name), `${leaf.cert}${leaf.chain}${leaf.key}`);
    await writeFile(path.join(tlsDir, 'certs.list'), '/var/run/haproxy-companion/certs/a.pem\n');
    await writeFile(path.join(tlsDir, 'hold.lua'), HOLD_SCRIPT);
  });
  afterAll(async () => {
    await rm(tlsDir, { recursive: true, force: true });
    await ca.close();
  });

  it('exist', () => expect(files.length).toBeGreaterThan(2));

  const check = (script: string) =>
    execa('docker', ['run', '--rm', '-v', `${dir}:/golden:ro`, '-v', `${tlsDir}:/tls:ro`, '--entrypoint', 'sh', IMAGE, '-c', script], {
      reject: false,
      all: true,
    });

  // Each config reads its host and paths maps (and certificates) from the runtime directory, as in the companion's container.
  const withMap = (file: string) =>
    'mkdir -p /var/run/haproxy-companion/certs && cp /tls/*.pem /var/run/haproxy-companion/certs/ && ' +
    'cp /tls/certs.list /tls/hold.lua /var/run/haproxy-companion/ && ' +
    `cp /golden/${file.replace(/\.cfg$/, '.map')} /var/run/haproxy-companion/hosts.map && ` +
    `cp /golden/${file.replace(/\.cfg$/, '.paths')} /var/run/haproxy-companion/paths.map && `;

  it.each(files)('%s passes haproxy -c', async (file) => {
    const result = await check(`${withMap(file)}haproxy -c -f /golden/${file}`);
    expect(result.all).not.toMatch(/ALERT|WARNING/);
    expect(result.exitCode).toBe(0);
  });

  it('and the check does fail on a broken one', async () => {
    const result = await check(
      `${withMap('login-and-publish.cfg')}sed 's/balance roundrobin/balance nonsense/' /golden/login-and-publish.cfg > /tmp/x.cfg && haproxy -c -f /tmp/x.cfg`,
    );
    expect(result.all).toMatch(/ALERT/);
    expect(result.exitCode).not.toBe(0);
  });
});
