/**
 * Reads a file the operator or another program put in place (a certificate, the ACME file store, the
 * template) so that what it turns out to be cannot stall the companion. Opening a FIFO for reading waits
 * for a writer, and a device reads without end: either would hold one of libuv's four threads for good,
 * and everything queued behind the read with it; and some devices act when opened (a watchdog starts
 * counting down, a tape drive rewinds). So the path is checked first (links followed) and only a regular
 * file is opened; it is opened with O_NONBLOCK (a FIFO swapped in meanwhile opens at once) and the opened
 * handle checked again, which no swap can race. What is read is capped in bytes, whatever
 * the file's size says (`/proc` files say 0), and in time: a read that does not return (a hung network
 * or FUSE mount) is given up on, and, while it still holds its thread, that file is not read again and at
 * most {@link MAX_STUCK_READS} such reads are left behind, so other reads keep a thread.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { CompanionError } from '../errors.js';

/** How long one read may take by default: a certificate or template is a few kB off a local disk. */
export const READ_TIMEOUT_MS = 5_000;
/** Reads given up on that still hold a libuv thread (of 4): past this, no new read starts until one returns. */
export const MAX_STUCK_READS = 2;

export interface ReadRegularFileOptions {
  /** More than this is refused, not truncated. */
  maxBytes: number;
  timeoutMs?: number;
  encoding?: BufferEncoding;
}

/** Why a file was not read; `problem` completes a sentence that starts with the file's name. */
export class UnreadableFileError extends CompanionError {
  readonly file: string;
  /** Node's code (`ENOENT`, `EACCES`…), or `ENOTREG`, `EFBIG`, `ETIMEDOUT`, `EBUSY` (reads still stuck). */
  readonly code: string;
  readonly problem: string;

  constructor(file: string, code: string, problem: string, options?: ErrorOptions) {
    super(`${file} ${problem}`, options);
    this.file = file;
    this.code = code;
    this.problem = problem;
  }
}

/** Per file: reads that timed out and have not returned yet. */
const stuck = new Map<string, number>();
const stuckTotal = () => [...stuck.values()].reduce((sum, n) => sum + n, 0);

/** The file's text; throws {@link UnreadableFileError} when it is not a regular file, too large, unreadable or slow. */
export async function readRegularFile(file: string, options: ReadRegularFileOptions): Promise<string> {
  const { maxBytes, timeoutMs = READ_TIMEOUT_MS, encoding = 'utf8' } = options;
  return (await withinTime(file, timeoutMs, () => readCapped(file, maxBytes))).toString(encoding);
}

/** How many reads were given up on and still hold a thread: for tests and diagnostics. */
export function stuckReads(): number {
  return stuckTotal();
}

/**
 * `read()`, or a rejection after `timeoutMs`; the read left behind is counted as stuck until it returns.
 * Exported for tests, which need a read that really blocks (a FIFO opened without O_NONBLOCK).
 */
export async function withinTime<T>(file: string, timeoutMs: number, read: () => Promise<T>): Promise<T> {
  if (stuck.has(file)) throw new UnreadableFileError(file, 'EBUSY', 'is not read: an earlier read of it has not returned');
  if (stuckTotal() >= MAX_STUCK_READS) {
    throw new UnreadableFileError(file, 'EBUSY', `is not read: ${stuckTotal()} reads of other files have not returned`);
  }
  const work = read();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stuck.set(file, (stuck.get(file) ?? 0) + 1);
      const release = () => {
        const left = (stuck.get(file) ?? 1) - 1;
        if (left > 0) stuck.set(file, left);
        else stuck.delete(file);
      };
      work.then(release, release);
      reject(new UnreadableFileError(file, 'ETIMEDOUT', `was not read within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The same checks for a caller that cannot wait: nunjucks loads included templates synchronously. No
 * timeout, so only for files on a local disk; a FIFO or a device is still refused without blocking.
 */
export function readRegularFileSync(file: string, options: Omit<ReadRegularFileOptions, 'timeoutMs'>): string {
  const { maxBytes, encoding = 'utf8' } = options;
  let fd: number;
  try {
    checkKind(file, statSync(file));
    fd = openSync(file, OPEN_FLAGS);
  } catch (error) {
    throw failure(file, error);
  }
  try {
    checkOpened(file, fstatSync(fd), maxBytes);
    const chunks: Buffer[] = [];
    for (let length = 0; ; ) {
      const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, maxBytes + 1 - length));
      const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, length).toString(encoding);
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > maxBytes) throw tooLarge(file, maxBytes);
    }
  } catch (error) {
    throw failure(file, error);
  } finally {
    closeSync(fd);
  }
}

// O_NONBLOCK: a FIFO opens at once instead of waiting for a writer. O_NOCTTY: a terminal never becomes ours.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
const CHUNK_BYTES = 64 * 1024;

async function readCapped(file: string, maxBytes: number): Promise<Buffer> {
  let handle: FileHandle;
  try {
    checkKind(file, await stat(file));
    handle = await open(file, OPEN_FLAGS);
  } catch (error) {
    throw failure(file, error);
  }
  try {
    checkOpened(file, await handle.stat(), maxBytes);
    // Read until the end, not `info.size` bytes: a file may grow meanwhile, and `/proc` files say 0.
    const chunks: Buffer[] = [];
    for (let length = 0; ; ) {
      const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, length);
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > maxBytes) throw tooLarge(file, maxBytes);
    }
  } catch (error) {
    throw failure(file, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Before opening: a device may act on open. */
function checkKind(file: string, info: Stats): void {
  if (!info.isFile()) throw new UnreadableFileError(file, 'ENOTREG', `is not a regular file (${kindOf(info)})`);
}

/** The opened file again: the path checked before opening could have been swapped in between. */
function checkOpened(file: string, info: Stats, maxBytes: number): void {
  checkKind(file, info);
  if (info.size > maxBytes) throw tooLarge(file, maxBytes);
}

function tooLarge(file: string, maxBytes: number): UnreadableFileError {
  return new UnreadableFileError(file, 'EFBIG', `is larger than ${maxBytes} bytes`);
}

function failure(file: string, error: unknown): UnreadableFileError {
  if (error instanceof UnreadableFileError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
  return new UnreadableFileError(file, code, `cannot be read: ${code}`, { cause: error });
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isDirectory()) return 'a directory';
  if (info.isSocket()) return 'a socket';
  return 'not a file';
}
