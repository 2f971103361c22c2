import { defineConfig } from 'vitest/config';

// The unit project alone, for `npm run mutate` (stryker.config.mjs): the Stryker vitest runner takes a config
// file but no --project, and a mutant of the pure core must never start containers. Instrumented code runs
// several times slower, so the unit tests' 5 s default is too short for the ones that time 50,000 names, and the
// property tests' 30 s (test/unit/property/arbitraries.ts) for a property over the whole pipeline.
export default defineConfig({
  test: { include: ['test/unit/**/*.test.ts'], testTimeout: 60_000, env: { PROPERTY_TIMEOUT_MS: '300000' } },
});
