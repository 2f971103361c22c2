/**
 * The pass loop driven with fakes at each port (the snapshot, the template, the HAProxy controller), the
 * way docker-gen's generator_test drives its loop: what is offered to HAProxy, when, and what is retried.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigInvalidError, TemplateError } from '../../src/errors.js';
import type { ApplyOutcome, HaproxyController } from '../../src/haproxy/haproxy-controller.js';
import type { ContainerInfo } from '../../src/model/container.js';
import { modelOf, type Service } from '../../src/model/services.js';
import type { Candidate } from '../../src/render/candidate.js';
import { type Renderer, renderFiles } from '../../src/render/render-config.js';
import { Supervisor } from '../../src/supervisor.js';
import { container } from '../helpers/containers.js';

const PATHS = { adminSocket: '/run/admin.sock', hostsMap: '/run/hosts.map', pathsMap: '/run/paths.map' };
const SETTINGS = { zone: 'example.com', httpPort: 80 };
const RETRY_MS = 2_000;

/** A template small enough to read in a failure message: one line per backend and per server. */
const renderer: Renderer = {
  render: ({ backends }) =>
    backends.map((b) => [`backend ${b.name}`, ...b.servers.map((s) => `    server ${s.name} ${s.endpoint}`)].join('\n')).join('\n'),
};

/** A controller that records what it was asked to apply; `refuse` decides per candidate. */
class FakeHaproxy implements HaproxyController {
  running = false;
  drainingServers: string[] = [];
  offered: Candidate[] = [];
  refuse: (candidate: Candidate) => Error | undefined = () => undefined;

  async apply(candidate: Candidate): Promise<ApplyOutcome> {
    this.offered.push(candidate);
    const error = this.refuse(candidate);
    if (error) throw error;
    const how = !this.running ? 'started' : candidate.runtimePlan ? 'runtime' : 'reloaded';
    this.running = true;
    return { how, checkMs: 0, applyMs: 0 };
  }

  async stats() {
    return { servers: new Map<string, string>(), backends: new Map() };
  }

  async stop() {
    this.running = false;
  }

  get hows() {
    return this.offered.map((c) => (c.runtimePlan ? 'runtime' : 'full'));
  }
}

function setup({
  lingerMs = 0,
  coverMs = 0,
  covered = () => false,
}: {
  lingerMs?: number;
  coverMs?: number;
  covered?: (s: Service) => boolean;
} = {}) {
  const haproxy = new FakeHaproxy();
  const docker = { containers: [] as ContainerInfo[], down: false as boolean | Error };
  const template = { loads: 0, fail: undefined as TemplateError | undefined };
  const served: string[][] = [];
  /** Ports something else holds on the host, and every port the supervisor asked about. */
  const host = { busy: new Set<number>(), probed: [] as number[][] };
  const supervisor = new Supervisor({
    log: pino({ level: 'silent' }),
    haproxy,
    debounce: { minMs: 0, maxMs: 0 },
    retryDelayMs: RETRY_MS,
    snapshot: async () => {
      if (docker.down) throw docker.down === true ? Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }) : docker.down;
      return docker.containers;
    },
    buildModel: (list) => modelOf(list, { selfId: undefined, zone: 'example.com', tcpPorts: [[1, 65535]] }),
    busyPorts: async (ports) => {
      host.probed.push(ports);
      return new Set(ports.filter((p) => host.busy.has(p)));
    },
    loadTemplate: async () => {
      template.loads++;
      if (template.fail) throw template.fail;
      return renderer;
    },
    render: (r, services, layout) => renderFiles(r, services, layout, SETTINGS, PATHS),
    onServing: (services) => served.push(services.map((s) => s.domain)),
    lingerMs,
    coverMs,
    covered,
    now: () => Date.now(),
  });
  /** Runs what is due now to its end. */
  const settle = async () => {
    await vi.advanceTimersByTimeAsync(0);
    await supervisor.idle();
  };
  /** One pass, as an event would start it. */
  const pass = async (reason = 'test') => {
    supervisor.trigger(reason);
    await settle();
  };
  return { supervisor, haproxy, docker, template, served, host, pass, settle };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Supervisor', () => {
  it('skips a TCP route whose port is in use on the host, asks only about ports HAProxy does not hold yet, and serves the rest', async () => {
    const { supervisor, docker, host, pass } = setup();
    const tcp = (port: number) => container({ labels: { 'haproxy-companion.t.tcp-port': String(port) } });
    host.busy.add(22);
    docker.containers = [tcp(22), tcp(5432), container({ env: { DOMAIN: 'web' } })];
    await supervisor.start();
    expect(supervisor.services.map((s) => s.key)).toEqual(['web', 'tcp:5432']);
    expect(supervisor.skipped).toEqual([
      expect.objectContaining({ route: 't', domain: 'tcp:22', reason: 'TCP port 22 is already in use on the host' }),
    ]);
    expect(host.probed).toEqual([[22, 5432]]);
    // HAProxy holds 5432 now: only 22 is asked about again.
    await pass();
    expect(host.probed.at(-1)).toEqual([22]);
  });

  it('keeps a service whose last container went for the linger time, without servers, then lets it go', async () => {
    const { supervisor, haproxy, docker, served, pass } = setup({ lingerMs: 10_000 });
    const web = container({ name: 'web-1', env: { DOMAIN: 'web' } });
    docker.containers = [web, container({ labels: { 'haproxy-companion.t.tcp-port': '5432' } })];
    await supervisor.start();
    // Both go (stopped, replaced): the HTTP service stays, with no server, and DNS keeps its name.
    docker.containers = [];
    await pass();
    expect(supervisor.services.map((s) => [s.key, s.servers.length])).toEqual([['web', 0]]);
    expect(haproxy.offered.at(-1)?.files.hostsMap).toContain('web.example.com be_web');
    expect(served.at(-1)).toEqual(['web']);
    // Its replacement arrives within the time: served by it, as if it had never gone.
    const next = container({ name: 'web-2', env: { DOMAIN: 'web' } });
    docker.containers = [next];
    await vi.advanceTimersByTimeAsync(5_000);
    await pass();
    expect(supervisor.services.map((s) => [s.key, s.servers.map((x) => x.containerName)])).toEqual([['web', ['web-2']]]);
    // Gone again, and no one comes: it goes once the time is up, by itself.
    docker.containers = [];
    await pass();
    expect(supervisor.services.map((s) => s.key)).toEqual(['web']);
    await vi.advanceTimersByTimeAsync(10_100);
    await supervisor.idle();
    expect(supervisor.services).toEqual([]);
    expect(served.at(-1)).toEqual([]);
  });

  it('after the linger, keeps routing a service the fleet covers for the cover time, out of DNS (FLEET_FALLBACK)', async () => {
    let coveredNow = true;
    const { supervisor, docker, served, pass } = setup({
      lingerMs: 10_000,
      coverMs: 120_000,
      covered: (s) => coveredNow && s.domain === 'web',
    });
    docker.containers = [container({ name: 'web-1', env: { DOMAIN: 'web' } }), container({ name: 'api-1', env: { DOMAIN: 'api' } })];
    await supervisor.start();
    docker.containers = [];
    await pass();
    expect(served.at(-1)).toEqual(['api', 'web']);
    // The linger over: `api` goes; `web`, which other hosts serve, stays routed (to them) but leaves DNS.
    await vi.advanceTimersByTimeAsync(10_100);
    await supervisor.idle();
    expect(supervisor.services.map((s) => [s.key, s.servers.length])).toEqual([['web', 0]]);
    expect(served.at(-1)).toEqual([]);
    // A container of its own back: served and registered again, as before.
    docker.containers = [container({ name: 'web-2', env: { DOMAIN: 'web' } })];
    await pass();
    expect(served.at(-1)).toEqual(['web']);
    // Gone again, and the other hosts leave the zone while it is covered: it goes at the next pass.
    docker.containers = [];
    await pass();
    await vi.advanceTimersByTimeAsync(10_100);
    await supervisor.idle();
    expect(supervisor.services.map((s) => s.key)).toEqual(['web']);
    coveredNow = false;
    await pass();
    expect(supervisor.services).toEqual([]);
    coveredNow = true;
    docker.containers = [container({ name: 'web-3', env: { DOMAIN: 'web' } })];
    await pass();
    // Gone again and never back: the cover time after the linger, then it goes for good.
    docker.containers = [];
    await pass();
    await vi.advanceTimersByTimeAsync(10_100 + 119_000);
    await supervisor.idle();
    expect(supervisor.services.map((s) => s.key)).toEqual(['web']);
    await vi.advanceTimersByTimeAsync(1_100);
    await supervisor.idle();
    expect(supervisor.services).toEqual([]);
  });

  it('starts HAProxy with the services Docker reports, and DNS follows what is served', async () => {
    const { supervisor, haproxy, docker, served } = setup();
    docker.containers = [container({ name: 'login-1', env: { DOMAIN: 'login' } })];
    await supervisor.start();
    expect(haproxy.offered).toHaveLength(1);
    expect(haproxy.offered[0]?.files.hostsMap).toBe('login be_login\nlogin.example.com be_login\n');
    expect(supervisor.services.map((s) => [s.domain, s.backend])).toEqual([['login', 'be_login']]);
    expect(served).toEqual([['login']]);
  });

  it('starts serving no services when Docker is not there yet, and catches up once it is', async () => {
    const { supervisor, haproxy, docker, pass } = setup();
    docker.down = true;
    await supervisor.start();
    expect(haproxy.offered[0]?.services).toEqual([]);
    docker.down = false;
    docker.containers = [container({ env: { DOMAIN: 'login' } })];
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    await pass('retry settled');
    expect(haproxy.offered.at(-1)?.services.map((s) => s.domain)).toEqual(['login']);
  });

  it('fails to start with the reason when HAProxy refuses the first configuration', async () => {
    const { supervisor, haproxy } = setup();
    haproxy.refuse = () => new ConfigInvalidError(['[ALERT] parsing error']);
    await expect(supervisor.start()).rejects.toThrow(/parsing error/);
  });

  it('applies a server joining a running service through the runtime API, and a new domain into a spare backend', async () => {
    const { supervisor, haproxy, docker, pass } = setup();
    docker.containers = [container({ name: 'web-1', env: { DOMAIN: 'web' } })];
    await supervisor.start();
    docker.containers = [...docker.containers, container({ name: 'web-2', env: { DOMAIN: 'web' } })];
    await pass();
    docker.containers = [...docker.containers, container({ name: 'api-1', env: { DOMAIN: 'api' } })];
    await pass();
    expect(haproxy.hows).toEqual(['full', 'runtime', 'runtime']);
    expect(haproxy.offered[1]?.runtimePlan?.add.map((s) => `${s.backend}/${s.name}`)).toEqual(['be_web/web-2']);
    expect(supervisor.services.map((s) => [s.domain, s.backend])).toEqual([
      ['api', 'spare_001'],
      ['web', 'be_web'],
    ]);
  });

  it('offers nothing when the files did not change, but still tells DNS what is served', async () => {
    const { supervisor, haproxy, docker, served, pass } = setup();
    docker.containers = [container({ env: { DOMAIN: 'login' } })];
    await supervisor.start();
    await pass();
    await pass();
    expect(haproxy.offered).toHaveLength(1);
    expect(served).toHaveLength(3);
  });

  it('does not offer a refused configuration again until it changes, and keeps the running one', async () => {
    const { supervisor, haproxy, docker, pass } = setup();
    docker.containers = [container({ name: 'web-1', env: { DOMAIN: 'web' } })];
    await supervisor.start();
    haproxy.refuse = (c) => (c.files.config.includes('bad') ? new ConfigInvalidError(['[ALERT] no']) : undefined);
    docker.containers = [...docker.containers, container({ name: 'bad', env: { DOMAIN: 'web' } })];
    await pass();
    await pass();
    await vi.advanceTimersByTimeAsync(RETRY_MS * 3);
    await pass();
    expect(haproxy.offered).toHaveLength(2);
    expect(supervisor.recorder.lastApply).toMatchObject({ ok: false, haproxy: ['[ALERT] no'] });
    // Something else changed: the new candidate is offered (and refused again, as it still holds the bad server).
    docker.containers = [...docker.containers, container({ name: 'web-3', env: { DOMAIN: 'web' } })];
    await pass();
    expect(haproxy.offered).toHaveLength(3);
    expect(supervisor.services.map((s) => s.servers.length)).toEqual([3]);
  });

  it('retries on its own an apply that failed for a reason that may pass (a busy disk), without another event', async () => {
    const { supervisor, haproxy, docker, pass } = setup();
    docker.containers = [container({ name: 'web-1', env: { DOMAIN: 'web' } })];
    await supervisor.start();
    let failures = 1;
    haproxy.refuse = () => (failures-- > 0 ? Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' }) : undefined);
    docker.containers = [...docker.containers, container({ name: 'web-2', env: { DOMAIN: 'web' } })];
    await pass();
    expect(supervisor.recorder.lastApply?.ok).toBe(false);
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    await supervisor.idle();
    expect(haproxy.offered).toHaveLength(3);
    expect(supervisor.recorder.lastApply?.ok).toBe(true);
  });

  it('retries on its own a template that could not be read, but waits for a change of one that does not compile', async () => {
    const { supervisor, haproxy, docker, template, settle } = setup();
    docker.containers = [container({ env: { DOMAIN: 'web' } })];
    await supervisor.start();
    template.fail = new TemplateError('template t.njk cannot be read: EMFILE');
    supervisor.templateChanged();
    await settle();
    template.fail = undefined;
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    await supervisor.idle();
    // Read again by the retry alone; it renders what runs, so there is nothing new to offer.
    expect(template.loads).toBe(3);

    template.fail = new TemplateError('template t.njk failed to compile', { retryable: false });
    supervisor.templateChanged();
    await settle();
    await vi.advanceTimersByTimeAsync(RETRY_MS * 5);
    expect(template.loads).toBe(4);
    expect(supervisor.recorder.lastApply).toMatchObject({ ok: false, error: 'template t.njk failed to compile' });
    expect(haproxy.offered).toHaveLength(1);
  });

  it('keeps the current routes while Docker cannot be listed, and retries on its own', async () => {
    const { supervisor, haproxy, docker, pass } = setup();
    docker.containers = [container({ env: { DOMAIN: 'web' } })];
    await supervisor.start();
    docker.down = true;
    await pass();
    expect(supervisor.services.map((s) => s.domain)).toEqual(['web']);
    docker.down = false;
    docker.containers = [];
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    await supervisor.idle();
    expect(haproxy.offered.at(-1)?.services).toEqual([]);
  });

  it('offers a fresh layout (a reload) when HAProxy is not running, whatever ran before', async () => {
    const { supervisor, haproxy, docker, pass } = setup();
    docker.containers = [container({ name: 'web-1', env: { DOMAIN: 'web' } })];
    await supervisor.start();
    haproxy.running = false;
    docker.containers = [...docker.containers, container({ name: 'web-2', env: { DOMAIN: 'web' } })];
    await pass();
    expect(haproxy.hows).toEqual(['full', 'full']);
  });

  it('stops HAProxy and runs no pass after stop', async () => {
    const { supervisor, haproxy, pass } = setup();
    await supervisor.start();
    await supervisor.stop(1_000);
    await pass();
    expect(haproxy.offered).toHaveLength(1);
    expect(haproxy.running).toBe(false);
  });

  it('offers a refused configuration again once the template changes', async () => {
    const { supervisor, haproxy, docker, pass, settle } = setup();
    docker.containers = [container({ name: 'web-1', env: { DOMAIN: 'web' } })];
    await supervisor.start();
    let refusing = true;
    haproxy.refuse = () => (refusing ? new ConfigInvalidError(['[ALERT] no']) : undefined);
    docker.containers = [...docker.containers, container({ name: 'web-2', env: { DOMAIN: 'web' } })];
    await pass();
    await pass();
    expect(haproxy.offered).toHaveLength(2);
    refusing = false; // e.g. the user fixed something HAProxy depends on, and touched the template
    supervisor.templateChanged();
    await settle();
    expect(haproxy.offered).toHaveLength(3);
    expect(supervisor.recorder.lastApply?.ok).toBe(true);
  });

  it('does not keep a template it read while the template changed again', async () => {
    const { supervisor, haproxy, docker, template, settle } = setup();
    docker.containers = [container({ env: { DOMAIN: 'web' } })];
    await supervisor.start();
    const marker = (text: string): Renderer => ({ render: (context) => `${text}\n${renderer.render(context)}` });
    let release: (r: Renderer) => void = () => {};
    const loads = [new Promise<Renderer>((resolve) => (release = resolve)), Promise.resolve(marker('# v2'))];
    const deps = (supervisor as unknown as { deps: { loadTemplate: () => Promise<Renderer> } }).deps;
    deps.loadTemplate = () => {
      template.loads++;
      return loads.shift() ?? Promise.resolve(marker('# v2'));
    };
    supervisor.templateChanged();
    await vi.advanceTimersByTimeAsync(0); // the pass is reading v1 when v2 lands
    supervisor.templateChanged();
    release(marker('# v1'));
    await settle();
    expect(haproxy.offered.at(-1)?.files.config.startsWith('# v2')).toBe(true);
    expect(template.loads).toBe(3); // at start, v1, v2
  });

  it('does not retry a template that fails to render until something changes', async () => {
    const { supervisor, docker, template, pass } = setup();
    docker.containers = [container({ env: { DOMAIN: 'web' } })];
    await supervisor.start();
    const deps = (supervisor as unknown as { deps: { render: (...args: unknown[]) => unknown } }).deps;
    let renders = 0;
    deps.render = () => {
      renders++;
      throw new TemplateError('template t.njk failed to render: undefined', { retryable: false });
    };
    docker.containers = [...docker.containers, container({ env: { DOMAIN: 'web' } })];
    await pass();
    await vi.advanceTimersByTimeAsync(RETRY_MS * 5);
    expect(renders).toBe(1);
    expect(template.loads).toBe(1);
    expect(supervisor.recorder.lastApply).toMatchObject({ ok: false, error: expect.stringMatching(/failed to render/) });
  });
});
