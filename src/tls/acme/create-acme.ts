/**
 * Builds the fleet's ACME issuer from the configuration: the zone (for the lock and the challenges), the
 * store, this host's identity. Loaded only when ACME_EMAIL is set: acme-client and the Secrets Manager
 * SDK stay out of the memory of every other host.
 */
import type { AcmeConfig, Config } from '../../config.js';
import { identityFor, zoneApiFor } from '../../dns/create-dns-half.js';
import type { Logger } from '../../log.js';
import { AcmeIssuer } from './acme-issuer.js';
import { orderCertificate } from './acme-orderer.js';
import { type CertStore, createSecretsApi, fileStore, type StoredCertificate, secretsManagerStore } from './cert-store.js';
import { ChallengeRecords } from './challenge-records.js';
import { FleetLock } from './fleet-lock.js';

/** Long enough for an order with Route53's minute of propagation per challenge; a dead holder is replaced after it. */
const LEASE_MS = 10 * 60_000;
/** While another host orders, or after a failure (doubling up to ACME_CHECK_INTERVAL_S). */
const RETRY_MS = 30_000;

export async function createAcmeIssuer(
  config: Config,
  acme: AcmeConfig,
  log: Logger,
  onCertificate: (certificate: StoredCertificate) => void,
): Promise<AcmeIssuer> {
  const hostedZoneId = config.dns.hostedZoneId;
  if (hostedZoneId === undefined) throw new Error('ACME needs HOSTED_ZONE_ID (checked by config.ts)');
  const [identity, zone] = await Promise.all([identityFor(config), zoneApiFor({ ...config, dns: { ...config.dns, hostedZoneId } })]);
  const store: CertStore =
    acme.store.kind === 'file'
      ? fileStore(acme.store.path)
      : secretsManagerStore(await createSecretsApi(config.dns.region), acme.store.name);
  return new AcmeIssuer(
    {
      email: acme.email,
      directoryUrl: acme.directoryUrl,
      names: acme.names,
      hostId: identity.id,
      renewBeforeMs: acme.renewBeforeDays * 86_400_000,
      checkIntervalMs: acme.checkIntervalMs,
      retryMs: Math.min(RETRY_MS, acme.checkIntervalMs),
    },
    {
      store,
      lock: new FleetLock({ zone, zoneName: config.zone, hostId: identity.id, leaseMs: LEASE_MS }),
      challenges: new ChallengeRecords(zone),
      order: orderCertificate,
      renewLockEveryMs: LEASE_MS / 3,
      log,
    },
    onCertificate,
  );
}
