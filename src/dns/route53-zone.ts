/**
 * The Route53 edge: the three calls we make on one hosted zone, translated to and from our plain
 * {@link RecordSet}s. Throttling and PriorRequestNotComplete are retried by the SDK itself (standard
 * mode: up to 3 attempts, exponential backoff with full jitter).
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { CompanionError } from '../errors.js';
import { sleep } from '../lib/sleep.js';
import { metrics } from '../metrics.js';
import { type Change, LIST_PAGE_SIZE, normaliseName, type RecordSet, recordKey } from './records.js';
import { toSdkChanges } from './route53-changes.js';

export interface ZoneApi {
  /** The zone's name, without the trailing dot. */
  zoneName(): Promise<string>;
  listRecords(): Promise<RecordSet[]>;
  /** The record sets of one name: one short request, where a listing of a fleet's zone takes hundreds. */
  recordsAt(name: string): Promise<RecordSet[]>;
  /** Returns Route53's change id. */
  applyChanges(changes: Change[]): Promise<string | undefined>;
  /** Waits until a change is on every Route53 name server (INSYNC), as an ACME server's check needs. */
  waitForChange(changeId: string, timeoutMs: number): Promise<void>;
}

/** The SDK client as the standard chain configures it (AWS_REGION, credentials, AWS_ENDPOINT_URL_ROUTE_53). */
export function createRoute53Client(options: { region?: string; maxAttempts?: number } = {}): Route53Client {
  const client = new Route53Client({
    // Route53 is global; the SDK still wants a region to sign with.
    region: options.region ?? 'us-east-1',
    maxAttempts: options.maxAttempts ?? 3,
    // Not `adaptive`: its client-side rate limiter starts at the first throttle and, on hosts throttled
    // together, wakes them together (in the fleet simulation 100 hosts got 2.5 of the 5 requests/s).
    retryMode: 'standard',
  });
  // The deserialize step runs inside the SDK's retry loop: every attempt, throttled ones included, is counted.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      try {
        const result = await next(args);
        metrics.route53Requests.inc({ operation, outcome: 'ok' });
        return result;
      } catch (error) {
        metrics.route53Requests.inc({ operation, outcome: (error as Error).name || 'error' });
        throw error;
      }
    },
    { step: 'deserialize', name: 'haproxyCompanionMetrics' },
  );
  return client;
}

export function createZoneApi(client: Pick<Route53Client, 'send'>, zoneId: string): ZoneApi {
  return {
    async zoneName() {
      try {
        const out = await client.send(new GetHostedZoneCommand({ Id: zoneId }));
        return normaliseName(out.HostedZone?.Name ?? '');
      } catch (error) {
        throw explainZoneError(error as Error & { $metadata?: { httpStatusCode?: number } }, zoneId);
      }
    },
    async listRecords() {
      // Keyed by record set: an endpoint that restarts a page at the start of a name (moto) repeats some.
      const records = new Map<string, RecordSet>();
      let start: { StartRecordName?: string; StartRecordType?: ResourceRecordSet['Type']; StartRecordIdentifier?: string } = {};
      for (;;) {
        const page = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, MaxItems: LIST_PAGE_SIZE, ...start }));
        for (const set of page.ResourceRecordSets ?? []) {
          const record = fromSdk(set);
          if (record) records.set(recordKey(record), record);
        }
        if (!page.IsTruncated) return [...records.values()];
        const next = {
          StartRecordName: page.NextRecordName,
          StartRecordType: page.NextRecordType,
          StartRecordIdentifier: page.NextRecordIdentifier,
        };
        // An endpoint that omits NextRecordIdentifier inside a multivalue set (moto does) would loop forever.
        if (JSON.stringify(next) === JSON.stringify(start))
          throw new CompanionError(`listing zone ${zoneId}: pagination does not advance past ${next.StartRecordName}`);
        start = next;
      }
    },
    async recordsAt(name) {
      const page = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: name, MaxItems: 20 }));
      return (page.ResourceRecordSets ?? []).flatMap((set) => {
        const record = fromSdk(set);
        return record && record.name === normaliseName(name) ? [record] : [];
      });
    },
    async applyChanges(changes) {
      const out = await client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Comment: 'haproxy-companion',
            Changes: toSdkChanges(changes),
          },
        }),
      );
      return out.ChangeInfo?.Id;
    },
    async waitForChange(changeId, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (let delay = 1_000; ; delay = Math.min(delay * 2, 10_000)) {
        const out = await client.send(new GetChangeCommand({ Id: changeId }));
        if (out.ChangeInfo?.Status === 'INSYNC') return;
        if (Date.now() + delay > deadline) throw new CompanionError(`Route53 change ${changeId} not in sync after ${timeoutMs} ms`);
        await sleep(delay);
      }
    },
  };
}

/** The types the registrar reads: its own A, AAAA and TXT, and CNAME, which is in the way of anything at its name. */
const READ_TYPES: ReadonlySet<string> = new Set<RecordSet['type']>(['A', 'AAAA', 'TXT', 'CNAME']);

/** Alias records are kept (a CREATE over one fails like any other): no host ever owns one. */
function fromSdk(set: ResourceRecordSet): RecordSet | undefined {
  if (!set.Type || !READ_TYPES.has(set.Type) || !set.Name) return undefined;
  return {
    name: normaliseName(set.Name),
    type: set.Type as RecordSet['type'],
    ttl: set.TTL ?? 0,
    values: (set.ResourceRecords ?? []).map((r) => r.Value ?? ''),
    setIdentifier: set.SetIdentifier,
    multiValueAnswer: set.MultiValueAnswer,
    aliasTarget: set.AliasTarget?.DNSName,
  };
}

/** Turns the SDK's errors on the zone check into what the operator has to fix. */
function explainZoneError(error: Error & { $metadata?: { httpStatusCode?: number } }, zoneId: string): Error {
  if (error.name === 'NoSuchHostedZone') {
    return new CompanionError(
      `HOSTED_ZONE_ID ${zoneId} does not exist: check the id, and that the credentials belong to the account that owns the zone`,
      { cause: error },
    );
  }
  if (error.name.startsWith('AccessDenied') || error.$metadata?.httpStatusCode === 403) {
    return new CompanionError(
      `not allowed to use hosted zone ${zoneId} (${error.message}): grant route53:GetHostedZone, route53:ListResourceRecordSets and route53:ChangeResourceRecordSets on arn:aws:route53:::hostedzone/${zoneId}`,
      { cause: error },
    );
  }
  return error;
}
