import { describe, expect, it } from 'vitest';
import { cannotUpgrade, type InspectedContainer, successorOptions } from '../../../src/docker/upgrade.js';

const oldImage = {
  Config: {
    Env: ['PATH=/usr/local/bin:/usr/bin', 'NODE_VERSION=24.1.0', 'NODE_OPTIONS=--max-semi-space-size=1'],
    Labels: { 'org.opencontainers.image.title': 'haproxy-companion' },
    Cmd: null,
  },
};
const running: InspectedContainer = {
  Id: 'a'.repeat(64),
  Name: '/companion',
  Image: 'sha256:old',
  Config: {
    Image: 'haproxy-companion:1.4',
    Env: [...oldImage.Config.Env, 'DOMAIN_NAME=example.com', 'HOSTED_ZONE_ID=Z123'],
    Labels: { 'org.opencontainers.image.title': 'haproxy-companion', 'com.docker.compose.service': 'companion' },
    Cmd: null,
  },
  HostConfig: { NetworkMode: 'host', Binds: ['/var/run/docker.sock:/var/run/docker.sock:ro'], RestartPolicy: { Name: 'always' } },
  State: { Running: true },
};

describe('successorOptions', () => {
  it('copies what the operator gave the container onto the new image, and leaves the old image’s own settings behind', () => {
    expect(successorOptions(running, oldImage, 'haproxy-companion:1.5', 'companion-next')).toEqual({
      name: 'companion-next',
      Image: 'haproxy-companion:1.5',
      // The old image's NODE_VERSION and NODE_OPTIONS would pin the new one to them.
      Env: ['DOMAIN_NAME=example.com', 'HOSTED_ZONE_ID=Z123'],
      Labels: { 'com.docker.compose.service': 'companion' },
      HostConfig: running.HostConfig,
    });
  });

  it('keeps what the operator set beside the image: a command, a health check, Compose’s stop_grace_period', () => {
    const healthcheck = { Test: ['CMD', 'wget', '-qO-', 'http://127.0.0.1:8404/healthz'], Interval: 10_000_000_000 };
    const set = {
      ...running,
      Config: { ...running.Config, Cmd: ['dry-run'], Healthcheck: healthcheck, StopTimeout: 30, WorkingDir: '/app' },
    };
    const image = { Config: { ...oldImage.Config, WorkingDir: '/app' } };
    const options = successorOptions(set, image, 'x', 'y');
    expect(options).toMatchObject({ Cmd: ['dry-run'], Healthcheck: healthcheck, StopTimeout: 30 });
    // The image's own WorkingDir: the new image's applies.
    expect(options).not.toHaveProperty('WorkingDir');
  });
});

describe('cannotUpgrade', () => {
  it('takes a running host-network companion', () => {
    expect(cannotUpgrade(running)).toBeUndefined();
  });

  it.each<[string, InspectedContainer, RegExp]>([
    ['a stopped one', { ...running, State: { Running: false } }, /not running/],
    [
      'one that publishes ports',
      { ...running, HostConfig: { NetworkMode: 'bridge', PortBindings: { '80/tcp': [{ HostPort: '80' }] } } },
      /--network host/,
    ],
  ])('refuses %s, saying why', (_, container, reason) => {
    expect(cannotUpgrade(container)).toMatch(reason);
  });
});
