/**
 * The companion's error vocabulary. Every error it raises says what went wrong in terms an operator can
 * act on, and whether trying the same thing again can help: a verdict on the input (a template that
 * does not compile, a configuration HAProxy refuses) will not change until the input does, while a busy
 * disk, a timeout or a lost socket may pass next time. Errors that are not ours (Node's I/O errors) are
 * taken as retryable.
 */
export class CompanionError extends Error {
  /** `true`: the same attempt may succeed later. */
  readonly retryable: boolean;

  constructor(message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super(message, options);
    this.name = new.target.name;
    this.retryable = options?.retryable ?? true;
  }
}

/** Startup configuration is invalid; every problem is listed at once. */
export class ConfigError extends CompanionError {
  readonly problems: string[];

  // Plain fields, not parameter properties, here and below: the benchmark loads this module with Node's type stripping.
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`, { retryable: false });
    this.problems = problems;
  }
}

/** HAProxy refused a configuration; `haproxyLines` holds HAProxy's own words. The same text is refused again. */
export class HaproxyRefusedError extends CompanionError {
  readonly haproxyLines: string[];

  constructor(message: string, haproxyLines: string[]) {
    super(`${message}: ${haproxyLines.join(' | ')}`, { retryable: false });
    this.haproxyLines = haproxyLines;
  }
}

/** `haproxy -c` rejected a rendered configuration. */
export class ConfigInvalidError extends HaproxyRefusedError {
  constructor(haproxyLines: string[]) {
    super('haproxy rejected the configuration', haproxyLines);
  }
}

/** The master CLI answered a reload with something other than Success=1. */
export class ReloadFailedError extends HaproxyRefusedError {
  constructor(haproxyLines: string[]) {
    super('haproxy reload failed', haproxyLines);
  }
}

/** The runtime API answered a command with something other than success; a reload applies the change instead. */
export class RuntimeApiError extends CompanionError {
  constructor(command: string, answer: string) {
    super(`runtime API: "${commandLine(command)}" answered "${answer.slice(0, 200)}"`);
  }
}

/**
 * A CLI command as a message may show it: its first line. A payload (`set ssl cert … <<` and the PEM
 * after it) holds a private key, which must never reach a log line.
 */
export function commandLine(command: string): string {
  const [first = '', ...rest] = command.split('\n');
  return rest.some((line) => line.trim() !== '') ? `${first} <payload>` : first;
}

/** The template could not be read (retryable) or does not compile or render (not, until it changes). */
export class TemplateError extends CompanionError {}

export function isHaproxyRefusal(error: unknown): error is HaproxyRefusedError {
  return error instanceof HaproxyRefusedError;
}

/** Whether trying the same thing again may succeed: ours say so; anything else (I/O, sockets) may. */
export function isRetryable(error: unknown): boolean {
  return !(error instanceof CompanionError) || error.retryable;
}

/** An `Error` for anything thrown, so it can go to the log as `{ err }`. */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
