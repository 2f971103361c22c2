#!/usr/bin/env node
/**
 * The benchmark of issue 4: ours (the haproxy-companion image) against the old pipeline (bench/baseline/),
 * same machine, same run. `node bench/run.ts --help` lists the options; results go to bench/results/ (raw
 * JSON, charts) and docs/benchmarks.md.
 *
 * Loads the helper that lets Node's type stripping import the project's test helpers, then the benchmark.
 */
import './lib/ts-resolve.ts';

await import('./main.ts');
