import { describe, expect, it } from 'vitest';
import { RestartBudget } from '../../../src/haproxy/restart-budget.js';

describe('RestartBudget', () => {
  it('allows 5 restarts within a minute, each after twice the delay of the one before', () => {
    const budget = new RestartBudget(5, 60_000);
    expect([0, 1, 2, 3, 4].map((i) => budget.exited(i * 1_000))).toEqual([250, 500, 1_000, 2_000, 4_000]);
    expect(budget.exited(5_000)).toBeUndefined();
  });

  it('counts only the exits within the window', () => {
    const budget = new RestartBudget(2, 60_000);
    expect(budget.exited(0)).toBe(250);
    expect(budget.exited(30_000)).toBe(500);
    expect(budget.exited(61_000)).toBe(500);
    expect(budget.recentExits).toBe(2);
  });
});
