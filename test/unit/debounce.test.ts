import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDebouncer } from '../../src/debounce.js';

describe('createDebouncer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const setup = (minMs = 50, maxMs = 1000, runMs = 0, leading = false) => {
    const runs: number[] = [];
    const debouncer = createDebouncer({
      minMs,
      maxMs,
      leading,
      run: async () => {
        runs.push(Date.now());
        if (runMs > 0) await new Promise((resolve) => setTimeout(resolve, runMs));
      },
    });
    return { runs, debouncer, start: Date.now() };
  };

  it('runs once, minMs after a single trigger', async () => {
    const { runs, debouncer, start } = setup();
    debouncer.trigger();
    await vi.advanceTimersByTimeAsync(49);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toEqual([start + 50]);
  });

  it('with leading, runs a single trigger at once, and again at once after a quiet spell', async () => {
    const { runs, debouncer, start } = setup(50, 1000, 0, true);
    debouncer.trigger();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual([start]);
    await vi.advanceTimersByTimeAsync(500);
    debouncer.trigger();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual([start, start + 500]);
  });

  it('with leading, runs the first trigger of a burst at once and coalesces the rest into one more run', async () => {
    const { runs, debouncer, start } = setup(50, 1000, 20, true);
    for (let i = 0; i < 100; i++) {
      debouncer.trigger();
      await vi.advanceTimersByTimeAsync(5);
    }
    await vi.advanceTimersByTimeAsync(200);
    expect(runs[0]).toBe(start);
    expect(runs).toHaveLength(2);
  });

  it('coalesces a burst into one run', async () => {
    const { runs, debouncer } = setup();
    for (let i = 0; i < 100; i++) {
      debouncer.trigger();
      await vi.advanceTimersByTimeAsync(5);
    }
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toHaveLength(1);
  });

  it('runs no later than maxMs into an endless burst', async () => {
    const { runs, debouncer, start } = setup(50, 300);
    for (let i = 0; i < 100; i++) {
      debouncer.trigger();
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(runs[0]).toBe(start + 300);
    expect(runs.length).toBeGreaterThanOrEqual(3);
  });

  it('never runs two passes at once, and runs once more for triggers during a run', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    let count = 0;
    const debouncer = createDebouncer({
      minMs: 10,
      maxMs: 100,
      run: async () => {
        count++;
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        await new Promise((resolve) => setTimeout(resolve, 200));
        concurrent--;
      },
    });
    debouncer.trigger();
    await vi.advanceTimersByTimeAsync(20); // first run in progress
    debouncer.trigger();
    debouncer.trigger();
    await vi.advanceTimersByTimeAsync(1000);
    expect(maxConcurrent).toBe(1);
    expect(count).toBe(2);
  });

  it('keeps running after a run that throws', async () => {
    let count = 0;
    const debouncer = createDebouncer({
      minMs: 10,
      maxMs: 100,
      run: async () => {
        count++;
        throw new Error('boom');
      },
    });
    debouncer.trigger();
    await vi.advanceTimersByTimeAsync(20);
    debouncer.trigger();
    await vi.advanceTimersByTimeAsync(20);
    expect(count).toBe(2);
  });

  it('does nothing after cancel', async () => {
    const { runs, debouncer } = setup();
    debouncer.trigger();
    debouncer.cancel();
    debouncer.trigger();
    await vi.advanceTimersByTimeAsync(2000);
    expect(runs).toEqual([]);
  });

  it('counts a trigger that came during a run from when it came, not from the end of the run', async () => {
    const { runs, debouncer, start } = setup(5_000, 60_000, 4_000);
    debouncer.trigger();
    await vi.advanceTimersByTimeAsync(5_000); // the run starts, and takes 4 s
    await vi.advanceTimersByTimeAsync(500);
    debouncer.trigger(); // 0.5 s into the run
    await vi.advanceTimersByTimeAsync(20_000);
    expect(runs).toEqual([start + 5_000, start + 10_500]);
  });

  it('bounds a burst that started during a run by maxMs', async () => {
    const { runs, debouncer, start } = setup(1_000, 3_000, 2_000);
    debouncer.trigger();
    await vi.advanceTimersByTimeAsync(1_000); // run 1 from 1 s to 3 s
    for (let t = 0; t < 10; t++) {
      debouncer.trigger(); // every 500 ms from 1 s on: never quiet for 1 s
      await vi.advanceTimersByTimeAsync(500);
    }
    expect(runs.slice(0, 2)).toEqual([start + 1_000, start + 4_000]);
  });

  describe('now()', () => {
    it('runs at once when idle, and cancels the pending debounce', async () => {
      const { runs, debouncer, start } = setup(50, 1000);
      debouncer.trigger();
      debouncer.now();
      await vi.advanceTimersByTimeAsync(0);
      expect(runs).toEqual([start]);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(runs).toEqual([start]);
    });

    it('runs right after the run in progress, without waiting for quiet', async () => {
      const { runs, debouncer, start } = setup(500, 1000, 100);
      debouncer.now();
      await vi.advanceTimersByTimeAsync(10);
      debouncer.now();
      await vi.advanceTimersByTimeAsync(200);
      expect(runs).toEqual([start, start + 100]);
    });

    it('does nothing once cancelled', async () => {
      const { runs, debouncer } = setup();
      debouncer.cancel();
      debouncer.now();
      await vi.advanceTimersByTimeAsync(100);
      expect(runs).toEqual([]);
    });
  });
});
