/**
 * Issue "Trust boundary" against the real image and a real Docker engine. The attacker is anyone who can
 * start a container on the host: it must not answer for names outside the zone (point 2), reach the
 * host's loopback without both opt-ins or ever the companion's own ports (point 3), or silently take a
 * share of another service's domain (point 4), while scaling, compose services, groups and new tags share.
 *
 * Two companions watch this run's containers: one with the defaults, one with ALLOW_HOST_NETWORK=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_IMAGE, type Companion, docker, TestRun } from '../helpers/docker.js';
import { bodiesOver, get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18111; // defaults: host networking not allowed
const allowPort = 18112; // ALLOW_HOST_NETWORK=true
/** Ports of host-network backends: on the host itself, so unlike 8080 they must not clash with anything. */
const hostPorts = { routed: 18131, unlabelled: 18132, grabStatus: 18133, grabHttp: 18134 };
/** Other repositories of the busybox image: other owners (and two tags of one). */
const otherImage = `hc-${run.id}-other:latest`;
const appImage = `hc-${run.id}-app`;
const tags = [otherImage, `${appImage}:v1`, `${appImage}:v2`];
/** The owner key of BACKEND_IMAGE containers: its repository, without tag or digest (`busybox`). */
const backendRepository = (BACKEND_IMAGE.split('@')[0] ?? '').replace(/:[^/:]*$/, '').replace(/^(docker\.io\/)?library\//, '');

let companion: Companion;
let allowing: Companion;
const names: Record<string, string> = {};

const routed = (p: number, host: string, text: string) =>
  waitFor(async () => (await get(p, host)).body === text, { what: `${host} to answer ${text} on ${p}` });
const skipLine = (c: Companion, name: string) =>
  waitFor(async () => (await c.logs()).find((l) => l.msg === 'container skipped' && l.container === name), {
    what: `a skip log line for ${name} from ${c.name}`,
  });
const status = async (p: number) => (await (await fetch(`http://127.0.0.1:${p + 1000}/status`)).json()) as any;

beforeAll(async () => {
  for (const tag of tags) await docker('tag', BACKEND_IMAGE, tag);

  // Point 2: each name outside the zone in a container of its own, so each is skipped for its own reason.
  for (const [key, domain] of Object.entries({
    google: 'www.google.com',
    loopback: '127.0.0.1',
    localhost: 'localhost',
    imds: '169.254.169.254',
  })) {
    names[key] = await run.backend({ domain, text: `outside-${key}` });
  }
  await run.backend({ domain: 'api.v2', text: 'api-v2' });
  await run.backend({ domain: 'www.google.com.example.com', text: 'in-zone' });

  // Point 3: host-network containers, each httpd on a host port of its own.
  const onHost = (httpPort: number, labels: Record<string, string>, domain: string) =>
    run.backend({ domain, text: domain, httpPort, args: ['--network', 'host'], labels });
  names.hostRouted = await onHost(
    hostPorts.routed,
    { 'haproxy-companion.host-network': 'true', 'haproxy-companion.port': String(hostPorts.routed) },
    'hostnet',
  );
  names.hostUnlabelled = await onHost(hostPorts.unlabelled, { 'haproxy-companion.port': String(hostPorts.unlabelled) }, 'hostnet-nolabel');
  // Both opt-ins, but the port label names the allowing companion's status port, then its HTTP port.
  names.grabStatus = await onHost(
    hostPorts.grabStatus,
    { 'haproxy-companion.host-network': 'true', 'haproxy-companion.port': String(allowPort + 1000) },
    'grab-status',
  );
  names.grabHttp = await onHost(
    hostPorts.grabHttp,
    { 'haproxy-companion.host-network': 'true', 'haproxy-companion.port': String(allowPort) },
    'grab-http',
  );

  // Point 4: the owner first (older), then an unrelated image asking for the same domain.
  names.owner = await run.backend({ domain: 'owned', text: 'owner-1' });
  names.intruder = await run.backend({ domain: 'owned', text: 'intruder', image: otherImage });

  companion = await run.companion({ port });
  allowing = await run.companion({ port: allowPort, env: { ALLOW_HOST_NETWORK: 'true' } });
  await routed(port, 'api.v2.example.com', 'api-v2');
  await routed(allowPort, 'hostnet.example.com', 'hostnet');
});
afterAll(async () => {
  await run.cleanup();
  for (const tag of tags) await docker('rmi', tag).catch(() => undefined);
});

describe('names outside the zone (point 2)', () => {
  it.each([
    ['google', 'www.google.com', /ends in the top-level domain "com".*"www\.google\.com\.example\.com"/],
    ['loopback', '127.0.0.1', /looks like an IP address.*"127\.0\.0\.1\.example\.com"/],
    ['localhost', 'localhost', /is localhost, the host itself/],
    ['imds', '169.254.169.254', /looks like an IP address/],
  ])('skips DOMAIN=%s with a reason that says how to write it, and never answers Host: %s', async (key, host, reason) => {
    const line = await skipLine(companion, names[key]!);
    expect(line.reason).toMatch(reason);
    expect((await get(port, host)).status).toBe(503);
    // Inside the zone the name is another container's business (www.google.com.example.com is, below), never this one's.
    expect((await get(port, `${host}.example.com`)).body).not.toBe(`outside-${key}`);
  });

  it('answers a dotted name only inside the zone, never bare', async () => {
    expect((await get(port, 'api.v2.example.com')).body).toBe('api-v2');
    expect((await get(port, 'api.v2')).status).toBe(503);
    await routed(port, 'www.google.com.example.com', 'in-zone');
    expect((await get(port, 'www.google.com')).status).toBe(503);
    expect(await companion.hostsMap()).not.toEqual(expect.arrayContaining([expect.stringMatching(/^(api\.v2|www\.google\.com) /)]));
  });
});

describe('host networking (point 3)', () => {
  it('skips host-network containers without both opt-ins, saying which is missing', async () => {
    expect((await skipLine(companion, names.hostRouted!)).reason).toMatch(/does not allow it: set ALLOW_HOST_NETWORK=true/);
    expect((await skipLine(companion, names.hostUnlabelled!)).reason).toMatch(/set the label haproxy-companion\.host-network=true/);
    expect((await skipLine(allowing, names.hostUnlabelled!)).reason).toMatch(/set the label haproxy-companion\.host-network=true/);
    expect((await get(port, 'hostnet.example.com')).status).toBe(503);
    expect((await get(allowPort, 'hostnet-nolabel.example.com')).status).toBe(503);
  });

  it('routes one on 127.0.0.1 with the label and ALLOW_HOST_NETWORK', async () => {
    expect(await get(allowPort, 'hostnet.example.com')).toEqual({ status: 200, body: 'hostnet' });
    const served = (await status(allowPort)).services.find((s: any) => s.domain === 'hostnet');
    expect(served.servers).toEqual([expect.objectContaining({ address: '127.0.0.1', port: hostPorts.routed })]);
  });

  it('never targets the companion’s own status or HTTP port, whatever the opt-ins', async () => {
    expect((await skipLine(allowing, names.grabStatus!)).reason).toBe(
      `port ${allowPort + 1000} on 127.0.0.1 is the companion's own (reserved: ${allowPort}, ${allowPort + 1000})`,
    );
    expect((await skipLine(allowing, names.grabHttp!)).reason).toMatch(
      new RegExp(`^port ${allowPort} on 127\\.0\\.0\\.1 is the companion's own`),
    );
    for (const host of ['grab-status.example.com', 'grab-http.example.com']) {
      const reply = await get(allowPort, host);
      expect(reply.status).toBe(503);
      expect(reply.body).not.toMatch(/"services"|"skipped"/);
    }
  });
});

describe('one owner per domain (point 4)', () => {
  it('keeps an unrelated image out of a domain, says why in the log and in /status, and sends it no traffic', async () => {
    const line = await skipLine(companion, names.intruder!);
    expect(line.reason).toBe(
      `domain "owned" belongs to container "${names.owner}" (image "${backendRepository}"), older than this one (image "hc-${run.id}-other"); ` +
        'to share it, give both the same label haproxy-companion.group',
    );
    expect(await bodiesOver(port, 'owned.example.com', 8)).toEqual(new Set(['200 owner-1']));
    const skipped = (await status(port)).skipped.find((s: any) => s.containerName === names.intruder);
    expect(skipped).toMatchObject({ domain: 'owned', ownedBy: { containerName: names.owner } });
    const page = await (await fetch(`http://127.0.0.1:${port + 1000}/`)).text();
    expect(page).toContain(`held by ${names.owner}`);
  });

  it.each([
    ['several docker run of one image', 'scaled', [{}, {}]],
    ['a new tag of the same repository', 'rolling', [{ image: `${appImage}:v1` }, { image: `${appImage}:v2` }]],
    [
      'one compose service across images',
      'composed',
      [
        { labels: { 'com.docker.compose.project': `hc-${run.id}`, 'com.docker.compose.service': 'web' } },
        { labels: { 'com.docker.compose.project': `hc-${run.id}`, 'com.docker.compose.service': 'web' }, image: otherImage },
      ],
    ],
    [
      'one haproxy-companion.group across images',
      'grouped',
      [
        { labels: { 'haproxy-companion.group': `g-${run.id}` } },
        { labels: { 'haproxy-companion.group': `g-${run.id}` }, image: otherImage },
      ],
    ],
  ] as Array<[string, string, Array<{ image?: string; labels?: Record<string, string> }>]>)(
    'shares a domain between %s',
    async (_, domain, members) => {
      for (const [i, member] of members.entries()) await run.backend({ domain, text: `${domain}-${i + 1}`, ...member });
      const expected = new Set(members.map((_, i) => `200 ${domain}-${i + 1}`));
      await waitFor(async () => (await bodiesOver(port, `${domain}.example.com`, 8)).size === expected.size, {
        what: `${domain} served by ${expected.size} containers`,
      });
      expect(await bodiesOver(port, `${domain}.example.com`, 8)).toEqual(expected);
    },
  );
});

describe('an owner keeps its domain through its own redeploy (#21 point 1)', () => {
  it('keeps a squatter out when the owner’s container is replaced, and after the companion restarts', async () => {
    const redeployPort = 18113;
    const own = await run.companion({ port: redeployPort });
    const owner = await run.backend({ domain: 'redeploy', text: 'owner-v1', image: `${appImage}:v1` });
    await routed(redeployPort, 'redeploy.example.com', 'owner-v1');
    const squatter = await run.backend({ domain: 'redeploy', text: 'squatter', image: otherImage });
    await skipLine(own, squatter);
    // `docker compose up -d`: the old container goes, then a new one comes, younger than the squatter.
    await docker('rm', '-f', owner);
    await waitFor(
      async () =>
        (await status(redeployPort)).skipped.some(
          (s: any) => s.containerName === squatter && /which held it before this one .* has no container right now/.test(s.reason),
        ),
      { what: 'the squatter skipped while the owner has no container' },
    );
    await run.backend({ domain: 'redeploy', text: 'owner-v2', image: `${appImage}:v2` });
    await routed(redeployPort, 'redeploy.example.com', 'owner-v2');
    expect(await bodiesOver(redeployPort, 'redeploy.example.com', 8)).toEqual(new Set(['200 owner-v2']));
    // The memory is on disk (STATE_DIR): a restarted companion does not hand the domain to the older squatter.
    await docker('restart', own.name);
    await routed(redeployPort, 'redeploy.example.com', 'owner-v2');
    expect(await bodiesOver(redeployPort, 'redeploy.example.com', 8)).toEqual(new Set(['200 owner-v2']));
    expect((await status(redeployPort)).skipped.find((s: any) => s.containerName === squatter)?.reason).toMatch(
      /^domain "redeploy" belongs to container "hc-.*" \(image "hc-.*-app"\), older than this one/,
    );
  });
});
