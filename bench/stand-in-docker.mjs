// A stand-in Docker API on a unix socket with N running containers (two per domain), for memory and
// first-pass experiments at scale without waiting for Docker to start 1,000 real containers:
//   node bench/stand-in-docker.mjs /tmp/fake-docker.sock 1000 &
//   docker run -d --name hc-mem --network host -v /tmp/fake-docker.sock:/var/run/docker.sock \
//     -e DOMAIN_NAME=example.com -e HOST_IP=10.0.0.5 -e HOST_ID=memtest -e HTTP_PORT=18555 -e STATUS_PORT=18556 haproxy-companion
//   curl -s localhost:18556/metrics | grep resident; docker logs hc-mem | grep "haproxy started"
// It answers only what the companion asks (ping, version, list, inspect, an event stream that stays silent).

import fs from 'node:fs';
import http from 'node:http';

const [sock, n] = [process.argv[2], Number(process.argv[3] ?? 1000)];
// Addresses on loopback (127.100.0.0/16): HAProxy health-checks every server, and those checks must stay on
// this host (a 10.x address with no container behind it would go to the default gateway).
const cs = Array.from({ length: n }, (_, i) => {
  const id = i.toString(16).padStart(8, '0').repeat(8);
  const ip = `127.${100 + ((i + 1) >> 16)}.${((i + 1) >> 8) & 255}.${(i + 1) & 255}`;
  return { id, name: `svc${Math.floor(i / 2)}-${i % 2}`, domain: `sc${Math.floor(i / 2)}`, ip };
});
const summary = (c) => ({
  Id: c.id,
  Names: [`/${c.name}`],
  Image: 'busybox',
  State: 'running',
  Status: 'Up 1 minute',
  Labels: { 'hc.fake': '1' },
  HostConfig: { NetworkMode: 'bridge' },
  NetworkSettings: {
    Networks: {
      bridge: {
        IPAddress: c.ip,
        NetworkID: 'x'.repeat(64),
        EndpointID: 'y'.repeat(64),
        Gateway: '10.0.0.1',
        MacAddress: '02:42:ac:11:00:02',
      },
    },
  },
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
  HostConfig: { NetworkMode: 'bridge', Binds: null, LogConfig: { Type: 'json-file', Config: {} }, RestartPolicy: { Name: 'no' } },
  Config: {
    Hostname: c.id.slice(0, 12),
    Env: [`DOMAIN=${c.domain}`, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Cmd: ['sh', '-c', 'httpd -f -p 8080'],
    Image: 'busybox',
    Labels: { 'hc.fake': '1' },
    ExposedPorts: { '8080/tcp': {} },
  },
  NetworkSettings: {
    Networks: {
      bridge: {
        IPAddress: c.ip,
        NetworkID: 'x'.repeat(64),
        EndpointID: 'y'.repeat(64),
        Gateway: '10.0.0.1',
        MacAddress: '02:42:ac:11:00:02',
        IPPrefixLen: 16,
      },
    },
  },
  Mounts: [],
});
const byId = new Map(cs.map((c) => [c.id, c]));
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
      return;
    }
    res.writeHead(404);
    res.end('{}');
  })
  .listen(sock, () => {
    fs.chmodSync(sock, 0o666);
    console.log('listening', sock, n);
  });
