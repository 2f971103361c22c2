import { afterEach, describe, expect, it } from 'vitest';
import { resolveHostIdentity } from '../../../src/dns/host-identity.js';
import { type ImdsStub, startImdsStub } from '../../helpers/imds-stub.js';

describe('resolveHostIdentity', () => {
  let imds: ImdsStub | undefined;
  afterEach(async () => {
    await imds?.close();
    imds = undefined;
  });

  it('takes HOST_IP and HOST_ID without asking the metadata service', async () => {
    expect(
      await resolveHostIdentity({ hostIp: '10.0.0.5', hostId: 'web-1', imdsEndpoint: 'http://127.0.0.1:9', imdsDisabled: false }),
    ).toEqual({
      ip: '10.0.0.5',
      id: 'web-1',
      source: 'env',
    });
  });

  it('asks IMDSv2 over plain HTTP: a token first, then both values with it', async () => {
    imds = await startImdsStub({ ip: '10.20.30.40', instanceId: 'i-0123456789abcdef0' });
    const identity = await resolveHostIdentity({ imdsEndpoint: `${imds.endpoint}/`, imdsDisabled: false });
    expect(identity).toEqual({ ip: '10.20.30.40', id: 'i-0123456789abcdef0', source: 'imds' });
    expect(imds.requests()).toEqual([
      { method: 'PUT', path: '/latest/api/token', status: 200 },
      { method: 'GET', path: '/latest/meta-data/local-ipv4', status: 200 },
      { method: 'GET', path: '/latest/meta-data/instance-id', status: 200 },
    ]);
  });

  it('keeps a HOST_ID given alone and reads only the IP', async () => {
    imds = await startImdsStub({ ip: '10.20.30.40', instanceId: 'i-0123456789abcdef0' });
    const identity = await resolveHostIdentity({ hostId: 'edge-a', imdsEndpoint: imds.endpoint, imdsDisabled: false });
    expect(identity).toEqual({ ip: '10.20.30.40', id: 'edge-a', source: 'imds' });
    expect(imds.requests().map((r) => r.path)).not.toContain('/latest/meta-data/instance-id');
  });

  it('gives up on a token PUT that is never answered, with the hop-limit advice', async () => {
    imds = await startImdsStub({ ip: '10.20.30.40', instanceId: 'i-0123456789abcdef0', tokenHangs: true });
    const started = Date.now();
    await expect(resolveHostIdentity({ imdsEndpoint: imds.endpoint, imdsDisabled: false, timeoutMs: 300 })).rejects.toThrow(
      /no answer within 300 ms.*hop limit/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses what is not an IPv4 address or a safe id', async () => {
    imds = await startImdsStub({ ip: 'not-an-ip', instanceId: 'i-0123456789abcdef0' });
    await expect(resolveHostIdentity({ imdsEndpoint: imds.endpoint, imdsDisabled: false })).rejects.toThrow(/is not an IPv4 address/);
    await expect(
      resolveHostIdentity({ hostIp: '10.0.0.5', hostId: 'a b', imdsEndpoint: imds.endpoint, imdsDisabled: true }),
    ).rejects.toThrow(/must match/);
  });

  it('says what to set when metadata is disabled and nothing is given', async () => {
    await expect(resolveHostIdentity({ imdsEndpoint: 'http://127.0.0.1:9', imdsDisabled: true })).rejects.toThrow(
      /set HOST_IP and HOST_ID/,
    );
  });

  it('reports a refused connection as the IMDS error, not a crash', async () => {
    await expect(resolveHostIdentity({ imdsEndpoint: 'http://127.0.0.1:9', imdsDisabled: false, timeoutMs: 500 })).rejects.toThrow(
      /cannot get an IMDSv2 token from http:\/\/127\.0\.0\.1:9 \(connect ECONNREFUSED/,
    );
  });
});
