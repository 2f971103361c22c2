/** Base class for errors the companion reports with context instead of a stack trace. */
export class CompanionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Startup configuration is invalid; every problem is listed at once. */
export class ConfigError extends CompanionError {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** `haproxy -c` rejected a rendered configuration; `details` holds HAProxy's own lines. */
export class ConfigInvalidError extends CompanionError {
  constructor(readonly details: string[]) {
    super(`haproxy rejected the configuration: ${details.join(' | ')}`);
  }
}

/** The master CLI answered a reload with something other than Success=1. */
export class ReloadFailedError extends CompanionError {
  constructor(readonly details: string[]) {
    super(`haproxy reload failed: ${details.join(' | ')}`);
  }
}

/** The template could not be rendered (syntax error, missing variable). */
export class TemplateError extends CompanionError {}
