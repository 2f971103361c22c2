import { defineConfig } from 'vitest/config';

// The unit project alone, for `npm run mutate` (stryker.config.json): the Stryker vitest runner takes a config
// file but no --project, and a mutant of the pure core must never start containers.
export default defineConfig({
  test: { include: ['test/unit/**/*.test.ts'] },
});
