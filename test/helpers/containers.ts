import type { ContainerInfo } from '../../src/model/container.js';

let counter = 0;

/** A running, reachable container on the default bridge; override what a case is about. */
export function container(overrides: Partial<ContainerInfo> = {}): ContainerInfo {
  counter++;
  const name = overrides.name ?? `app${counter}`;
  return {
    id: overrides.id ?? `${String(counter).padStart(4, '0')}${'f'.repeat(60)}`,
    name,
    labels: {},
    env: {},
    exposedPorts: ['8080/tcp'],
    running: true,
    paused: false,
    networkMode: 'bridge',
    networks: [{ name: 'bridge', ip: `172.17.0.${(counter % 250) + 2}` }],
    ...overrides,
  };
}
