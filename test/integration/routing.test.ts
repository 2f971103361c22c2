/**
 * The user's scenario against the real image and a real Docker engine: containers that declare a
 * domain become routes, scale out and in, and bad containers are skipped without harming the rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Companion, docker, TestRun } from '../helpers/docker.js';
import { bodiesOver, get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
let companion: Companion;
const port = 18101;

const routed = (host: string, text: string) =>
  waitFor(async () => (await get(port, host)).body === text, { what: `${host} to answer ${text}` });

beforeAll(async () => {
  await run.backend({ domain: 'login', text: 'login-1', name: `${run.name('login')}` });
  await run.backend({ domain: 'publish', text: 'publish-1' });
  companion = await run.companion({ port });
  await routed('login.example.com', 'login-1');
});
afterAll(() => run.cleanup());

describe('routing by Host header', () => {
  it('sends each host to its own service', async () => {
    expect(await get(port, 'login.example.com')).toEqual({ status: 200, body: 'login-1' });
    expect(await get(port, 'publish.example.com')).toEqual({ status: 200, body: 'publish-1' });
  });

  it('matches case-insensitively, ignores the port, and accepts the bare name', async () => {
    expect((await get(port, 'LOGIN.Example.com')).body).toBe('login-1');
    expect((await get(port, `login.example.com:${port}`)).body).toBe('login-1');
    expect((await get(port, 'publish')).body).toBe('publish-1');
  });

  it('says DNS registration is off without HOSTED_ZONE_ID, and logs what it would register', async () => {
    const logs = await companion.logs();
    expect(logs.some((l) => /HOSTED_ZONE_ID is not set/.test(l.msg))).toBe(true);
    const wouldRegister = logs.filter((l) => l.msg === 'dns registration off; would change records').flatMap((l) => l.register as string[]);
    expect(wouldRegister).toEqual(expect.arrayContaining(['login.example.com', 'publish.example.com']));
  });

  it('answers 503 with a plain-text reason for an unknown host', async () => {
    const reply = await get(port, 'nothing.example.com');
    expect(reply.status).toBe(503);
    expect(reply.body).toMatch(/no service/i);
    // Prefix and suffix matches must not route: only exact names do.
    expect((await get(port, 'login.example.com.evil.net')).status).toBe(503);
    expect((await get(port, 'xlogin.example.com')).status).toBe(503);
  });

  it('routes a new container as soon as it starts, and stops when it goes', async () => {
    const name = await run.backend({ domain: 'fresh', text: 'fresh-1' });
    await routed('fresh.example.com', 'fresh-1');
    await docker('stop', '-t', '1', name);
    await waitFor(async () => (await get(port, 'fresh.example.com')).status === 503, { what: 'fresh to be gone' });
  });
});

describe('scaling one service', () => {
  it('spreads traffic over 3 containers, and stops sending to one that stops, without a reload', async () => {
    const reloads = await companion.count('haproxy reloaded');
    const runtimeUpdates = await companion.count('servers updated at runtime');
    const extra = [await run.backend({ domain: 'login', text: 'login-2' }), await run.backend({ domain: 'login', text: 'login-3' })];
    await waitFor(async () => (await bodiesOver(port, 'login.example.com', 9)).size === 3, { what: '3 login servers' });
    expect(await bodiesOver(port, 'login.example.com', 9)).toEqual(new Set(['200 login-1', '200 login-2', '200 login-3']));

    await docker('stop', '-t', '1', extra[1]!);
    await waitFor(async () => !(await bodiesOver(port, 'login.example.com', 6)).has('200 login-3'), { what: 'login-3 to leave' });
    expect(await bodiesOver(port, 'login.example.com', 8)).toEqual(new Set(['200 login-1', '200 login-2']));

    // Joining and leaving an existing service went through the runtime API: no reload at all.
    expect(await companion.count('haproxy reloaded')).toBe(reloads);
    expect(await companion.count('servers updated at runtime')).toBeGreaterThan(runtimeUpdates);
    // And the file on disk describes what takes traffic: the same servers, at the same addresses.
    const state = await companion.cli('show servers state be_login');
    const serving = state
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f.length > 18 && /^\d+$/.test(f[0]!) && f[6] === '0') // srv_admin_state 0: not in maintenance
      .map((f) => `${f[3]} ${f[4]}:${f[18]}`);
    const diskLogin = [
      ...(await companion.config())
        .split('\nbackend be_login\n')[1]!
        .split('\nbackend ')[0]!
        .matchAll(/^ {4}server (\S+) (\S+)/gm),
    ].map((m) => `${m[1]} ${m[2]}`);
    expect(serving.sort()).toEqual(diskLogin.sort());
    expect(serving).toHaveLength(2);
  });
});

describe('new domains', () => {
  it('go live without a reload, each in a spare backend, and the files on disk are what runs, through a reload too', async () => {
    const reloads = await companion.count('haproxy reloaded');
    await run.backend({ domain: 'spare-a', text: 'spare-a-1' });
    await run.backend({ domain: 'spare-b', text: 'spare-b-1' });
    await routed('spare-a.example.com', 'spare-a-1');
    await routed('spare-b', 'spare-b-1');
    expect(await companion.count('haproxy reloaded')).toBe(reloads);

    const onDisk = await companion.hostsMap();
    expect(onDisk).toEqual(
      expect.arrayContaining([expect.stringMatching(/^spare-a\.example\.com spare_\d+$/), expect.stringMatching(/^spare-b spare_\d+$/)]),
    );
    expect(await companion.runningHostsMap()).toEqual(onDisk);
    // A reload (or a restart) starts from the files alone, and serves the same.
    expect(await companion.cli('reload', 'master.sock')).toMatch(/^Success=1/m);
    await routed('spare-a.example.com', 'spare-a-1');
    expect((await get(port, 'spare-b')).body).toBe('spare-b-1');
    expect((await get(port, 'login.example.com')).body).toMatch(/^login-[12]$/); // scaled to two above
    expect(await companion.runningHostsMap()).toEqual(onDisk);
  });
});

describe('containers that cannot be routed', () => {
  it.each([
    ['a domain with a newline and config', 'evil\n  server x 127.0.0.1:22'],
    ['a domain with spaces', 'bad domain'],
    ['a domain with a comment sign', 'bad#x'],
    ['a unicode domain', 'lögin'],
  ])('skips a container with %s, names it in the log, and keeps the others serving', async (_, domain) => {
    const name = await run.backend({ domain });
    const line = await waitFor(async () => (await companion.logs()).find((l) => l.msg === 'container skipped' && l.container === name), {
      what: `a skip log line for ${name}`,
    });
    expect(line.reason).toMatch(/^domain /);
    expect(line.level).toBe('warn');
    expect((await get(port, 'publish.example.com')).body).toBe('publish-1');
    const cfg = await companion.exec(`cat /tmp/${companion.name}/haproxy.cfg`);
    expect(cfg).not.toContain(name);
    expect(cfg).not.toMatch(/127\.0\.0\.1:22|bad|lögin/);
  });

  it('skips a container exposing several ports and lists them', async () => {
    const name = await run.backend({ domain: 'multi', args: ['--expose', '9090'] });
    const line = await waitFor(async () => (await companion.logs()).find((l) => l.msg === 'container skipped' && l.container === name));
    expect(line.reason).toBe('several exposed TCP ports (8080, 9090); set label haproxy-companion.port to choose one');
    // The label resolves it.
    await run.backend({ domain: 'multi', text: 'multi-ok', args: ['--expose', '9090'], labels: { 'haproxy-companion.port': '8080' } });
    await routed('multi.example.com', 'multi-ok');
  });

  it('routes a container with a health check only while it is healthy', async () => {
    const name = await run.backend({
      domain: 'healthy',
      text: 'healthy-1',
      args: ['--health-cmd', 'test -f /tmp/ready', '--health-interval', '1s', '--health-retries', '1'],
    });
    expect((await get(port, 'healthy.example.com')).status).toBe(503);
    await docker('exec', name, 'touch', '/tmp/ready');
    await routed('healthy.example.com', 'healthy-1');
    await docker('exec', name, 'rm', '/tmp/ready');
    await waitFor(async () => (await get(port, 'healthy.example.com')).status === 503, { what: 'unhealthy container to leave' });
  });

  it('honours haproxy-companion.enable=false and the domain label over the env', async () => {
    await run.backend({ domain: 'optout', labels: { 'haproxy-companion.enable': 'false' } });
    await run.backend({ domain: 'ignored', text: 'by-label', labels: { 'haproxy-companion.domain': 'labelled' } });
    await routed('labelled.example.com', 'by-label');
    expect((await get(port, 'ignored.example.com')).status).toBe(503);
    expect((await get(port, 'optout.example.com')).status).toBe(503);
  });
});
