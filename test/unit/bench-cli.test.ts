import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The benchmark runs its .ts files (and the test helpers it shares) with Node's type stripping, which
// refuses TypeScript that is not erasable (parameter properties, enums): one in a shared helper broke
// `node bench/run.ts` without failing any test.
describe('node bench/run.ts', () => {
  it('loads every module it imports, and prints its options', () => {
    const run = spawnSync(process.execPath, ['bench/run.ts', '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^node bench\/run\.ts \[options\]/);
    expect(run.status).toBe(0);
  }, 40_000);
});
