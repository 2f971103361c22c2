import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ImdsStub, startImdsStub } from '../../helpers/imds-stub.js';

const IP = '10.20.30.40';
const INSTANCE_ID = 'i-0123456789abcdef0';

describe('startImdsStub', () => {
  let imds: ImdsStub | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await imds?.close();
    imds = undefined;
  });

  const token = async (stub: ImdsStub, ttl = '21600') =>
    fetch(`${stub.endpoint}/latest/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': ttl } });
  const read = async (stub: ImdsStub, path: string, sessionToken?: string) =>
    fetch(
      `${stub.endpoint}/latest/meta-data/${path}`,
      sessionToken === undefined ? {} : { headers: { 'X-aws-ec2-metadata-token': sessionToken } },
    );

  it('answers local-ipv4 and instance-id to a request with a session token', async () => {
    imds = await startImdsStub({ ip: IP, instanceId: INSTANCE_ID });
    expect(imds.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const put = await token(imds);
    expect(put.status).toBe(200);
    expect(put.headers.get('x-aws-ec2-metadata-token-ttl-seconds')).toBe('21600');
    const sessionToken = await put.text();

    expect(await (await read(imds, 'local-ipv4', sessionToken)).text()).toBe(IP);
    expect(await (await read(imds, 'instance-id', sessionToken)).text()).toBe(INSTANCE_ID);
  });

  it('answers ipv6 when given one, and 404 (no IPv6 address) by default', async () => {
    imds = await startImdsStub({ ip: IP, instanceId: INSTANCE_ID, ipv6: '2001:db8::10' });
    const sessionToken = await (await token(imds)).text();
    expect(await (await read(imds, 'ipv6', sessionToken)).text()).toBe('2001:db8::10');
    await imds.close();

    imds = await startImdsStub({ ip: IP, instanceId: INSTANCE_ID });
    expect((await read(imds, 'ipv6', await (await token(imds)).text())).status).toBe(404);
  });

  it('enforces the token: none or a wrong one is 401, a token PUT without a valid TTL is 400', async () => {
    imds = await startImdsStub({ ip: IP, instanceId: INSTANCE_ID });
    expect((await read(imds, 'local-ipv4')).status).toBe(401);
    expect((await read(imds, 'local-ipv4', 'not-a-token')).status).toBe(401);
    expect((await fetch(`${imds.endpoint}/latest/api/token`, { method: 'PUT' })).status).toBe(400);
    expect((await token(imds, '0')).status).toBe(400);
    expect((await token(imds, '21601')).status).toBe(400);
    expect((await fetch(`${imds.endpoint}/latest/meta-data/placement/region`)).status).toBe(404);
    expect(imds.requests().map((request) => request.status)).toEqual([401, 401, 400, 400, 400, 404]);
  });

  it('rejects a token once its TTL has passed', async () => {
    imds = await startImdsStub({ ip: IP, instanceId: INSTANCE_ID });
    vi.useFakeTimers({ toFake: ['Date'] });
    const sessionToken = await (await token(imds, '60')).text();
    expect((await read(imds, 'local-ipv4', sessionToken)).status).toBe(200);
    vi.setSystemTime(Date.now() + 60_001);
    expect((await read(imds, 'local-ipv4', sessionToken)).status).toBe(401);
  });

  it('tokenHangs: the token PUT never answers (hop limit 1 seen from a bridged container), and close() still returns', async () => {
    imds = await startImdsStub({ ip: IP, instanceId: INSTANCE_ID, tokenHangs: true });
    const put = fetch(`${imds.endpoint}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' },
      signal: AbortSignal.timeout(500),
    });
    await expect(put).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(imds.requests()).toEqual([{ method: 'PUT', path: '/latest/api/token' }]);

    const hanging = fetch(`${imds.endpoint}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' },
    });
    await vi.waitFor(() => expect(imds?.requests()).toHaveLength(2));
    await imds.close();
    await expect(hanging).rejects.toThrow();
    imds = undefined;
  });
});
