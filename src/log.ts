/** Structured JSON logs (pino), one object a line on stdout; `LOG_FORMAT=pretty` for people at a terminal. */
import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/** `stderr`: for commands whose stdout is their result (dry-run). */
export function createLogger(options: { level: string; format: 'json' | 'pretty'; stderr?: boolean }): Logger {
  const fd = options.stderr ? 2 : 1;
  const base: LoggerOptions = {
    level: options.level,
    base: { app: 'haproxy-companion' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (options.format === 'pretty')
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, destination: fd } } });
  // Synchronous: a fatal line written just before process.exit must not be lost.
  return pino(base, pino.destination({ dest: fd, sync: true }));
}
