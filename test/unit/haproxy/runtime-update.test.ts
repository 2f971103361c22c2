import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { planRuntimeUpdate, RuntimeUpdater, splitServers } from '../../../src/haproxy/runtime-update.js';
import { waitFor } from '../../helpers/wait-for.js';

const golden = (name: string) => readFile(new URL(`../render/golden/${name}.cfg`, import.meta.url), 'utf8');
const files = (config: string, hostsMap = '') => ({ config, hostsMap });
const MAP = '/run/hosts.map';
const noHosts = { addHosts: [], changeHosts: [], deleteHosts: [] };

describe('planRuntimeUpdate', () => {
  it('finds the server lines of each backend', async () => {
    const { servers } = splitServers(await golden('three-servers-one-backend'));
    expect([...servers.keys()]).toEqual(['be_web/app-web-1', 'be_web/app-web-2', 'be_web/app-web-3']);
    expect(servers.get('be_web/app-web-1')!.args).toBe('172.17.0.11:8080 check inter 2s fall 2 rise 2');
  });

  it('plans adds and removes when only servers changed', async () => {
    const three = await golden('three-servers-one-backend');
    const two = three.replace(/\n {4}server app-web-2 .*/, '');
    const moved = three.replace('172.17.0.13:8080', '172.17.0.99:8080');
    expect(planRuntimeUpdate(files(three), files(two))).toEqual({ remove: [{ backend: 'be_web', name: 'app-web-2', args: '172.17.0.12:8080 check inter 2s fall 2 rise 2' }], add: [], ...noHosts });
    expect(planRuntimeUpdate(files(two), files(three))?.add.map((s) => s.name)).toEqual(['app-web-2']);
    // A changed address is a remove and an add of the same name.
    expect(planRuntimeUpdate(files(three), files(moved))).toMatchObject({ remove: [{ name: 'app-web-3' }], add: [{ name: 'app-web-3', args: expect.stringMatching(/^172\.17\.0\.99:8080/) }] });
  });

  it('refuses (reload needed) when a backend, a frontend rule or any other line changed', async () => {
    const base = await golden('login-and-publish');
    expect(planRuntimeUpdate(files(base), files(await golden('three-servers-one-backend')))).toBeUndefined();
    expect(planRuntimeUpdate(files(base), files(base.replace('timeout client 60s', 'timeout client 61s')))).toBeUndefined();
    expect(planRuntimeUpdate(files(base), files(base.replace('backend spare_032\n', '')))).toBeUndefined();
  });

  it('plans host map entries to add, point elsewhere and delete, when the config is otherwise the same', async () => {
    const base = await golden('login-and-publish');
    const before = 'login be_login\nlogin.example.com be_login\nold be_old\n';
    const after = 'fresh spare_001\nlogin spare_002\nlogin.example.com be_login\n';
    expect(planRuntimeUpdate(files(base, before), files(base, after))).toEqual({
      remove: [],
      add: [],
      addHosts: [['fresh', 'spare_001']],
      changeHosts: [['login', 'spare_002']],
      deleteHosts: ['old'],
    });
  });

  it('does not mistake default-server or comments for servers', () => {
    const text = 'backend b\n    default-server check\n    # server old 1.2.3.4:80\n    server s1 10.0.0.1:80\n';
    expect([...splitServers(text).servers.keys()]).toEqual(['b/s1']);
    expect(planRuntimeUpdate(files(text), files(text.replace('default-server check', 'default-server inter 1s')))).toBeUndefined();
  });
});

describe('RuntimeUpdater', () => {
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
    await new RuntimeUpdater(send, MAP).apply({ remove: [remove], add: [add], ...noHosts });
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
    await new RuntimeUpdater(send, MAP).apply({ remove: [remove], add: [add], addHosts: [['web', 'be_web']], changeHosts: [['api', 'spare_001']], deleteHosts: ['old'] });
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
    const { sent, send } = socket((c) => (c.startsWith('del') && connected ? 'Server still has connections attached to it, cannot remove it.\n' : undefined));
    const servers = new RuntimeUpdater(send, MAP);
    await servers.apply({ remove: [remove], add: [], ...noHosts });
    expect(servers.drainingServers).toEqual(['be_web/w1']);
    connected = false;
    await waitFor(() => servers.drainingServers.length === 0, { what: 'the sweep' });
    expect(sent.filter((c) => c === 'del server be_web/w1').length).toBeGreaterThanOrEqual(2);
    expect(sent).not.toContain('shutdown sessions server be_web/w1');
    servers.reset();
  });

  it('makes a draining server ready again when the same server comes back', async () => {
    const { sent, send } = socket((c) => (c.startsWith('del') ? 'Server still has connections attached to it, cannot remove it.\n' : undefined));
    const servers = new RuntimeUpdater(send, MAP);
    await servers.apply({ remove: [remove], add: [], ...noHosts });
    await servers.apply({ remove: [], add: [remove], ...noHosts });
    expect(sent.slice(-1)).toEqual(['set server be_web/w1 state ready']);
    expect(servers.drainingServers).toEqual([]);
    servers.reset();
  });

  it('throws on any refusal, so the caller reloads', async () => {
    const refuse = socket((c) => (c.startsWith('add') ? "'init-addr' option is not accepted for dynamic server\n" : undefined));
    await expect(new RuntimeUpdater(refuse.send, MAP).apply({ remove: [], add: [add], ...noHosts })).rejects.toThrow(/not accepted for dynamic server/);
    const odd = socket((c) => (c.startsWith('set') ? 'Unknown command\n' : undefined));
    await expect(new RuntimeUpdater(odd.send, MAP).apply({ remove: [remove], add: [], ...noHosts })).rejects.toThrow(/Unknown command/);
  });
});
