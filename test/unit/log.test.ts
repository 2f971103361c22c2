import fs from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';

// pino-pretty is loaded only for LOG_FORMAT=pretty: the factory runs on its first import.
const pretty = vi.hoisted(() => ({ loaded: false }));
vi.mock('pino-pretty', async (importOriginal) => {
  pretty.loaded = true;
  return importOriginal();
});

/** What the logger writes to stderr (fd 2): pino's synchronous destination calls fs.writeSync. */
function captureStderr(): string[] {
  const written: string[] = [];
  const writeSync = fs.writeSync;
  vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: string | Uint8Array, ...rest: never[]) => {
    if (fd !== 2) return writeSync(fd, data as string, ...rest);
    written.push(String(data));
    return Buffer.byteLength(String(data));
  }) as typeof fs.writeSync);
  return written;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createLogger', () => {
  // In this order: once the pretty test loaded pino-pretty, the module registry keeps it.
  it('json: one object a line, written at once, without loading pino-pretty', async () => {
    const written = captureStderr();
    const log = await createLogger({ level: 'info', format: 'json', stderr: true });
    log.info({ servers: 3 }, 'hello');
    expect(JSON.parse(written.join(''))).toMatchObject({ level: 'info', app: 'haproxy-companion', servers: 3, msg: 'hello' });
    expect(pretty.loaded).toBe(false);
  });

  it('pretty: formatted in this thread and written at once (a fatal line before exit is kept)', async () => {
    const written = captureStderr();
    const log = await createLogger({ level: 'info', format: 'pretty', stderr: true });
    log.fatal({ servers: 3 }, 'giving up');
    const text = stripVTControlCharacters(written.join(''));
    expect(text).toMatch(/FATAL/);
    expect(text).toMatch(/giving up/);
    expect(text).toMatch(/servers: 3/);
    expect(text.startsWith('{')).toBe(false);
    expect(pretty.loaded).toBe(true);
  });
});
