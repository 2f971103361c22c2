/**
 * A hung network mount under TLS_CERTS_DIR: a `stat` or `readdir` that never returns must not hold the
 * reading of the directory (and every later one) for good. fs is spied on so one path hangs until released.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stuckReads } from '../../../src/lib/read-regular-file.js';
import { readCertificateDir } from '../../../src/tls/cert-dir.js';
import { waitFor } from '../../helpers/wait-for.js';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, stat: vi.fn(actual.stat), readdir: vi.fn(actual.readdir) };
});

let dir: string;
const hung: Array<() => void> = [];
/** The next call of `fn` for `file` waits until released, then does the real work. */
function hang<T extends (...args: never[]) => Promise<unknown>>(fn: T, file: string): void {
  const real = vi.mocked(fn).getMockImplementation() as T;
  vi.mocked(fn).mockImplementation(((...args: Parameters<T>) =>
    args[0] === file ? new Promise((resolve) => hung.push(() => resolve(real(...args)))) : real(...args)) as unknown as T);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hc-hung-'));
  await mkdir(path.join(dir, 'nfs'));
  await writeFile(path.join(dir, 'nfs', 'cert.pem'), 'x');
  await writeFile(path.join(dir, 'hung.pem'), 'x');
});
afterAll(async () => {
  for (const release of hung) release();
  await rm(dir, { recursive: true, force: true });
});

describe('readCertificateDir under a hung mount', () => {
  it('refuses the certificate whose stat or listing does not return within the limit, naming it, and goes on', {
    timeout: 10_000,
  }, async () => {
    hang(stat, path.join(dir, 'hung.pem'));
    hang(readdir, path.join(dir, 'nfs'));
    const { refused } = await readCertificateDir(dir, { timeoutMs: 200 });
    expect(refused).toEqual([
      { name: 'hung', reason: 'hung.pem was not read within 200 ms' },
      { name: 'nfs', reason: 'nfs was not read within 200 ms' },
    ]);
    for (const release of hung.splice(0)) release();
    await waitFor(() => stuckReads() === 0, { what: 'the hung calls to return', timeoutMs: 5_000 });
  });

  it('throws when the listing of the directory itself does not return (the caller keeps what it had)', { timeout: 10_000 }, async () => {
    hang(readdir, dir);
    await expect(readCertificateDir(dir, { timeoutMs: 200 })).rejects.toThrow(/was not read within 200 ms/);
    for (const release of hung.splice(0)) release();
    await waitFor(() => stuckReads() === 0, { what: 'the hung listing to return', timeoutMs: 5_000 });
  });
});
