/**
 * The only place that reads the environment. Every setting is validated once at startup; all bad
 * values are reported together, then the result is frozen.
 */
import { z } from 'zod';
import { parseDnsName } from './model/domain.js';
import { ConfigError } from './errors.js';

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Each entry documents one environment variable; the README's table is tested against this list. */
export const settingsSchema = z.object({
  DOMAIN_NAME: z
    .string({ error: 'is required: the DNS zone the services live in, e.g. example.com' })
    .transform((value, ctx) => {
      const parsed = parseDnsName(value);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: `must be a DNS name (${parsed.reason})` });
        return z.NEVER;
      }
      return parsed.name;
    }),
  HTTP_PORT: integer(1, 65535).default(80),
  HAPROXY_TEMPLATE: z.string().min(1).optional(),
  HAPROXY_BIN: z.string().min(1).default('haproxy'),
  RUNTIME_DIR: z.string().min(1).default('/var/run/haproxy-companion'),
  CONTAINER_LABEL_FILTER: z
    .string()
    .regex(/^[^=\s]+(=[^\s]*)?$/, 'must be a label key or key=value, e.g. com.example.env=prod')
    .optional(),
  DEBOUNCE_MIN_MS: integer(0, 60_000).default(50),
  DEBOUNCE_MAX_MS: integer(0, 600_000).default(1000),
  RESYNC_INTERVAL_S: integer(1, 86_400).default(60),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
});

export type Settings = z.infer<typeof settingsSchema>;

export interface Config {
  zone: string;
  httpPort: number;
  templatePath: string;
  haproxyBin: string;
  runtimeDir: string;
  labelFilter?: string;
  debounce: { minMs: number; maxMs: number };
  resyncIntervalMs: number;
  log: { level: Settings['LOG_LEVEL']; format: Settings['LOG_FORMAT'] };
}

export function loadConfig(env: NodeJS.ProcessEnv, defaultTemplatePath: string): Readonly<Config> {
  // Empty values mean "unset", as with most Docker-deployed tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = settingsSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const s = result.data;
  if (s.DEBOUNCE_MAX_MS < s.DEBOUNCE_MIN_MS) {
    throw new ConfigError([`DEBOUNCE_MAX_MS: must be at least DEBOUNCE_MIN_MS (${s.DEBOUNCE_MIN_MS})`]);
  }
  return Object.freeze({
    zone: s.DOMAIN_NAME,
    httpPort: s.HTTP_PORT,
    templatePath: s.HAPROXY_TEMPLATE ?? defaultTemplatePath,
    haproxyBin: s.HAPROXY_BIN,
    runtimeDir: s.RUNTIME_DIR,
    ...(s.CONTAINER_LABEL_FILTER !== undefined ? { labelFilter: s.CONTAINER_LABEL_FILTER } : {}),
    debounce: { minMs: s.DEBOUNCE_MIN_MS, maxMs: s.DEBOUNCE_MAX_MS },
    resyncIntervalMs: s.RESYNC_INTERVAL_S * 1000,
    log: { level: s.LOG_LEVEL, format: s.LOG_FORMAT },
  });
}
