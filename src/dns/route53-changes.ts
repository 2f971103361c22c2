/**
 * Our {@link Change}s in the shape the Route53 API (and `aws route53 change-resource-record-sets`) takes.
 * Apart from route53-zone.ts, and with only the SDK's types, so that dry-run can print a change batch
 * without loading the SDK.
 */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { Change, RecordSet } from './records.js';

export function toSdkChanges(changes: Change[]) {
  return changes.map((c) => ({ Action: c.action, ResourceRecordSet: toSdk(c.record) }));
}

function toSdk(record: RecordSet): ResourceRecordSet {
  return {
    Name: record.name,
    Type: record.type,
    TTL: record.ttl,
    ResourceRecords: record.values.map((Value) => ({ Value })),
    SetIdentifier: record.setIdentifier,
    MultiValueAnswer: record.multiValueAnswer,
  };
}
