import { describe, expect, it } from 'vitest';
import { otherCompanion } from '../../../src/docker/successor.js';

const ROLE = ['DOMAIN_NAME=example.com', 'HOSTED_ZONE_ID=Z1', 'HOST_ID=host-a'];

function docker(containers: Array<{ Id: string; Name: string; Image: string; Env: string[] }>) {
  return {
    listContainers: async () => containers.map(({ Id, Image }) => ({ Id, Image })),
    getContainer: (id: string) => ({
      inspect: async () => {
        const c = containers.find((x) => x.Id === id);
        return { Id: id, Name: `/${c?.Name}`, Config: { Image: c?.Image, Env: c?.Env } };
      },
    }),
  };
}

describe('otherCompanion', () => {
  const self = { Id: 'self', Name: 'companion', Image: 'haproxy-companion:1.0', Env: [...ROLE, 'PATH=/usr/bin'] };

  it('finds a companion of the same repository and role (an upgrade in progress)', async () => {
    const next = {
      Id: 'next',
      Name: 'companion-new',
      Image: 'haproxy-companion:1.1',
      Env: ROLE,
    };
    expect(await otherCompanion(docker([self, next]), 'self')).toBe('companion-new');
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
    expect(await otherCompanion(docker([self, ...others]), 'self')).toBeUndefined();
  });
});
