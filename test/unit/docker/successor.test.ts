import { describe, expect, it } from 'vitest';
import { otherCompanion } from '../../../src/docker/successor.js';

const ROLE = ['DOMAIN_NAME=example.com', 'HOSTED_ZONE_ID=Z1', 'HOST_ID=host-a'];
const ENTRYPOINT = ['/usr/bin/tini', '--', 'node', '--lite-mode', '--disable-warning=DEP0169', '/app/bundle/main.cjs'];

// What the image sets (Dockerfile), which every container of it inherits unless it sets its own.
const IMAGE_ENV = ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_OPTIONS=--max-semi-space-size=1 --v8-pool-size=1'];

interface Fake {
  Id: string;
  Name: string;
  Image: string;
  Env: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Mounts?: Array<{ Destination: string }>;
}

/** Docker's answers for these containers; images named in `gone` were removed meanwhile. */
function docker(containers: Fake[], gone: string[] = []) {
  return {
    listContainers: async () => containers.map(({ Id, Image }) => ({ Id, Image })),
    getContainer: (id: string) => ({
      inspect: async () => {
        const c = containers.find((x) => x.Id === id) as Fake;
        // Docker's merge: the container's own values over the image's.
        const keys = new Set(c.Env.map((entry) => entry.split('=')[0]));
        const env = [...IMAGE_ENV.filter((entry) => !keys.has(entry.split('=')[0])), ...c.Env];
        return {
          Id: id,
          Name: `/${c.Name}`,
          Image: `sha256:${c.Image}`,
          Config: { Image: c.Image, Env: env, Entrypoint: c.Entrypoint ?? ENTRYPOINT, Cmd: c.Cmd ?? null },
          State: { Running: true },
          HostConfig: { NetworkMode: 'host' },
          Mounts: c.Mounts ?? [],
        };
      },
    }),
    getImage: (id: string) => ({
      inspect: async () => {
        if (gone.includes(id.replace(/^sha256:/, ''))) throw new Error(`(HTTP code 404) no such image: ${id}`);
        return { Id: id, Config: { Env: IMAGE_ENV } };
      },
    }),
  };
}

/** The status port of the host network: who answers /healthz there, if anyone. */
function statusPort(answers: () => { status: number; body: string } | undefined) {
  const asked: string[] = [];
  return {
    asked,
    ask: async (url: string) => {
      asked.push(url);
      const answer = answers();
      if (answer === undefined) throw new Error('connect ECONNREFUSED 127.0.0.1:8404');
      return answer;
    },
  };
}

function logger() {
  const warnings: Array<Record<string, unknown>> = [];
  return { warnings, log: { warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ ...fields, msg }) } };
}

const healthy = (id: string) => ({
  status: 200,
  body: JSON.stringify({ healthy: true, haproxyRunning: true, dockerConnected: true, container: id }),
});
const self: Fake = { Id: 'self', Name: 'companion', Image: 'haproxy-companion:1.0', Env: [...ROLE, 'PATH=/usr/bin'] };
const fast = { proofMs: 300, pollMs: 10, localAddresses: () => ['127.0.0.1'] };

describe('otherCompanion', () => {
  it('finds a companion of the same repository and role that answers as itself (an upgrade in progress)', async () => {
    const next = { Id: 'next', Name: 'companion-new', Image: 'haproxy-companion:1.1', Env: ROLE };
    const port = statusPort(() => healthy('next'));
    const { log } = logger();
    expect(await otherCompanion(docker([self, next]), 'self', { ...fast, log, ask: port.ask })).toBe('companion-new');
    expect(port.asked[0]).toBe('http://127.0.0.1:8404/healthz');
  });

  it('waits for a successor whose status endpoint binds only once this companion let the port go', async () => {
    const next = { Id: 'next', Name: 'companion-new', Image: 'haproxy-companion:1.1', Env: ROLE };
    let asks = 0;
    const port = statusPort(() => (++asks < 3 ? undefined : asks < 5 ? healthy('self') : healthy('next')));
    const { log } = logger();
    expect(await otherCompanion(docker([self, next]), 'self', { ...fast, proofMs: 5_000, log, ask: port.ask })).toBe('companion-new');
  });

  it('ignores itself, other images, and companions of another role (another label filter, zone or host id)', async () => {
    const others = [
      { Id: 'app', Name: 'app', Image: 'myapp:2', Env: ROLE },
      { Id: 'staging', Name: 'companion-staging', Image: 'haproxy-companion:1.0', Env: [...ROLE, 'CONTAINER_LABEL_FILTER=env=staging'] },
      {
        Id: 'other-zone',
        Name: 'companion-b',
        Image: 'haproxy-companion:1.0',
        Env: ['DOMAIN_NAME=example.org', 'HOSTED_ZONE_ID=Z1', 'HOST_ID=host-a'],
      },
    ];
    const port = statusPort(() => healthy('staging'));
    const { log, warnings } = logger();
    expect(await otherCompanion(docker([self, ...others]), 'self', { ...fast, log, ask: port.ask })).toBeUndefined();
    expect(port.asked).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('refuses a decoy: the image run with `--entrypoint sleep` and the same environment, and says so', async () => {
    const decoy = { Id: 'decoy', Name: 'decoy', Image: 'haproxy-companion:1.0', Env: ROLE, Entrypoint: ['sleep'], Cmd: ['3600'] };
    const port = statusPort(() => undefined);
    const { log, warnings } = logger();
    expect(await otherCompanion(docker([self, decoy]), 'self', { ...fast, log, ask: port.ask })).toBeUndefined();
    expect(port.asked).toEqual([]);
    expect(warnings).toEqual([expect.objectContaining({ candidate: 'decoy', reason: expect.stringMatching(/entrypoint/) })]);
  });

  it('refuses a candidate whose command replaces the companion’s (`dry-run`)', async () => {
    const decoy = { Id: 'decoy', Name: 'decoy', Image: 'haproxy-companion:1.0', Env: ROLE, Cmd: ['dry-run'] };
    const { log, warnings } = logger();
    expect(await otherCompanion(docker([self, decoy]), 'self', { ...fast, log, ask: statusPort(() => undefined).ask })).toBeUndefined();
    expect(warnings).toEqual([expect.objectContaining({ candidate: 'decoy', reason: expect.stringMatching(/command/) })]);
  });

  it('refuses a candidate that does not answer within the bound, or answers as someone else', async () => {
    const silent = { Id: 'silent', Name: 'silent', Image: 'haproxy-companion:1.0', Env: ROLE };
    const { log, warnings } = logger();
    expect(await otherCompanion(docker([self, silent]), 'self', { ...fast, log, ask: statusPort(() => undefined).ask })).toBeUndefined();
    expect(warnings).toEqual([expect.objectContaining({ candidate: 'silent', reason: expect.stringMatching(/ECONNREFUSED/) })]);

    // Something else listens on the port and answers healthy: the id is not the candidate's.
    const impostor = logger();
    const port = statusPort(() => ({ status: 200, body: '{"healthy":true}' }));
    expect(await otherCompanion(docker([self, silent]), 'self', { ...fast, log: impostor.log, ask: port.ask })).toBeUndefined();
    expect(impostor.warnings).toEqual([expect.objectContaining({ candidate: 'silent', reason: expect.stringMatching(/container id/) })]);
  });

  it('refuses a decoy that runs code of its own under the image’s entrypoint and answers healthy as itself', async () => {
    const script = `NODE_OPTIONS=--import=data:text/javascript;base64,${Buffer.from('/* answers /healthz */').toString('base64')}`;
    const decoys = [
      { Id: 'imports', Name: 'imports', Image: 'haproxy-companion:1.0', Env: [...ROLE, script] },
      { Id: 'mounted', Name: 'mounted', Image: 'haproxy-companion:1.0', Env: ROLE, Mounts: [{ Destination: '/app/bundle' }] },
    ];
    for (const decoy of decoys) {
      const port = statusPort(() => healthy(decoy.Id));
      const { log, warnings } = logger();
      expect(await otherCompanion(docker([self, decoy]), 'self', { ...fast, log, ask: port.ask })).toBeUndefined();
      expect(port.asked).toEqual([]);
      expect(warnings).toEqual([expect.objectContaining({ candidate: decoy.Name, reason: expect.stringMatching(/--import|\/app/) })]);
    }
  });

  it('takes a successor with an operator’s NODE_OPTIONS; refuses one whose image cannot be inspected', async () => {
    const next = {
      Id: 'next',
      Name: 'companion-new',
      Image: 'haproxy-companion:1.1',
      Env: [...ROLE, 'NODE_OPTIONS=--max-semi-space-size=1 --v8-pool-size=1 --enable-source-maps'],
    };
    const port = statusPort(() => healthy('next'));
    expect(await otherCompanion(docker([self, next]), 'self', { ...fast, log: logger().log, ask: port.ask })).toBe('companion-new');

    const { log, warnings } = logger();
    expect(await otherCompanion(docker([self, next], ['haproxy-companion:1.1']), 'self', { ...fast, log, ask: port.ask })).toBeUndefined();
    expect(warnings).toEqual([
      expect.objectContaining({ candidate: 'companion-new', reason: expect.stringMatching(/image cannot be inspected/) }),
    ]);
  });

  it('takes the real successor beside a decoy', async () => {
    const decoy = { Id: 'decoy', Name: 'decoy', Image: 'haproxy-companion:1.0', Env: ROLE, Entrypoint: ['sleep'], Cmd: ['3600'] };
    const next = { Id: 'next', Name: 'companion-new', Image: 'haproxy-companion:1.1', Env: ROLE };
    const { log } = logger();
    expect(await otherCompanion(docker([self, decoy, next]), 'self', { ...fast, log, ask: statusPort(() => healthy('next')).ask })).toBe(
      'companion-new',
    );
  });
});
