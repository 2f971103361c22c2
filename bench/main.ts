/** See run.ts. The order of a run: clean up, describe the machine, Route53, then each scenario for both. */

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Context, makeNetwork } from './lib/context.ts';
import { BENCH_LABEL, cleanup, FAST_BACKEND_IMAGE, imageExists } from './lib/docker.ts';
import { machine } from './lib/machine.ts';
import { countingProxy, createZone, type Moto, motoAnswers, startMoto } from './lib/route53.ts';
import { IMAGE } from './lib/systems.ts';
import { type Results, writeReport } from './report.ts';
import { bursts } from './scenarios/bursts.ts';
import { churn } from './scenarios/churn.ts';
import { convergence } from './scenarios/convergence.ts';
import { type FleetBackoff, fleet } from './scenarios/fleet.ts';
import { overhead } from './scenarios/overhead.ts';
import { scale } from './scenarios/scale.ts';
import { upgrade } from './scenarios/upgrade.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(REPO, 'bench', 'results');
const SCENARIOS = ['convergence', 'churn', 'bursts', 'overhead', 'scale', 'fleet', 'upgrade'] as const;
/** Scenarios that need neither Docker nor the image: a run of only these asks Docker nothing. */
const WITHOUT_DOCKER: ReadonlySet<string> = new Set(['fleet']);

const { values: opt } = parseArgs({
  options: {
    help: { type: 'boolean', default: false },
    only: { type: 'string', default: SCENARIOS.join(',') },
    systems: { type: 'string', default: 'ours,baseline' },
    'skip-scale': { type: 'boolean', default: false },
    build: { type: 'boolean', default: false },
    trials: { type: 'string', default: '30' },
    'baseline-trials': { type: 'string' },
    'baseline-existing-trials': { type: 'string', default: '5' },
    'churn-interval-ms': { type: 'string', default: '250' },
    'churn-converge-limit-s': { type: 'string', default: '300' },
    'churn-modes': { type: 'string', default: 'new,existing' },
    'burst-size': { type: 'string', default: '50' },
    'overhead-rounds': { type: 'string', default: '3' },
    'overhead-seconds': { type: 'string', default: '10' },
    'overhead-connections': { type: 'string', default: '20' },
    'overhead-threads': { type: 'string', default: '2' },
    'overhead-variants': { type: 'string', default: '' },
    'rest-backends': { type: 'string', default: '30' },
    'scale-docker': { type: 'string', default: 'stand-in,real' },
    'scale-services': { type: 'string', default: '500' },
    'scale-per-service': { type: 'string', default: '2' },
    'idle-seconds': { type: 'string', default: '60' },
    'fleet-hosts': { type: 'string', default: '100,250' },
    'fleet-backoff': { type: 'string', default: 'simulation,production' },
    'fleet-seed': { type: 'string', default: '20261124' },
    'skip-scale-baseline': { type: 'boolean', default: false },
    'no-host-tuning': { type: 'boolean', default: false },
    'no-dns': { type: 'boolean', default: false },
    'report-only': { type: 'string' },
    out: { type: 'string', default: path.join(REPO, 'docs', 'benchmarks.md') },
  },
});

if (opt.help) {
  console.log(`node bench/run.ts [options]
  --only LIST                    scenarios to run (default ${SCENARIOS.join(',')})
  --skip-scale                   leave out the slow scale scenario (1,000 containers)
  --systems LIST                 ours,baseline (default both; one of them only for a quick look)
  --build                        run scripts/build-image.sh first (the image is measured as built)
  --trials N                     convergence trials per case, ours and baseline (default 30)
  --baseline-trials N            baseline trials for a new domain (default: --trials; each takes a full
                                 playbook run, up to a minute on a slow machine)
  --baseline-existing-trials N   baseline trials for a new container of an existing service (default 5:
                                 each takes HAProxy down, see docs/benchmarks.md)
  --churn-interval-ms MS         time between two of the 100 churn changes (default 250)
  --churn-modes LIST             new,existing (default both)
  --churn-converge-limit-s S     load stops at most S after the last change if the final state is not
                                 served by then (default 300)
  --burst-size N                 containers started at once (default 50)
  --overhead-rounds N --overhead-seconds S   wrk rounds of direct/ours/baseline (default 3 x 10 s)
  --overhead-connections N --overhead-threads N   wrk -c / -t for the overhead (default 20 / 2)
  --overhead-variants LIST       NAME=TEMPLATE,...: more instances of ours in the overhead rounds, each
                                 with that HAProxy template (HAPROXY_TEMPLATE), to try template settings
  --rest-backends N              backends routed during the overhead, for the memory at rest (default 30)
  --scale-docker LIST            stand-in,real (default both): the 1,000-container first pass and memory
                                 against bench/stand-in-docker.mjs, and/or the whole scenario on real Docker
  --scale-services N --scale-per-service M   scale size (default 500 x 2)
  --idle-seconds S               idle CPU window at scale (default 60)
  --skip-scale-baseline          at scale, measure ours only
  --fleet-hosts LIST             fleet simulation sizes (default 100,250): in-process DNS halves on one moto
                                 zone, 5 requests/s for all; needs moto only (--only fleet runs without Docker)
  --fleet-backoff LIST           simulation,production (default both): the registrars' retries, 250 ms-5 s as
                                 CI runs the simulation, or the companion's own 1-60 s
  --fleet-seed N                 the simulation's seed (default 20261124)
  --no-host-tuning               at scale, do not raise the kernel's ARP table size (restored afterwards)
                                 when it is too small for the number of containers
  --no-dns                       Route53 off for both systems (default: both on moto)
  --report-only FILE             rewrite docs/benchmarks.md from a results JSON, measure nothing
  --out FILE                     report path (default docs/benchmarks.md)`);
  process.exit(0);
}

const int = (name: keyof typeof opt) => {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name}: not a whole number: ${opt[name]}`);
  return v;
};

if (opt['report-only']) {
  const results = JSON.parse(readFileSync(opt['report-only'], 'utf8')) as Results;
  writeReport(results, opt.out!, RESULTS);
  console.log(`wrote ${opt.out}`);
  process.exit(0);
}

const only = new Set(opt.only!.split(',').map((s) => s.trim()));
const systems = new Set(opt.systems!.split(',').map((s) => s.trim()) as ('ours' | 'baseline')[]);
for (const s of systems) if (s !== 'ours' && s !== 'baseline') throw new Error(`--systems: unknown system ${s}`);
if (systems.has('baseline') && spawnSync('sh', ['-c', 'command -v ansible-playbook']).status !== 0) {
  console.error("the baseline needs Debian's ansible, python3-docker and python3-boto3: run bench/setup.sh first (or --systems ours)");
  process.exit(2);
}
if (opt['skip-scale']) only.delete('scale');
for (const s of only) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`--only: unknown scenario ${s}`);
const variants = opt['overhead-variants']!.split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((s) => {
    const [name, template] = s.split('=');
    if (!name || !template || !/^[a-z0-9-]+$/i.test(name) || !existsSync(template))
      throw new Error(`--overhead-variants: expected NAME=TEMPLATE with an existing file, got ${s}`);
    return { name, template: path.resolve(template) };
  });
if (variants.length && !systems.has('ours')) throw new Error('--overhead-variants: variants are instances of ours; add ours to --systems');
const scaleDocker = new Set(opt['scale-docker']!.split(',').map((s) => s.trim()));
const fleetHosts = opt['fleet-hosts']!.split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`--fleet-hosts: not a host count: ${s}`);
  return n;
});
const fleetBackoffs = opt['fleet-backoff']!.split(',').map((s) => s.trim()) as FleetBackoff[];
for (const b of fleetBackoffs) if (b !== 'simulation' && b !== 'production') throw new Error(`--fleet-backoff: unknown ${b}`);
const needsDocker = [...only].some((s) => !WITHOUT_DOCKER.has(s));
for (const s of scaleDocker) if (s !== 'real' && s !== 'stand-in') throw new Error(`--scale-docker: unknown ${s}`);
if (only.has('overhead') && !(await imageExists(FAST_BACKEND_IMAGE))) {
  console.error(`the overhead scenario's backend image ${FAST_BACKEND_IMAGE} is missing: run scripts/base-images.sh first`);
  process.exit(2);
}

const runId = `${new Date().toISOString().slice(5, 16).replace(/[-T:]/g, '')}${randomBytes(2).toString('hex')}`;
const workDir = path.join('/tmp', `hc-bench-${runId}`);
mkdirSync(workDir, { recursive: true });
mkdirSync(RESULTS, { recursive: true });
const log = (m: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const started = Date.now();

if (opt.build) {
  log('building the image (scripts/build-image.sh)');
  const b = spawnSync(path.join(REPO, 'scripts', 'build-image.sh'), { stdio: 'inherit' });
  if (b.status !== 0) throw new Error('scripts/build-image.sh failed');
}

// Leftovers of an interrupted earlier run: only this benchmark labels containers hc-bench.
const stale = needsDocker ? await cleanup(BENCH_LABEL) : 0;
if (stale) log(`removed ${stale} containers left by an earlier run`);

const results: Results = {
  runId,
  startedAt: new Date(started).toISOString(),
  command: `node bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
  options: { ...opt, only: [...only], systems: [...systems] },
  machine: machine(IMAGE, REPO, { docker: needsDocker }),
  errors: [],
};
const resultsFile = path.join(RESULTS, `${runId}.json`);
const save = () => {
  results.durationS = (Date.now() - started) / 1000;
  writeFileSync(resultsFile, JSON.stringify(results, null, 1));
};
log(`run ${runId}: ${[...only].join(', ')}; image ${results.machine.image}`);

let moto: Moto | undefined;
const proxies: { close(): Promise<void> }[] = [];
const teardown = async () => {
  if (needsDocker) await cleanup(`${BENCH_LABEL}=${runId}`).catch(() => undefined);
  for (const p of proxies) await p.close().catch(() => undefined);
  await moto?.stop().catch(() => undefined);
};
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: cleaning up`);
    void teardown().finally(() => process.exit(130));
  });
}

try {
  const networks = needsDocker ? [await makeNetwork(runId, 'a', 213)] : [];
  const ctx: Context = { runId, workDir, ports: { ours: 18210, baseline: 18220 }, networks, log };
  // The fleet simulation needs moto whatever --no-dns says: Route53 is what it measures.
  if (!opt['no-dns'] || only.has('fleet')) {
    moto = await startMoto(18280, runId);
    results.route53 = `moto (${moto.runner}) at ${moto.endpoint}`;
    log(results.route53);
  }
  if (moto && !opt['no-dns']) {
    const oursProxy = await countingProxy(moto.endpoint);
    const baselineProxy = await countingProxy(moto.endpoint);
    proxies.push(oursProxy, baselineProxy);
    ctx.dns = {
      motoEndpoint: moto.endpoint,
      ours: { endpoint: oursProxy.endpoint, zoneId: await createZone(moto.endpoint, 'example.com', false), proxy: oursProxy },
      baseline: { endpoint: baselineProxy.endpoint, zoneId: await createZone(moto.endpoint, 'example.com', true), proxy: baselineProxy },
    };
    results.route53 = `moto (${moto.runner}) at ${moto.endpoint}; one counting proxy per system`;
  }

  const step = async (name: string, fn: () => Promise<void>) => {
    if (!only.has(name)) return;
    const t = Date.now();
    log(`== ${name}`);
    if (ctx.dns && !(await motoAnswers(ctx.dns.motoEndpoint))) {
      // Seen once: moto vanished mid-run (a PID reused by a stray kill from elsewhere on the machine is the
      // likeliest cause). Start a fresh one with fresh zones, and say so in the results.
      const message = `${name}: moto did not answer before this scenario; restarted it with new zones (the previous scenario's Route53 figures may be affected)`;
      results.errors.push(message);
      log(`!! ${message}`);
      await moto?.stop().catch(() => undefined);
      moto = await startMoto(18280, runId);
      for (const d of [ctx.dns.ours, ctx.dns.baseline]) d.proxy.resetStats();
      ctx.dns.ours.zoneId = await createZone(moto.endpoint, 'example.com', false);
      ctx.dns.baseline.zoneId = await createZone(moto.endpoint, 'example.com', true);
    }
    try {
      await fn();
    } catch (error) {
      const message = `${name}: ${(error as Error).stack ?? error}`;
      results.errors.push(message);
      log(`!! ${message}`);
    }
    results.timings ??= {};
    results.timings[name] = (Date.now() - t) / 1000;
    save();
  };

  const trials = int('trials');
  await step('convergence', async () => {
    results.convergence = {};
    if (systems.has('ours')) {
      results.convergence.ours = await convergence(ctx, 'ours', { newTrials: trials, existingTrials: trials });
      save();
    }
    if (systems.has('baseline'))
      results.convergence.baseline = await convergence(ctx, 'baseline', {
        newTrials: opt['baseline-trials'] ? int('baseline-trials') : trials,
        existingTrials: int('baseline-existing-trials'),
      });
  });
  await step('churn', async () => {
    const intervalMs = int('churn-interval-ms');
    results.churn = [];
    for (const mode of opt['churn-modes']!.split(',') as ('new' | 'existing')[]) {
      for (const kind of [...systems]) {
        const r = await churn(ctx, kind, mode, { intervalMs, convergeLimitS: int('churn-converge-limit-s') });
        log(
          `  churn ${mode} ${kind}: ${r.wrk.requests} requests, ${r.failed} failed (socket ${r.wrk.socketErrors.total}, non-2xx ${r.wrk.non2xx}), ${r.reloads} reloads`,
        );
        results.churn.push(r);
        save();
      }
    }
  });
  await step('bursts', async () => {
    results.bursts = {};
    for (const kind of [...systems]) {
      const r = await bursts(ctx, kind, { size: int('burst-size') });
      results.bursts[kind] = r;
      save();
      log(`  burst ${kind}: ${r.reloads} reloads, ${r.route53Changes ?? '-'} Route53 changes (${r.route53Requests ?? '-'} requests)`);
    }
  });
  await step('overhead', async () => {
    results.overhead = await overhead(ctx, {
      rounds: int('overhead-rounds'),
      durationS: int('overhead-seconds'),
      connections: int('overhead-connections'),
      threads: int('overhead-threads'),
      systems,
      variants,
      restBackends: Math.max(1, int('rest-backends')),
    });
  });
  await step('scale', async () => {
    results.scale = await scale(ctx, {
      services: int('scale-services'),
      perService: int('scale-per-service'),
      idleSeconds: int('idle-seconds'),
      ours: systems.has('ours'),
      baseline: systems.has('baseline') && !opt['skip-scale-baseline'],
      tuneHost: !opt['no-host-tuning'],
      standIn: scaleDocker.has('stand-in') && systems.has('ours'),
      real: scaleDocker.has('real'),
    });
  });
  await step('upgrade', async () => {
    if (!systems.has('ours')) return;
    results.upgrade = { ...(await upgrade(ctx)), command: results.command };
    for (const u of results.upgrade.runs) log(`  upgrade ${u.way}, ${u.connections}: ${u.failed} failed of ${u.requests}, ${u.tookMs} ms`);
  });
  await step('fleet', async () => {
    results.fleet = await fleet(moto!.endpoint, { hosts: fleetHosts, backoffs: fleetBackoffs, seed: int('fleet-seed') }, log);
  });
} catch (error) {
  results.errors.push(`setup: ${(error as Error).stack ?? error}`);
  log(`!! ${(error as Error).stack ?? error}`);
} finally {
  await teardown();
  results.finishedAt = new Date().toISOString();
  save();
  writeReport(results, opt.out!, RESULTS);
  log(`done in ${((Date.now() - started) / 60000).toFixed(1)} min: ${resultsFile}, ${opt.out}`);
}
process.exit(results.errors.length ? 1 : 0);
