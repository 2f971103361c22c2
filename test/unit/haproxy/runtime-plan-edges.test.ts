/**
 * Edge cases of which changes go through the runtime API and which take a reload (src/haproxy/runtime-plan.ts),
 * found by mutation testing (`npm run mutate`): each is a change of the code that the other tests let
 * through. A plan that leaves a change out is worse than a reload: the files on disk say one thing and
 * HAProxy runs another until the next reload.
 */
import { describe, expect, it } from 'vitest';
import { planRuntimeUpdate, splitServers } from '../../../src/haproxy/runtime-plan.js';
import type { RenderedFiles } from '../../../src/render/render-config.js';

const files = (config: string, hostsMap = '', pathsMap = '', tls?: RenderedFiles['tls']): RenderedFiles => ({
  config,
  hostsMap,
  pathsMap,
  ...(tls ? { tls } : {}),
});
const none = { add: [], change: [], delete: [] };

/** A fleet's health-check backend and one backend with a server tracking each host (the FLEET_FALLBACK shape). */
const fleet = (hosts: Record<string, string>, trackedBy = Object.keys(hosts)) =>
  `backend fleet_hosts\n${Object.entries(hosts)
    .map(([h, address]) => `    server ${h} ${address}:80 check\n`)
    .join('')}` +
  `backend be_a\n    server s1 10.0.0.1:80\n${trackedBy.map((h) => `    server fleet:${h} 10.0.1.9:80 backup track fleet_hosts/${h}\n`).join('')}`;

describe('runtime plan edges: servers that another one tracks', () => {
  it.each<[string, string, string]>([
    ['a tracked server whose address changed', fleet({ b: '10.0.1.1' }), fleet({ b: '10.0.1.2' })],
    [
      'a tracked server whose options changed',
      fleet({ b: '10.0.1.1' }),
      fleet({ b: '10.0.1.1' }).replace(':80 check', ':80 check inter 5s'),
    ],
    ['a server that becomes tracked', fleet({ b: '10.0.1.1' }, []), fleet({ b: '10.0.1.1' })],
    ['a server that is no longer tracked', fleet({ b: '10.0.1.1' }), fleet({ b: '10.0.1.1' }, [])],
  ])('reloads for %s, rather than drop the change', (_, running, next) => {
    expect(planRuntimeUpdate(files(running), files(next))).toBeUndefined();
  });

  it('changes nothing when the servers tracking two hosts come in another order', () => {
    const running = fleet({ b: '10.0.1.1', c: '10.0.1.2' }, ['b', 'c']);
    const next = fleet({ b: '10.0.1.1', c: '10.0.1.2' }, ['c', 'b']);
    expect(planRuntimeUpdate(files(running), files(next))).toEqual({ remove: [], add: [], hosts: none, paths: none });
  });

  it('changes a server that tracks another at run time, while the tracked one stays', () => {
    const running = fleet({ b: '10.0.1.1' });
    const next = running.replace('fleet:b 10.0.1.9:80', 'fleet:b 10.0.1.8:80');
    expect(planRuntimeUpdate(files(running), files(next))).toMatchObject({
      remove: [{ backend: 'be_a', name: 'fleet:b', args: '10.0.1.9:80 backup track fleet_hosts/b' }],
      add: [{ backend: 'be_a', name: 'fleet:b', args: '10.0.1.8:80 backup track fleet_hosts/b' }],
    });
  });

  it.each<[string, string, string[]]>([
    ['`track` as the first option', 'backend x\n    server s 10.0.0.1:80 track y/t\nbackend y\n    server t 10.0.0.2:80\n', ['x/s']],
    [
      '`track` after other options',
      'backend x\n    server s 10.0.0.1:80 check track y/t inter 2s\nbackend y\n    server t 10.0.0.2:80\n',
      ['x/s'],
    ],
    [
      'a word that only ends in `track`',
      'backend x\n    server s 10.0.0.1:80 backtrack y/t\nbackend y\n    server t 10.0.0.2:80\n',
      ['x/s', 'y/t'],
    ],
    ['a server that tracks one that does not exist', 'backend x\n    server s 10.0.0.1:80 track y/none\n', ['x/s']],
  ])('reads %s', (_, config, servers) => {
    expect([...splitServers(config).servers.keys()]).toEqual(servers);
  });
});

describe('runtime plan edges: which lines are servers', () => {
  it.each<[string, string, string[]]>([
    ['a listen section’s servers', 'listen stats\n    bind :8404\n    server s1 10.0.0.1:80\n', ['stats/s1']],
    ['a server line indented with a tab', 'backend b\n\tserver s1 10.0.0.1:80\n', ['b/s1']],
    [
      'no server of a section other than backend or listen',
      'frontend f\n    server s1 10.0.0.1:80\nbackend b\n    server s2 10.0.0.2:80\n',
      ['b/s2'],
    ],
    [
      'no server after a backend, once another section starts',
      'backend b\n    server s1 10.0.0.1:80\npeers p\n    server s2 10.0.0.2:1024\n',
      ['b/s1'],
    ],
    ['no server line that is not indented', 'backend b\nserver s1 10.0.0.1:80\n', []],
    ['a backend named by its first word only', 'backend b # comment\n    server s1 10.0.0.1:80\n', ['b/s1']],
    [
      'the servers after a comment that names a section, as the backend’s',
      'backend b\n    server s1 10.0.0.1:80\n# backend other\n    server s2 10.0.0.2:80\n',
      ['b/s1', 'b/s2'],
    ],
    ['no section from a word that only starts like one', 'backend b\nbackends x\n    server s1 10.0.0.1:80\n', ['b/s1']],
  ])('takes %s', (_, config, servers) => {
    expect([...splitServers(config).servers.keys()]).toEqual(servers);
  });

  it('leaves the config without its server lines as the skeleton, a tracked server as a line of its own at the end', () => {
    const text = 'backend b\n    server s1 10.0.0.1:80\n    server s2 10.0.0.2:80 track c/t\nbackend c\n    server t 10.0.0.3:80 check\n';
    expect(splitServers(text).skeleton).toBe('backend b\nbackend c\n\ntracked server c/t 10.0.0.3:80 check');
  });

  it('keeps the server’s arguments without trailing blanks, so that trailing blanks alone change nothing', () => {
    const text = 'backend b\n    server s1 10.0.0.1:80 check  \n';
    expect(splitServers(text).servers.get('b/s1')?.args).toBe('10.0.0.1:80 check');
    expect(planRuntimeUpdate(files(text), files(text.replace('check  ', 'check')))).toEqual({
      remove: [],
      add: [],
      hosts: none,
      paths: none,
    });
  });
});

describe('runtime plan edges: map entries', () => {
  const config = 'backend b\n    server s1 10.0.0.1:80\n';
  it.each<[string, string, string, { add: [string, string][]; change: [string, string][]; delete: string[] }]>([
    ['an entry that stays is no change', 'a be_a\nb be_b\n', 'a be_a\nb be_c\n', { add: [], change: [['b', 'be_c']], delete: [] }],
    ['blank lines and lines of one word are no entries', 'a be_a\n\nlonely\n', '  a   be_a  \n', none],
    ['an entry pointed elsewhere is a change, not an add', 'a be_a\n', 'a be_b\n', { add: [], change: [['a', 'be_b']], delete: [] }],
  ])('%s', (_, before, after, hosts) => {
    expect(planRuntimeUpdate(files(config, before), files(config, after))?.hosts).toEqual(hosts);
  });
});

describe('runtime plan edges: certificates', () => {
  const config = 'frontend https\n    bind :443 ssl crt-list /run/crt-list\n';
  const tls = (pems: Record<string, string>, defaultPath: string | null = null) => ({
    list: Object.keys(pems)
      .filter((f) => f !== defaultPath)
      .map((f) => `${f}\n`)
      .join(''),
    pems: new Map(Object.entries(pems)),
    defaultPath,
  });
  const plan = (running: Record<string, string>, next: Record<string, string>) =>
    planRuntimeUpdate(files(config, '', '', tls(running)), files(config, '', '', tls(next)));

  it.each<[string, Record<string, string>, Record<string, string>, object | undefined]>([
    [
      'one added and one removed in the same pass',
      { '/c/a.pem': 'A' },
      { '/c/b.pem': 'B' },
      { add: [['/c/b.pem', 'B']], change: [], delete: ['/c/a.pem'] },
    ],
    ['one added', {}, { '/c/a.pem': 'A' }, { add: [['/c/a.pem', 'A']], change: [], delete: [] }],
    ['one removed', { '/c/a.pem': 'A' }, {}, { add: [], change: [], delete: ['/c/a.pem'] }],
    ['one renewed', { '/c/a.pem': 'A1' }, { '/c/a.pem': 'A2' }, { add: [], change: [['/c/a.pem', 'A2']], delete: [] }],
    ['none changed', { '/c/a.pem': 'A' }, { '/c/a.pem': 'A' }, undefined],
  ])('plans %s', (_, running, next, certificates) => {
    const result = plan(running, next);
    expect(result).toBeDefined();
    expect(result?.certificates).toEqual(certificates);
  });

  it('plans a change of a certificate other than the default at run time, also when there is a default certificate', () => {
    const running = tls({ '/c/a.pem': 'A', '/c/d.pem': 'D' }, '/c/d.pem');
    const next = tls({ '/c/a.pem': 'A2', '/c/d.pem': 'D' }, '/c/d.pem');
    expect(planRuntimeUpdate(files(config, '', '', running), files(config, '', '', next))?.certificates).toEqual({
      add: [],
      change: [['/c/a.pem', 'A2']],
      delete: [],
    });
  });

  it('plans no certificates while HTTPS is off on both sides', () => {
    expect(planRuntimeUpdate(files(config), files(config))).toEqual({ remove: [], add: [], hosts: none, paths: none });
  });
});
