/** FIFOs for tests of readers that must not wait on them. */
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { promisify } from 'node:util';

export async function makeFifo(file: string): Promise<void> {
  await promisify(execFile)('mkfifo', [file]);
}

/**
 * Opens `file` for writing and closes it: a reader blocked on it (in open or read) gets end of file, so a
 * test leaves no libuv thread stuck behind. Nothing happens when no one reads it.
 */
export function releaseFifo(file: string): void {
  try {
    closeSync(openSync(file, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: no reader; ENOENT: gone.
  }
}
