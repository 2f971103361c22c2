// A stand-in Docker API on a unix socket with N running containers (two per domain), for memory and
// first-pass experiments at scale without waiting for Docker to start 1,000 real containers:
//   node bench/stand-in-docker.mjs /tmp/fake-docker.sock 1000 &
//   docker run -d --name hc-mem --network host -v /tmp/fake-docker.sock:/var/run/docker.sock \
//     -e DOMAIN_NAME=example.com -e HOST_IP=10.0.0.5 -e HOST_ID=memtest -e HTTP_PORT=18555 -e STATUS_PORT=18556 \
//     -e ALLOW_HOST_NETWORK=true haproxy-companion
//   curl -s localhost:18556/metrics | grep resident; docker logs hc-mem | grep "haproxy started"
// It answers only what the companion asks (ping, version, list, inspect, the event stream).
// With CHANGES and EVERY_MS (after AFTER_MS), it then starts CHANGES more containers, one every EVERY_MS,
// each announced by a `start` event, alternately a new domain and one more server of an existing one: the
// companion's "servers updated at runtime" log lines then give the cost of one change at this size
// (`docker logs hc-mem | grep 'updated at runtime'`, field durationMs and phases):
//   node bench/stand-in-docker.mjs /tmp/fake-docker.sock 1000 30 1000 10000 &

import fs from 'node:fs';
import http from 'node:http';

const [sock, n] = [process.argv[2], Number(process.argv[3] ?? 1000)];
const [changes, everyMs, afterMs] = [4, 5, 6].map((i) => Number(process.argv[i] ?? 0));
// Every container is on the host network, reached on 127.0.0.1 at a port of its own (20000 + i, nothing
// listens there): HAProxy health-checks every server, and those checks must stay on this host (a 10.x
// address with no container behind it would go to the default gateway). Run the companion with
// ALLOW_HOST_NETWORK=true; each container carries the label that opts it in.
const container = (i, name, domain) => ({
  id: (i < n ? i : 0x80000000 + i).toString(16).padStart(8, '0').repeat(8),
  name,
  domain,
  port: 20000 + i,
});
const cs = Array.from({ length: n }, (_, i) => container(i, `svc${Math.floor(i / 2)}-${i % 2}`, `sc${Math.floor(i / 2)}`));
const labels = (c) => ({ 'hc.fake': '1', 'haproxy-companion.host-network': 'true', 'haproxy-companion.port': String(c.port) });
const networks = { host: { IPAddress: '', NetworkID: 'h'.repeat(64), EndpointID: '', Gateway: '', MacAddress: '' } };
const summary = (c) => ({
  Id: c.id,
  Names: [`/${c.name}`],
  Image: 'busybox',
  State: 'running',
  Status: 'Up 1 minute',
  Labels: labels(c),
  HostConfig: { NetworkMode: 'host' },
  NetworkSettings: { Networks: networks },
  Ports: [{ PrivatePort: 8080, Type: 'tcp' }],
  Mounts: [],
  Command: 'httpd -f -p 8080',
  Created: 1,
});
const inspect = (c) => ({
  Id: c.id,
  Name: `/${c.name}`,
  Created: '2026-01-01T00:00:00Z',
  Path: 'sh',
  Args: ['-c', 'httpd'],
  State: { Status: 'running', Running: true, Paused: false, Pid: 1234, StartedAt: '2026-01-01T00:00:00Z' },
  Image: `sha256:${'a'.repeat(64)}`,
  HostConfig: { NetworkMode: 'host', Binds: null, LogConfig: { Type: 'json-file', Config: {} }, RestartPolicy: { Name: 'no' } },
  Config: {
    Hostname: c.id.slice(0, 12),
    Env: [`DOMAIN=${c.domain}`, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Cmd: ['sh', '-c', 'httpd -f -p 8080'],
    Image: 'busybox',
    Labels: labels(c),
    ExposedPorts: { '8080/tcp': {} },
  },
  NetworkSettings: { Networks: networks },
  Mounts: [],
});
const byId = new Map(cs.map((c) => [c.id, c]));
const streams = new Set();
/** One more running container, announced on every open event stream as Docker does. */
const startOne = (k) => {
  const c = container(n + k, `extra${k}`, k % 2 === 0 ? `new${k}` : `sc${k % Math.max(1, n / 2)}`);
  const id = c.id;
  cs.push(c);
  byId.set(id, c);
  const event = {
    status: 'start',
    id,
    from: 'busybox',
    Type: 'container',
    Action: 'start',
    Actor: { ID: id, Attributes: { name: c.name } },
    time: Math.floor(Date.now() / 1000),
  };
  for (const stream of streams) stream.write(`${JSON.stringify(event)}\n`);
};
if (changes > 0) {
  setTimeout(() => {
    let k = 0;
    const timer = setInterval(() => {
      startOne(k++);
      if (k >= changes) clearInterval(timer);
    }, everyMs);
  }, afterMs);
}
try {
  fs.unlinkSync(sock);
} catch {}
http
  .createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname.replace(/^\/v[\d.]+/, '');
    const json = (o) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(o));
    };
    if (p === '/_ping') {
      res.end('OK');
      return;
    }
    if (p === '/version') return json({ ApiVersion: '1.41', Version: '20.10.24' });
    if (p === '/containers/json') return json(cs.map(summary));
    const m = /^\/containers\/([0-9a-f]+)\/json$/.exec(p);
    if (m) {
      const c = byId.get(m[1]);
      if (!c) {
        res.writeHead(404);
        res.end('{}');
        return;
      }
      return json(inspect(c));
    }
    if (p === '/events') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    res.writeHead(404);
    res.end('{}');
  })
  .listen(sock, () => {
    fs.chmodSync(sock, 0o666);
    console.log('listening', sock, n);
  });
