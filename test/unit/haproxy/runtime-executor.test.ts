import { describe, expect, it, vi } from 'vitest';
import { CompanionError } from '../../../src/errors.js';
import { RuntimeExecutor } from '../../../src/haproxy/runtime-executor.js';
import type { MapChanges, RuntimePlan } from '../../../src/haproxy/runtime-plan.js';
import { SerialQueue } from '../../../src/lib/serial-queue.js';
import { waitFor } from '../../helpers/wait-for.js';

const MAPS = { hostsMap: '/run/hosts.map', pathsMap: '/run/paths.map', certList: '/run/certs.list' };
const none: MapChanges = { add: [], change: [], delete: [] };
const noMaps = { hosts: none, paths: none };
const executor = (send: (command: string) => Promise<string>, queue = new SerialQueue()) => new RuntimeExecutor(send, MAPS, queue);

describe('RuntimeExecutor', () => {
  const add = { backend: 'be_web', name: 'w2', args: '10.0.0.2:8080 check inter 2s' };
  const remove = { backend: 'be_web', name: 'w1', args: '10.0.0.1:8080 check' };

  /** A fake admin socket: records commands, answers like HAProxy, or as `answer` says. */
  function socket(answer: (command: string) => string | undefined = () => undefined) {
    const sent: string[] = [];
    const send = async (command: string) => {
      sent.push(command);
      const custom = answer(command);
      if (custom !== undefined) return custom;
      if (command.startsWith('del server')) return 'Server deleted.\n';
      if (command.startsWith('add server')) return 'New server registered.\n';
      return '\n';
    };
    return { sent, send };
  }

  it('puts removed servers in maintenance before deleting them, and enables added ones with their checks', async () => {
    const { sent, send } = socket();
    await executor(send).apply({ remove: [remove], add: [add], ...noMaps });
    expect(sent).toEqual([
      'set server be_web/w1 state maint',
      'del server be_web/w1',
      'add server be_web/w2 10.0.0.2:8080 check inter 2s',
      'enable server be_web/w2',
      'enable health be_web/w2',
    ]);
  });

  it('renews a certificate in one transaction, adds a new one to the crt-list before hosts route, removes a gone one after', async () => {
    const { sent, send } = socket((command) => {
      if (command.startsWith('new ssl cert')) return "New empty certificate store '/run/c/new.pem'!\n";
      if (command.startsWith('set ssl cert')) return 'Transaction created for certificate /run/c/x.pem!\n';
      if (command.startsWith('commit ssl cert')) return 'Committing /run/c/x.pem\nSuccess!\n';
      if (command.startsWith('add ssl crt-list'))
        return "Inserting certificate '/run/c/new.pem' in crt-list '/run/certs.list'.\nSuccess!\n";
      if (command.startsWith('del ssl crt-list')) return "Entry '/run/c/old.pem' deleted in crtlist '/run/certs.list'!\n";
      if (command.startsWith('del ssl cert')) return "Certificate '/run/c/old.pem' deleted!\n";
      return undefined;
    });
    const pem = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n';
    await executor(send).apply({
      remove: [],
      add: [],
      hosts: { add: [['new', 'spare_001']], change: [], delete: [] },
      paths: none,
      certificates: { add: [['/run/c/new.pem', pem]], change: [['/run/c/www.pem', pem]], delete: ['/run/c/old.pem'] },
    });
    expect(sent).toEqual([
      'new ssl cert /run/c/new.pem',
      `set ssl cert /run/c/new.pem <<\n${pem.trimEnd()}\n`,
      'commit ssl cert /run/c/new.pem',
      `set ssl cert /run/c/www.pem <<\n${pem.trimEnd()}\n`,
      'commit ssl cert /run/c/www.pem',
      'add ssl crt-list /run/certs.list /run/c/new.pem',
      'add map /run/hosts.map new spare_001',
      'del ssl crt-list /run/certs.list /run/c/old.pem',
      'del ssl cert /run/c/old.pem',
    ]);
  });

  it('aborts a certificate transaction HAProxy refuses to commit, and throws (the caller reloads)', async () => {
    const { sent, send } = socket((command) => {
      if (command.startsWith('set ssl cert')) return 'Transaction created for certificate /run/c/www.pem!\n';
      if (command.startsWith('commit ssl cert'))
        return 'Committing /run/c/www.pem\nerror: inconsistencies between private key and certificate loaded.\n';
      return undefined;
    });
    const certificates = { add: [], change: [['/run/c/www.pem', 'PEM\n']] as [string, string][], delete: [] };
    await expect(executor(send).apply({ remove: [], add: [], ...noMaps, certificates })).rejects.toThrow(/commit ssl cert/);
    expect(sent.at(-1)).toBe('abort ssl cert /run/c/www.pem');
    // A refused `set ssl cert` names the command, never its payload (the private key).
    const refusing = socket((command) => (command.startsWith('set ssl cert') ? "Can't update /run/c/www.pem!\n" : undefined));
    const secret = {
      add: [],
      change: [['/run/c/www.pem', '-----BEGIN PRIVATE KEY-----\nSECRETKEY\n-----END PRIVATE KEY-----\n']] as [string, string][],
      delete: [],
    };
    const error = await executor(refusing.send)
      .apply({ remove: [], add: [], ...noMaps, certificates: secret })
      .catch((e: Error) => e);
    expect(String((error as Error).message)).toMatch(/set ssl cert \/run\/c\/www\.pem <<? ?<payload>/);
    expect(String((error as Error).message)).not.toContain('SECRETKEY');
  });

  it('sends no certificate whose file is not one word or whose PEM has a blank line (the end of a payload)', async () => {
    for (const change of [
      ['/run/c/a b.pem', 'PEM'],
      ['/run/c/a.pem', 'PEM\n\nshow info'],
    ] as [string, string][]) {
      const { sent, send } = socket();
      await expect(
        executor(send).apply({ remove: [], add: [], ...noMaps, certificates: { add: [], change: [change], delete: [] } }),
      ).rejects.toThrow(/not sent/);
      expect(sent).toEqual([]);
    }
  });

  it('routes a new host only once its servers are in, and stops routing a gone host before its servers go', async () => {
    const { sent, send } = socket();
    await executor(send).apply({
      remove: [remove],
      add: [add],
      hosts: { add: [['web', 'be_web']], change: [['api', 'spare_001']], delete: ['old'] },
      paths: none,
    });
    expect(sent).toEqual([
      'del map /run/hosts.map old',
      'set server be_web/w1 state maint',
      'del server be_web/w1',
      'add server be_web/w2 10.0.0.2:8080 check inter 2s',
      'enable server be_web/w2',
      'enable health be_web/w2',
      'set map /run/hosts.map api spare_001',
      'add map /run/hosts.map web be_web',
    ]);
  });

  it('routes a new path only once its servers are in, and stops routing a gone path before its servers go', async () => {
    const { sent, send } = socket();
    await executor(send).apply({
      remove: [remove],
      add: [add],
      hosts: none,
      paths: { add: [['web.example.com/v2/', 'be_web']], change: [['web.example.com/api/', 'spare_001']], delete: ['web.example.com/v1/'] },
    });
    expect(sent).toEqual([
      'del map /run/paths.map web.example.com/v1/',
      'set server be_web/w1 state maint',
      'del server be_web/w1',
      'add server be_web/w2 10.0.0.2:8080 check inter 2s',
      'enable server be_web/w2',
      'enable health be_web/w2',
      'set map /run/paths.map web.example.com/api/ spare_001',
      'add map /run/paths.map web.example.com/v2/ be_web',
    ]);
  });

  it('adds a path before its host and deletes it after, so the host entry never routes that path alone', async () => {
    const { sent, send } = socket();
    const servers = executor(send);
    const adds: RuntimePlan = {
      remove: [],
      add: [],
      hosts: { ...none, add: [['api', 'be_api']] },
      paths: { ...none, add: [['api/v1/', 'be_v1']] },
    };
    await servers.apply(adds);
    expect(sent).toEqual(['add map /run/paths.map api/v1/ be_v1', 'add map /run/hosts.map api be_api']);
    sent.length = 0;
    await servers.apply({ remove: [], add: [], hosts: { ...none, delete: ['api'] }, paths: { ...none, delete: ['api/v1/'] } });
    expect(sent).toEqual(['del map /run/hosts.map api', 'del map /run/paths.map api/v1/']);
  });

  it.each([
    ['a key with a space', { ...none, add: [['api.example.com/v1/ x', 'be_x']] }],
    ['a key with a line break', { ...none, delete: ['api.example.com/v1/\nshutdown sessions server be_x/x'] }],
    ['a backend with a tab', { ...none, change: [['api.example.com/v1/', 'be\tx']] }],
    ['a key with a control character', { ...none, add: [['api.example.com/\u0000/', 'be_x']] }],
    ['an empty key', { ...none, delete: [''] }],
  ] as [string, MapChanges][])('refuses %s before sending anything, so the caller reloads', async (_, paths) => {
    const { sent, send } = socket();
    const plan = { remove: [remove], add: [add], hosts: { ...none, delete: ['old'] }, paths };
    await expect(executor(send).apply(plan)).rejects.toBeInstanceOf(CompanionError);
    await expect(executor(send).apply({ ...plan, hosts: paths, paths: none })).rejects.toThrow(/not one word/);
    expect(sent).toEqual([]);
  });

  it('lets a server with connections drain in maintenance, and deletes it once they are gone', async () => {
    let connected = true;
    const { sent, send } = socket((c) =>
      c.startsWith('del') && connected ? 'Server still has connections attached to it, cannot remove it.\n' : undefined,
    );
    const servers = executor(send);
    await servers.apply({ remove: [remove], add: [], ...noMaps });
    expect(servers.drainingServers).toEqual(['be_web/w1']);
    connected = false;
    await waitFor(() => servers.drainingServers.length === 0, { what: 'the sweep' });
    expect(sent.filter((c) => c === 'del server be_web/w1').length).toBeGreaterThanOrEqual(2);
    expect(sent).not.toContain('shutdown sessions server be_web/w1');
    servers.reset();
  });

  it('makes a draining server ready again when the same server comes back', async () => {
    const { sent, send } = socket((c) =>
      c.startsWith('del') ? 'Server still has connections attached to it, cannot remove it.\n' : undefined,
    );
    const servers = executor(send);
    await servers.apply({ remove: [remove], add: [], ...noMaps });
    await servers.apply({ remove: [], add: [remove], ...noMaps });
    expect(sent.slice(-1)).toEqual(['set server be_web/w1 state ready']);
    expect(servers.drainingServers).toEqual([]);
    servers.reset();
  });

  it('throws on any refusal, so the caller reloads', async () => {
    const refuse = socket((c) => (c.startsWith('add') ? "'init-addr' option is not accepted for dynamic server\n" : undefined));
    await expect(executor(refuse.send).apply({ remove: [], add: [add], ...noMaps })).rejects.toThrow(/not accepted for dynamic server/);
    const odd = socket((c) => (c.startsWith('set') ? 'Unknown command\n' : undefined));
    await expect(executor(odd.send).apply({ remove: [remove], add: [], ...noMaps })).rejects.toThrow(/Unknown command/);
  });

  it('runs its drain sweep in the shared queue, never in the middle of another conversation', async () => {
    let sweepMayDelete = false;
    const { sent, send } = socket((c) =>
      c.startsWith('del') && !sweepMayDelete ? 'Server still has connections attached to it, cannot remove it.\n' : undefined,
    );
    const queue = new SerialQueue();
    const servers = executor(send, queue);
    await queue.run(() => servers.apply({ remove: [remove], add: [], ...noMaps }));
    // A long conversation (a reload, say) holds the queue while the sweep's interval comes due.
    let release = () => {};
    const held = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    sweepMayDelete = true;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sent.filter((c) => c === 'del server be_web/w1')).toHaveLength(1);
    release();
    await held;
    await waitFor(() => servers.drainingServers.length === 0, { what: 'the sweep, once the queue is free' });
    servers.reset();
  });

  it('cuts the connections of a server still draining after 30 s, then deletes it', async () => {
    vi.useFakeTimers();
    try {
      let cut = false;
      const { sent, send } = socket((c) => {
        if (c.startsWith('shutdown sessions')) cut = true;
        return c.startsWith('del') && !cut ? 'Server still has connections attached to it, cannot remove it.\n' : undefined;
      });
      const servers = executor(send);
      await servers.apply({ remove: [remove], add: [], ...noMaps });
      await vi.advanceTimersByTimeAsync(29_000);
      expect(sent).not.toContain('shutdown sessions server be_web/w1');
      await vi.advanceTimersByTimeAsync(3_000);
      expect(sent).toContain('shutdown sessions server be_web/w1');
      expect(servers.drainingServers).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('queues one sweep at a time while the queue is busy, not one per interval', async () => {
    vi.useFakeTimers();
    try {
      const { sent, send } = socket((c) =>
        c.startsWith('del') ? 'Server still has connections attached to it, cannot remove it.\n' : undefined,
      );
      const queue = new SerialQueue();
      const servers = executor(send, queue);
      await queue.run(() => servers.apply({ remove: [remove], add: [], ...noMaps }));
      let release = () => {};
      const held = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
      await vi.advanceTimersByTimeAsync(10_000);
      release();
      await held;
      await vi.advanceTimersByTimeAsync(0);
      // One delete in apply, one by the single sweep that waited: not ten.
      expect(sent.filter((c) => c === 'del server be_web/w1')).toHaveLength(2);
      servers.reset();
    } finally {
      vi.useRealTimers();
    }
  });
});
