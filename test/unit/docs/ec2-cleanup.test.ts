/**
 * Issue "Trust boundary", point 9: docs/ec2.md's dead-host cleanup, run as written (`sh`, with a fake
 * `aws` that lists a fixture zone and keeps the change batch) over a zone where one host id is a prefix
 * of another's. It must delete exactly the host's markers and the A and AAAA records they vouch for.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredRecords, type MarkerClaim, type RecordContext, type RecordSet, setIdentifierFor } from '../../../src/dns/records.js';

const hasJq = spawnSync('jq', ['--version']).status === 0;
const doc = await readFile(new URL('../../../docs/ec2.md', import.meta.url), 'utf8');
/** The shell block that lists the zone and sends the batch. */
const snippet = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)]
  .map((m) => m[1] ?? '')
  .find((block) => block.includes('list-resource-record-sets') && block.includes('change-resource-record-sets'));

const ctx = (hostId: string, mode: RecordContext['mode'] = 'multivalue'): RecordContext => ({
  zone: 'example.com',
  hostId,
  hostIp: '10.0.0.1',
  ttl: 60,
  mode,
});

/** As `aws route53 list-resource-record-sets --output json` prints a record set. */
function toListing(r: RecordSet): ResourceRecordSet {
  return {
    Name: `${r.name}.`,
    Type: r.type,
    ...(r.setIdentifier ? { SetIdentifier: r.setIdentifier, MultiValueAnswer: true } : {}),
    TTL: r.ttl,
    ResourceRecords: r.values.map((Value) => ({ Value })),
  };
}

// web has an IPv6 address: its AAAA records go with its A records. Its markers carry a lease and name the
// owner of each name (issue #21); web-2's are of a version before leases.
const owner: MarkerClaim = { unit: '0123456789abcdef', sinceS: 1_800_000_000 };
const web = desiredRecords(
  ['login', 'api'],
  { ...ctx('web'), hostIpv6: '2001:db8::1', leaseExpiresS: 1_900_000_000 },
  new Map([
    ['login', owner],
    ['api', { ...owner, project: 'fedcba9876543210' }],
  ]),
);
const web2 = desiredRecords(['login', 'shop'], ctx('web-2'));
const zone: RecordSet[] = [
  ...web,
  ...web2,
  // Written with web's SetIdentifier scheme, but no marker of web vouches for it.
  { name: 'forged.example.com', type: 'A', ttl: 60, values: ['192.0.2.1'], setIdentifier: setIdentifierFor('web', 'forged.example.com') },
  {
    name: 'forged.example.com',
    type: 'AAAA',
    ttl: 60,
    values: ['2001:db8::66'],
    setIdentifier: setIdentifierFor('web', 'forged.example.com', 'AAAA'),
  },
  // A marker at web's SetIdentifier that names another host, with a lease.
  {
    name: '_hc-owner.forged.example.com',
    type: 'TXT',
    ttl: 60,
    values: ['"heritage=haproxy-companion,owner=web-2,expires=1900000000"'],
    setIdentifier: setIdentifierFor('web', '_hc-owner.forged.example.com'),
  },
  { name: 'login.example.com', type: 'A', ttl: 300, values: ['192.0.2.10'], setIdentifier: 'manual' },
  // A SetIdentifier that only starts like web's.
  { name: 'login.example.com', type: 'A', ttl: 60, values: ['192.0.2.11'], setIdentifier: 'web-0123456789abcdef' },
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hc-ec2-doc-'));
  await writeFile(path.join(dir, 'zone.json'), JSON.stringify({ ResourceRecordSets: zone.map(toListing) }));
  // The real CLI applies --query (JMESPath) on the client: the fake does the same with python's jmespath, when asked.
  await writeFile(
    path.join(dir, 'aws'),
    `#!/bin/sh
case "$2" in
  list-resource-record-sets)
    query=; prev=
    for a; do [ "$prev" = --query ] && query=$a; prev=$a; done
    if [ -n "$query" ]; then
      python3 -c 'import jmespath, json, sys; print(json.dumps(jmespath.search(sys.argv[1], json.load(sys.stdin))))' "$query" < "${dir}/zone.json"
    else cat "${dir}/zone.json"; fi ;;
  change-resource-record-sets)
    for a; do case "$a" in file://*) cp "\${a#file://}" "${dir}/sent.json" ;; esac; done ;;
esac
`,
  );
  await chmod(path.join(dir, 'aws'), 0o755);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs the documented snippet for host `id`; returns the batch it sent. */
async function cleanUp(id: string): Promise<{ Changes: { Action: string; ResourceRecordSet: ResourceRecordSet }[] }> {
  const script = (snippet ?? '').replace(/^ID=.*$/m, `ID=${id}`).replaceAll('/tmp/batch.json', path.join(dir, 'batch.json'));
  execFileSync('sh', ['-e', '-c', script], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
  return JSON.parse(await readFile(path.join(dir, 'sent.json'), 'utf8'));
}

describe('docs/ec2.md: removing a vanished host’s records', () => {
  it('has the snippet', () => {
    expect(snippet).toBeDefined();
  });

  it.skipIf(!hasJq).each([
    ['web', web],
    ['web-2', web2],
  ])(
    'for host %s deletes exactly its vouched records, not the host whose id it prefixes, nor forged or hand-made ones',
    async (id, records) => {
      const batch = await cleanUp(id);
      expect(batch.Changes.every((c) => c.Action === 'DELETE')).toBe(true);
      const sortKey = (r: ResourceRecordSet) => `${r.Name}|${r.Type}`;
      expect(batch.Changes.map((c) => c.ResourceRecordSet).sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual(
        records.map(toListing).sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
      );
    },
  );

  it.skipIf(!hasJq)('finds nothing for simple-mode records, which have no SetIdentifier', async () => {
    await writeFile(
      path.join(dir, 'zone.json'),
      JSON.stringify({ ResourceRecordSets: desiredRecords(['login'], ctx('web', 'simple')).map(toListing) }),
    );
    try {
      expect((await cleanUp('web')).Changes).toEqual([]);
    } finally {
      await writeFile(path.join(dir, 'zone.json'), JSON.stringify({ ResourceRecordSets: zone.map(toListing) }));
    }
  });
});
