/**
 * The status endpoint of the running image: JSON status, health, Prometheus metrics, and the human
 * page in a real headless browser (Debian's chromium).
 */

import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, TestRun } from '../helpers/docker.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18105;
const statusUrl = `http://127.0.0.1:${port + 1000}`;
const hostile = '<img src=x onerror=alert(1)>';
let companionId: string;

beforeAll(async () => {
  await run.backend({ domain: 'login', text: 'login-1', name: `${run.name('login')}` });
  await run.backend({ domain: 'publish', text: 'publish-1' });
  await run.backend({ domain: hostile });
  companionId = await docker(
    'inspect',
    '--format',
    '{{.Id}}',
    (await run.companion({ port, env: { AWS_SECRET_ACCESS_KEY: 'do-not-show-me', HAPROXY_STATS_PORT: String(port + 2000) } })).name,
  );
  await waitFor(async () => (await get(port, 'login.example.com')).body === 'login-1', { what: 'login routed' });
});
afterAll(() => run.cleanup());

describe('status endpoint', () => {
  it('/healthz says healthy once HAProxy runs and Docker events flow', async () => {
    const res = await waitFor(async () => {
      const r = await fetch(`${statusUrl}/healthz`);
      return r.status === 200 ? r : undefined;
    });
    // Its container's id: what the companion it replaces asks for (docker/successor.ts).
    expect(await res.json()).toEqual({ healthy: true, haproxyRunning: true, dockerConnected: true, container: companionId });
  });

  it('/status lists services with their containers and HAProxy’s health, skipped containers with the reason', async () => {
    const status = await waitFor(
      async () => {
        const s = (await (await fetch(`${statusUrl}/status`)).json()) as any;
        return s.services.every((svc: any) => svc.servers.every((srv: any) => srv.haproxy?.startsWith('UP'))) ? s : undefined;
      },
      { what: 'servers to be UP' },
    );
    expect(status.services.map((s: any) => s.domain)).toEqual(['login', 'publish']);
    expect(status.services[0].servers[0]).toMatchObject({
      containerName: expect.stringContaining('login'),
      port: 8080,
      haproxy: expect.stringMatching(/^UP/),
    });
    expect(status.skipped).toEqual([expect.objectContaining({ reason: expect.stringMatching(/^domain "<img/) })]);
    expect(status.lastApply).toMatchObject({ ok: true });
    expect(status.dns).toMatchObject({ enabled: false, domains: ['login', 'publish'] });
    const text = JSON.stringify(status);
    expect(text).not.toContain('do-not-show-me');
    expect(text).not.toMatch(/AWS_|HOSTNAME|PATH=/);
  });

  it('/metrics speaks Prometheus, with the companion’s counters and gauges', async () => {
    const res = await fetch(`${statusUrl}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const body = await res.text();
    expect(body).toMatch(/^haproxy_companion_services 2$/m);
    expect(body).toMatch(/^haproxy_companion_servers 2$/m);
    expect(body).toMatch(/^haproxy_companion_skipped_containers 1$/m);
    expect(body).toMatch(/^haproxy_companion_haproxy_starts_total 1$/m);
    expect(body).toMatch(/^# TYPE haproxy_companion_pass_duration_seconds histogram$/m);
    expect(body).not.toContain('do-not-show-me');
  });

  it('serves HAProxy’s own Prometheus exporter and stats page when HAPROXY_STATS_PORT is set', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${port + 2000}/metrics`)).text();
    expect(metrics).toMatch(/^haproxy_backend_status\{proxy="be_login",state="UP"\} 1$/m);
    expect(await (await fetch(`http://127.0.0.1:${port + 2000}/`)).text()).toMatch(/Statistics Report/);
  });

  it('publishes which service each backend serves, and each service’s traffic from HAProxy’s counters', async () => {
    const body = await (await fetch(`${statusUrl}/metrics`)).text();
    expect(body).toMatch(/^haproxy_companion_backend_info\{backend="be_login",service="login",domain="login",path="\/"\} 1$/m);
    for (let i = 0; i < 5; i++) await get(port, 'publish.example.com');
    await get(port, 'publish.example.com', '/missing');
    const status = (await (await fetch(`${statusUrl}/status`)).json()) as any;
    const publish = status.services.find((s: any) => s.domain === 'publish');
    expect(publish.traffic.requestsTotal).toBeGreaterThanOrEqual(6);
    expect(publish.traffic.responses5xx).toBe(0);
    expect(publish.traffic.responseTimeMs).toBeGreaterThanOrEqual(0);
  });

  it('answers 404 for anything else', async () => {
    expect((await fetch(`${statusUrl}/env`)).status).toBe(404);
  });
});

// Debian's chromium; scripts/provision.sh installs it.
const chromiumPath = '/usr/bin/chromium';

describe('status page in a headless browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(() => browser?.close());

  it('shows each domain with its servers and health, and the skipped container without running its markup', async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${statusUrl}/`);
    await expect.poll(() => page.locator('#services').textContent()).toMatch(/login\.example\.com[\s\S]*UP/);
    const services = await page.locator('#services').textContent();
    expect(services).toContain('publish.example.com');
    expect(await page.locator('#health').textContent()).toMatch(/healthy[\s\S]*running[\s\S]*connected/);
    expect(await page.locator('#skipped').textContent()).toContain(hostile);
    expect(await page.locator('#skipped img').count()).toBe(0);
    expect(await page.locator('#dns').textContent()).toMatch(/DNS registration is off/);
    expect(dialogs).toEqual([]);
    // Self-contained: the page loads nothing else.
    expect(requests).toEqual([`${statusUrl}/`]);
  });
});
