/**
 * Applies a rendered configuration: write to a temp file, validate with `haproxy -c`, rename into
 * place, reload through the master socket. A config that fails any step never replaces the running one.
 */
import { rename, writeFile, readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { ConfigInvalidError, ReloadFailedError } from '../errors.js';
import { sendCliCommand } from './cli-socket.js';

export interface ApplierOptions {
  bin: string;
  configPath: string;
  masterSocket: string;
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

/** Writes and validates `text`, then puts it in place. Returns the text it replaced, if any. */
export async function installConfig(options: ApplierOptions, text: string): Promise<string | undefined> {
  const candidate = `${options.configPath}.new`;
  await writeFile(candidate, text, { mode: 0o644 });
  await validateConfig(options.bin, candidate);
  const previous = await readFile(options.configPath, 'utf8').catch(() => undefined);
  await rename(candidate, options.configPath);
  return previous;
}

/** Asks the master to reload; HAProxy answers synchronously with `Success=1` or the parser's errors. */
export async function reloadHaproxy(masterSocket: string): Promise<void> {
  const answer = await sendCliCommand(masterSocket, 'reload');
  if (!/^Success=1/m.test(answer)) {
    const messages = haproxyMessages(answer);
    throw new ReloadFailedError(messages.length > 0 ? messages : [answer.trim().slice(0, 500) || 'empty answer']);
  }
}

/** Puts `previous` back after a failed reload, so the file on disk matches what runs. */
export async function restoreConfig(options: ApplierOptions, previous: string | undefined): Promise<void> {
  if (previous === undefined) return;
  await writeFile(`${options.configPath}.new`, previous);
  await rename(`${options.configPath}.new`, options.configPath);
}
