/**
 * The DNS half against a real Route53 emulator (moto) and the real image: records follow the
 * containers, survive restarts without duplicates, come back after a manual delete, and never touch
 * what another host or a person wrote, not even a hand-made record on a name a container asks for.
 */
import { ChangeResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsStatus } from '../../src/dns/dns-half.js';
import { desiredRecords } from '../../src/dns/records.js';
import { type Companion, docker, TestRun } from '../helpers/docker.js';
import { get } from '../helpers/http.js';
import { type ImdsStub, startImdsStub } from '../helpers/imds-stub.js';
import { AWS_TEST_ENV, createHostedZone, listRecords, type Moto, route53Client, startMoto } from '../helpers/moto.js';
import { type FaultProxy, startFaultProxy } from '../helpers/route53-faults.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18104;
let moto: Moto;
/** Between the companions and moto, so a test can take Route53 down. */
let route53: FaultProxy;
let zoneId: string;
let companion: Companion;
let publishName: string;

const HOST = { HOST_IP: '10.0.0.1', HOST_ID: 'host-a' };
const companionEnv = (extra: Record<string, string> = {}) => ({
  ...AWS_TEST_ENV,
  AWS_ENDPOINT_URL_ROUTE_53: route53.endpoint,
  HOSTED_ZONE_ID: zoneId,
  DNS_RECONCILE_INTERVAL_S: '10',
  ...extra,
});

/** "name value setIdentifier" for every A record, sorted: what `dig` plus the console would show. */
async function aRecords(): Promise<string[]> {
  return (await listRecords(moto.endpoint, zoneId))
    .filter((r) => r.Type === 'A')
    .map((r) => `${r.Name!.replace(/\.$/, '')} ${r.ResourceRecords!.map((v) => v.Value).join(',')} ${r.SetIdentifier ?? '-'}`)
    .sort();
}

async function change(action: 'CREATE' | 'UPSERT' | 'DELETE', set: ResourceRecordSet, zone = zoneId): Promise<void> {
  const client = route53Client(moto.endpoint);
  await client.send(
    new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Changes: [{ Action: action, ResourceRecordSet: set }] } }),
  );
  client.destroy();
}

const manual: ResourceRecordSet = {
  Name: 'login.example.com',
  Type: 'A',
  TTL: 300,
  SetIdentifier: 'manual',
  MultiValueAnswer: true,
  ResourceRecords: [{ Value: '192.0.2.10' }],
};

beforeAll(async () => {
  moto = await startMoto();
  route53 = await startFaultProxy(moto.endpoint);
  zoneId = await createHostedZone(moto.endpoint, 'example.com');
  // Another host of the fleet already serves login, and someone added a record by hand.
  for (const r of desiredRecords(['login'], { zone: 'example.com', hostId: 'host-b', hostIp: '10.0.0.2', ttl: 60, mode: 'multivalue' })) {
    await change('UPSERT', {
      Name: r.name,
      Type: r.type,
      TTL: r.ttl,
      SetIdentifier: r.setIdentifier!,
      MultiValueAnswer: true,
      ResourceRecords: r.values.map((Value) => ({ Value })),
    });
  }
  await change('UPSERT', manual);
  await run.backend({ domain: 'login', text: 'login-1' });
  publishName = await run.backend({ domain: 'publish', text: 'publish-1' });
  await run.backend({ text: 'any-preview', labels: { 'haproxy-companion.pr.domain': '*.preview' } });
  companion = await run.companion({ port, env: companionEnv({ ...HOST, DEREGISTER_ON_EXIT: 'true', DEREGISTER_WAIT_S: '3' }) });
}, 240_000);
afterAll(async () => {
  await run.cleanup();
  await route53?.close();
  await moto?.stop();
});

const ours = (name: string, records: string[]) => records.filter((r) => r.startsWith(`${name} 10.0.0.1 host-a-`));

describe('Route53 registration', () => {
  it('registers every served domain to this host, beside other hosts’ and hand-made records', async () => {
    await waitFor(async () => ours('publish.example.com', await aRecords()).length === 1, { what: 'publish to be registered' });
    const records = await aRecords();
    expect(ours('login.example.com', records)).toHaveLength(1);
    expect(records.filter((r) => r.startsWith('login.example.com 10.0.0.2 host-b-'))).toHaveLength(1);
    expect(records).toContain('login.example.com 192.0.2.10 manual');
    expect((await get(port, 'login.example.com')).body).toBe('login-1');
    const line = (await companion.logs()).find((l) => l.msg === 'hosted zone verified');
    expect(line).toMatchObject({ zone: 'example.com', hostId: 'host-a', hostIp: '10.0.0.1' });
  });

  it('registers a wildcard route as a wildcard record, with its ownership marker', async () => {
    await waitFor(async () => ours('*.preview.example.com', await aRecords()).length === 1, { what: '*.preview to be registered' });
    const names = (await listRecords(moto.endpoint, zoneId)).map((r) => `${r.Name} ${r.Type}`);
    expect(names).toContain('_hc-owner.*.preview.example.com. TXT');
    expect((await get(port, 'pr-7.preview.example.com')).body).toBe('any-preview');
  });

  it('removes this host’s record once the last container of a domain stops', async () => {
    await docker('stop', '-t', '1', publishName);
    // The service keeps its routes (and its name) for HOLD_REQUESTS_S (10 s) in case a new container comes,
    // then DNS_DEBOUNCE_MIN_MS (5 s) passes before Route53 is told.
    await waitFor(async () => ours('publish.example.com', await aRecords()).length === 0, {
      what: 'publish to be deregistered',
      timeoutMs: 40_000,
    });
    const txt = (await listRecords(moto.endpoint, zoneId)).filter((r) => r.Name?.startsWith('_hc-owner.publish.'));
    expect(txt).toEqual([]);
  });

  it('keeps routing new containers at once while Route53 is down, and registers them when it is back', async () => {
    route53.outage(true);
    try {
      await run.backend({ domain: 'during-outage', text: 'outage-1' });
      const started = Date.now();
      await waitFor(async () => (await get(port, 'during-outage.example.com')).body === 'outage-1', { what: 'routing during the outage' });
      expect(Date.now() - started).toBeLessThan(5_000);
      await waitFor(async () => (await companion.logs()).some((l) => l.msg === 'dns sync failed; will retry'), {
        what: 'the failure to be felt',
      });
    } finally {
      route53.outage(false);
    }
    await waitFor(async () => ours('during-outage.example.com', await aRecords()).length === 1, {
      timeoutMs: 90_000,
      what: 'registration after the outage',
    });
  });

  it('puts back a record deleted by hand at the next reconcile', async () => {
    const [mine] = (await listRecords(moto.endpoint, zoneId)).filter(
      (r) => r.Type === 'A' && r.Name === 'login.example.com.' && r.SetIdentifier?.startsWith('host-a-'),
    );
    await change('DELETE', mine!);
    expect(ours('login.example.com', await aRecords())).toHaveLength(0);
    await waitFor(async () => ours('login.example.com', await aRecords()).length === 1, {
      timeoutMs: 30_000,
      what: 'the reconcile to restore it',
    });
  });

  it('creates no duplicates when the companion restarts, and keeps others’ records through it', async () => {
    const before = await aRecords();
    // Killed, not stopped: no deregistration, so the new process finds its own records in place.
    await docker('kill', companion.name);
    await docker('start', companion.name);
    await waitFor(async () => (await companion.logs()).filter((l) => l.msg === 'hosted zone verified').length >= 2, {
      what: 'the restart',
    });
    await waitFor(async () => ours('login.example.com', await aRecords()).length === 1, { what: 'login registered again' });
    expect(await aRecords()).toEqual(before);
  });

  it('removes only its own records on exit with DEREGISTER_ON_EXIT, and serves while cached answers expire', async () => {
    const stopped = docker('stop', '-t', '30', companion.name);
    await waitFor(async () => (await aRecords()).every((r) => !r.includes(' host-a-')), { what: 'deregistration' });
    // Records gone, HAProxy still answering during DEREGISTER_WAIT_S.
    expect((await get(port, 'login.example.com')).body).toBe('login-1');
    await stopped;
    const records = await aRecords();
    expect(records.filter((r) => r.includes(' host-a-'))).toEqual([]);
    expect(records).toHaveLength(2);
    expect(records.filter((r) => r.startsWith('login.example.com 10.0.0.2 host-b-'))).toHaveLength(1);
    expect(records).toContain('login.example.com 192.0.2.10 manual');
    expect((await companion.logs()).some((l) => l.msg === 'dns records of this host removed')).toBe(true);
  });
});

describe('host identity from instance metadata (IMDSv2)', () => {
  let imds: ImdsStub | undefined;
  afterAll(() => imds?.close());

  it('registers the instance’s private IP under its instance id', async () => {
    imds = await startImdsStub({ ip: '10.0.0.7', instanceId: 'i-0123456789abcdef0' });
    await run.backend({ domain: 'imds', text: 'imds-1' });
    await run.companion({
      port: port + 1,
      env: companionEnv({ AWS_EC2_METADATA_DISABLED: 'false', AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint }),
    });
    await waitFor(async () => (await aRecords()).some((r) => r.startsWith('imds.example.com 10.0.0.7 i-0123456789abcdef0-')), {
      what: 'the IMDS identity',
    });
    expect(imds.requests().map((r) => `${r.method} ${r.path}`)).toContain('PUT /latest/api/token');
  });

  it('deregisters when Auto Scaling takes the instance out (target-lifecycle-state), and keeps serving', async () => {
    const asg = await startImdsStub({ ip: '10.0.0.9', instanceId: 'i-0asg000000000001', lifecycleState: 'InService' });
    try {
      await run.backend({ domain: 'scaled', text: 'scaled-1' });
      await run.companion({
        port: port + 6,
        env: companionEnv({
          AWS_EC2_METADATA_DISABLED: 'false',
          AWS_EC2_METADATA_SERVICE_ENDPOINT: asg.endpoint,
          DNS_DEBOUNCE_MIN_MS: '500',
        }),
      });
      const ofThisHost = async () => (await aRecords()).filter((r) => r.includes(' i-0asg000000000001-'));
      await waitFor(async () => (await ofThisHost()).some((r) => r.startsWith('scaled.example.com 10.0.0.9 ')), {
        what: 'this host registered',
      });
      asg.setLifecycleState('Terminated');
      await waitFor(async () => (await ofThisHost()).length === 0, { what: 'this host deregistered', timeoutMs: 30_000 });
      // Still serving the clients that hold the old answer, until the instance is stopped.
      expect((await get(port + 6, 'scaled.example.com')).body).toBe('scaled-1');
    } finally {
      await asg.close();
    }
  });

  it('refuses to start without a token, explaining the hop limit', async () => {
    const hanging = await startImdsStub({ ip: '10.0.0.8', instanceId: 'i-hang', tokenHangs: true });
    try {
      const c = await run.companion({
        port: port + 2,
        env: companionEnv({ AWS_EC2_METADATA_DISABLED: 'false', AWS_EC2_METADATA_SERVICE_ENDPOINT: hanging.endpoint }),
      });
      await waitFor(async () => (await docker('inspect', '-f', '{{.State.Status}}', c.name)) === 'exited', {
        what: 'the companion to exit',
      });
      const fatal = (await c.logs()).find((l) => l.level === 'fatal');
      expect(fatal?.err?.message).toMatch(/IMDSv2 token.*hop limit/s);
      expect(await docker('inspect', '-f', '{{.State.ExitCode}}', c.name)).not.toBe('0');
    } finally {
      await hanging.close();
    }
  });
});

describe('a name held by a record this host did not write (issue "Trust boundary", point 1)', () => {
  const handMade: ResourceRecordSet = { Name: 'www.example.com.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '203.0.113.10' }] };

  it.each([
    ['simple', port + 3],
    ['multivalue', port + 4],
  ] as const)(
    '%s mode: a hand-made plain A record is never changed or deleted; /status, the page and /metrics show the conflict; the proxy serves the name',
    async (mode, companionPort) => {
      const own = new TestRun();
      try {
        const zone = await createHostedZone(moto.endpoint, 'example.com');
        await change('CREATE', handMade, zone);
        const wwwName = await own.backend({ domain: 'www', text: `www-${mode}` });
        await own.backend({ domain: 'ok', text: `ok-${mode}` });
        const c = await own.companion({
          port: companionPort,
          env: companionEnv({ HOSTED_ZONE_ID: zone, RECORD_MODE: mode, HOST_IP: '10.0.0.1', HOST_ID: `host-${mode}` }),
        });
        const statusUrl = `http://127.0.0.1:${companionPort + 1000}`;
        const dnsStatus = async () => ((await (await fetch(`${statusUrl}/status`)).json()) as { dns: DnsStatus }).dns;
        const www = async () => (await listRecords(moto.endpoint, zone)).filter((r) => r.Name === 'www.example.com.' && r.Type === 'A');

        // "ok" registered: the sync ran, and left www alone.
        await waitFor(async () => (await listRecords(moto.endpoint, zone)).some((r) => r.Name === 'ok.example.com.' && r.Type === 'A'), {
          what: 'ok to be registered',
        });
        await waitFor(async () => (await dnsStatus()).conflicts?.['www.example.com'], { what: 'the conflict in /status' });
        expect(await www()).toEqual([handMade]);
        expect((await dnsStatus()).conflicts?.['www.example.com']).toMatch(/203\.0\.113\.10/);
        expect(await (await fetch(`${statusUrl}/`)).text()).toMatch(/<table id="dns-conflicts">[\s\S]*www\.example\.com/);
        expect(await (await fetch(`${statusUrl}/metrics`)).text()).toMatch(/^haproxy_companion_dns_conflicts 1$/m);
        expect((await get(companionPort, 'www.example.com')).body).toBe(`www-${mode}`);

        // The container stops: still nothing of www is touched.
        await docker('stop', '-t', '1', wwwName);
        await waitFor(async () => !(await dnsStatus()).domains.includes('www'), { what: 'www no longer served' });
        await waitFor(async () => (await dnsStatus()).pendingChanges === 0 && (await dnsStatus()).lastSync?.ok, { what: 'a sync' });
        expect(await www()).toEqual([handMade]);
        expect((await dnsStatus()).conflicts).toEqual({});
        expect(await (await fetch(`${statusUrl}/metrics`)).text()).toMatch(/^haproxy_companion_dns_conflicts 0$/m);
        expect(await c.count('dns name left out of route53: a record this host did not write holds it')).toBe(1);
        // Not even a marker was written for it.
        expect((await listRecords(moto.endpoint, zone)).map((r) => r.Name)).not.toContain('_hc-owner.www.example.com.');
      } finally {
        await own.cleanup();
      }
    },
  );
});

describe('AAAA records (HOST_IPV6)', () => {
  it('writes an A and an AAAA record for a name, under SetIdentifiers of their own; without HOST_IPV6, deletes the AAAA record alone', async () => {
    const own = new TestRun();
    const companionPort = port + 5;
    try {
      const zone = await createHostedZone(moto.endpoint, 'example.com');
      await own.backend({ domain: 'dual', text: 'dual-1' });
      const v4Only = companionEnv({ HOSTED_ZONE_ID: zone, HOST_IP: '10.0.0.1', HOST_ID: 'host-v6' });
      // Written longhand: the records hold the canonical form.
      const dualStack = await own.companion({ port: companionPort, env: { ...v4Only, HOST_IPV6: '2001:DB8:0:0::10' } });
      const at = async (name: string) =>
        (await listRecords(moto.endpoint, zone))
          .filter((r) => r.Name === name)
          .map((r) => `${r.Type} ${r.ResourceRecords!.map((v) => v.Value).join(',')} ${r.SetIdentifier ?? '-'}`)
          .sort();

      await waitFor(async () => (await at('dual.example.com.')).length === 2, { what: 'dual to get its A and AAAA records' });
      const [a, aaaa] = await at('dual.example.com.');
      expect(a).toMatch(/^A 10\.0\.0\.1 host-v6-[0-9a-f]{10}$/);
      expect(aaaa).toMatch(/^AAAA 2001:db8::10 host-v6-[0-9a-f]{10}$/);
      // moto deletes by SetIdentifier alone: a shared one would take the A record with the AAAA record below.
      expect(aaaa!.split(' ')[2]).not.toBe(a!.split(' ')[2]);
      expect(await at('_hc-owner.dual.example.com.')).toEqual([
        expect.stringMatching(/^TXT "heritage=haproxy-companion,owner=host-v6,unit=[0-9a-f]{16},since=\d+(,expires=\d+)?"/),
      ]);
      expect((await get(companionPort, 'dual.example.com')).body).toBe('dual-1');
      expect((await dualStack.logs()).find((l) => l.msg === 'hosted zone verified')).toMatchObject({ hostIpv6: '2001:db8::10' });
      const status = (await (await fetch(`http://127.0.0.1:${companionPort + 1000}/status`)).json()) as { dns: DnsStatus };
      expect(status.dns.identity).toMatchObject({ ip: '10.0.0.1', ipv6: '2001:db8::10', id: 'host-v6' });

      // The operator unsets HOST_IPV6: the same host, restarted, owns the AAAA record still and deletes it.
      await docker('rm', '-f', dualStack.name);
      await own.companion({ port: companionPort, env: v4Only });
      await waitFor(async () => !(await at('dual.example.com.')).some((r) => r.startsWith('AAAA ')), {
        timeoutMs: 30_000,
        what: 'the stale AAAA record to go',
      });
      expect(await at('dual.example.com.')).toEqual([a]);
      expect(await at('_hc-owner.dual.example.com.')).toHaveLength(1);
    } finally {
      await own.cleanup();
    }
  });
});
