import { describe, expect, it } from 'vitest';
import { answerRefusal, type InspectedCompanion, refusalOf, sameRole, statusUrlsOf } from '../../../src/docker/successor-rules.js';

// The image's own entrypoint (Dockerfile), which a container run without --entrypoint carries.
const ENTRYPOINT = ['/usr/bin/tini', '--', 'node', '--lite-mode', '--disable-warning=DEP0169', '/app/bundle/main.cjs'];
const ROLE = ['DOMAIN_NAME=example.com', 'HOSTED_ZONE_ID=Z1', 'HOST_ID=host-a', 'CONTAINER_LABEL_FILTER=env=prod'];
const ID = 'c'.repeat(64);
// The environment the image sets (Dockerfile, and node's base image), which a container inherits.
const IMAGE_ENV = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'NODE_VERSION=24.11.1',
  'NODE_ENV=production',
  'NODE_OPTIONS=--max-semi-space-size=1 --v8-pool-size=1',
];
// What the Dockerfile's comment suggests an operator may set.
const OPERATOR_OPTIONS = '--max-semi-space-size=1 --v8-pool-size=1 --enable-source-maps';

function container(changes: { Id?: string; Image?: string; Env?: string[]; Entrypoint?: string[] | null; Cmd?: string[] | null } = {}) {
  return {
    Id: changes.Id ?? ID,
    Name: '/companion-new',
    Config: {
      Image: changes.Image ?? 'haproxy-companion:1.1',
      Env: changes.Env ?? ROLE,
      Entrypoint: changes.Entrypoint === undefined ? ENTRYPOINT : changes.Entrypoint,
      Cmd: changes.Cmd ?? null,
    },
    State: { Running: true, Paused: false, Restarting: false },
    HostConfig: { NetworkMode: 'host' },
    NetworkSettings: { Networks: {} },
  } satisfies InspectedCompanion;
}
const self = container({ Id: 's'.repeat(64), Image: 'haproxy-companion:1.0' });

describe('sameRole: a container that claims to replace this companion', () => {
  it.each([
    ['another tag of the same repository, same zone, hosted zone, label filter and host id', container(), true],
    ['another image', container({ Image: 'myapp:2' }), false],
    [
      'another label filter (one companion per environment)',
      container({ Env: [...ROLE.slice(0, 3), 'CONTAINER_LABEL_FILTER=env=staging'] }),
      false,
    ],
    ['no label filter where this one has one', container({ Env: ROLE.slice(0, 3) }), false],
    ['another host id', container({ Env: ['DOMAIN_NAME=example.com', 'HOSTED_ZONE_ID=Z1', 'HOST_ID=host-b', ROLE[3] as string] }), false],
    ['another zone', container({ Env: ['DOMAIN_NAME=example.org', ...ROLE.slice(1)] }), false],
  ])('%s', (_, candidate, expected) => {
    expect(sameRole(self, candidate)).toBe(expected);
  });
});

describe('refusalOf: what rules a container out as a companion before it is asked anything', () => {
  it.each([
    ['the image run as it is (an upgrade, Compose, by hand)', container(), undefined],
    ['the `run` command, which is the default', container({ Cmd: ['run'] }), undefined],
    ['a decoy: `--entrypoint sleep haproxy-companion 3600`', container({ Entrypoint: ['sleep'], Cmd: ['3600'] }), /entrypoint/],
    ['a shell: `--entrypoint sh`', container({ Entrypoint: ['sh'], Cmd: ['-c', 'sleep 1d'] }), /entrypoint/],
    ['HAProxy alone: `--entrypoint haproxy`', container({ Entrypoint: ['haproxy'], Cmd: ['-f', '/x.cfg'] }), /entrypoint/],
    ['no entrypoint at all (`--entrypoint ""`)', container({ Entrypoint: null, Cmd: ['sleep', '3600'] }), /entrypoint/],
    ['node running another script', container({ Entrypoint: ['/usr/bin/tini', '--', 'node', '/tmp/fake.cjs'] }), /entrypoint/],
    ['the dry run (prints, applies nothing, exits)', container({ Cmd: ['dry-run'] }), /command/],
    ['the upgrade command', container({ Cmd: ['upgrade', 'companion'] }), /command/],
  ])('%s', (_, candidate, expected) => {
    const refusal = refusalOf(candidate, IMAGE_ENV);
    if (expected === undefined) expect(refusal).toBeUndefined();
    else expect(refusal).toMatch(expected);
  });

  it('refuses a paused or restarting container: it serves nothing now', () => {
    expect(refusalOf({ ...container(), State: { Running: true, Paused: true } }, IMAGE_ENV)).toMatch(/paused/);
    expect(refusalOf({ ...container(), State: { Running: true, Restarting: true } }, IMAGE_ENV)).toMatch(/restarting/);
  });
});

describe('refusalOf: a candidate that would make node run code its image did not bring', () => {
  const withEnv = (...env: string[]) => container({ Env: [...IMAGE_ENV, ...ROLE, ...env] });
  const decoy = `NODE_OPTIONS=--import=data:text/javascript;base64,${Buffer.from('/* answers /healthz */').toString('base64')}`;
  it.each([
    ['the image’s own NODE_OPTIONS, inherited', container({ Env: [...IMAGE_ENV, ...ROLE] }), undefined],
    ['an operator’s NODE_OPTIONS (the Dockerfile’s, plus source maps)', withEnv(`NODE_OPTIONS=${OPERATOR_OPTIONS}`), undefined],
    [
      'NODE_OPTIONS with memory and warning flags only',
      withEnv('NODE_OPTIONS=--max-old-space-size=256 --no-warnings --title=x'),
      undefined,
    ],
    ['a decoy: NODE_OPTIONS=--import=data:… answering /healthz itself', withEnv(decoy), /NODE_OPTIONS.*--import/],
    ['--import with its value apart', withEnv('NODE_OPTIONS=--max-semi-space-size=1 --import /data/x.mjs'), /--import/],
    ['--require', withEnv('NODE_OPTIONS=--require=/data/x.cjs'), /--require/],
    ['-r', withEnv('NODE_OPTIONS=-r /data/x.cjs'), /-r\b/],
    ['--loader', withEnv('NODE_OPTIONS=--loader=/data/x.mjs'), /--loader/],
    ['--experimental-loader', withEnv('NODE_OPTIONS=--experimental-loader /data/x.mjs'), /--experimental-loader/],
    ['a flag spelt with underscores', withEnv('NODE_OPTIONS=--experimental_loader=/data/x.mjs'), /--experimental-loader/],
    ['a flag in quotes, as Node reads them', withEnv('NODE_OPTIONS="--imp"ort=/data/x.mjs'), /--import/],
    ['a startup snapshot of its own', withEnv('NODE_OPTIONS=--snapshot-blob=/data/snap.blob'), /--snapshot-blob/],
    ['an OpenSSL configuration (which loads modules)', withEnv('NODE_OPTIONS=--openssl-config=/data/openssl.cnf'), /--openssl-config/],
    ['the inspector (anyone reaching it runs code)', withEnv('NODE_OPTIONS=--inspect=0.0.0.0:9229'), /--inspect/],
    ['LD_PRELOAD', withEnv('LD_PRELOAD=/data/x.so'), /LD_PRELOAD/],
    ['LD_LIBRARY_PATH', withEnv('LD_LIBRARY_PATH=/data'), /LD_LIBRARY_PATH/],
    ['NODE_PATH', withEnv('NODE_PATH=/data'), /NODE_PATH/],
    ['NODE_COMPILE_CACHE (compiled code read back)', withEnv('NODE_COMPILE_CACHE=/data/cache'), /NODE_COMPILE_CACHE/],
    ['OPENSSL_CONF', withEnv('OPENSSL_CONF=/data/openssl.cnf'), /OPENSSL_CONF/],
    ['a PATH where another `node` comes first', container({ Env: [...ROLE, 'PATH=/data:/usr/local/bin:/usr/bin'] }), /PATH/],
  ])('%s', (_, candidate, expected) => {
    const refusal = refusalOf(candidate, IMAGE_ENV);
    if (expected === undefined) expect(refusal).toBeUndefined();
    else expect(refusal).toMatch(expected);
  });

  it('takes a code-loading value the image itself sets: the image brought it', () => {
    const image = [...IMAGE_ENV, 'LD_PRELOAD=/usr/lib/libjemalloc.so.2'];
    expect(refusalOf(container({ Env: [...image, ...ROLE] }), image)).toBeUndefined();
  });
});

describe('refusalOf: a candidate whose mounts cover the image’s program', () => {
  const mounted = (mounts: Partial<InspectedCompanion>) => ({ ...container({ Env: [...IMAGE_ENV, ...ROLE] }), ...mounts });
  it.each([
    [
      'the Docker socket and a certificates directory',
      mounted({ Mounts: [{ Destination: '/var/run/docker.sock' }, { Destination: '/certs' }] }),
      undefined,
    ],
    ['a bind mount over /app', mounted({ Mounts: [{ Destination: '/app' }] }), /\/app/],
    ['a bind mount over the bundle alone', mounted({ Mounts: [{ Destination: '/app/bundle/main.cjs' }] }), /\/app\/bundle\/main\.cjs/],
    ['a volume over the node binary’s directory', mounted({ Mounts: [{ Destination: '/usr/local/bin/' }] }), /\/usr\/local\/bin/],
    ['a mount over tini', mounted({ Mounts: [{ Destination: '/usr/bin/tini' }] }), /tini/],
    ['a mount over the shared libraries', mounted({ Mounts: [{ Destination: '/usr/lib/x86_64-linux-gnu' }] }), /\/usr\/lib/],
    ['a mount over the loader’s preload file', mounted({ Mounts: [{ Destination: '/etc/ld.so.preload' }] }), /ld\.so\.preload/],
    [
      'a bind named only in HostConfig.Binds',
      mounted({ HostConfig: { NetworkMode: 'host', Binds: ['/tmp/fake:/app/bundle:ro'] } }),
      /\/app/,
    ],
    ['a mount named only in HostConfig.Mounts', mounted({ HostConfig: { NetworkMode: 'host', Mounts: [{ Target: '/app' }] } }), /\/app/],
    ['a tmpfs over /app', mounted({ HostConfig: { NetworkMode: 'host', Tmpfs: { '/app': 'rw' } } }), /\/app/],
    ['a path spelt with dots', mounted({ Mounts: [{ Destination: '/srv/../app/./bundle' }] }), /\/app/],
  ])('%s', (_, candidate, expected) => {
    const refusal = refusalOf(candidate, IMAGE_ENV);
    if (expected === undefined) expect(refusal).toBeUndefined();
    else expect(refusal).toMatch(expected);
  });
});

describe('statusUrlsOf: where the candidate’s own status endpoint answers', () => {
  const bridged = (env: string[], networks: Record<string, { IPAddress?: string; GlobalIPv6Address?: string }>) => ({
    ...container({ Env: [...ROLE, ...env] }),
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Networks: networks },
  });
  const local = ['127.0.0.1', '10.0.0.21', '::1'];

  it.each([
    ['host network both, the default loopback address and port', container(), ['http://127.0.0.1:8404/healthz']],
    ['host network both, its STATUS_PORT', container({ Env: [...ROLE, 'STATUS_PORT=9000'] }), ['http://127.0.0.1:9000/healthz']],
    ['host network both, 0.0.0.0', container({ Env: [...ROLE, 'STATUS_ADDRESS=0.0.0.0'] }), ['http://127.0.0.1:8404/healthz']],
    ['host network both, ::', container({ Env: [...ROLE, 'STATUS_ADDRESS=::'] }), ['http://[::1]:8404/healthz']],
    [
      'host network both, one of this host’s addresses',
      container({ Env: [...ROLE, 'STATUS_ADDRESS=10.0.0.21'] }),
      ['http://10.0.0.21:8404/healthz'],
    ],
    [
      'its own network, listening on every address',
      bridged(['STATUS_ADDRESS=0.0.0.0'], { companion: { IPAddress: '172.18.0.5', GlobalIPv6Address: 'fd00::5' } }),
      ['http://172.18.0.5:8404/healthz'],
    ],
    [
      'its own network, listening on ::',
      bridged(['STATUS_ADDRESS=::'], { companion: { IPAddress: '172.18.0.5', GlobalIPv6Address: 'fd00::5' } }),
      ['http://172.18.0.5:8404/healthz', 'http://[fd00::5]:8404/healthz'],
    ],
    [
      'its own network, listening on its address',
      bridged(['STATUS_ADDRESS=172.18.0.5'], { a: { IPAddress: '172.18.0.5' } }),
      ['http://172.18.0.5:8404/healthz'],
    ],
  ])('%s', (_, candidate, urls) => {
    expect(statusUrlsOf(self, candidate, local)).toEqual({ urls });
  });

  it.each([
    ['its status endpoint off', container({ Env: [...ROLE, 'STATUS_PORT=0'] }), /STATUS_PORT=0/],
    ['a STATUS_PORT it could not start with', container({ Env: [...ROLE, 'STATUS_PORT=http'] }), /invalid/],
    // A container chooses its env: never a request to an address this host does not have (instance metadata).
    [
      'an address that is not this host’s',
      container({ Env: [...ROLE, 'STATUS_ADDRESS=169.254.169.254', 'STATUS_PORT=80'] }),
      /not one of this host/,
    ],
    ['its own network, listening on its loopback', bridged([], { companion: { IPAddress: '172.18.0.5' } }), /loopback/],
    [
      'its own network, an address it does not have',
      bridged(['STATUS_ADDRESS=169.254.169.254'], { a: { IPAddress: '172.18.0.5' } }),
      /not one of its/,
    ],
    ['its own network without an address', bridged(['STATUS_ADDRESS=0.0.0.0'], {}), /no address/],
  ])('refuses: %s', (_, candidate, reason) => {
    const result = statusUrlsOf(self, candidate, local);
    expect('refusal' in result && result.refusal).toMatch(reason);
  });

  it('refuses a candidate on the host network when this companion has a network of its own (its loopback is not the host’s)', () => {
    const bridgedSelf = { ...self, HostConfig: { NetworkMode: 'bridge' } };
    const result = statusUrlsOf(bridgedSelf, container(), local);
    expect('refusal' in result && result.refusal).toMatch(/host network/);
  });
});

describe('answerRefusal: only a live companion answers /healthz healthy with its own container id', () => {
  const answer = (status: number, body: unknown) => ({ status, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it.each([
    ['healthy, its own id', answer(200, { healthy: true, haproxyRunning: true, dockerConnected: true, container: ID }), undefined],
    // Two companions of the host network share the port: the one answering may be another one (this one, not yet gone).
    ['healthy, another container’s id', answer(200, { healthy: true, container: 'd'.repeat(64) }), /another container/],
    // A decoy that only listens on the port.
    ['healthy without an id', answer(200, { healthy: true }), /another container|no container id/],
    ['not healthy', answer(503, { healthy: false, haproxyRunning: false, dockerConnected: true, container: ID }), /503/],
    ['not JSON', answer(200, 'OK'), /not a companion's/],
    ['healthy false with a 200', answer(200, { healthy: false, container: ID }), /not healthy/],
  ])('%s', (_, response, expected) => {
    const refusal = answerRefusal(response, ID);
    if (expected === undefined) expect(refusal).toBeUndefined();
    else expect(refusal).toMatch(expected);
  });
});
