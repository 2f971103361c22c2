/**
 * Reads TLS_CERTS_DIR: each certificate is a file (`example.com.pem`), a pair or more of files with one
 * name (`example.com.crt` + `example.com.key`), or a subdirectory (certbot's `live/example.com/`); see
 * certificate.ts for how their blocks are pooled. Hidden files (`.x`, Kubernetes' `..data`) and files with
 * other extensions are passed over. A certificate that cannot be read or used is refused alone, with a
 * reason naming its file: one that is not a regular file once its links are followed (a FIFO, a link to
 * a device) is refused without opening it (lib/read-regular-file.ts). Listing and telling files from
 * directories has the reader's time limit too: a hung network mount refuses what it holds, not the rest.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { compare } from '../lib/compare.js';
import { READ_TIMEOUT_MS, readRegularFile, UnreadableFileError, withinTime } from '../lib/read-regular-file.js';
import { type Certificate, parseCertificate } from './certificate.js';

export interface RefusedCertificate {
  name: string;
  reason: string;
}

export interface CertificateSet {
  /** Sorted by name. */
  certificates: Certificate[];
  refused: RefusedCertificate[];
}

const PEM_FILE = /\.(pem|crt|cer|key)$/i;
/** A certificate, chain and key are a few kB; this bounds what one file can make the companion hold. */
export const MAX_PEM_FILE_BYTES = 1 << 20;
/** Far more than one host serves, and a bound on the work of one directory listing. */
export const MAX_CERTIFICATES = 2_000;

export interface ReadCertificateDirOptions {
  /** For each listing, `stat` and file read; tests shorten it. */
  timeoutMs?: number;
}

/** Throws when the directory itself cannot be read (the caller keeps what it had). */
export async function readCertificateDir(dir: string, options: ReadCertificateDirOptions = {}): Promise<CertificateSet> {
  const timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
  const groups = new Map<string, string[] | string>();
  const add = (name: string, file: string) => {
    const group = groups.get(name) ?? [];
    if (typeof group !== 'string') groups.set(name, [...group, file]);
  };
  // A reason in place of the files: what a hung mount holds is refused, whatever else has its name.
  const hung = (name: string, error: unknown): undefined => {
    if (error instanceof UnreadableFileError && ['ETIMEDOUT', 'EBUSY'].includes(error.code)) {
      groups.set(name, `${path.relative(dir, error.file)} ${error.problem}`);
    }
    return undefined;
  };
  for (const entry of (await withinTime(dir, timeoutMs, () => readdir(dir))).sort(compare)) {
    // `.x`: hidden (an editor's, Kubernetes' `..data`); `_x`: the companion's own names (`_acme`).
    if (entry.startsWith('.') || entry.startsWith('_')) continue;
    const full = path.join(dir, entry);
    // stat, not the entry's type: certbot's and Kubernetes' files are symbolic links. Only a directory is
    // told apart here; whether a file is one to read is decided by the reader (readTexts).
    const info = await withinTime(full, timeoutMs, () => stat(full)).catch((error: unknown) => hung(entry.replace(PEM_FILE, ''), error));
    if (info?.isDirectory()) {
      const inside = await withinTime(full, timeoutMs, () => readdir(full)).catch((error: unknown) => hung(entry, error) ?? []);
      for (const file of inside.sort(compare)) if (!file.startsWith('.') && PEM_FILE.test(file)) add(entry, path.join(full, file));
    } else if (info && PEM_FILE.test(entry)) {
      add(entry.replace(PEM_FILE, ''), full);
    }
  }
  const certificates: Certificate[] = [];
  const refused: RefusedCertificate[] = [];
  for (const [name, files] of [...groups].sort(([a], [b]) => compare(a, b))) {
    if (typeof files === 'string') {
      refused.push({ name, reason: files });
      continue;
    }
    if (certificates.length + refused.length >= MAX_CERTIFICATES) {
      refused.push({ name, reason: `one certificate too many: at most ${MAX_CERTIFICATES} are read` });
      break;
    }
    const texts = await readTexts(dir, files, timeoutMs);
    if (typeof texts === 'string') {
      refused.push({ name, reason: texts });
      continue;
    }
    const parsed = parseCertificate(name, texts);
    if (parsed.ok) certificates.push(parsed.certificate);
    else refused.push({ name, reason: `${files.map((f) => path.relative(dir, f)).join(' + ')}: ${parsed.reason}` });
  }
  return { certificates, refused };
}

/** The files' texts, or why one cannot be used (naming it relative to `dir`). */
async function readTexts(dir: string, files: string[], timeoutMs: number): Promise<string[] | string> {
  const texts: string[] = [];
  for (const file of files) {
    try {
      texts.push(await readRegularFile(file, { maxBytes: MAX_PEM_FILE_BYTES, timeoutMs, encoding: 'latin1' }));
    } catch (error) {
      const problem = error instanceof UnreadableFileError ? error.problem : `cannot be read: ${(error as Error).message}`;
      return `${path.relative(dir, file)} ${problem}`;
    }
  }
  return texts;
}
