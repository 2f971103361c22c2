import { describe, expect, it } from 'vitest';
import { otherCompanion } from '../../../src/docker/successor.js';

const ROLE = ['DOMAIN_NAME=example.com', 'HOSTED_ZONE_ID=Z1', 'HOST_ID=host-a'];
const ENTRYPOINT = ['/usr/bin/tini', '--', 'node', '--lite-mode', '--disable-warning=DEP0169', '/app/bundle/main.cjs'];

interface Fake {
  Id: string;
  Name: string;
  Image: string;
  Env: string[];
  Entrypoint?: string[];
  Cmd?: string[];
}

function docker(containers: Fake[]) {
  return {
    listContainers: async () => containers.map(({ Id, Image }) => ({ Id, Image })),
    getContainer: (id: string) => ({
      inspect: async () => {
        const c = containers.find((x) => x.Id === id) as Fake;
        return {
          Id: id,
          Name: `/${c.Name}`,
          Config: { Image: c.Image, Env: c.Env, Entrypoint: c.Entrypoint ?? ENTRYPOINT, Cmd: c.Cmd ?? null },
          State: { Running: true },
          HostConfig: { NetworkMode: 'host' },
        };
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

  it('takes the real successor beside a decoy', async () => {
    const decoy = { Id: 'decoy', Name: 'decoy', Image: 'haproxy-companion:1.0', Env: ROLE, Entrypoint: ['sleep'], Cmd: ['3600'] };
    const next = { Id: 'next', Name: 'companion-new', Image: 'haproxy-companion:1.1', Env: ROLE };
    const { log } = logger();
    expect(await otherCompanion(docker([self, decoy, next]), 'self', { ...fast, log, ask: statusPort(() => healthy('next')).ask })).toBe(
      'companion-new',
    );
  });
});
