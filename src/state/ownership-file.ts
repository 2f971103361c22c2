/**
 * The ownership memory on disk (`STATE_DIR/ownership.json`), so that a companion restart or upgrade does not
 * hand a key to a squatter whose container is older than the owner's current one. Written atomically,
 * only when what it keeps changes, latest first; read once at start. A file that is missing, unreadable or
 * not what this module writes is an empty memory, with a warning: the companion runs without it as before.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { replaceFileDurably } from '../lib/durable-file.js';
import { SerialQueue } from '../lib/serial-queue.js';
import type { Logger } from '../log.js';
import { type StoredTenure, storedTenures, type Tenure } from '../model/tenure.js';

const FILE = 'ownership.json';
/** Far more keys than any host holds (MAX_DOMAINS_PER_CONTAINER × containers), and a bound on what a start reads. */
const MAX_TENURES = 100_000;

const text = (max: number) => z.string().max(max);
const schema = z.object({
  version: z.literal(1),
  tenures: z
    .array(
      z.object({
        key: text(600),
        owner: z.object({ key: text(600), description: text(600) }),
        since: text(64),
        project: text(300).optional(),
        containerId: text(128),
        containerName: text(300),
      }),
    )
    .max(MAX_TENURES),
});

export async function loadTenures(stateDir: string, log: Logger): Promise<Tenure[]> {
  const file = path.join(stateDir, FILE);
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      log.warn({ err: error, file }, 'ownership memory unreadable: starting without it');
    return [];
  }
  let parsed: ReturnType<typeof schema.safeParse>;
  try {
    parsed = schema.safeParse(JSON.parse(raw));
  } catch {
    parsed = schema.safeParse(undefined);
  }
  if (!parsed.success) {
    log.warn({ file }, 'ownership memory is not a file this companion wrote: starting without it');
    return [];
  }
  return parsed.data.tenures.map((t: StoredTenure) => ({ ...t }));
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
