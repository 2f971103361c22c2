/**
 * HAProxy's output, with a stand-in executable that writes what HAProxy would: an access log line on
 * stdout, a warning on stderr. With the access log on, stdout is a descriptor of ours that HAProxy writes to
 * itself: its lines reach it as written and never pass through our logger; stderr is always logged.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HaproxyProcess } from '../../../src/haproxy/haproxy-process.js';
import { waitFor } from '../../helpers/wait-for.js';

const accessLine = '{"access_log": "http", "status": 200}';
const warning = '[WARNING]  (7) : Proxy http stopped (cumulated conns: FE: 1, BE: 0).';

describe('HaproxyProcess output', () => {
  let dir: string;
  let bin: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hc-haproxy-process-'));
    bin = path.join(dir, 'haproxy');
    await writeFile(bin, `#!/bin/sh\necho '${accessLine}'\necho '${warning}' >&2\nexec sleep 30\n`);
    await chmod(bin, 0o755);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  function logged() {
    const lines: { level: string; msg: string }[] = [];
    const log = pino(
      { level: 'info', formatters: { level: (label) => ({ level: label }) } },
      { write: (l: string) => lines.push(JSON.parse(l)) },
    );
    return { log, lines };
  }
  const paths = () => ({ configPath: path.join(dir, 'haproxy.cfg'), masterSocket: path.join(dir, 'master.sock') });

  it.each([
    // [case, stdout to a descriptor of ours, lines in the log, lines in the descriptor]
    [
      'stdout read and logged (access log off)',
      false,
      [
        ['info', accessLine],
        ['warn', warning],
      ],
      '',
    ],
    ['stdout handed over (ACCESS_LOG=json)', true, [['warn', warning]], `${accessLine}\n`],
  ] as const)('%s', async (_, handOver, expectedLog, expectedOut) => {
    const { log, lines } = logged();
    const outFile = path.join(dir, 'stdout');
    const fd = openSync(outFile, 'w');
    const master = new HaproxyProcess(bin, paths(), log, handOver ? { stdoutFd: fd } : {});
    master.start(() => undefined);
    try {
      // The two streams arrive in either order.
      const fromHaproxy = () => lines.filter((l) => l.msg !== 'starting haproxy').map((l) => [l.level, l.msg]);
      await waitFor(() => fromHaproxy().length >= expectedLog.length && readFileSync(outFile, 'utf8') === expectedOut);
      expect(fromHaproxy().sort()).toEqual(expectedLog.map((e) => [...e]).sort());
    } finally {
      await master.stop(1_000);
      closeSync(fd);
    }
  });
});
