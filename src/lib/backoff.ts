/**
 * Exponential backoff with jitter, for every retry loop in the companion (Docker's event stream,
 * Route53 syncs, HAProxy restarts): the delay doubles from `minMs` up to `maxMs`, then a random share
 * of it (by default the upper half) is taken, so a fleet of hosts that failed together does not retry
 * in lockstep.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** Fraction of the delay that is random: 0 = none, 0.5 (default) = anywhere in the upper half. */
  jitter?: number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, { minMs, maxMs, jitter = 0.5 }: BackoffOptions, random: () => number = Math.random): number {
  const delay = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt));
  return Math.round(delay * (1 - jitter + jitter * random()));
}

/** `ms` spread by ±`spread` (e.g. 0.25 → 75 %–125 %), so periodic work of many hosts does not line up. */
export function jittered(ms: number, spread: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 - spread + 2 * spread * random()));
}
