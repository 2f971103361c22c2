/**
 * One ACME order (RFC 8555) with acme-client: the fleet's account (made once, its key kept in the store),
 * a new P-256 key and CSR for the names, DNS-01 challenges set through {@link ChallengeRecords}, and the
 * certificate with its chain. acme-client is loaded only when ACME is configured.
 */
import https from 'node:https';
import type { ChallengeRecords } from './challenge-records.js';

export interface OrderRequest {
  directoryUrl: string;
  email: string;
  /** The fleet's account key (PEM); absent: a new account is made, and its key returned. */
  accountKey?: string;
  /** The names, `*.example.com` and `example.com` by default. */
  names: string[];
  challenges: Pick<ChallengeRecords, 'add' | 'remove'>;
  /** Extra CA certificates (PEM) to trust for the ACME server (a private CA, pebble in tests). */
  ca?: string;
}

export interface OrderResult {
  accountKey: string;
  /** Leaf, then chain. */
  certificate: string;
  privateKey: string;
}

export type Orderer = (request: OrderRequest) => Promise<OrderResult>;

export const orderCertificate: Orderer = async (request) => {
  const acme = await import('acme-client');
  if (request.ca) acme.axios.defaults.httpsAgent = new https.Agent({ ca: request.ca, keepAlive: false });
  const accountKey = request.accountKey ?? (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
  const client = new acme.Client({ directoryUrl: request.directoryUrl, accountKey });
  const [privateKey, csr] = await acme.crypto.createCsr(
    { commonName: request.names.find((n) => !n.startsWith('*.')) ?? request.names[0], altNames: request.names },
    await acme.crypto.createPrivateEcdsaKey('P-256'),
  );
  const certificate = await client.auto({
    csr,
    email: request.email,
    termsOfServiceAgreed: true,
    challengePriority: ['dns-01'],
    // acme-client's own check asks the local resolver, which may cache a negative answer for long: Route53's
    // INSYNC (which ChallengeRecords waits for) already says every authoritative server has the record.
    skipChallengeVerification: true,
    challengeCreateFn: async (authz, challenge, token) => {
      if (challenge.type !== 'dns-01') throw new Error(`challenge ${challenge.type} offered; only dns-01 is used`);
      await request.challenges.add(authz.identifier.value, token);
    },
    challengeRemoveFn: async (authz, challenge, token) => {
      if (challenge.type === 'dns-01') await request.challenges.remove(authz.identifier.value, token);
    },
  });
  return { accountKey, certificate, privateKey: privateKey.toString() };
};
