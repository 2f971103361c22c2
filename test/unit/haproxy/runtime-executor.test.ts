import { describe, expect, it, vi } from 'vitest';
import { RuntimeExecutor } from '../../../src/haproxy/runtime-executor.js';
import { SerialQueue } from '../../../src/lib/serial-queue.js';
import { waitFor } from '../../helpers/wait-for.js';

const MAP = '/run/hosts.map';
const noHosts = { addHosts: [], changeHosts: [], deleteHosts: [] };
const executor = (send: (command: string) => Promise<string>, queue = new SerialQueue()) => new RuntimeExecutor(send, MAP, queue);

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
    await executor(send).apply({ remove: [remove], add: [add], ...noHosts });
    expect(sent).toEqual([
      'set server be_web/w1 state maint',
      'del server be_web/w1',
      'add server be_web/w2 10.0.0.2:8080 check inter 2s',
      'enable server be_web/w2',
      'enable health be_web/w2',
    ]);
  });

  it('routes a new host only once its servers are in, and stops routing a gone host before its servers go', async () => {
    const { sent, send } = socket();
    await executor(send).apply({
      remove: [remove],
      add: [add],
      addHosts: [['web', 'be_web']],
      changeHosts: [['api', 'spare_001']],
      deleteHosts: ['old'],
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

  it('lets a server with connections drain in maintenance, and deletes it once they are gone', async () => {
    let connected = true;
    const { sent, send } = socket((c) =>
      c.startsWith('del') && connected ? 'Server still has connections attached to it, cannot remove it.\n' : undefined,
    );
    const servers = executor(send);
    await servers.apply({ remove: [remove], add: [], ...noHosts });
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
    await servers.apply({ remove: [remove], add: [], ...noHosts });
    await servers.apply({ remove: [], add: [remove], ...noHosts });
    expect(sent.slice(-1)).toEqual(['set server be_web/w1 state ready']);
    expect(servers.drainingServers).toEqual([]);
    servers.reset();
  });

  it('throws on any refusal, so the caller reloads', async () => {
    const refuse = socket((c) => (c.startsWith('add') ? "'init-addr' option is not accepted for dynamic server\n" : undefined));
    await expect(executor(refuse.send).apply({ remove: [], add: [add], ...noHosts })).rejects.toThrow(/not accepted for dynamic server/);
    const odd = socket((c) => (c.startsWith('set') ? 'Unknown command\n' : undefined));
    await expect(executor(odd.send).apply({ remove: [remove], add: [], ...noHosts })).rejects.toThrow(/Unknown command/);
  });

  it('runs its drain sweep in the shared queue, never in the middle of another conversation', async () => {
    let sweepMayDelete = false;
    const { sent, send } = socket((c) =>
      c.startsWith('del') && !sweepMayDelete ? 'Server still has connections attached to it, cannot remove it.\n' : undefined,
    );
    const queue = new SerialQueue();
    const servers = executor(send, queue);
    await queue.run(() => servers.apply({ remove: [remove], add: [], ...noHosts }));
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
      await servers.apply({ remove: [remove], add: [], ...noHosts });
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
      await queue.run(() => servers.apply({ remove: [remove], add: [], ...noHosts }));
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
