import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../../src/errors.js';
import { ConfigFiles, installConfig, restoreConfig, validateConfig } from '../../../src/haproxy/config-files.js';
import { type DurableFs, nodeFs } from '../../../src/lib/durable-file.js';
import { makeFifo, releaseFifo } from '../../helpers/fifo.js';

/** `false` stands in for a `haproxy -c` that rejects everything, `true` for one that accepts everything. */
async function setup(bin: 'true' | 'false') {
  const dir = await mkdtemp(path.join(tmpdir(), 'hc-applier-'));
  const options = {
    bin,
    configPath: path.join(dir, 'haproxy.cfg'),
    hostsMap: path.join(dir, 'hosts.map'),
    pathsMap: path.join(dir, 'paths.map'),
    masterSocket: path.join(dir, 'master.sock'),
  };
  await writeFile(options.configPath, 'running config\n');
  await writeFile(options.hostsMap, 'login be_login\n');
  await writeFile(options.pathsMap, 'login/v1/ be_v1\n');
  const onDisk = async () => ({
    config: await readFile(options.configPath, 'utf8'),
    hostsMap: await readFile(options.hostsMap, 'utf8'),
    pathsMap: await readFile(options.pathsMap, 'utf8'),
  });
  return { options, onDisk };
}

const running = { config: 'running config\n', hostsMap: 'login be_login\n', pathsMap: 'login/v1/ be_v1\n' };
const next = { config: 'next config\n', hostsMap: 'login be_login\nfresh spare_001\n', pathsMap: 'login/v2/ spare_002\n' };

describe('installConfig', () => {
  it('puts the three files in place once the check passes, and returns what they replaced', async () => {
    const { options, onDisk } = await setup('true');
    expect(await installConfig(options, next)).toEqual(running);
    expect(await onDisk()).toEqual(next);
  });

  it('leaves the three files as they were when the check fails', async () => {
    const { options, onDisk } = await setup('false');
    await expect(installConfig(options, next)).rejects.toBeInstanceOf(ConfigInvalidError);
    expect(await onDisk()).toEqual(running);
  });

  it('skips the check when told to (a change the runtime API checks itself)', async () => {
    const { options, onDisk } = await setup('false');
    await installConfig(options, next, { check: false });
    expect(await onDisk()).toEqual(next);
  });

  it('takes a paths map not there yet (a companion upgraded from one without it) for an empty one', async () => {
    const { options, onDisk } = await setup('false');
    await rm(options.pathsMap);
    await expect(installConfig(options, next)).rejects.toBeInstanceOf(ConfigInvalidError);
    expect(await onDisk()).toEqual({ ...running, pathsMap: '' });
    await rm(options.pathsMap);
    expect(await installConfig({ ...options, bin: 'true' }, next)).toEqual({ ...running, pathsMap: '' });
  });
});

describe('FLEET_CA_FILE: HAProxy reads a copy, never the operator’s path', () => {
  it('copies it through read-regular-file before each check; a changed one is copied again', async () => {
    const { options, onDisk } = await setup('true');
    const dir = path.dirname(options.configPath);
    const fleetCa = { from: path.join(dir, 'operator-ca.pem'), to: path.join(dir, 'fleet-ca.pem') };
    await writeFile(fleetCa.from, 'CA 1\n');
    await installConfig({ ...options, fleetCa }, next);
    expect(await readFile(fleetCa.to, 'utf8')).toBe('CA 1\n');
    expect(await onDisk()).toEqual(next);
    await writeFile(fleetCa.from, 'CA 2\n');
    await installConfig({ ...options, fleetCa }, { ...next, config: 'third\n' });
    expect(await readFile(fleetCa.to, 'utf8')).toBe('CA 2\n');
  });

  it('refuses a FIFO there at once, naming it, and changes nothing (before, `haproxy -c` waited on it for good)', {
    timeout: 10_000,
  }, async () => {
    const { options, onDisk } = await setup('true');
    const dir = path.dirname(options.configPath);
    const fleetCa = { from: path.join(dir, 'operator-ca.pem'), to: path.join(dir, 'fleet-ca.pem') };
    await makeFifo(fleetCa.from);
    try {
      await expect(installConfig({ ...options, fleetCa }, next)).rejects.toThrow(`${fleetCa.from} is not a regular file (a FIFO)`);
      expect(await onDisk()).toEqual(running);
      await expect(stat(fleetCa.to)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      releaseFifo(fleetCa.from);
    }
  });
});

describe('validateConfig', () => {
  it('gives up on a `haproxy -c` that does not finish (a file it opens that never answers), as a failure that may pass', {
    timeout: 10_000,
  }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hc-check-'));
    try {
      await writeFile(path.join(dir, 'haproxy'), '#!/bin/sh\nexec sleep 60\n');
      await chmod(path.join(dir, 'haproxy'), 0o755);
      const error = await validateConfig(path.join(dir, 'haproxy'), path.join(dir, 'haproxy.cfg'), 300).catch((e: unknown) => e);
      expect(error).toMatchObject({ message: 'haproxy -c did not finish within 300 ms', retryable: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ConfigFiles', () => {
  it('remembers what it wrote: the next install returns it without reading the files back', async () => {
    const { options } = await setup('true');
    const files = new ConfigFiles(options);
    expect(await files.install(next, { check: false })).toEqual(running);
    // Changed behind its back: what it returns is what it wrote, so no read happened.
    await writeFile(options.configPath, 'edited by hand\n');
    const third = { ...next, config: 'third config\n' };
    expect(await files.install(third, { check: false })).toEqual(next);
  });

  it('keeps what it knows when haproxy -c refuses, and learns what a restore put back', async () => {
    const { options, onDisk } = await setup('false');
    const files = new ConfigFiles(options);
    await expect(files.install(next, { check: true })).rejects.toBeInstanceOf(ConfigInvalidError);
    expect(await onDisk()).toEqual(running);
    await files.restore(running);
    await writeFile(options.hostsMap, 'edited by hand\n');
    await expect(files.install(next, { check: true })).rejects.toBeInstanceOf(ConfigInvalidError);
    // The maps went back to what it knew (running), not to anything read from disk.
    expect((await onDisk()).hostsMap).toBe(running.hostsMap);
  });
});

describe('durability', () => {
  /** The real file system, with every durable step recorded in order. */
  function recording() {
    const steps: string[] = [];
    const fs: DurableFs = {
      writeSynced: async (file, text) => {
        await nodeFs.writeSynced(file, text);
        steps.push(`write+fsync ${path.basename(file)}`);
      },
      rename: async (from, to) => {
        await nodeFs.rename(from, to);
        steps.push(`rename ${path.basename(from)} -> ${path.basename(to)}`);
      },
      syncDirectory: async (dir) => {
        await nodeFs.syncDirectory(dir);
        steps.push('fsync dir');
      },
    };
    return { steps, fs };
  }

  it('flushes each new file before renaming it into place, and the directory after; the maps go in before the checked config', async () => {
    const { options } = await setup('true');
    const { steps, fs } = recording();
    await installConfig({ ...options, fs }, next);
    expect(steps).toEqual([
      'write+fsync haproxy.cfg.new',
      'write+fsync hosts.map.new',
      'rename hosts.map.new -> hosts.map',
      'fsync dir',
      'write+fsync paths.map.new',
      'rename paths.map.new -> paths.map',
      'fsync dir',
      'rename haproxy.cfg.new -> haproxy.cfg',
      'fsync dir',
    ]);
  });

  it('puts both maps back, durably, when the check fails, and leaves the config untouched', async () => {
    const { options, onDisk } = await setup('false');
    const { steps, fs } = recording();
    await expect(installConfig({ ...options, fs }, next)).rejects.toBeInstanceOf(ConfigInvalidError);
    const maps = [
      'write+fsync hosts.map.new',
      'rename hosts.map.new -> hosts.map',
      'fsync dir',
      'write+fsync paths.map.new',
      'rename paths.map.new -> paths.map',
      'fsync dir',
    ];
    // The next maps in for the check, then the running ones back; the checked config never renamed into place.
    expect(steps).toEqual(['write+fsync haproxy.cfg.new', ...maps, ...maps]);
    expect(await onDisk()).toEqual(running);
  });

  it('restores durably too, the maps before the config that reads them', async () => {
    const { options, onDisk } = await setup('true');
    const { steps, fs } = recording();
    const old = { config: 'old config\n', hostsMap: 'old be_old\n', pathsMap: 'old/x/ be_old\n' };
    await restoreConfig({ ...options, fs }, old);
    expect(steps).toEqual([
      'write+fsync hosts.map.new',
      'rename hosts.map.new -> hosts.map',
      'fsync dir',
      'write+fsync paths.map.new',
      'rename paths.map.new -> paths.map',
      'fsync dir',
      'write+fsync haproxy.cfg.new',
      'rename haproxy.cfg.new -> haproxy.cfg',
      'fsync dir',
    ]);
    expect(await onDisk()).toEqual(old);
  });
});

describe('ConfigFiles with certificates', () => {
  const tls = (pems: Record<string, string>, certsDir: string) => ({
    list: Object.keys(pems)
      .map((name) => `${path.join(certsDir, name)}\n`)
      .join(''),
    pems: new Map(Object.entries(pems).map(([name, pem]) => [path.join(certsDir, name), pem])),
    defaultPath: null,
  });

  it('writes each certificate readable by root alone, removes the gone ones, and puts them back when the check fails', async () => {
    const { options } = await setup('true');
    const certsDir = path.join(path.dirname(options.configPath), 'certs');
    const withTls = { ...options, certsDir, certList: path.join(path.dirname(options.configPath), 'certs.list') };
    const files = new ConfigFiles(withTls);
    const first = { ...next, tls: tls({ 'a.pem': 'A1', 'b.pem': 'B1' }, certsDir) };
    await files.install(first, { check: true });
    expect((await stat(certsDir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(certsDir, 'a.pem'))).mode & 0o777).toBe(0o600);
    expect(await readFile(withTls.certList, 'utf8')).toBe(`${path.join(certsDir, 'a.pem')}\n${path.join(certsDir, 'b.pem')}\n`);

    const second = { ...next, config: 'second\n', tls: tls({ 'a.pem': 'A2' }, certsDir) };
    await files.install(second, { check: false });
    expect((await readdir(certsDir)).sort()).toEqual(['a.pem']);
    expect(await readFile(path.join(certsDir, 'a.pem'), 'utf8')).toBe('A2');

    // Refused by `haproxy -c`: the certificates are the ones that run, again.
    const refused = new ConfigFiles({ ...withTls, bin: 'false' });
    await refused.install(second, { check: false });
    await expect(
      refused.install({ ...next, config: 'third\n', tls: tls({ 'c.pem': 'C1' }, certsDir) }, { check: true }),
    ).rejects.toBeInstanceOf(ConfigInvalidError);
    expect((await readdir(certsDir)).sort()).toEqual(['a.pem']);
    expect(await readFile(path.join(certsDir, 'a.pem'), 'utf8')).toBe('A2');
    expect(await readFile(withTls.certList, 'utf8')).toBe(`${path.join(certsDir, 'a.pem')}\n`);
  });
});
