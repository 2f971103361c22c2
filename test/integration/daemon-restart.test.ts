/**
 * The Docker daemon restarts (an upgrade, a crash). Without live-restore every container stops with
 * it; restart policies bring them back and the companion, restarted too, must route them again with
 * no one's help, and follow new changes on the new daemon. Integration files run one at a time, so
 * stopping the engine touches no other test's containers.
 */

import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Companion, TestRun } from '../helpers/docker.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18109;
let companion: Companion;

/** systemd's way when there is one; otherwise stop the dockerd that scripts/provision.sh started and start it the same way. */
async function restartDockerDaemon(): Promise<void> {
  const systemd = await execa('systemctl', ['is-active', '--quiet', 'docker'], { reject: false });
  if (systemd.exitCode === 0) {
    await execa('systemctl', ['restart', 'docker']);
  } else {
    const pid = Number((await readFile('/var/run/docker.pid', 'utf8')).trim());
    process.kill(pid, 'SIGTERM');
    await waitFor(
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      { timeoutMs: 120_000, what: 'dockerd to stop' },
    );
    const child = execa('sh', ['-c', 'setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null &'], { detached: true, stdio: 'ignore' });
    await child;
  }
  await waitFor(async () => (await execa('docker', ['info'], { reject: false })).exitCode === 0, {
    timeoutMs: 180_000,
    what: 'dockerd to answer',
  });
}

beforeAll(async () => {
  await run.backend({ domain: 'login', text: 'login-1', args: ['--restart', 'always'] });
  companion = await run.companion({ port, args: ['--restart', 'always'] });
  await waitFor(async () => (await get(port, 'login.example.com')).body === 'login-1', { what: 'login routed' });
});
afterAll(() => run.cleanup());

describe('Docker daemon restart', () => {
  // Generous: a daemon with many containers to clean up can take minutes to stop and start.
  it('comes back by itself: old routes, and new containers on the new daemon', { timeout: 420_000 }, async () => {
    await restartDockerDaemon();
    await waitFor(async () => (await get(port, 'login.example.com')).body === 'login-1', {
      timeoutMs: 120_000,
      what: 'login routed again',
    });
    await run.backend({ domain: 'after', text: 'after-1' });
    await waitFor(async () => (await get(port, 'after.example.com')).body === 'after-1', { what: 'a new container routed' });
    // The companion really went down with the daemon and started again (this is not the stream-cut case).
    expect(await companion.count('haproxy-companion starting')).toBe(2);
  });
});
