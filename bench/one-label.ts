/**
 * Issue 11, point 8: what one label with 40,000 domains costs a pass (the model, the backend layout, the host
 * map), on a compiled tree: `npx tsc -p tsconfig.build.json --outDir .cache/dist && node bench/one-label.ts .cache/dist [maxDomainsPerContainer]`.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = path.resolve(process.argv[2] ?? 'dist');
const max = Number(process.argv[3] ?? 100);
const { modelOf } = await import(pathToFileURL(`${dist}/model/services.js`).href);
const { freshLayout, placeServices, hostsMapText } = await import(pathToFileURL(`${dist}/model/backend-pool.js`).href);
const domains = Array.from({ length: 40_000 }, (_, i) => `d${i}`).join(',');
const c = {
  id: 'a'.repeat(64),
  name: 'big',
  labels: { 'haproxy-companion.domain': domains },
  env: {},
  exposedPorts: ['8080/tcp'],
  running: true,
  paused: false,
  networkMode: 'bridge',
  networks: [{ name: 'bridge', ip: '172.17.0.2' }],
  image: 'big:latest',
  created: '2024-01-01T00:00:00.000000000Z',
};
const opts = { selfId: undefined, zone: 'example.com', allowHostNetwork: false, reservedPorts: [80, 8404], maxDomainsPerContainer: max };
for (let run = 1; run <= 3; run++) {
  const t0 = performance.now();
  const model = modelOf([c], opts);
  const t1 = performance.now();
  const placed = placeServices(model.services, freshLayout(model.services));
  const map = hostsMapText(placed.services);
  const t2 = performance.now();
  const reason = model.skipped[0]?.reason ?? '';
  console.log(
    `run ${run}: modelOf ${(t1 - t0).toFixed(1)} ms, layout+map ${(t2 - t1).toFixed(1)} ms; services ${model.services.length}, map ${map.length} B, skipped reason ${reason.length} chars, domain field ${(model.skipped[0]?.domain ?? '').length} chars`,
  );
}
