/**
 * An in-memory hosted zone with Route53's semantics where they matter to the registrar: batches are
 * atomic, a CREATE over an existing record set is refused, a CNAME shares its name with nothing, a
 * multivalue record cannot share a name and type with a plain one, a DELETE must match exactly.
 * Unit tests only; the integration tests use moto (which enforces none of the CREATE rules).
 */
import type { Change, RecordSet } from '../../src/dns/records.js';
import type { ZoneApi } from '../../src/dns/route53-zone.js';

const key = (r: Pick<RecordSet, 'name' | 'type' | 'setIdentifier'>) => `${r.name}|${r.type}|${r.setIdentifier ?? ''}`;

export class MemoryZone implements ZoneApi {
  records: RecordSet[] = [];
  calls = { zoneName: 0, listRecords: 0, applyChanges: 0 };
  /** Every batch sent, refused ones included, in order. */
  batches: Change[][] = [];
  /** Errors thrown by the next calls, in order (e.g. a Throttling error after the SDK gave up). */
  failures: Error[] = [];
  /** How many of the next change batches are applied, then answered with a 503 (the outcome unknown to the sender). */
  lostAnswers = 0;
  /** Called once a listing has been taken, before it is returned: a test can change the zone behind the lister's back. */
  afterList: (() => void) | undefined;

  constructor(readonly name = 'example.com') {}

  async zoneName() {
    this.calls.zoneName++;
    this.maybeFail();
    return this.name;
  }

  async listRecords() {
    this.calls.listRecords++;
    this.maybeFail();
    const listing = structuredClone(this.records);
    this.afterList?.();
    return listing;
  }

  async recordsAt(name: string) {
    return structuredClone(this.records.filter((r) => r.name === name));
  }

  async waitForChange() {}

  async applyChanges(changes: Change[]): Promise<string | undefined> {
    this.calls.applyChanges++;
    this.batches.push(structuredClone(changes));
    this.maybeFail();
    let next = [...this.records];
    for (const { action, record } of changes) {
      const existing = next.find((r) => key(r) === key(record));
      if (action === 'DELETE') {
        if (!existing || JSON.stringify(existing) !== JSON.stringify(record))
          throw invalid(`Tried to delete resource record set [name='${record.name}.', type='${record.type}'] but it was not found`);
        next = next.filter((r) => r !== existing);
        continue;
      }
      if (action === 'CREATE' && existing)
        throw invalid(`Tried to create resource record set [name='${record.name}.', type='${record.type}'] but it already exists`);
      const cname = next.find((r) => r.name === record.name && r !== existing && (r.type === 'CNAME') !== (record.type === 'CNAME'));
      if (cname)
        throw invalid(
          `RRSet of type ${record.type} with DNS name ${record.name}. is not permitted because a conflicting RRSet of type ${cname.type} with the same DNS name already exists`,
        );
      const clash = next.find(
        (r) => r.name === record.name && r.type === record.type && !!r.multiValueAnswer !== !!record.multiValueAnswer,
      );
      if (clash)
        throw invalid(`RRSet with DNS name ${record.name}. and type ${record.type} cannot be created as a non-multivalue set exists`);
      next = [...next.filter((r) => r !== existing), structuredClone(record)];
    }
    this.records = next;
    if (this.lostAnswers > 0) {
      this.lostAnswers--;
      throw awsError('ServiceUnavailable', 'applied, but the answer was lost');
    }
    return `/change/C${this.batches.length}`;
  }

  private maybeFail() {
    const failure = this.failures.shift();
    if (failure) throw failure;
  }
}

export function awsError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function invalid(message: string): Error {
  return awsError('InvalidChangeBatch', `[${message}]`);
}
