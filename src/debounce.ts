/**
 * Coalesces bursts of triggers into serialized runs. A run starts once no trigger arrived for
 * `minMs`, or `maxMs` after the first trigger of the burst, whichever is sooner. A trigger during a
 * run schedules exactly one more run after it, so the last change is never missed.
 *
 * With `leading`, a trigger that comes after `minMs` of quiet runs at once: a single change waits for
 * nothing, and the rest of a burst is coalesced behind that first run.
 */
export interface Debouncer {
  trigger(): void;
  /** Runs without waiting for quiet: at once when idle, else right after the run in progress. */
  now(): void;
  /** Resolves when no run is scheduled or in progress. */
  idle(): Promise<void>;
  cancel(): void;
}

export function createDebouncer(options: { minMs: number; maxMs: number; leading?: boolean; run: () => Promise<void> }): Debouncer {
  let timer: NodeJS.Timeout | undefined;
  let lastTrigger = Number.NEGATIVE_INFINITY;
  let burstStart: number | undefined;
  let running: Promise<void> | undefined;
  let rerun = false;
  let rerunNow = false;
  let cancelled = false;

  // Due `minMs` after the last trigger, or `maxMs` after the first of the burst: a trigger that came
  // during a run counts from when it came, not from the end of the run.
  const schedule = () => {
    burstStart ??= lastTrigger;
    const due = Math.min(lastTrigger + options.minMs, burstStart + options.maxMs);
    clearTimeout(timer);
    timer = setTimeout(fire, Math.max(0, due - Date.now()));
  };

  const fire = () => {
    timer = undefined;
    burstStart = undefined;
    if (cancelled) return;
    // The run reports its own errors; a rejection here must not become an unhandled one.
    running = options
      .run()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        if (rerun && !cancelled) {
          rerun = false;
          if (rerunNow) {
            rerunNow = false;
            fire();
          } else schedule();
        }
      });
  };

  return {
    trigger() {
      if (cancelled) return;
      const now = Date.now();
      const quiet = now - lastTrigger >= options.minMs;
      lastTrigger = now;
      if (running) {
        rerun = true;
        burstStart ??= now;
      } else if (options.leading && quiet && !timer) fire();
      else schedule();
    },
    now() {
      if (cancelled) return;
      lastTrigger = Date.now();
      if (running) {
        rerun = true;
        rerunNow = true;
        return;
      }
      clearTimeout(timer);
      fire();
    },
    async idle() {
      while (running || timer) await (running ?? new Promise((resolve) => setTimeout(resolve, 5)));
    },
    cancel() {
      cancelled = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
