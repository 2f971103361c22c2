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

  it('takes HOST_IPV6 with them, canonical, still without asking', async () => {
    const identity = await resolveHostIdentity({
      hostIp: '10.0.0.5',
      hostIpv6: '2001:DB8:0:0::0A',
      hostId: 'web-1',
      imdsEndpoint: 'http://127.0.0.1:9',
      imdsDisabled: true,
    });
    expect(identity).toStrictEqual({ ip: '10.0.0.5', ipv6: '2001:db8::a', id: 'web-1', source: 'env' });
  });

  it('asks IMDSv2 over plain HTTP: a token first, then the values with it; no IPv6 address (404) is no error', async () => {
    imds = await startImdsStub({ ip: '10.20.30.40', instanceId: 'i-0123456789abcdef0' });
    const identity = await resolveHostIdentity({ imdsEndpoint: `${imds.endpoint}/`, imdsDisabled: false });
    expect(identity).toStrictEqual({ ip: '10.20.30.40', id: 'i-0123456789abcdef0', source: 'imds' });
    expect(imds.requests()).toEqual([
      { method: 'PUT', path: '/latest/api/token', status: 200 },
      { method: 'GET', path: '/latest/meta-data/local-ipv4', status: 200 },
      { method: 'GET', path: '/latest/meta-data/instance-id', status: 200 },
      { method: 'GET', path: '/latest/meta-data/ipv6', status: 404 },
    ]);
  });

  it('takes the instance’s IPv6 address from IMDS, canonical', async () => {
    imds = await startImdsStub({ ip: '10.20.30.40', instanceId: 'i-0123456789abcdef0', ipv6: '2001:0db8:0:0:0:0:0:10\n' });
    const identity = await resolveHostIdentity({ imdsEndpoint: imds.endpoint, imdsDisabled: false });
    expect(identity).toStrictEqual({ ip: '10.20.30.40', ipv6: '2001:db8::10', id: 'i-0123456789abcdef0', source: 'imds' });
  });

  it('keeps HOST_ID and HOST_IPV6 given alone and reads only the IP; HOST_IPV6=none reads no IPv6 address', async () => {
    imds = await startImdsStub({ ip: '10.20.30.40', instanceId: 'i-0123456789abcdef0', ipv6: '2001:db8::10' });
    const options = { hostId: 'edge-a', imdsEndpoint: imds.endpoint, imdsDisabled: false };
    expect(await resolveHostIdentity({ ...options, hostIpv6: '2001:db8::99' })).toStrictEqual({
      ip: '10.20.30.40',
      ipv6: '2001:db8::99',
      id: 'edge-a',
      source: 'imds',
    });
    expect(await resolveHostIdentity({ ...options, hostIpv6: false })).toStrictEqual({ ip: '10.20.30.40', id: 'edge-a', source: 'imds' });
    expect(imds.requests().map((r) => r.path)).not.toContain('/latest/meta-data/instance-id');
    expect(imds.requests().map((r) => r.path)).not.toContain('/latest/meta-data/ipv6');
  });

  it('refuses an IPv6 address from IMDS that other hosts cannot reach', async () => {
    imds = await startImdsStub({ ip: '10.20.30.40', instanceId: 'i-0123456789abcdef0', ipv6: 'fe80::1' });
    await expect(resolveHostIdentity({ imdsEndpoint: imds.endpoint, imdsDisabled: false })).rejects.toThrow(
      /host IPv6 address "fe80::1" \(from imds\) cannot be published: a link-local address/,
    );
  });

  it('refuses an ipv6 answer that is not an IPv6 address', async () => {
    imds = await startImdsStub({ ip: '10.20.30.40', instanceId: 'i-0123456789abcdef0', ipv6: 'not-an-address' });
    await expect(resolveHostIdentity({ imdsEndpoint: imds.endpoint, imdsDisabled: false })).rejects.toThrow(
      /"not-an-address" \(from imds\) cannot be published: it is not an IPv6 address/,
    );
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
