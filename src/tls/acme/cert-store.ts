/**
 * Where the fleet keeps its ACME certificate, so that one host orders it and every host serves it:
 * `TLS_STORE=secretsmanager:<name>` (AWS Secrets Manager: encrypted with KMS, readable by the fleet's
 * role) or `file:<path>` (one host, on a volume that outlives the container). It also keeps the ACME
 * account's key, so the fleet is one account, not one per host or per order.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readRegularFile } from '../../lib/read-regular-file.js';

export interface StoredCertificate {
  /** The leaf, then its chain (PEM). */
  certificate: string;
  privateKey: string;
  /** The names it was ordered for (`*.example.com`, `example.com`). */
  names: string[];
  /** ISO 8601. */
  notAfter: string;
  issuedBy: string;
  issuedAt: string;
}

export interface StoreContents {
  /** The ACME account's private key (PEM), made once for the fleet. */
  accountKey?: string;
  certificate?: StoredCertificate;
}

export interface CertStore {
  /** For logs and /status: `secretsmanager:<name>` or `file:<path>`. */
  readonly description: string;
  /** Empty contents when nothing was stored yet; throws when the store cannot be read. */
  read(): Promise<StoreContents>;
  write(contents: StoreContents): Promise<void>;
}

export type StoreSetting = { kind: 'secretsmanager'; name: string } | { kind: 'file'; path: string };

/** `secretsmanager:<name or ARN>` or `file:<absolute path>`; a reason when it is neither. */
export function parseStoreSetting(raw: string): StoreSetting | string {
  const match = /^(secretsmanager|file):(.+)$/.exec(raw.trim());
  if (match?.[1] === 'secretsmanager' && /^[A-Za-z0-9/_+=.@:-]{1,2048}$/.test(match[2] ?? '')) {
    return { kind: 'secretsmanager', name: match[2] as string };
  }
  if (match?.[1] === 'file' && path.isAbsolute(match[2] ?? '')) return { kind: 'file', path: match[2] as string };
  return 'must be secretsmanager:<secret name or ARN> or file:<absolute path>, e.g. secretsmanager:haproxy-companion/tls';
}

/** Parses what a store holds; anything else reads as empty (and is overwritten by the next order). */
export function parseContents(text: string | undefined): StoreContents {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as StoreContents;
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}

/** An account key and a certificate with its chain are a few kB. */
const MAX_STORE_BYTES = 1 << 20;

export function fileStore(file: string): CertStore {
  return {
    description: `file:${file}`,
    async read() {
      // Not a regular file (a FIFO would hold the ACME check, and a thread, for good): the check fails, naming it.
      const text = await readRegularFile(file, { maxBytes: MAX_STORE_BYTES }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      return parseContents(text);
    },
    async write(contents) {
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await rm(`${file}.new`, { force: true });
      await writeFile(`${file}.new`, JSON.stringify(contents), { mode: 0o600 });
      await rename(`${file}.new`, file);
    },
  };
}

/** The Secrets Manager calls the store makes: a port, so unit tests pass a plain object. */
export interface SecretsApi {
  getSecret(name: string): Promise<string | undefined>;
  putSecret(name: string, value: string): Promise<void>;
}

export function secretsManagerStore(api: SecretsApi, name: string): CertStore {
  return {
    description: `secretsmanager:${name}`,
    read: async () => parseContents(await api.getSecret(name)),
    write: (contents) => api.putSecret(name, JSON.stringify(contents)),
  };
}

/**
 * The SDK behind {@link SecretsApi}, loaded only when a fleet uses it (credentials from the standard chain,
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER` for another endpoint). A secret that does not exist yet is created
 * on the first write, with the account's default KMS key (`aws/secretsmanager`) unless made beforehand.
 */
export async function createSecretsApi(region: string | undefined): Promise<SecretsApi> {
  const sdk = await import('@aws-sdk/client-secrets-manager');
  const client = new sdk.SecretsManagerClient({ region: region ?? 'us-east-1', maxAttempts: 3 });
  return {
    async getSecret(name) {
      try {
        return (await client.send(new sdk.GetSecretValueCommand({ SecretId: name }))).SecretString;
      } catch (error) {
        if ((error as Error).name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
    async putSecret(name, value) {
      try {
        await client.send(new sdk.PutSecretValueCommand({ SecretId: name, SecretString: value }));
      } catch (error) {
        if ((error as Error).name !== 'ResourceNotFoundException') throw error;
        await client.send(
          new sdk.CreateSecretCommand({
            Name: name,
            SecretString: value,
            Description: 'haproxy-companion: the fleet’s TLS certificate (ACME)',
          }),
        );
      }
    },
  };
}
