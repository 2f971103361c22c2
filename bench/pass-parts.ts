/**
 * Issue 12: where a pass's pure work goes at N containers (the model, the render, the runtime plan), for
 * one change (a container added to an existing service), on a compiled tree:
 * `npx tsc -p tsconfig.build.json --outDir .cache/dist && node bench/pass-parts.ts .cache/dist [containers] [flags]`
 * Run it under `node --lite-mode` to see the image's interpreter-only figures.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = path.resolve(process.argv[2] ?? 'dist');
const count = Number(process.argv[3] ?? 1000);
const load = async (file: string) => import(pathToFileURL(`${dist}/${file}`).href);
const { modelBuilder } = await load('model/services.js');
const { chooseCandidate } = await load('render/candidate.js');
const { loadTemplate, renderFiles } = await load('render/render-config.js');

const container = (i: number) => ({
  id: i.toString(16).padStart(64, '0'),
  name: `app-${i}`,
  labels: {
    'haproxy-companion.domain': `app-${Math.floor(i / 2)}`,
    'com.docker.compose.project': 'p',
    'com.docker.compose.service': `s${Math.floor(i / 2)}`,
  },
  env: {},
  exposedPorts: ['8080/tcp'],
  running: true,
  paused: false,
  networkMode: 'bridge',
  networks: [{ name: 'bridge', ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
  image: 'app:latest',
  created: `2024-01-01T00:00:00.${String(i).padStart(9, '0')}Z`,
});
const options = { selfId: undefined, zone: 'example.com', allowHostNetwork: false, reservedPorts: [80, 8404], maxDomainsPerContainer: 100 };
const settings = { zone: 'example.com', httpPort: 80, haproxyStatsPort: 8404 };
const paths = { adminSocket: '/run/admin.sock', hostsMap: '/run/hosts.map', pathsMap: '/run/paths.map' };
const renderer = await loadTemplate(path.resolve('templates/haproxy.cfg.njk'));
const render = (services: unknown[], layout: unknown) => renderFiles(renderer, services as never, layout as never, settings, paths);

let containers = Array.from({ length: count }, (_, i) => container(i));
// The pass loop's builder: a container whose facts did not change is not judged again.
const modelOf = modelBuilder(options);
let running = chooseCandidate(modelOf(containers).services, undefined, render);
const rows: number[][] = [];
for (let change = 0; change < 40; change++) {
  // Alternately a new server for an existing domain and one container gone.
  containers = change % 2 === 0 ? [...containers, container(count + change)] : containers.slice(1);
  const t0 = performance.now();
  const model = modelOf(containers);
  const t1 = performance.now();
  let renders = 0;
  const next = chooseCandidate(model.services, running, (s: unknown[], l: unknown) => {
    renders++;
    return render(s, l);
  });
  const t2 = performance.now();
  if (!next.runtimePlan) throw new Error(`change ${change} needs a reload (${renders} renders)`);
  running = next;
  rows.push([t1 - t0, t2 - t1]);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1);
const max = (xs: number[]) => Math.max(...xs).toFixed(1);
const steady = rows.slice(10);
console.log(
  `${count} containers, ${steady.length} changes after 10 warm-up: model p50 ${median(steady.map((r) => r[0]!))} ms (max ${max(steady.map((r) => r[0]!))}), render + plan p50 ${median(steady.map((r) => r[1]!))} ms (max ${max(steady.map((r) => r[1]!))}); config ${running.files.config.length} B; rss ${(process.memoryUsage().rss / 1e6).toFixed(1)} MB`,
);
