import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Tenure } from '../../../src/model/tenure.js';
import { loadTenures, tenureWriter } from '../../../src/state/ownership-file.js';

const execFileAsync = promisify(execFile);

const tenure: Tenure = {
  key: 'login',
  owner: { key: 'image:login', description: 'image "login"' },
  since: '2024-01-01T00:00:00.000000001Z',
  created: '2023-01-01T00:00:00.000000001Z',
  containerId: 'c1',
  containerName: 'login-1',
  goneSinceMs: 123,
};

/** A logger whose warnings the test reads. */
function recordingLog() {
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
  return { log, warnings };
}

const dirs: string[] = [];
async function tempDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'hc-state-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('the ownership memory on disk', () => {
  it('reads back what it wrote, without when the owner was last seen, in a directory only the companion reads', async () => {
    const dir = path.join(await tempDir(), 'state');
    const { log } = recordingLog();
    await tenureWriter(dir, log)([tenure]);
    const { goneSinceMs: _, ...stored } = tenure;
    expect(await loadTenures(dir, log)).toEqual([stored]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(dir, 'ownership.json'))).mode & 0o777).toBe(0o600);
  });

  it('starts without a memory, silently, when there is no file yet', async () => {
    const { log, warnings } = recordingLog();
    expect(await loadTenures(await tempDir(), log)).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('leaves out only the entries it could not have written, keeping the rest (a 700-character group label among them)', async () => {
    const dir = await tempDir();
    const { goneSinceMs: _, ...stored } = tenure;
    const long = {
      ...stored,
      key: 'junk',
      owner: { key: `group:${'g'.repeat(700)}`, description: 'group "g…"' },
      containerName: 'n'.repeat(400),
    };
    await writeFile(path.join(dir, 'ownership.json'), JSON.stringify({ version: 1, tenures: [stored, { key: 'half' }, long] }));
    const { log, warnings } = recordingLog();
    expect(await loadTenures(dir, log)).toEqual([stored, long]);
    expect(warnings).toEqual(['ownership memory: entries this companion could not have written were left out']);
  });

  it('does not block on a FIFO where the file should be: starts without the memory, with a warning', async () => {
    const dir = await tempDir();
    await execFileAsync('mkfifo', [path.join(dir, 'ownership.json')]);
    const { log, warnings } = recordingLog();
    expect(await loadTenures(dir, log)).toEqual([]);
    expect(warnings).toEqual(['ownership memory unreadable: starting without it']);
  });

  it.each([
    ['not JSON', 'garbage{'],
    ['another version', JSON.stringify({ version: 2, tenures: [] })],
  ])('starts without a memory, with a warning, from a file that is %s', async (_, text) => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'ownership.json'), text);
    const { log, warnings } = recordingLog();
    expect(await loadTenures(dir, log)).toEqual([]);
    expect(warnings).toEqual(['ownership memory is not a file this companion wrote: starting without it']);
  });

  it('keeps running, with one warning, where it cannot write', async () => {
    const dir = await tempDir();
    const { log, warnings } = recordingLog();
    const write = tenureWriter(path.join(dir, 'file-not-dir'), log);
    // As root, permissions stop nothing: a file where the directory should be does.
    await writeFile(path.join(dir, 'file-not-dir'), 'a file where the directory should be');
    await write([tenure]);
    await write([tenure]);
    expect(warnings).toEqual(['cannot write the ownership memory: it lasts until the companion restarts']);
    expect(await readFile(path.join(dir, 'file-not-dir'), 'utf8')).toBe('a file where the directory should be');
  });
});
