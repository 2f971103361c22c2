/**
 * Replacing a file so that a power loss leaves either the old text or the new one, never an empty or
 * half-written file: the new text is written to a temp file and flushed to disk (fsync) before it is
 * renamed over the old one, and the directory is flushed after, so the rename itself is on disk.
 */
import { open, rename } from 'node:fs/promises';
import path from 'node:path';

/** The file operations this needs: a port, so a test can see their order. */
export interface DurableFs {
  /** Creates or truncates `file` (with `mode` when it creates it: 0644 by default), writes `text` and flushes it to disk. */
  writeSynced(file: string, text: string, mode?: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Flushes the directory entry changes (a rename) to disk. */
  syncDirectory(dir: string): Promise<void>;
}

export const nodeFs: DurableFs = {
  async writeSynced(file, text, mode = 0o644) {
    const handle = await open(file, 'w', mode);
    try {
      // `open` sets the mode only when it creates the file: a left-over temp file keeps its own.
      await handle.chmod(mode);
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename,
  async syncDirectory(dir) {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

/** Moves the already synced `temp` over `file`, and makes the move itself durable. */
export async function renameDurably(temp: string, file: string, fs: DurableFs = nodeFs): Promise<void> {
  await fs.rename(temp, file);
  await fs.syncDirectory(path.dirname(file));
}

export async function replaceFileDurably(file: string, text: string, fs: DurableFs = nodeFs, mode?: number): Promise<void> {
  const temp = `${file}.new`;
  await fs.writeSynced(temp, text, mode);
  await renameDurably(temp, file, fs);
}
