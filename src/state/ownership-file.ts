/**
 * The ownership memory on disk (`STATE_DIR/ownership.json`), so that a companion restart or upgrade does not
 * hand a key to a squatter whose container is older than the owner's current one. Written atomically,
 * only when what it keeps changes, latest first; read once at start. A file that is missing, unreadable or
 * not what this module writes is an empty memory, with a warning: the companion runs without it as before.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { replaceFileDurably } from '../lib/durable-file.js';
import { readRegularFile, UnreadableFileError } from '../lib/read-regular-file.js';
import { SerialQueue } from '../lib/serial-queue.js';
import type { Logger } from '../log.js';
import { type StoredTenure, storedTenures, type Tenure } from '../model/tenure.js';

const FILE = 'ownership.json';
/** Room for every key 1,000 containers of 100 names hold, and for the keys of owners that left, at a few hundred bytes each. */
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * One entry. The limits are wide (a label can be long, and the model takes it): only what this module could
 * never have written is refused, entry by entry, so that one odd entry loses one key's memory, not all of it.
 */
const text = z.string().max(100_000);
const entry = z.object({
  key: text,
  owner: z.object({ key: text, description: text }),
  since: text,
  created: text,
  project: text.optional(),
  containerId: text,
  containerName: text,
});
const stateFile = z.object({ version: z.literal(1), tenures: z.array(z.unknown()) });

export async function loadTenures(stateDir: string, log: Logger): Promise<Tenure[]> {
  const file = path.join(stateDir, FILE);
  let raw: string;
  try {
    raw = await readRegularFile(file, { maxBytes: MAX_BYTES });
  } catch (error) {
    if (!(error instanceof UnreadableFileError && error.code === 'ENOENT')) {
      log.warn({ err: error, file: file }, 'ownership memory unreadable: starting without it');
    }
    return [];
  }
  let parsed: ReturnType<typeof stateFile.safeParse>;
  try {
    parsed = stateFile.safeParse(JSON.parse(raw));
  } catch {
    parsed = stateFile.safeParse(undefined);
  }
  if (!parsed.success) {
    log.warn({ file: file }, 'ownership memory is not a file this companion wrote: starting without it');
    return [];
  }
  const tenures: Tenure[] = [];
  let refused = 0;
  for (const candidate of parsed.data.tenures) {
    const one = entry.safeParse(candidate);
    if (one.success) tenures.push({ ...(one.data as StoredTenure) });
    else refused++;
  }
  if (refused > 0) log.warn({ file: file, refused }, 'ownership memory: entries this companion could not have written were left out');
  return tenures;
}

/** A writer for the memory: one write at a time, and only the latest state when several queue up. */
export function tenureWriter(stateDir: string, log: Logger): (tenures: Tenure[]) => Promise<void> {
  const queue = new SerialQueue();
  let latest: Tenure[] | undefined;
  let warned = false;
  return (tenures) => {
    latest = tenures;
    return queue.run(async () => {
      if (latest === undefined) return;
      const state = { version: 1, tenures: storedTenures(latest) };
      latest = undefined;
      try {
        await mkdir(stateDir, { recursive: true, mode: 0o700 });
        await replaceFileDurably(path.join(stateDir, FILE), `${JSON.stringify(state)}\n`, undefined, 0o600);
        warned = false;
      } catch (error) {
        // Once per outage: a read-only or full disk must not flood the log at every pass.
        if (!warned) log.warn({ err: error, dir: stateDir }, 'cannot write the ownership memory: it lasts until the companion restarts');
        warned = true;
      }
    });
  };
}
