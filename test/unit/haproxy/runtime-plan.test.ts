import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { planRuntimeUpdate, splitServers } from '../../../src/haproxy/runtime-plan.js';

const golden = (name: string) => readFile(new URL(`../render/golden/${name}.cfg`, import.meta.url), 'utf8');
const files = (config: string, hostsMap = '', pathsMap = '') => ({ config, hostsMap, pathsMap });
const none = { add: [], change: [], delete: [] };
const noMaps = { hosts: none, paths: none };

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
      ...noMaps,
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
      hosts: { add: [['fresh', 'spare_001']], change: [['login', 'spare_002']], delete: ['old'] },
      paths: none,
    });
  });

  it('plans paths map entries the same way, apart from the host map: a change of paths alone is a runtime plan', async () => {
    const base = await golden('login-and-publish');
    const hosts = 'api.example.com be_api\n';
    const before = 'api.example.com/v1/ spare_001\napi.example.com/v2/ spare_002\nold.example.com/x/ spare_003\n';
    const after = 'api.example.com/v1/ spare_001\napi.example.com/v2/ spare_004\napi.example.com/v3/ spare_005\n';
    expect(planRuntimeUpdate(files(base, hosts, before), files(base, hosts, after))).toEqual({
      remove: [],
      add: [],
      hosts: none,
      paths: {
        add: [['api.example.com/v3/', 'spare_005']],
        change: [['api.example.com/v2/', 'spare_004']],
        delete: ['old.example.com/x/'],
      },
    });
  });

  it('keeps the two maps apart: the same key in each is two entries', async () => {
    const base = await golden('login-and-publish');
    const plan = planRuntimeUpdate(files(base, 'a be_a\n', ''), files(base, '', 'a be_a\n'));
    expect(plan).toMatchObject({ hosts: { add: [], delete: ['a'] }, paths: { add: [['a', 'be_a']], delete: [] } });
  });

  it('parses each set of files once, paths map included: rendered files are never changed once made', async () => {
    const base = await golden('login-and-publish');
    const running = files(base, 'a be_a\n', 'a/p/ be_a\n');
    const next = files(base, 'a be_a\n', 'a/q/ be_a\n');
    const plan = planRuntimeUpdate(running, next);
    expect(plan?.paths).toEqual({ add: [['a/q/', 'be_a']], change: [], delete: ['a/p/'] });
    // Were they changed all the same, the remembered parse would still answer (which is how we see it is remembered).
    next.pathsMap = 'a/r/ be_a\n';
    expect(planRuntimeUpdate(running, next)).toEqual(plan);
  });

  it('changes a server that another one tracks by a reload: HAProxy cannot track a server added at run time', () => {
    const hosts = (names: string[]) => `backend fleet_hosts\n${names.map((h, i) => `    server ${h} 10.0.1.${i + 1}:80 check\n`).join('')}`;
    const backend = (name: string, tracking: string[]) =>
      `backend ${name}\n    server s1 10.0.0.1:80\n${tracking.map((h) => `    server fleet:${h} 10.0.1.9:80 backup track fleet_hosts/${h}\n`).join('')}`;
    const one = hosts(['b']) + backend('be_a', ['b']) + backend('be_c', []);
    expect([...splitServers(one).servers.keys()]).toEqual(['be_a/s1', 'be_a/fleet:b', 'be_c/s1']);
    // A new host to check, with a server tracking it: a reload.
    expect(planRuntimeUpdate(files(one), files(hosts(['b', 'd']) + backend('be_a', ['b', 'd']) + backend('be_c', [])))).toBeUndefined();
    // One more server tracking a host already checked: at run time.
    const two = hosts(['b']) + backend('be_a', ['b']) + backend('be_c', ['b']);
    expect(planRuntimeUpdate(files(one), files(two))?.add.map((s) => `${s.backend}/${s.name}`)).toEqual(['be_c/fleet:b']);
  });

  it('does not mistake default-server or comments for servers', () => {
    const text = 'backend b\n    default-server check\n    # server old 1.2.3.4:80\n    server s1 10.0.0.1:80\n';
    expect([...splitServers(text).servers.keys()]).toEqual(['b/s1']);
    expect(planRuntimeUpdate(files(text), files(text.replace('default-server check', 'default-server inter 1s')))).toBeUndefined();
  });

  it('plans certificates to add, renew and remove; another default certificate or HTTPS turned on takes a reload', async () => {
    const config = await golden('https');
    const tls = (pems: Record<string, string>, defaultPath: string | null = null) => ({
      list: Object.keys(pems)
        .filter((f) => f !== defaultPath)
        .map((f) => `${f}\n`)
        .join(''),
      pems: new Map(Object.entries(pems)),
      defaultPath,
    });
    const withTls = (t: ReturnType<typeof tls>) => ({ ...files(config), tls: t });
    const before = withTls(tls({ '/c/a.pem': 'A1', '/c/b.pem': 'B1' }));
    expect(planRuntimeUpdate(before, withTls(tls({ '/c/a.pem': 'A1', '/c/b.pem': 'B1' })))).toEqual({ remove: [], add: [], ...noMaps });
    expect(planRuntimeUpdate(before, withTls(tls({ '/c/a.pem': 'A2', '/c/c.pem': 'C1' })))?.certificates).toEqual({
      add: [['/c/c.pem', 'C1']],
      change: [['/c/a.pem', 'A2']],
      delete: ['/c/b.pem'],
    });
    expect(planRuntimeUpdate(before, withTls(tls({ '/c/a.pem': 'A1', '/c/b.pem': 'B1' }, '/c/a.pem')))).toBeUndefined();
    expect(planRuntimeUpdate(files(config), before)).toBeUndefined();
    expect(planRuntimeUpdate(before, files(config))).toBeUndefined();
  });
});
