/**
 * A successor proves itself (issue #21): with DEREGISTER_ON_EXIT, a companion leaves its records only to
 * another companion of its role that is one. A container of the image with the companion's environment
 * that runs something else (`--entrypoint sleep`) or code of its own under the image's entrypoint
 * (`NODE_OPTIONS=--import`), or a companion that does not answer healthy as itself
 * on its status endpoint, keeps nothing: the companion stopped, its records are gone from Route53 (moto),
 * and its log names the refused candidate and why. The real successor keeping them is
 * test/integration/upgrade.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Companion, docker, IMAGE, type LogLine, TestRun } from '../helpers/docker.js';
import { get } from '../helpers/http.js';
import { AWS_TEST_ENV, createHostedZone, listRecords, type Moto, startMoto } from '../helpers/moto.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18182;
let moto: Moto;
let zoneId: string;

const env = () => ({
  ...AWS_TEST_ENV,
  AWS_ENDPOINT_URL_ROUTE_53: moto.endpoint,
  HOSTED_ZONE_ID: zoneId,
  HOST_IP: '10.0.0.22',
  HOST_ID: 'host-decoy',
  DNS_DEBOUNCE_MIN_MS: '500',
  DEREGISTER_ON_EXIT: 'true',
});

const records = async () => (await listRecords(moto.endpoint, zoneId)).filter((r) => r.SetIdentifier?.startsWith('host-decoy'));

async function registeredCompanion(): Promise<Companion> {
  const companion = await run.companion({ port, env: env() });
  await waitFor(async () => (await get(port, 'web.example.com')).body === 'web-1', { what: 'web served' });
  await waitFor(async () => (await records()).some((r) => r.Name === 'web.example.com.' && r.Type === 'A'), {
    what: 'this host registered',
  });
  return companion;
}

/** The image run with `--entrypoint sleep` and everything the role compares (zone, hosted zone, label filter, host id). */
async function startDecoy(): Promise<string> {
  const decoy = run.name('decoy');
  const same = { DOMAIN_NAME: 'example.com', CONTAINER_LABEL_FILTER: run.label, ...env() };
  const flags = Object.entries(same).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
  await docker(
    'run',
    '-d',
    '--name',
    decoy,
    '--label',
    `${run.label}-companion`,
    '--network',
    'host',
    ...flags,
    '--entrypoint',
    'sleep',
    IMAGE,
    '3600',
  );
  return decoy;
}

/**
 * The image as it is (its entrypoint, no command) with the role's environment, and
 * `NODE_OPTIONS=--import=data:…`: a script that reads its container's id as the companion does and answers
 * /healthz healthy as that container, on a status port of its own, and never lets the companion start.
 */
async function startImportingDecoy(): Promise<string> {
  const decoy = run.name('importer');
  const script = `
    import { readFileSync } from 'node:fs';
    import { createServer } from 'node:http';
    const id = /\\/containers\\/([0-9a-f]{64})\\//.exec(readFileSync('/proc/self/mountinfo', 'utf8'))[1];
    createServer((_, res) => res.end(JSON.stringify({ healthy: true, container: id }))).listen(Number(process.env.STATUS_PORT), '127.0.0.1');
    await new Promise(() => {});`;
  const same = { DOMAIN_NAME: 'example.com', CONTAINER_LABEL_FILTER: run.label, ...env(), STATUS_PORT: String(port + 2000) };
  const flags = Object.entries(same).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
  const options = `--import=data:text/javascript;base64,${Buffer.from(script).toString('base64')}`;
  await docker(
    'run',
    '-d',
    '--name',
    decoy,
    '--label',
    `${run.label}-companion`,
    '--network',
    'host',
    ...flags,
    '-e',
    `NODE_OPTIONS=${options}`,
    IMAGE,
  );
  return decoy;
}

const refusals = async (companion: Companion) => (await companion.logs()).filter((l) => l.msg === 'not a successor: refused');

beforeAll(async () => {
  moto = await startMoto();
  zoneId = await createHostedZone(moto.endpoint, 'example.com');
  await run.backend({ domain: 'web', text: 'web-1' });
}, 120_000);

afterAll(async () => {
  await run.cleanup();
  await moto?.stop();
});

describe('a candidate successor must prove itself', () => {
  it('a decoy (the image running `sleep` with the companion’s environment) keeps nothing: the records go', async () => {
    const companion = await registeredCompanion();
    const decoy = await startDecoy();

    await docker('stop', '-t', '30', companion.name);
    await waitFor(async () => (await records()).length === 0, { what: 'the records removed' });
    expect(await refusals(companion)).toEqual([expect.objectContaining({ candidate: decoy, reason: expect.stringMatching(/entrypoint/) })]);
    expect((await companion.logs()).some((l) => l.msg === 'another companion runs on this host: its records stay')).toBe(false);
    await docker('rm', '-f', decoy);
  }, 90_000);

  it('a decoy that runs its own code under the image’s entrypoint (NODE_OPTIONS=--import) and answers as itself keeps nothing', async () => {
    const companion = await registeredCompanion();
    const decoy = await startImportingDecoy();
    const answer = async () =>
      (await fetch(`http://127.0.0.1:${port + 2000}/healthz`).catch(() => undefined))?.json() as { healthy?: unknown } | undefined;
    await waitFor(async () => (await answer())?.healthy === true, { what: 'the decoy answering healthy as itself' });

    await docker('stop', '-t', '30', companion.name);
    await waitFor(async () => (await records()).length === 0, { what: 'the records removed' });
    expect(await refusals(companion)).toEqual([
      expect.objectContaining({ candidate: decoy, reason: expect.stringMatching(/NODE_OPTIONS.*--import/) }),
    ]);
    await docker('rm', '-f', decoy);
  }, 90_000);

  it('the real successor beside a decoy keeps them: the records stay', async () => {
    const companion = await registeredCompanion();
    const before = await records();
    const decoy = await startDecoy();
    const next = await run.companion({ port, env: env() });
    await waitFor(async () => (await next.logs()).some((l) => l.msg === 'haproxy started'), { what: 'the new HAProxy started' });

    await docker('stop', '-t', '30', companion.name);
    // The marker's lease is renewed by whichever companion runs: the records are the same.
    const lines = async () => (await records()).map((r) => JSON.stringify(r).replace(/,expires=\d+/, '')).sort();
    expect(await lines()).toEqual(before.map((r) => JSON.stringify(r).replace(/,expires=\d+/, '')).sort());
    const logs = await companion.logs();
    const kept = logs.find((l) => l.msg === 'another companion runs on this host: its records stay');
    expect(kept).toEqual(expect.objectContaining({ successor: next.name }));
    const at = (line: LogLine | undefined) => Date.parse(String(line?.time));
    console.info(`the successor proved itself ${at(kept) - at(logs.find((l) => l.msg === 'shutting down'))} ms after the stop signal`);
    await docker('rm', '-f', decoy, next.name);
  }, 90_000);

  it('a companion of the role that is not live (no Docker socket: /healthz answers 503) keeps nothing either', async () => {
    const companion = await registeredCompanion();
    // Its own ports, and a Route53 endpoint that answers nothing: it must not touch the zone itself.
    const broken = await run.companion({
      port: port + 1,
      socket: false,
      env: { ...env(), AWS_ENDPOINT_URL_ROUTE_53: 'http://127.0.0.1:9' },
    });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port + 1 + 1000}/healthz`).catch(() => undefined))?.status === 503, {
      what: 'the broken companion up and unhealthy',
    });

    await docker('stop', '-t', '30', companion.name);
    await waitFor(async () => (await records()).length === 0, { what: 'the records removed' });
    expect(await refusals(companion)).toEqual([expect.objectContaining({ candidate: broken.name, reason: expect.stringMatching(/503/) })]);
  }, 90_000);
});
