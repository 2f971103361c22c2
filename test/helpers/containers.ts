import type { ContainerInfo } from '../../src/model/container.js';

let counter = 0;

/**
 * A running, reachable container on the default bridge; override what a case is about. Containers made
 * later are younger (`created`), and all run the image `app:latest`, so they share a domain unless a case
 * gives them another image, group or compose service.
 */
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
    image: 'app:latest',
    created: `2024-01-01T00:00:00.${String(counter).padStart(9, '0')}Z`,
    ...overrides,
  };
}
