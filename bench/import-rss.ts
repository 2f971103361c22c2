#!/usr/bin/env node
/**
 * What each dependency costs at import (issue 12): for each module, a fresh Node with the image's flags
 * imports it alone, waits a second, and reports its resident memory and how many files it loaded (CommonJS
 * and ESM, counted by a module hook in a second, separate run so the hook itself is not in the RSS).
 *
 *   node bench/import-rss.ts [--runs N] [module...]              # from the project root, after npm run build
 *   docker run --rm --entrypoint node -v "$PWD/bench:/bench:ro" haproxy-companion:mem /bench/import-rss.ts
 *
 * Modules are resolved from the working directory (/app in the image). Prints one line per module: the
 * median RSS over the runs, the difference from bare Node, and the file count.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1'];
const DEFAULT_MODULES = [
  'dockerode',
  '@aws-sdk/client-route-53',
  'prom-client',
  'execa',
  'nunjucks',
  'chokidar',
  'pino',
  'pino-pretty',
  'zod',
  './dist/companion.js',
  './dist/dry-run.js',
];

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 3;
const modules = args.length > 0 ? args : DEFAULT_MODULES.filter((m) => !m.startsWith('./') || existsSync(m));

/** The child's program: import, settle, print. `count` adds a hook that records every file loaded. */
function program(specifier: string, count: boolean): string {
  const target = specifier.startsWith('./') ? pathToFileURL(path.resolve(specifier)).href : specifier;
  const hook = count
    ? `const seen = new Set(); (await import('node:module')).registerHooks({ load(url, c, next) { seen.add(url); return next(url, c); } });`
    : 'const seen = new Set();';
  const load = specifier === '' ? '' : `await import(${JSON.stringify(target)});`;
  return `${hook} ${load} await new Promise((r) => setTimeout(r, 1000));
    const files = [...seen].filter((u) => u.startsWith('file:')).length;
    process.stdout.write(JSON.stringify({ rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, files }));`;
}

function measure(specifier: string, count: boolean): { rss: number; heap: number; files: number } {
  const out = execFileSync(process.execPath, [...FLAGS, '--input-type=module', '-e', program(specifier, count)], {
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return JSON.parse(out.toString());
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

function row(specifier: string) {
  const samples = Array.from({ length: runs }, () => measure(specifier, false));
  return { rss: median(samples.map((s) => s.rss)), heap: median(samples.map((s) => s.heap)), files: measure(specifier, true).files };
}

const bare = row('');
console.log(`node ${process.version} ${FLAGS.join(' ')}, median of ${runs}`);
console.log(`${'module'.padEnd(28)} ${'rss MB'.padStart(7)} ${'+MB'.padStart(6)} ${'heap MB'.padStart(8)} ${'files'.padStart(6)}`);
console.log(`${'(bare node)'.padEnd(28)} ${mb(bare.rss).padStart(7)} ${'0.0'.padStart(6)} ${mb(bare.heap).padStart(8)} ${'0'.padStart(6)}`);
for (const m of modules) {
  const r = row(m);
  console.log(
    `${m.padEnd(28)} ${mb(r.rss).padStart(7)} ${mb(r.rss - bare.rss).padStart(6)} ${mb(r.heap).padStart(8)} ${String(r.files).padStart(6)}`,
  );
}
