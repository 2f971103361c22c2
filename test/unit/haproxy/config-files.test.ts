import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../../src/errors.js';
import { installConfig } from '../../../src/haproxy/config-files.js';

/** `false` stands in for a `haproxy -c` that rejects everything, `true` for one that accepts everything. */
async function setup(bin: 'true' | 'false') {
  const dir = await mkdtemp(path.join(tmpdir(), 'hc-applier-'));
  const options = {
    bin,
    configPath: path.join(dir, 'haproxy.cfg'),
    hostsMap: path.join(dir, 'hosts.map'),
    masterSocket: path.join(dir, 'master.sock'),
  };
  await writeFile(options.configPath, 'running config\n');
  await writeFile(options.hostsMap, 'login be_login\n');
  const onDisk = async () => ({ config: await readFile(options.configPath, 'utf8'), hostsMap: await readFile(options.hostsMap, 'utf8') });
  return { options, onDisk };
}

const next = { config: 'next config\n', hostsMap: 'login be_login\nfresh spare_001\n' };

describe('installConfig', () => {
  it('puts both files in place once the check passes, and returns what they replaced', async () => {
    const { options, onDisk } = await setup('true');
    expect(await installConfig(options, next)).toEqual({ config: 'running config\n', hostsMap: 'login be_login\n' });
    expect(await onDisk()).toEqual(next);
  });

  it('leaves both files as they were when the check fails', async () => {
    const { options, onDisk } = await setup('false');
    await expect(installConfig(options, next)).rejects.toBeInstanceOf(ConfigInvalidError);
    expect(await onDisk()).toEqual({ config: 'running config\n', hostsMap: 'login be_login\n' });
  });

  it('skips the check when told to (a change the runtime API checks itself)', async () => {
    const { options, onDisk } = await setup('false');
    await installConfig(options, next, { check: false });
    expect(await onDisk()).toEqual(next);
  });
});
