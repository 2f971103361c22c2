/** Opt-in conventions read from containers. Labels win over the environment. */
export const LABEL_PREFIX = 'haproxy-companion.';
export const Labels = {
  domain: `${LABEL_PREFIX}domain`,
  port: `${LABEL_PREFIX}port`,
  enable: `${LABEL_PREFIX}enable`,
  network: `${LABEL_PREFIX}network`,
  /** `true`: a host-network container asks to be reached on 127.0.0.1 (the companion must allow it too). */
  hostNetwork: `${LABEL_PREFIX}host-network`,
  /** Containers with the same value share their domains, whatever their images. */
  group: `${LABEL_PREFIX}group`,
} as const;

/** Set by Docker Compose on every container of a service: the containers of one service share its domains. */
export const ComposeLabels = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
} as const;

/** The environment variable the teams we replace already set on their containers. */
export const DOMAIN_ENV = 'DOMAIN';

/** `true`, `1` or `yes` (any case, surrounding spaces allowed), as the companion's own boolean settings. */
export function isTrue(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  return v === 'true' || v === '1' || v === 'yes';
}
