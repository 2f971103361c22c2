/**
 * DNS-01 challenges in the zone: `_acme-challenge.<name>` TXT records holding the ACME server's tokens
 * while it checks them. A wildcard and its base name (`*.example.com`, `example.com`) share one record
 * name, so values are added to and taken from the record set, one change at a time. Each set this fleet
 * writes also holds a marker value; a `_acme-challenge` record without it belongs to someone else (a
 * person's certbot run) and is never changed: the order fails with that reason instead.
 */
import type { RecordSet } from '../../dns/records.js';
import type { ZoneApi } from '../../dns/route53-zone.js';
import { CompanionError } from '../../errors.js';
import { SerialQueue } from '../../lib/serial-queue.js';

export const CHALLENGE_PREFIX = '_acme-challenge.';
/** Marks a `_acme-challenge` record set as this fleet's; ACME servers ignore values that are not their token. */
export const CHALLENGE_MARKER = '"heritage=haproxy-companion"';
const TTL = 60;

export class ChallengeRecords {
  private readonly queue = new SerialQueue();

  constructor(
    private readonly zone: Pick<ZoneApi, 'recordsAt' | 'applyChanges' | 'waitForChange'>,
    private readonly syncTimeoutMs = 180_000,
  ) {}

  /** Adds `token` at `_acme-challenge.<name>` and waits until Route53 serves it everywhere. */
  add(name: string, token: string): Promise<void> {
    return this.queue.run(async () => {
      const recordName = `${CHALLENGE_PREFIX}${name.replace(/^\*\./, '')}`;
      const current = await this.current(recordName);
      const values = [...new Set([...(current?.values ?? [CHALLENGE_MARKER]), quoteTxt(token)])];
      const id = await this.zone.applyChanges([{ action: 'UPSERT', record: { name: recordName, type: 'TXT', ttl: TTL, values } }]);
      if (id) await this.zone.waitForChange(id, this.syncTimeoutMs);
    });
  }

  /** Takes `token` out again; the record goes with its last token. */
  remove(name: string, token: string): Promise<void> {
    return this.queue.run(async () => {
      const recordName = `${CHALLENGE_PREFIX}${name.replace(/^\*\./, '')}`;
      const current = await this.current(recordName);
      if (current === undefined) return;
      const values = current.values.filter((v) => v !== quoteTxt(token));
      const change: { action: 'UPSERT' | 'DELETE'; record: RecordSet } =
        values.length <= 1 ? { action: 'DELETE', record: current } : { action: 'UPSERT', record: { ...current, values } };
      await this.zone.applyChanges([change]);
    });
  }

  /** The fleet's record set at `recordName`; throws when someone else's is there. */
  private async current(recordName: string): Promise<RecordSet | undefined> {
    const existing = (await this.zone.recordsAt(recordName)).find((r) => r.type === 'TXT' || r.type === 'CNAME');
    if (existing === undefined) return undefined;
    if (existing.type !== 'TXT' || !existing.values.includes(CHALLENGE_MARKER) || existing.setIdentifier !== undefined) {
      throw new CompanionError(
        `${recordName} already exists and was not written by haproxy-companion; remove it (a left-over of another ACME client?) so the challenge can be set`,
        { retryable: false },
      );
    }
    return existing;
  }
}

function quoteTxt(token: string): string {
  // Tokens are base64url: nothing to escape inside the quotes.
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(token))
    throw new CompanionError(`ACME challenge token ${JSON.stringify(token.slice(0, 80))} is not base64url`);
  return `"${token}"`;
}
