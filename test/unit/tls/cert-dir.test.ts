import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCertificateDir } from '../../../src/tls/cert-dir.js';
import { coversHostname, parseCertificate } from '../../../src/tls/certificate.js';
import { CertificateSource, keepServed } from '../../../src/tls/certificate-source.js';
import { tlsFiles } from '../../../src/tls/tls-files.js';
import { createTestCa, type TestCa, type TestCertificate } from '../../helpers/certs.js';
import { makeFifo, releaseFifo } from '../../helpers/fifo.js';

let ca: TestCa;
let www: TestCertificate;
let api: TestCertificate;
let rsa: TestCertificate;
let dir: string;

beforeAll(async () => {
  ca = await createTestCa();
  [www, api, rsa] = await Promise.all([
    ca.issue(['www.example.com', 'example.com']),
    ca.issue(['api.example.com', '*.preview.example.com']),
    ca.issue(['rsa.example.com'], { keyType: 'rsa' }),
  ]);
});
afterAll(() => ca.close());

describe('parseCertificate', () => {
  it('pools one certificate’s blocks in any order: the key’s own certificate is the leaf, the others its chain', () => {
    const parsed = parseCertificate('www', [www.key, ca.cert, www.cert]);
    if (!parsed.ok) throw new Error(parsed.reason);
    const { pem, hostnames, notAfter, fingerprint } = parsed.certificate;
    const blocks = [...pem.matchAll(/-----BEGIN ([A-Z ]+)-----/g)].map((m) => m[1]);
    expect(blocks).toEqual(['CERTIFICATE', 'CERTIFICATE', 'PRIVATE KEY']);
    expect(pem.startsWith(www.cert.trim().split('\n')[0] ?? 'x')).toBe(true);
    expect(pem.indexOf(www.cert.trim().split('\n')[1] ?? 'x')).toBeLessThan(pem.indexOf(ca.cert.trim().split('\n')[1] ?? 'x'));
    expect(pem).not.toMatch(/\n\s*\n/);
    expect(hostnames).toEqual(['example.com', 'www.example.com']);
    expect(notAfter.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect(fingerprint).toMatch(/^[0-9A-F]{64}$/);
  });

  it('takes RSA keys, CRLF line ends, and the same certificate twice (cert.pem + fullchain.pem) once', () => {
    const parsed = parseCertificate('rsa', [rsa.cert.replace(/\n/g, '\r\n'), `${rsa.cert}${ca.cert}`, rsa.key]);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.certificate.pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it.each([
    ['no key', () => [www.cert], /has no private key/],
    ['two keys', () => [www.cert, www.key, api.key], /has 2 private keys/],
    ['a key of another certificate', () => [www.cert, api.key], /none of its certificates belongs to its private key/],
    ['a key alone', () => [www.key], /has no CERTIFICATE block/],
    [
      'an encrypted key',
      () => [www.cert, '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n'],
      /encrypted/,
    ],
    ['a broken certificate', () => [`-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`, www.key], /does not parse/],
    ['a broken key', () => [www.cert, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'], /private key does not parse/],
    ['nothing PEM at all', () => ['hello'], /has no private key/],
  ])('refuses %s, saying why', (_, texts, reason) => {
    const parsed = parseCertificate('x', texts());
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(reason);
  });

  it('refuses an RSA key under 2048 bits, which HAProxy’s OpenSSL would refuse with the whole file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hc-small-'));
    try {
      await execa('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:1024',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=small.example.com',
        '-keyout',
        `${dir}/k`,
        '-out',
        `${dir}/c`,
      ]);
      const parsed = parseCertificate('small', [await readFile(`${dir}/c`, 'utf8'), await readFile(`${dir}/k`, 'utf8')]);
      expect(parsed.ok ? '' : parsed.reason).toBe("its RSA key has 1024 bits; HAProxy's OpenSSL needs at least 2048");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a name that is not one safe word (it becomes a file name and a CLI argument)', () => {
    for (const name of ['a b', '../x', '.hidden', 'x\ny', '', 'a'.repeat(129)]) {
      expect(parseCertificate(name, [www.cert, www.key]).ok, name).toBe(false);
    }
  });
});

describe('coversHostname', () => {
  it.each([
    ['www.example.com', 'www.example.com', true],
    ['www.example.com', 'api.example.com', false],
    ['*.example.com', 'api.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'a.b.example.com', false],
  ])('%s covers %s: %s', (pattern, name, expected) => expect(coversHostname(pattern, name)).toBe(expected));
});

describe('readCertificateDir', () => {
  beforeAll(async () => {
    // As certbot lays out /etc/letsencrypt: live/<name>/ holds links into archive/<name>/; live/ is mounted.
    const root = await mkdtemp(path.join(tmpdir(), 'hc-certs-'));
    dir = path.join(root, 'live');
    await mkdir(path.join(root, 'archive', 'api'), { recursive: true });
    await mkdir(path.join(dir, 'api'), { recursive: true });
    // One file with everything; a .crt + .key pair; certbot's live/<name>/ of links; and the refused.
    await writeFile(path.join(dir, 'www.pem'), `${www.cert}${ca.cert}${www.key}`);
    await writeFile(path.join(dir, 'rsa.crt'), rsa.cert);
    await writeFile(path.join(dir, 'rsa.key'), rsa.key);
    await writeFile(path.join(root, 'archive', 'api', 'fullchain1.pem'), `${api.cert}${ca.cert}`);
    await writeFile(path.join(root, 'archive', 'api', 'cert1.pem'), api.cert);
    await writeFile(path.join(root, 'archive', 'api', 'privkey1.pem'), api.key);
    await symlink('../../archive/api/fullchain1.pem', path.join(dir, 'api', 'fullchain.pem'));
    await symlink('../../archive/api/cert1.pem', path.join(dir, 'api', 'cert.pem'));
    await symlink('../../archive/api/privkey1.pem', path.join(dir, 'api', 'privkey.pem'));
    await writeFile(path.join(dir, 'api', 'README'), 'certbot writes this');
    await writeFile(path.join(dir, 'nokey.pem'), www.cert);
    await writeFile(path.join(dir, 'bad name.pem'), `${www.cert}${www.key}`);
    await writeFile(path.join(dir, '.hidden.pem'), 'not read');
    await writeFile(path.join(dir, 'notes.txt'), 'not read');
    await writeFile(path.join(dir, 'huge.pem'), 'x'.repeat((1 << 20) + 1));
  });
  afterAll(() => rm(path.dirname(dir), { recursive: true, force: true }));

  it('reads every layout, refuses each bad one alone with its file and reason, passes over other files', async () => {
    const set = await readCertificateDir(dir);
    expect(set.certificates.map((c) => [c.name, c.hostnames])).toEqual([
      ['api', ['*.preview.example.com', 'api.example.com']],
      ['rsa', ['rsa.example.com']],
      ['www', ['example.com', 'www.example.com']],
    ]);
    const refused = Object.fromEntries(set.refused.map((r) => [r.name, r.reason]));
    expect(Object.keys(refused).sort()).toEqual(['bad name', 'huge', 'nokey']);
    expect(refused.nokey).toBe('nokey.pem: has no private key (PRIVATE KEY block)');
    expect(refused['bad name']).toMatch(/name must be letters, digits/);
    expect(refused.huge).toMatch(/huge\.pem is larger than 1048576 bytes/);
  });

  it('throws when the directory itself cannot be read (the caller keeps what it had)', async () => {
    await expect(readCertificateDir(path.join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
  });

  it('becomes one PEM file per certificate and a crt-list without the default one, which goes on the bind line', async () => {
    const set = await readCertificateDir(dir);
    const files = tlsFiles(set.certificates, '/run/certs', 'www.pem');
    expect([...files.pems.keys()]).toEqual(['/run/certs/api.pem', '/run/certs/rsa.pem', '/run/certs/www.pem']);
    expect(files.defaultPath).toBe('/run/certs/www.pem');
    expect(files.list).toBe('/run/certs/api.pem\n/run/certs/rsa.pem\n');
    const none = tlsFiles(set.certificates, '/run/certs', 'missing');
    expect(none.defaultPath).toBeNull();
    expect(none.list.split('\n')).toHaveLength(4);
  });
});

describe('readCertificateDir with files that are not regular files', () => {
  // certbot's layout again, with a FIFO and a link to a device where its links would be.
  let root: string;
  let live: string;
  const fifos: string[] = [];
  const fifo = async (file: string) => {
    await makeFifo(file);
    fifos.push(file);
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'hc-fifo-'));
    live = path.join(root, 'live');
    for (const d of ['archive/api', 'live/api', 'live/stuck', 'live/zero']) await mkdir(path.join(root, d), { recursive: true });
    await writeFile(path.join(root, 'archive/api/fullchain1.pem'), `${api.cert}${ca.cert}`);
    await writeFile(path.join(root, 'archive/api/privkey1.pem'), api.key);
    await symlink('../../archive/api/fullchain1.pem', path.join(live, 'api/fullchain.pem'));
    await symlink('../../archive/api/privkey1.pem', path.join(live, 'api/privkey.pem'));
    await fifo(path.join(live, 'stuck/fullchain.pem'));
    await writeFile(path.join(live, 'stuck/privkey.pem'), www.key);
    await writeFile(path.join(live, 'zero/fullchain.pem'), www.cert);
    await symlink('/dev/zero', path.join(live, 'zero/privkey.pem'));
    await fifo(path.join(live, 'pipe.pem'));
  });
  afterAll(async () => {
    for (const f of fifos) releaseFifo(f);
    await rm(root, { recursive: true, force: true });
  });

  it('refuses a FIFO and a link to /dev/zero alone, naming the file, and reads the rest', { timeout: 15_000 }, async () => {
    const set = await readCertificateDir(live);
    expect(set.certificates.map((c) => c.name)).toEqual(['api']);
    expect(set.refused).toEqual([
      { name: 'pipe', reason: 'pipe.pem is not a regular file (a FIFO)' },
      { name: 'stuck', reason: 'stuck/fullchain.pem is not a regular file (a FIFO)' },
      { name: 'zero', reason: 'zero/privkey.pem is not a regular file (a character device)' },
    ]);
  });

  it('keeps reading: a certificate added after a FIFO is taken on the next read', { timeout: 15_000 }, async () => {
    const source = new CertificateSource(live, pino({ level: 'silent' }));
    await source.load();
    await mkdir(path.join(live, 'www'));
    await writeFile(path.join(live, 'www/fullchain.pem'), `${www.cert}${ca.cert}`);
    await writeFile(path.join(live, 'www/privkey.pem'), www.key);
    await source.load();
    expect(source.certificates.map((c) => c.name)).toEqual(['api', 'www']);
    expect(source.status(443, undefined).refused.map((r) => r.name)).toEqual(['pipe', 'stuck', 'zero']);
  });
});

describe('keepServed', () => {
  it('keeps serving a certificate that now reads as refused (a renewal caught half-way), and lets a removed one go', async () => {
    const parsed = parseCertificate('www', [www.cert, www.key]);
    if (!parsed.ok) throw new Error(parsed.reason);
    const previous = { certificates: [parsed.certificate], refused: [] };
    const halfway = keepServed(previous, {
      certificates: [],
      refused: [{ name: 'www', reason: 'none of its certificates belongs to its private key' }],
    });
    expect(halfway.certificates).toEqual([parsed.certificate]);
    expect(halfway.refused).toEqual([
      { name: 'www', reason: 'none of its certificates belongs to its private key; serving the one read before' },
    ]);
    expect(keepServed(previous, { certificates: [], refused: [] }).certificates).toEqual([]);
  });
});

describe('CertificateSource with HAProxy’s verdict (haproxy/certificate-check.ts)', () => {
  const log = pino({ level: 'silent' });
  const write = async (d: string, name: string, c: TestCertificate) =>
    writeFile(path.join(d, `${name}.pem`), `${c.cert}${c.chain}${c.key}`);

  it('refuses alone what HAProxy refuses, with its reason; asks once per PEM; refuses nothing when it cannot ask', async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'hc-source-'));
    try {
      await write(d, 'www', www);
      await write(d, 'api', api);
      const asked: string[][] = [];
      let broken = false;
      const check = async (pems: string[]) => {
        if (broken) throw new Error('spawn haproxy ENOENT');
        asked.push(pems);
        return pems.map((pem) => (pem.includes(api.cert.trim()) ? 'ee key too small' : undefined));
      };
      const source = new CertificateSource(d, log, check);
      await source.load();
      expect(source.certificates.map((c) => c.name)).toEqual(['www']);
      expect(source.status(443, undefined).refused).toEqual([{ name: 'api', reason: 'HAProxy refuses it: ee key too small' }]);
      // Read again, nothing new: HAProxy is not asked again.
      await source.load();
      expect(asked.map((pems) => pems.length)).toEqual([2]);
      // A new certificate, and HAProxy cannot be asked: it is served unchecked, the verdicts known stand.
      await write(d, 'rsa', rsa);
      broken = true;
      await source.load();
      expect(source.certificates.map((c) => c.name)).toEqual(['rsa', 'www']);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
