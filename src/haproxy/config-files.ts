/**
 * The configuration files on disk: a rendered configuration is written to a temp file, validated with
 * `haproxy -c` and renamed into place, so a config that fails never replaces the running one. The maps
 * (host map, then paths map) go in first (the config being checked reads them), and go back when the
 * check fails.
 */
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { execa } from 'execa';
import { CompanionError, ConfigInvalidError } from '../errors.js';
import { type DurableFs, nodeFs, renameDurably, replaceFileDurably } from '../lib/durable-file.js';
import { readRegularFile } from '../lib/read-regular-file.js';
import type { RenderedFiles } from '../render/render-config.js';
import type { TlsFiles } from '../tls/tls-files.js';

export interface ConfigFileOptions {
  bin: string;
  configPath: string;
  hostsMap: string;
  pathsMap: string;
  /** Where the certificates' files go (HTTPS); their names come with them (tls/tls-files.ts). */
  certsDir?: string;
  certList?: string;
  /**
   * FLEET_CA_FILE (`from`), copied to `to`, which the configuration names, before each check. HAProxy opens
   * the files it names blocking: a FIFO at the operator's path held `haproxy -c`, and every change after it,
   * for good. Copied at each check, a new CA still applies at the next reload, as before.
   */
  fleetCa?: { from: string; to: string } | undefined;
  /** Tests see the order of writes, flushes and renames through this. */
  fs?: DurableFs;
}

/** Lines worth showing from HAProxy's output: its alerts and warnings, without the noise. */
export function haproxyMessages(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /\[(ALERT|WARNING)\]/.test(line) || /error|invalid|unknown/i.test(line))
    .slice(0, 20);
}

/** A check takes well under a second; one that takes this long waits on something that will not come. */
const CHECK_TIMEOUT_MS = 60_000;
/** A CA bundle (the system's is 200 kB). */
const MAX_CA_BYTES = 1 << 20;

export async function validateConfig(bin: string, file: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<void> {
  const result = await execa(bin, ['-c', '-f', file], { reject: false, all: true, timeout: timeoutMs });
  // Not a verdict on the configuration: the next pass checks it again.
  if (result.timedOut) throw new CompanionError(`haproxy -c did not finish within ${timeoutMs} ms`);
  if (result.exitCode !== 0) {
    const messages = haproxyMessages(result.all ?? '');
    throw new ConfigInvalidError(messages.length > 0 ? messages : [`haproxy -c exited with ${result.exitCode}`]);
  }
}

/**
 * Writes and validates `next`, then puts it in place. Returns what it replaced, if anything.
 * `check: false` skips `haproxy -c`, for a change the runtime API applies: it differs from the running,
 * validated config only in server lines, which `add server` parses itself (a refusal falls back to a
 * reload, which HAProxy validates in full), and in map entries, which are data.
 */
export async function installConfig(
  options: ConfigFileOptions,
  next: RenderedFiles,
  { check = true, onDisk }: { check?: boolean; onDisk?: RenderedFiles | undefined } = {},
): Promise<RenderedFiles | undefined> {
  // What is on disk, read back only when the caller does not know it (the first install of a process).
  const previousConfig = onDisk?.config ?? (await readFile(options.configPath, 'utf8').catch(() => undefined));
  const previousMaps = onDisk ?? (await readMaps(options));
  const fs = options.fs ?? nodeFs;
  // First, so that a CA that cannot be read changes nothing (the reason names it; the pass is retried).
  if (check && options.fleetCa) await copyFleetCa(options.fleetCa, fs);
  const previousTls = onDisk?.tls;
  const candidate = `${options.configPath}.new`;
  await fs.writeSynced(candidate, next.config);
  await replaceTls(options, next.tls, previousTls, fs);
  await replaceMaps(options, next, fs);
  try {
    if (check) await validateConfig(options.bin, candidate);
  } catch (error) {
    await replaceMaps(options, previousMaps, fs);
    await replaceTls(options, previousTls, next.tls, fs);
    throw error;
  }
  await renameDurably(candidate, options.configPath, fs);
  return previousConfig === undefined ? undefined : { config: previousConfig, ...previousMaps, tls: previousTls };
}

async function copyFleetCa({ from, to }: { from: string; to: string }, fs: DurableFs): Promise<void> {
  const text = await readRegularFile(from, { maxBytes: MAX_CA_BYTES });
  if ((await readFile(to, 'utf8').catch(() => undefined)) !== text) await replaceFileDurably(to, text, fs);
}

/**
 * Writes the certificates' files that differ from `current` (keys: mode 600, in a directory only root
 * reads) and the crt-list, and removes the files of certificates `next` no longer has. Without `next`
 * (HTTPS off, or what a restart found on disk unknown) the files are left as they are: the config that
 * runs then does not name them, or names them as they are.
 */
async function replaceTls(options: ConfigFileOptions, next: TlsFiles | undefined, current: TlsFiles | undefined, fs: DurableFs) {
  if (next === undefined || options.certsDir === undefined || options.certList === undefined) return;
  await mkdir(options.certsDir, { recursive: true, mode: 0o700 });
  await chmod(options.certsDir, 0o700);
  for (const [file, pem] of next.pems) if (current?.pems.get(file) !== pem) await replaceFileDurably(file, pem, fs, 0o600);
  if (current?.list !== next.list) await replaceFileDurably(options.certList, next.list, fs);
  for (const file of current?.pems.keys() ?? []) if (!next.pems.has(file)) await rm(file, { force: true });
}

/**
 * The configuration files of one companion: it remembers what it wrote, so a pass does not read the
 * previous files back from disk to be able to put them back (three reads on every change).
 */
export class ConfigFiles {
  /** What the files hold; undefined when unknown (nothing written yet, or a write that failed half-way). */
  private onDisk: RenderedFiles | undefined;

  constructor(private readonly options: ConfigFileOptions) {}

  async install(next: RenderedFiles, { check }: { check: boolean }): Promise<RenderedFiles | undefined> {
    const known = this.onDisk;
    this.onDisk = undefined;
    try {
      const previous = await installConfig(this.options, next, { check, onDisk: known });
      this.onDisk = next;
      return previous;
    } catch (error) {
      // Refused by `haproxy -c`: the previous files are back in place; any other failure: read them again.
      if (error instanceof ConfigInvalidError) this.onDisk = known;
      throw error;
    }
  }

  async restore(previous: RenderedFiles | undefined): Promise<void> {
    this.onDisk = undefined;
    await restoreConfig(this.options, previous);
    this.onDisk = previous;
  }
}

/** Puts `previous` back after a failed reload, so the files on disk match what runs. */
export async function restoreConfig(options: ConfigFileOptions, previous: RenderedFiles | undefined): Promise<void> {
  if (previous === undefined) return;
  await replaceTls(options, previous.tls, undefined, options.fs ?? nodeFs);
  await replaceMaps(options, previous, options.fs);
  await replaceFileDurably(options.configPath, previous.config, options.fs);
}

type Maps = Pick<RenderedFiles, 'hostsMap' | 'pathsMap'>;

/** A map not there yet (the first start, or an upgrade from a version without it) reads as empty. */
async function readMaps(options: ConfigFileOptions): Promise<Maps> {
  const [hostsMap, pathsMap] = await Promise.all([
    readFile(options.hostsMap, 'utf8').catch(() => ''),
    readFile(options.pathsMap, 'utf8').catch(() => ''),
  ]);
  return { hostsMap, pathsMap };
}

/** One after the other, each durably: the order is the one the durability test pins. */
async function replaceMaps(options: ConfigFileOptions, maps: Maps, fs: DurableFs | undefined): Promise<void> {
  await replaceFileDurably(options.hostsMap, maps.hostsMap, fs);
  await replaceFileDurably(options.pathsMap, maps.pathsMap, fs);
}
