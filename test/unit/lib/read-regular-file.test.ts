import { openSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_STUCK_READS, readRegularFile, readRegularFileSync, stuckReads, withinTime } from '../../../src/lib/read-regular-file.js';
import { makeFifo, releaseFifo } from '../../helpers/fifo.js';
import { waitFor } from '../../helpers/wait-for.js';

// Spied on, not replaced: a device must be refused before anything opens it.
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, open: vi.fn(actual.open) };
});
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, openSync: vi.fn(actual.openSync) };
});

let dir: string;
const fifos: string[] = [];
const file = (name: string) => path.join(dir, name);
// A timeout no test reaches: a refusal within the test's own timeout came from the check, not the clock.
const patient = { maxBytes: 1024, timeoutMs: 60_000 };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hc-read-'));
  await writeFile(file('plain.pem'), 'plain');
  await mkdir(file('archive'));
  await writeFile(file('archive/cert1.pem'), 'linked');
  await symlink('archive/cert1.pem', file('cert.pem'));
  await symlink('/dev/zero', file('zero.pem'));
  await symlink('/dev/null', file('null.pem'));
  for (const name of ['fifo.pem', 'stuck-1.pem', 'stuck-2.pem', 'stuck-3.pem']) {
    await makeFifo(file(name));
    fifos.push(file(name));
  }
  await symlink('fifo.pem', file('to-fifo.pem'));
});
afterEach(() => {
  for (const fifo of fifos) releaseFifo(fifo);
});
afterAll(async () => {
  for (const fifo of fifos) releaseFifo(fifo);
  await rm(dir, { recursive: true, force: true });
});

describe('readRegularFile', () => {
  it('reads a regular file, and one behind a link (certbot’s live/ → archive/)', async () => {
    expect(await readRegularFile(file('plain.pem'), patient)).toBe('plain');
    expect(await readRegularFile(file('cert.pem'), patient)).toBe('linked');
  });

  it('refuses a FIFO at once, directly or behind a link, without waiting for a writer', { timeout: 10_000 }, async () => {
    await expect(readRegularFile(file('fifo.pem'), patient)).rejects.toMatchObject({
      code: 'ENOTREG',
      message: `${file('fifo.pem')} is not a regular file (a FIFO)`,
    });
    await expect(readRegularFile(file('to-fifo.pem'), patient)).rejects.toThrow(/is not a regular file \(a FIFO\)/);
    expect(stuckReads()).toBe(0);
  });

  it('refuses a link to /dev/zero at once, reading nothing of it', { timeout: 10_000 }, async () => {
    await expect(readRegularFile(file('zero.pem'), { maxBytes: 1 << 20, timeoutMs: 60_000 })).rejects.toThrow(
      /zero\.pem is not a regular file \(a character device\)/,
    );
  });

  it('refuses a directory, a missing file (with Node’s code) and a file over the cap; takes one of exactly the cap', async () => {
    await expect(readRegularFile(file('archive'), patient)).rejects.toThrow(/is not a regular file \(a directory\)/);
    await expect(readRegularFile(file('missing.pem'), patient)).rejects.toMatchObject({ code: 'ENOENT' });
    await writeFile(file('big.pem'), 'x'.repeat(1025));
    await expect(readRegularFile(file('big.pem'), patient)).rejects.toThrow(/big\.pem is larger than 1024 bytes/);
    await writeFile(file('full.pem'), 'x'.repeat(1024));
    expect(await readRegularFile(file('full.pem'), patient)).toHaveLength(1024);
  });

  it('caps what it reads, not what the size says: /proc files say 0', async () => {
    const status = await readRegularFile('/proc/self/status', { maxBytes: 1 << 16 });
    expect(status).toMatch(/^Name:/);
    await expect(readRegularFile('/proc/self/status', { maxBytes: 16 })).rejects.toThrow(/is larger than 16 bytes/);
  });
});

describe('readRegularFileSync (for nunjucks, which cannot wait)', () => {
  it('reads a regular file behind a link; refuses a FIFO, /dev/zero and a file over the cap at once', { timeout: 10_000 }, () => {
    expect(readRegularFileSync(file('cert.pem'), patient)).toBe('linked');
    expect(() => readRegularFileSync(file('fifo.pem'), patient)).toThrow(/fifo\.pem is not a regular file \(a FIFO\)/);
    expect(() => readRegularFileSync(file('zero.pem'), patient)).toThrow(/zero\.pem is not a regular file \(a character device\)/);
    expect(() => readRegularFileSync('/proc/self/status', { maxBytes: 16 })).toThrow(/is larger than 16 bytes/);
    expect(() => readRegularFileSync(file('missing.pem'), patient)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('a device is never opened: a watchdog or a tape drive acts on open', () => {
  it('refuses a device, directly or behind a link, from what its path is, before opening it', async () => {
    vi.mocked(open).mockClear();
    vi.mocked(openSync).mockClear();
    await expect(readRegularFile(file('null.pem'), patient)).rejects.toMatchObject({
      code: 'ENOTREG',
      message: `${file('null.pem')} is not a regular file (a character device)`,
    });
    await expect(readRegularFile('/dev/null', patient)).rejects.toThrow(/is not a regular file \(a character device\)/);
    expect(() => readRegularFileSync(file('null.pem'), patient)).toThrow(/null\.pem is not a regular file \(a character device\)/);
    await expect(readRegularFile(file('fifo.pem'), patient)).rejects.toThrow(/is not a regular file \(a FIFO\)/);
    expect(vi.mocked(open)).not.toHaveBeenCalled();
    expect(vi.mocked(openSync)).not.toHaveBeenCalled();
    // The spies see the opens of a regular file.
    expect(await readRegularFile(file('plain.pem'), patient)).toBe('plain');
    expect(vi.mocked(open)).toHaveBeenCalledTimes(1);
  });
});

describe('withinTime', () => {
  // Node's readFile on a FIFO: the read that froze the certificates, holding a libuv thread until a writer comes.
  const blockingRead = (fifo: string) => () => readFile(fifo, 'utf8');

  it('gives up on a read that does not return; that file is not read again until it does, others are', { timeout: 10_000 }, async () => {
    const fifo = file('stuck-1.pem');
    await expect(withinTime(fifo, 200, blockingRead(fifo))).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      message: `${fifo} was not read within 200 ms`,
    });
    expect(stuckReads()).toBe(1);
    await expect(withinTime(fifo, 200, blockingRead(fifo))).rejects.toThrow(/an earlier read of it has not returned/);
    expect(await readRegularFile(file('plain.pem'), { maxBytes: 1024, timeoutMs: 200 })).toBe('plain');
    releaseFifo(fifo);
    await waitFor(() => stuckReads() === 0, { what: 'the stuck read to return', timeoutMs: 5_000 });
  });

  it(`starts no read while ${MAX_STUCK_READS} reads are stuck, so the others keep a thread`, { timeout: 10_000 }, async () => {
    const [a, b] = [file('stuck-2.pem'), file('stuck-3.pem')];
    await expect(withinTime(a, 100, blockingRead(a))).rejects.toThrow(/was not read within/);
    await expect(withinTime(b, 100, blockingRead(b))).rejects.toThrow(/was not read within/);
    await expect(readRegularFile(file('plain.pem'), patient)).rejects.toMatchObject({
      code: 'EBUSY',
      message: `${file('plain.pem')} is not read: 2 reads of other files have not returned`,
    });
    releaseFifo(a);
    releaseFifo(b);
    await waitFor(() => stuckReads() === 0, { what: 'the stuck reads to return', timeoutMs: 5_000 });
    expect(await readRegularFile(file('plain.pem'), patient)).toBe('plain');
  });
});
