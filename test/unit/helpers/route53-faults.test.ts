import {
  type ChangeAction,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AWS_TEST_ENV, createHostedZone, listRecords, type Moto, route53Client, startMoto } from '../../helpers/moto.js';
import { type Fault, type FaultProxy, operationOf, startFaultProxy } from '../../helpers/route53-faults.js';

for (const [name, value] of Object.entries(AWS_TEST_ENV)) vi.stubEnv(name, value);

let moto: Moto;
let zoneId: string;
beforeAll(async () => {
  moto = await startMoto();
  zoneId = await createHostedZone(moto.endpoint, 'example.com');
}, 60_000);
afterAll(() => moto?.stop());

const upsert = (name: string, ip: string) =>
  new ChangeResourceRecordSetsCommand({
    HostedZoneId: zoneId,
    ChangeBatch: {
      Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: name, Type: 'A', TTL: 60, ResourceRecords: [{ Value: ip }] } }],
    },
  });
const list = () => new ListResourceRecordSetsCommand({ HostedZoneId: zoneId });

/** The error a call ends with, or undefined. */
async function failure(call: Promise<unknown>): Promise<(Error & { $metadata?: { httpStatusCode?: number } }) | undefined> {
  return call.then(
    () => undefined,
    (error: Error) => error,
  );
}

describe('operationOf', () => {
  it.each([
    ['POST', '/2013-04-01/hostedzone/Z1/rrset/', 'ChangeResourceRecordSets'],
    ['POST', '/2013-04-01/hostedzone/Z1/rrset', 'ChangeResourceRecordSets'],
    ['GET', '/2013-04-01/hostedzone/Z1/rrset', 'ListResourceRecordSets'],
    ['GET', '/2013-04-01/hostedzone/Z1', 'GetHostedZone'],
    ['DELETE', '/2013-04-01/hostedzone/Z1', 'DeleteHostedZone'],
    ['POST', '/2013-04-01/hostedzone', 'CreateHostedZone'],
    ['GET', '/2013-04-01/hostedzone', 'ListHostedZones'],
    ['GET', '/2013-04-01/hostedzonesbyname', 'ListHostedZonesByName'],
    ['GET', '/2013-04-01/change/C1', 'GetChange'],
    ['GET', '/2013-04-01/healthcheck', 'Other'],
    ['PUT', '/2013-04-01/hostedzone/Z1/rrset', 'Other'],
    ['POST', '/moto-api/reset', 'Other'],
  ])('%s %s is %s', (method, path, operation) => {
    expect(operationOf(method, path)).toBe(operation);
  });
});

describe('startFaultProxy', () => {
  let proxy: FaultProxy;
  let client: Route53Client;
  beforeAll(async () => {
    proxy = await startFaultProxy(moto.endpoint);
    // One attempt: the SDK's own retries would hide the errors under test.
    client = route53Client(proxy.endpoint, { maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await proxy?.close();
  });
  beforeEach(() => {
    proxy.resetStats();
    proxy.outage(false);
  });

  it('forwards to moto: an UPSERT through the proxy lands in moto, counted per operation', async () => {
    const { ChangeInfo } = await client.send(upsert('login.example.com', '10.1.2.3'));
    await client.send(new GetChangeCommand({ Id: ChangeInfo!.Id! }));
    await client.send(new GetHostedZoneCommand({ Id: zoneId }));
    const viaProxy = await client.send(list());

    const inMoto = (await listRecords(moto.endpoint, zoneId)).find((record) => record.Name === 'login.example.com.');
    expect(inMoto?.ResourceRecords).toEqual([{ Value: '10.1.2.3' }]);
    expect(viaProxy.ResourceRecordSets?.map((record) => record.Name)).toContain('login.example.com.');
    const stats = proxy.stats();
    expect(stats.requests).toMatchObject({
      ChangeResourceRecordSets: 1,
      GetChange: 1,
      GetHostedZone: 1,
      ListResourceRecordSets: 1,
      Other: 0,
    });
    expect(Object.values(stats.rejected).every((count) => count === 0)).toBe(true);
    expect(stats.log.map((entry) => entry.operation)).toEqual([
      'ChangeResourceRecordSets',
      'GetChange',
      'GetHostedZone',
      'ListResourceRecordSets',
    ]);
  });

  it.each<[Fault, string, number, string]>([
    ['Throttling', 'Throttling', 400, 'Rate exceeded'],
    [
      'PriorRequestNotComplete',
      'PriorRequestNotComplete',
      400,
      'The request was rejected because Route 53 was still processing a prior request.',
    ],
    ['ServiceUnavailable', 'ServiceUnavailable', 503, 'Service Unavailable'],
  ])('failNext(1, %s) surfaces in the SDK as %s (HTTP %d)', async (fault, name, status, message) => {
    proxy.failNext(1, fault);
    const error = await failure(client.send(list()));
    expect(error).toMatchObject({ name, message, $metadata: { httpStatusCode: status } });
    expect(await failure(client.send(list()))).toBeUndefined(); // one only
    expect(proxy.stats().rejected.ListResourceRecordSets).toBe(1);
    expect(proxy.stats().requests.ListResourceRecordSets).toBe(2);
  });

  it('InvalidChangeBatch comes out as the SDK InvalidChangeBatch error with the messages, and changes nothing', async () => {
    proxy.failNext(1, 'InvalidChangeBatch', {
      messages: ["Tried to create resource record set [name='x.example.com.', type='A'] but it already exists", 'second'],
    });
    const error = await failure(client.send(upsert('x.example.com', '10.9.9.9')));
    expect(error?.constructor.name).toBe('InvalidChangeBatch');
    expect(error).toMatchObject({
      name: 'InvalidChangeBatch',
      message: "[Tried to create resource record set [name='x.example.com.', type='A'] but it already exists, second]",
      $metadata: { httpStatusCode: 400 },
    });
    expect((await listRecords(moto.endpoint, zoneId)).map((record) => record.Name)).not.toContain('x.example.com.');
  });

  it("the legacy <InvalidChangeBatch><Messages> body is one the SDK cannot read: name 'Unknown'", async () => {
    proxy.failNext(1, 'InvalidChangeBatch', { legacyBody: true, messages: ['lost'] });
    expect(await failure(client.send(upsert('y.example.com', '10.9.9.9')))).toMatchObject({
      name: 'Unknown',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('failNext with an operation leaves other operations alone; queued faults run in order', async () => {
    proxy.failNext(1, 'PriorRequestNotComplete', { operation: 'ChangeResourceRecordSets' });
    proxy.failNext(1, 'Throttling');
    expect(await failure(client.send(list()))).toMatchObject({ name: 'Throttling' });
    expect(await failure(client.send(list()))).toBeUndefined();
    expect(await failure(client.send(upsert('z.example.com', '10.0.0.1')))).toMatchObject({ name: 'PriorRequestNotComplete' });
    expect(await failure(client.send(upsert('z.example.com', '10.0.0.1')))).toBeUndefined();
    expect(proxy.stats().log.map((entry) => entry.rejected?.fault ?? 'forwarded')).toEqual([
      'Throttling',
      'forwarded',
      'PriorRequestNotComplete',
      'forwarded',
    ]);
  });

  it('outage answers 503 to everything until switched off', async () => {
    proxy.outage(true);
    expect(await failure(client.send(list()))).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    expect(await failure(client.send(upsert('o.example.com', '10.0.0.2')))).toMatchObject({ name: 'ServiceUnavailable' });
    proxy.outage(false);
    expect(await failure(client.send(list()))).toBeUndefined();
    expect(proxy.stats().rejected).toMatchObject({ ListResourceRecordSets: 1, ChangeResourceRecordSets: 1 });
    expect(proxy.stats().log.map((entry) => entry.rejected?.by)).toEqual(['outage', 'outage', undefined]);
  });

  it('the SDK retries Throttling, PriorRequestNotComplete and 503 on its own, but not InvalidChangeBatch', async () => {
    const retrying = route53Client(proxy.endpoint, { maxAttempts: 4 });
    try {
      proxy.failNext(1, 'Throttling');
      proxy.failNext(1, 'PriorRequestNotComplete');
      proxy.failNext(1, 'ServiceUnavailable');
      const answer = await retrying.send(list());
      expect(answer.$metadata.attempts).toBe(4);

      proxy.resetStats();
      proxy.failNext(1, 'InvalidChangeBatch');
      expect(await failure(retrying.send(upsert('r.example.com', '10.0.0.3')))).toMatchObject({
        name: 'InvalidChangeBatch',
        $metadata: { attempts: 1 },
      });
      expect(proxy.stats().requests.ChangeResourceRecordSets).toBe(1);
    } finally {
      retrying.destroy();
    }
  }, 20_000);
});

describe('startFaultProxy with refuseCreateOverExisting (Route53’s rule, which moto does not enforce)', () => {
  let proxy: FaultProxy;
  let client: Route53Client;
  beforeAll(async () => {
    proxy = await startFaultProxy(moto.endpoint, { refuseCreateOverExisting: true });
    client = route53Client(proxy.endpoint, { maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await proxy?.close();
  });

  const set = (name: string, ip: string, setIdentifier?: string): ResourceRecordSet => ({
    Name: name,
    Type: 'A',
    TTL: 60,
    ResourceRecords: [{ Value: ip }],
    ...(setIdentifier ? { SetIdentifier: setIdentifier, MultiValueAnswer: true } : {}),
  });
  const batch = (...changes: [ChangeAction, ResourceRecordSet][]) =>
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: changes.map(([Action, ResourceRecordSet]) => ({ Action, ResourceRecordSet })) },
    });
  const aRecords = async (name: string) =>
    (await listRecords(moto.endpoint, zoneId))
      .filter((r) => r.Name === `${name}.` && r.Type === 'A')
      .map((r) => r.ResourceRecords?.[0]?.Value);

  it('refuses a CREATE over an existing record set with Route53’s message, and nothing of the batch reaches moto', async () => {
    await client.send(batch(['CREATE', set('cr1.example.com', '10.0.0.1')]));
    const error = await failure(
      client.send(batch(['CREATE', set('cr2.example.com', '10.0.0.2')], ['CREATE', set('cr1.example.com', '10.0.0.3')])),
    );
    expect(error).toMatchObject({
      name: 'InvalidChangeBatch',
      message: "[Tried to create resource record set [name='cr1.example.com.', type='A'] but it already exists]",
    });
    expect(await aRecords('cr1.example.com')).toEqual(['10.0.0.1']);
    expect(await aRecords('cr2.example.com')).toEqual([]);
    expect(proxy.stats().log.at(-1)?.rejected).toEqual({ by: 'create-conflict', fault: 'InvalidChangeBatch' });
  });

  it('lets through a CREATE under another SetIdentifier, one after a DELETE in the same batch, and UPSERTs', async () => {
    await client.send(batch(['CREATE', set('cr3.example.com', '10.0.0.1', 'one')]));
    await client.send(batch(['CREATE', set('cr3.example.com', '10.0.0.2', 'two')]));
    await client.send(batch(['DELETE', set('cr3.example.com', '10.0.0.1', 'one')], ['CREATE', set('cr3.example.com', '10.0.0.3', 'one')]));
    await client.send(batch(['UPSERT', set('cr3.example.com', '10.0.0.4', 'two')]));
    expect((await aRecords('cr3.example.com')).sort()).toEqual(['10.0.0.3', '10.0.0.4']);
  });

  it('is off by default: moto itself adds a duplicate', async () => {
    const plain = route53Client(moto.endpoint, { maxAttempts: 1 });
    try {
      await plain.send(batch(['CREATE', set('cr4.example.com', '10.0.0.1')]));
      await plain.send(batch(['CREATE', set('cr4.example.com', '10.0.0.2')]));
    } finally {
      plain.destroy();
    }
    expect(await aRecords('cr4.example.com')).toHaveLength(2);
  });
});

describe('startFaultProxy with ratePerSecond', () => {
  let proxy: FaultProxy;
  let client: Route53Client;
  beforeAll(async () => {
    proxy = await startFaultProxy(moto.endpoint, { ratePerSecond: 5 });
    client = route53Client(proxy.endpoint, { maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await proxy?.close();
  });

  /** Sends `n` ListResourceRecordSets at once; returns how many passed and the errors of the rest. */
  async function burst(n: number): Promise<{ passed: number; errors: Error[] }> {
    const outcomes = await Promise.all(Array.from({ length: n }, () => failure(client.send(list()))));
    const errors = outcomes.filter((error) => error !== undefined);
    return { passed: n - errors.length, errors };
  }

  it('lets 5 of a burst through and throttles the rest the way Route53 does; never more than 5 at once', async () => {
    const first = await burst(12);
    // 5 tokens, plus at most one refilled while the burst is on its way (1 every 200 ms).
    expect(first.passed).toBeGreaterThanOrEqual(5);
    expect(first.passed).toBeLessThanOrEqual(6);
    for (const error of first.errors)
      expect(error).toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });

    // A quiet second and a half refills the bucket to 5, not more.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const second = await burst(12);
    expect(second.passed).toBeGreaterThanOrEqual(5);
    expect(second.passed).toBeLessThanOrEqual(6);

    const { requests, rejected } = proxy.stats();
    expect(requests.ListResourceRecordSets).toBe(24);
    expect(rejected.ListResourceRecordSets).toBe(24 - first.passed - second.passed);
  });

  it('shares the limit between clients', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const other = route53Client(proxy.endpoint, { maxAttempts: 1 });
    try {
      const started = performance.now();
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => failure((i % 2 ? client : other).send(list()))));
      const elapsedS = (performance.now() - started) / 1000;
      const passed = outcomes.filter((error) => error === undefined).length;
      // A full bucket of 5, plus what refilled while the requests were in flight (a busy machine spreads them out).
      expect(passed).toBeGreaterThanOrEqual(5);
      expect(passed).toBeLessThanOrEqual(5 + Math.ceil(elapsedS * 5));
      expect(passed).toBeLessThan(10);
    } finally {
      other.destroy();
    }
  });
});
