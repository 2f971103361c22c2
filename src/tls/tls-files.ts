/**
 * The certificates -> the files HAProxy reads them from: one PEM file each under the runtime directory
 * (written by ConfigFiles, mode 600) and a crt-list naming them. The default certificate is named on the
 * bind line instead (`crt <file>`), so that changing which one it is changes the config (a reload),
 * while adding, replacing or removing any other is a runtime change (`add ssl crt-list`, `set ssl cert`).
 * Pure.
 */
import path from 'node:path';
import type { Certificate } from './certificate.js';

export interface TlsFiles {
  /** The crt-list: one certificate file a line, in name order; the default certificate is not in it. */
  list: string;
  /** File -> PEM text, for every certificate, the default one included. */
  pems: ReadonlyMap<string, string>;
  /** The default certificate's file; null: a client naming no known host is refused at the handshake (strict-sni). */
  defaultPath: string | null;
}

/** `example.com.pem`, `example.com.crt` and `example.com` all name the certificate `example.com`. */
export function certificateNameOf(reference: string): string {
  return reference.replace(/\.(pem|crt|cer|key)$/i, '');
}

export function tlsFiles(certificates: Certificate[], certsDir: string, defaultCert: string | undefined): TlsFiles {
  const defaultName = defaultCert === undefined ? undefined : certificateNameOf(defaultCert);
  const pems = new Map<string, string>();
  const listed: string[] = [];
  let defaultPath: string | null = null;
  for (const certificate of certificates) {
    const file = path.join(certsDir, `${certificate.name}.pem`);
    pems.set(file, certificate.pem);
    if (certificate.name === defaultName) defaultPath = file;
    else listed.push(file);
  }
  return { list: listed.map((file) => `${file}\n`).join(''), pems, defaultPath };
}

export function sameTlsFiles(a: TlsFiles | undefined, b: TlsFiles | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.list !== b.list || a.defaultPath !== b.defaultPath || a.pems.size !== b.pems.size) return false;
  for (const [file, pem] of a.pems) if (b.pems.get(file) !== pem) return false;
  return true;
}
