import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { planRuntimeUpdate, splitServers } from '../../../src/haproxy/runtime-plan.js';

const golden = (name: string) => readFile(new URL(`../render/golden/${name}.cfg`, import.meta.url), 'utf8');
const files = (config: string, hostsMap = '') => ({ config, hostsMap });
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
    expect(planRuntimeUpdate(files(three), files(two))).toEqual({
      remove: [{ backend: 'be_web', name: 'app-web-2', args: '172.17.0.12:8080 check inter 2s fall 2 rise 2' }],
      add: [],
      ...noHosts,
    });
    expect(planRuntimeUpdate(files(two), files(three))?.add.map((s) => s.name)).toEqual(['app-web-2']);
    // A changed address is a remove and an add of the same name.
    expect(planRuntimeUpdate(files(three), files(moved))).toMatchObject({
      remove: [{ name: 'app-web-3' }],
      add: [{ name: 'app-web-3', args: expect.stringMatching(/^172\.17\.0\.99:8080/) }],
    });
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
