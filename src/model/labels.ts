/** Opt-in conventions read from containers. Labels win over the environment. */
export const LABEL_PREFIX = 'haproxy-companion.';
export const Labels = {
  domain: `${LABEL_PREFIX}domain`,
  port: `${LABEL_PREFIX}port`,
  enable: `${LABEL_PREFIX}enable`,
  network: `${LABEL_PREFIX}network`,
} as const;

/** The environment variable the teams we replace already set on their containers. */
export const DOMAIN_ENV = 'DOMAIN';
