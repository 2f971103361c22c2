/** Structured JSON logs on stdout (pino); `LOG_FORMAT=pretty` for people at a terminal. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level: string; format: 'json' | 'pretty' }): Logger {
  return pino({
    level: options.level,
    base: { app: 'haproxy-companion' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    ...(options.format === 'pretty' ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
