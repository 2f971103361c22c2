import { configDefaults, defineConfig } from 'vitest/config';

// The unit project alone, for `npm run mutate` (stryker.config.mjs): the Stryker vitest runner takes a config
// file but no --project, and a mutant of the pure core must never start containers. Instrumented code runs
// several times slower, so the unit tests' 5 s default is too short for the ones that time 50,000 names, and the
// property tests' 30 s (test/unit/property/arbitraries.ts) for a property over the whole pipeline. Left out:
// the tests that start moto or build and spawn the bundle, which wait on other processes with timeouts of their
// own and judge no mutant that a pure test does not. MUTATE_WITHOUT_PROPERTIES=1 leaves out the property tests
// too: the run takes minutes instead of an hour or more, and what survives it is what only a property (on
// some seeds) notices.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: [
      ...configDefaults.exclude,
      'test/unit/dns/create-race.test.ts',
      'test/unit/helpers/**',
      'test/unit/bench-cli.test.ts',
      'test/unit/bundle.test.ts',
      ...(process.env.MUTATE_WITHOUT_PROPERTIES ? ['test/unit/property/**'] : []),
    ],
    testTimeout: 60_000,
    env: { PROPERTY_TIMEOUT_MS: '300000' },
  },
});
