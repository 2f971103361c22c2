/**
 * The configuration files on disk: a rendered configuration is written to a temp file, validated with
 * `haproxy -c` and renamed into place, so a config that fails never replaces the running one. The host
 * map goes in first (the config being checked reads it), and goes back when the check fails.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { ConfigInvalidError } from '../errors.js';
import type { RenderedFiles } from '../render/render-config.js';

export interface ConfigFileOptions {
  bin: string;
  configPath: string;
  hostsMap: string;
}

/** Lines worth showing from HAProxy's output: its alerts and warnings, without the noise. */
export function haproxyMessages(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /\[(ALERT|WARNING)\]/.test(line) || /error|invalid|unknown/i.test(line))
    .slice(0, 20);
}

export async function validateConfig(bin: string, file: string): Promise<void> {
  const result = await execa(bin, ['-c', '-f', file], { reject: false, all: true });
  if (result.exitCode !== 0) {
    const messages = haproxyMessages(result.all ?? '');
    throw new ConfigInvalidError(messages.length > 0 ? messages : [`haproxy -c exited with ${result.exitCode}`]);
  }
}

async function replaceFile(file: string, text: string): Promise<void> {
  await writeFile(`${file}.new`, text, { mode: 0o644 });
  await rename(`${file}.new`, file);
}

/**
 * Writes and validates `next`, then puts it in place. Returns what it replaced, if anything.
 * `check: false` skips `haproxy -c`, for a change the runtime API applies: it differs from the running,
 * validated config only in server lines, which `add server` parses itself (a refusal falls back to a
 * reload, which HAProxy validates in full), and in host map entries, which are data.
 */
export async function installConfig(
  options: ConfigFileOptions,
  next: RenderedFiles,
  { check = true }: { check?: boolean } = {},
): Promise<RenderedFiles | undefined> {
  const previousConfig = await readFile(options.configPath, 'utf8').catch(() => undefined);
  const previousMap = await readFile(options.hostsMap, 'utf8').catch(() => '');
  const candidate = `${options.configPath}.new`;
  await writeFile(candidate, next.config, { mode: 0o644 });
  await replaceFile(options.hostsMap, next.hostsMap);
  try {
    if (check) await validateConfig(options.bin, candidate);
  } catch (error) {
    await replaceFile(options.hostsMap, previousMap);
    throw error;
  }
  await rename(candidate, options.configPath);
  return previousConfig === undefined ? undefined : { config: previousConfig, hostsMap: previousMap };
}

/** Puts `previous` back after a failed reload, so the files on disk match what runs. */
export async function restoreConfig(options: ConfigFileOptions, previous: RenderedFiles | undefined): Promise<void> {
  if (previous === undefined) return;
  await replaceFile(options.hostsMap, previous.hostsMap);
  await replaceFile(options.configPath, previous.config);
}
