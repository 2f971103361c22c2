import { spawnSync } from 'node:child_process';
import { ChangeResourceRecordSetsCommand, GetHostedZoneCommand } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AWS_TEST_ENV, createHostedZone, listRecords, MOTO_IMAGE, type Moto, route53Client, startMoto } from '../../helpers/moto.js';

for (const [name, value] of Object.entries(AWS_TEST_ENV)) vi.stubEnv(name, value);

const aRecord = (name: string, ip: string) => ({
  Action: 'UPSERT' as const,
  ResourceRecordSet: { Name: name, Type: 'A' as const, TTL: 60, ResourceRecords: [{ Value: ip }] },
});

describe('startMoto', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  }, 60_000);
  afterAll(() => moto?.stop());

  it('serves Route53 on loopback: a zone with its SOA and NS records', async () => {
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const zoneId = await createHostedZone(moto.endpoint, 'example.com');
    expect(zoneId).not.toContain('/');
    const types = (await listRecords(moto.endpoint, zoneId)).map((record) => record.Type).sort();
    expect(types).toEqual(['NS', 'SOA']);
  });

  it('listRecords follows every page', async () => {
    const zoneId = await createHostedZone(moto.endpoint, 'paged.example.com');
    const client = route53Client(moto.endpoint);
    const changes = [1, 2, 3, 4, 5].map((n) => aRecord(`host${n}.paged.example.com`, `10.0.0.${n}`));
    await client.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: changes } }));
    client.destroy();

    const records = await listRecords(moto.endpoint, zoneId, { pageSize: 2 });
    expect(records.filter((record) => record.Type === 'A').map((record) => record.Name)).toEqual(
      [1, 2, 3, 4, 5].map((n) => `host${n}.paged.example.com.`),
    );
    expect(records).toHaveLength(7);
  });

  it('reset forgets every zone', async () => {
    const zoneId = await createHostedZone(moto.endpoint, 'gone.example.com');
    await moto.reset();
    const client = route53Client(moto.endpoint, { maxAttempts: 1 });
    await expect(client.send(new GetHostedZoneCommand({ Id: zoneId }))).rejects.toMatchObject({ name: 'NoSuchHostedZone' });
    client.destroy();
  });
});

// The fallback for machines without moto_server: runs whenever the image is there (scripts/moto-image.sh).
const haveImage = spawnSync('docker', ['image', 'inspect', MOTO_IMAGE], { stdio: 'ignore' }).status === 0;

describe.skipIf(!haveImage)(`startMoto with ${MOTO_IMAGE}`, () => {
  it('runs moto in a container on the host loopback and removes it on stop', async () => {
    const moto = await startMoto({ runner: 'docker' });
    try {
      expect(moto.runner).toBe('docker');
      const zoneId = await createHostedZone(moto.endpoint, 'docker.example.com');
      expect((await listRecords(moto.endpoint, zoneId)).length).toBe(2);
    } finally {
      await moto.stop();
    }
    await expect(fetch(`${moto.endpoint}/moto-api/`)).rejects.toThrow();
  }, 60_000);
});
