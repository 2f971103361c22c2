// `npm run mutate`: mutation testing of the pure core (what decides routes, ownership, DNS records and
// runtime changes) against the unit project only. Not part of `npm test` or CI: a full run takes a while.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts', related: true },
  coverageAnalysis: 'perTest',
  // Mutants of module-level constants and tables would each rerun every test (most of the run's time).
  ignoreStatic: true,
  mutate: ['src/model/**/*.ts', 'src/dns/records.ts', 'src/dns/fleet-peers.ts', 'src/haproxy/runtime-plan.ts'],
  // TypeScript 7 has no JS API (ts.parseConfigFileTextToJson), which Stryker calls only to rewrite a tsconfig's
  // `extends`/`references` for the sandbox. Ours has neither, so point Stryker at a file that does not exist.
  tsconfigFile: 'tsconfig.stryker-none.json',
  ignorePatterns: ['.cache', 'dist', 'bundle', 'bench/results', 'reports'],
  concurrency: 2,
  timeoutMS: 20_000,
  // The first run of every unit test, instrumented, on a busy 2-core machine: 5 minutes (the default) is not enough.
  dryRunTimeoutMinutes: 30,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
