/**
 * The HAProxy controller with fakes for the master, the files and the runtime API: how a candidate is
 * applied, what happens when HAProxy refuses, and the restart budget after crashes. Then its wiring to
 * the real runtime executor, against a stand-in admin socket.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigInvalidError, ReloadFailedError, RuntimeApiError } from '../../../src/errors.js';
import { type ControllerPorts, createHaproxyController, Haproxy } from '../../../src/haproxy/haproxy-controller.js';
import type { HaproxyMaster } from '../../../src/haproxy/haproxy-process.js';
import { runtimePaths } from '../../../src/haproxy/paths.js';
import { RestartBudget } from '../../../src/haproxy/restart-budget.js';
import type { RuntimePlan } from '../../../src/haproxy/runtime-plan.js';
import { SerialQueue } from '../../../src/lib/serial-queue.js';
import type { Candidate } from '../../../src/render/candidate.js';
import type { RenderedFiles } from '../../../src/render/render-config.js';

const none = { add: [], change: [], delete: [] };
const plan: RuntimePlan = {
  remove: [],
  add: [{ backend: 'be_web', name: 'web-2', args: '10.0.0.2:80' }],
  hosts: none,
  paths: none,
};
const candidate = (config: string, runtimePlan?: RuntimePlan, pathsMap = ''): Candidate => ({
  files: { config, hostsMap: '', pathsMap },
  layout: new Map(),
  services: [],
  runtimePlan,
});

function setup() {
  const events: string[] = [];
  let onExit: ((code: number | undefined) => void) | undefined;
  const master: HaproxyMaster & { running: boolean; reloadFails: number; crash(code: number): void } = {
    running: false,
    reloadFails: 0,
    start(exit) {
      events.push('start');
      this.running = true;
      onExit = exit;
    },
    async reload() {
      events.push('reload');
      if (this.reloadFails-- > 0) throw new ReloadFailedError(['[ALERT] refused']);
    },
    async stop() {
      events.push('stop');
      this.running = false;
    },
    crash(code) {
      this.running = false;
      onExit?.(code);
    },
  };
  let onDisk: RenderedFiles = { config: 'old', hostsMap: '', pathsMap: '' };
  const files = {
    checkRefuses: false,
    async install(next: RenderedFiles, { check }: { check: boolean }) {
      events.push(`install ${next.config}${check ? ' (checked)' : ''}`);
      if (check && this.checkRefuses) throw new ConfigInvalidError(['[ALERT] unknown keyword']);
      const previous = onDisk;
      onDisk = next;
      return previous;
    },
    async restore(previous: RenderedFiles | undefined) {
      events.push(`restore ${previous?.config}`);
      if (previous) onDisk = previous;
    },
  };
  const runtime = {
    drainingServers: [] as string[],
    refuses: false,
    applied: [] as RuntimePlan[],
    async apply(plan: RuntimePlan) {
      events.push('runtime apply');
      this.applied.push(plan);
      if (this.refuses) throw new RuntimeApiError('add server be_web/web-2 10.0.0.2:80', "'init-addr' option is not accepted");
    },
    reset() {
      events.push('runtime reset');
    },
  };
  const fatal: Error[] = [];
  const haproxy = new Haproxy({
    master,
    files,
    runtime,
    ask: async () => '# pxname,svname,status,rate,req_tot,hrsp_5xx,rtime\nbe_web,web-1,UP,3,90,1,12\nbe_web,BACKEND,UP,4,100,2,11\n',
    queue: new SerialQueue(),
    budget: new RestartBudget(5, 60_000),
    log: pino({ level: 'silent' }),
    onFatal: (error) => fatal.push(error),
  });
  return { haproxy, master, runtime, files, events, fatal, onDisk: () => onDisk };
}

describe('HAProxy controller', () => {
  it('starts HAProxy the first time, with the files checked by haproxy -c', async () => {
    const { haproxy, events } = setup();
    expect(await haproxy.apply(candidate('v1', plan))).toMatchObject({ how: 'started' });
    expect(events).toEqual(['install v1 (checked)', 'runtime reset', 'start']);
  });

  it('applies a runtime plan through the runtime API, then writes the files, without haproxy -c and without a reload', async () => {
    const { haproxy, events, onDisk } = setup();
    await haproxy.apply(candidate('v1'));
    events.length = 0;
    expect(await haproxy.apply(candidate('v2', plan))).toMatchObject({ how: 'runtime' });
    // The change is live before the synced write: a new container does not wait for the disk.
    expect(events).toEqual(['runtime apply', 'install v2']);
    expect(onDisk().config).toBe('v2');
  });

  it('reloads a candidate without a runtime plan, checked first', async () => {
    const { haproxy, events } = setup();
    await haproxy.apply(candidate('v1'));
    events.length = 0;
    expect(await haproxy.apply(candidate('v2'))).toMatchObject({ how: 'reloaded' });
    expect(events).toEqual(['install v2 (checked)', 'runtime reset', 'reload']);
  });

  it('falls back to a reload when the runtime API refuses', async () => {
    const { haproxy, runtime, events } = setup();
    await haproxy.apply(candidate('v1'));
    runtime.refuses = true;
    events.length = 0;
    expect(await haproxy.apply(candidate('v2', plan))).toMatchObject({ how: 'reloaded' });
    // The fallback reload is checked by haproxy -c like any other.
    expect(events).toEqual(['runtime apply', 'install v2 (checked)', 'runtime reset', 'reload']);
  });

  it('after a refused runtime change whose files haproxy -c refuses, reloads the files in place so what runs is what they say', async () => {
    const { haproxy, runtime, files, events, onDisk } = setup();
    await haproxy.apply(candidate('v1'));
    runtime.refuses = true;
    files.checkRefuses = true;
    events.length = 0;
    await expect(haproxy.apply(candidate('v2', plan))).rejects.toBeInstanceOf(ConfigInvalidError);
    expect(events).toEqual(['runtime apply', 'install v2 (checked)', 'reload']);
    expect(onDisk().config).toBe('v1');
  });

  it('puts the previous files back when the reload is refused, and throws HAProxy’s reason', async () => {
    const { haproxy, master, events, onDisk } = setup();
    await haproxy.apply(candidate('v1'));
    master.reloadFails = 1;
    events.length = 0;
    await expect(haproxy.apply(candidate('v2'))).rejects.toThrow(/refused/);
    expect(events).toEqual(['install v2 (checked)', 'runtime reset', 'reload', 'restore v1']);
    expect(onDisk().config).toBe('v1');
  });

  it('after a refused runtime change whose reload fails too, reloads the previous files so what runs is what they say', async () => {
    const { haproxy, master, runtime, events, onDisk } = setup();
    await haproxy.apply(candidate('v1'));
    runtime.refuses = true;
    master.reloadFails = 1;
    events.length = 0;
    await expect(haproxy.apply(candidate('v2', plan))).rejects.toBeInstanceOf(ReloadFailedError);
    expect(events).toEqual(['runtime apply', 'install v2 (checked)', 'runtime reset', 'reload', 'restore v1', 'reload']);
    expect(onDisk().config).toBe('v1');
  });

  it('applies a plan that changes only paths map entries through the runtime API, and writes the paths map after', async () => {
    const { haproxy, runtime, events, onDisk } = setup();
    await haproxy.apply(candidate('v1'));
    events.length = 0;
    const paths: RuntimePlan = { remove: [], add: [], hosts: none, paths: { add: [['api/v1/', 'spare_001']], change: [], delete: [] } };
    expect(await haproxy.apply(candidate('v1', paths, 'api/v1/ spare_001\n'))).toMatchObject({ how: 'runtime' });
    expect(events).toEqual(['runtime apply', 'install v1']);
    expect(runtime.applied).toEqual([paths]);
    expect(onDisk().pathsMap).toBe('api/v1/ spare_001\n');
  });

  it('puts the previous paths map back with the config when the reload is refused', async () => {
    const { haproxy, master, onDisk } = setup();
    await haproxy.apply(candidate('v1', undefined, 'api/v1/ be_v1\n'));
    master.reloadFails = 1;
    await expect(haproxy.apply(candidate('v2', undefined, 'api/v2/ be_v2\n'))).rejects.toThrow(/refused/);
    expect(onDisk()).toEqual({ config: 'v1', hostsMap: '', pathsMap: 'api/v1/ be_v1\n' });
  });

  it('reads server states without waiting for an apply in progress', async () => {
    const { haproxy, master } = setup();
    await haproxy.apply(candidate('v1'));
    master.reload = () => new Promise(() => {}); // a reload that never answers
    void haproxy.apply(candidate('v2'));
    expect((await haproxy.stats()).servers).toEqual(new Map([['be_web/web-1', 'UP']]));
  });

  it('reads server states and backend traffic from the admin socket', async () => {
    const { haproxy } = setup();
    expect(await haproxy.stats()).toEqual({ servers: new Map(), backends: new Map() });
    await haproxy.apply(candidate('v1'));
    expect(await haproxy.stats()).toEqual({
      servers: new Map([['be_web/web-1', 'UP']]),
      backends: new Map([['be_web', { requestsPerSecond: 4, requestsTotal: 100, responses5xx: 2, responseTimeMs: 11 }]]),
    });
  });

  describe('after HAProxy dies', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('restarts it with a growing delay, and gives up after 5 restarts within a minute', async () => {
      const { haproxy, master, events, fatal } = setup();
      await haproxy.apply(candidate('v1'));
      const delays = [250, 500, 1_000, 2_000, 4_000];
      for (const delay of delays) {
        master.crash(139);
        await vi.advanceTimersByTimeAsync(delay - 1);
        expect(master.running).toBe(false);
        await vi.advanceTimersByTimeAsync(1);
        expect(master.running).toBe(true);
      }
      expect(events.filter((e) => e === 'start')).toHaveLength(6);
      master.crash(139);
      expect(fatal.map((e) => e.message)).toEqual(['haproxy exited 6 times within a minute (last exit code 139)']);
    });

    it('forgets crashes older than a minute', async () => {
      const { haproxy, master, fatal } = setup();
      await haproxy.apply(candidate('v1'));
      for (let i = 0; i < 10; i++) {
        master.crash(1);
        await vi.advanceTimersByTimeAsync(61_000);
      }
      expect(fatal).toEqual([]);
      expect(master.running).toBe(true);
    });

    it('does not restart it once stopped', async () => {
      const { haproxy, master, events } = setup();
      await haproxy.apply(candidate('v1'));
      await haproxy.stop(1_000);
      master.crash(0);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(events.filter((e) => e === 'start')).toHaveLength(1);
    });

    it('does not restart it when stopped while a restart was pending', async () => {
      const { haproxy, master, events } = setup();
      await haproxy.apply(candidate('v1'));
      master.crash(139);
      await vi.advanceTimersByTimeAsync(100);
      await haproxy.stop(1_000);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(events.filter((e) => e === 'start')).toHaveLength(1);
      expect(master.running).toBe(false);
    });

    it('restarts it only once an apply in progress is done, never in the middle of it', async () => {
      const { haproxy, master, events } = setup();
      await haproxy.apply(candidate('v1'));
      let finishReload = () => {};
      master.reload = async () => {
        events.push('reload');
        await new Promise<void>((resolve) => (finishReload = resolve));
        events.push('reload done');
      };
      const applying = haproxy.apply(candidate('v2'));
      await vi.advanceTimersByTimeAsync(0);
      master.crash(139);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(events.at(-1)).toBe('reload');
      finishReload();
      await applying;
      await vi.advanceTimersByTimeAsync(0);
      expect(events.slice(-3)).toEqual(['reload done', 'runtime reset', 'start']);
    });
  });
});

describe('createHaproxyController', () => {
  it('gives the runtime API both maps by the file names under the runtime directory', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hc-controller-'));
    const paths = runtimePaths(dir);
    const sent: string[] = [];
    // A stand-in admin socket: one command a connection, answered with an empty line (HAProxy's "done").
    const admin = net.createServer((socket) =>
      socket.on('data', (data) => {
        sent.push(data.toString().trim());
        socket.end('\n');
      }),
    );
    await new Promise<void>((resolve) => admin.listen(paths.adminSocket, resolve));
    try {
      const controller = createHaproxyController({ bin: 'haproxy', paths, log: pino({ level: 'silent' }), onFatal: () => undefined });
      const { runtime } = (controller as unknown as { ports: ControllerPorts }).ports;
      await runtime.apply({
        remove: [],
        add: [],
        hosts: { ...none, add: [['api', 'be_api']] },
        paths: { ...none, add: [['api/v1/', 'be_v1']] },
      });
      expect(sent).toEqual([`add map ${dir}/paths.map api/v1/ be_v1`, `add map ${dir}/hosts.map api be_api`]);
    } finally {
      await new Promise((resolve) => admin.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
