/** Structured JSON logs (pino), one object a line on stdout; `LOG_FORMAT=pretty` for people at a terminal. */
import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

interface LogOptions {
  level: string;
  /** For commands whose stdout is their result (dry-run). */
  stderr?: boolean;
}

function baseOptions(level: string): LoggerOptions {
  return {
    level,
    base: { app: 'haproxy-companion' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

// Synchronous: a fatal line written just before process.exit must not be lost.
const destination = (options: LogOptions) => pino.destination({ dest: options.stderr ? 2 : 1, sync: true });

/** JSON lines: the default format, and the one for the fatal lines written before the configuration is known. */
export function createJsonLogger(options: LogOptions): Logger {
  return pino(baseOptions(options.level), destination(options));
}

/**
 * The configured logger. pino-pretty is loaded only for `pretty`, and formats in this thread, line by
 * line, into the same synchronous destination: no transport worker (a second V8 instance), and a fatal
 * line is not lost on exit in this format either.
 */
export async function createLogger(options: LogOptions & { format: 'json' | 'pretty' }): Promise<Logger> {
  if (options.format === 'json') return createJsonLogger(options);
  const { prettyFactory } = await import('pino-pretty');
  const prettify = prettyFactory({ colorize: true });
  const out = destination(options);
  return pino(baseOptions(options.level), { write: (line: string) => out.write(prettify(line)) });
}
