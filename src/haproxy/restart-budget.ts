/**
 * How often HAProxy may die before the companion gives up and lets Docker's restart policy take over:
 * a crash now and then is restarted (after a short, growing delay), a crash loop is not hidden.
 * Pure: exit times in, a delay or "give up" out.
 */
import { backoffDelay } from '../lib/backoff.js';

export class RestartBudget {
  private exits: number[] = [];

  constructor(
    private readonly maxRestarts = 5,
    private readonly windowMs = 60_000,
  ) {}

  /** Records an exit at `now`: the delay before restarting, or `undefined` when the budget is spent. */
  exited(now: number): number | undefined {
    this.exits = [...this.exits.filter((t) => now - t < this.windowMs), now];
    if (this.exits.length > this.maxRestarts) return undefined;
    return backoffDelay(this.exits.length - 1, { minMs: 250, maxMs: this.windowMs, jitter: 0 });
  }

  /** Exits within the window, the last one included. */
  get recentExits(): number {
    return this.exits.length;
  }
}
