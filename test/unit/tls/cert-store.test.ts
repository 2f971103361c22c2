import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileStore } from '../../../src/tls/acme/cert-store.js';
import { makeFifo, releaseFifo } from '../../helpers/fifo.js';

describe('fileStore (TLS_STORE=file:<path>)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hc-store-'));
  });
  afterAll(async () => {
    releaseFifo(path.join(dir, 'fifo.json'));
    await rm(dir, { recursive: true, force: true });
  });

  it('reads nothing stored yet as empty, and what it wrote back', async () => {
    const store = fileStore(path.join(dir, 'sub', 'store.json'));
    expect(await store.read()).toEqual({});
    await store.write({ accountKey: 'KEY' });
    expect(await store.read()).toEqual({ accountKey: 'KEY' });
  });

  it('refuses a FIFO or a link to a device at its path at once, naming the file (the ACME check fails, nothing waits)', {
    timeout: 10_000,
  }, async () => {
    await makeFifo(path.join(dir, 'fifo.json'));
    await expect(fileStore(path.join(dir, 'fifo.json')).read()).rejects.toThrow(/fifo\.json is not a regular file \(a FIFO\)/);
    await symlink('/dev/zero', path.join(dir, 'zero.json'));
    await expect(fileStore(path.join(dir, 'zero.json')).read()).rejects.toThrow(/zero\.json is not a regular file \(a character device\)/);
  });

  it('refuses a store file over 1 MB', async () => {
    await writeFile(path.join(dir, 'big.json'), ' '.repeat((1 << 20) + 1));
    await expect(fileStore(path.join(dir, 'big.json')).read()).rejects.toThrow(/big\.json is larger than 1048576 bytes/);
  });
});
