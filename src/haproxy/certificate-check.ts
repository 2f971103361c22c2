/**
 * Whether HAProxy itself loads certificates. Node's parser takes some that HAProxy's OpenSSL refuses at its
 * security level (a certificate signed with SHA-1 or MD5, a chain with one), and one such file would fail
 * every configuration that holds it: every change after it, of any container, refused with it. So each new
 * certificate is loaded by `haproxy -c` on a configuration of its own before it is served; the ones HAProxy
 * refuses are refused alone, with HAProxy's reason. All of them in one run first (the usual verdict: none
 * refused), then one by one only when that run fails.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isHaproxyRefusal } from '../errors.js';
import { validateConfig } from './config-files.js';

/** For each PEM, undefined when HAProxy loads it, else HAProxy's reason. */
export type CertificateCheck = (pems: string[]) => Promise<(string | undefined)[]>;

export function haproxyCertificateCheck(bin: string): CertificateCheck {
  return async (pems) => {
    if (pems.length === 0) return [];
    const dir = await mkdtemp(path.join(tmpdir(), 'haproxy-companion-certs-'));
    try {
      const files = await Promise.all(
        pems.map(async (pem, i) => {
          const file = path.join(dir, `${i}.pem`);
          await writeFile(file, pem, { mode: 0o600 });
          return file;
        }),
      );
      const refusal = async (list: string[]) => {
        const config = path.join(dir, `check-${list.length === 1 ? path.basename(list[0] as string) : 'all'}.cfg`);
        await writeFile(config, checkConfig(list));
        // A refusal is HAProxy's verdict; anything else (no binary, a full disk) decides nothing: thrown.
        return validateConfig(bin, config).then(
          () => undefined,
          (error: unknown) => {
            if (isHaproxyRefusal(error)) return error.haproxyLines.join(' | ').slice(0, 500);
            throw error;
          },
        );
      };
      if ((await refusal(files)) === undefined) return pems.map(() => undefined);
      const verdicts: (string | undefined)[] = [];
      for (const file of files) verdicts.push(await refusal([file]));
      return verdicts;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

/** A configuration that loads each file on a listener of its own; `haproxy -c` binds nothing. */
function checkConfig(files: string[]): string {
  const binds = files.map((file, i) => `    bind 127.0.0.1:${10_000 + i} ssl crt ${file}`).join('\n');
  return `defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\nfrontend check\n${binds}\n    http-request return status 200\n`;
}
