/**
 * Issue 21, health-check floods, against the real image: the connections a container actually receives
 * from HAProxy's health checks, counted by the kernel of the container's own network namespace. A plain TCP
 * check never reaches the application (HAProxy answers the SYN-ACK with a RST, so the connection dies
 * half-open: `AttemptFails`); an HTTP check is accepted (`PassiveOpens`); the sum is every SYN that got an
 * answer. `check.interval=1ms` gave one name 340-450 a second on a busy machine (~1,000 reported); a container
 * with 100 names, 50 (77 measured with HTTP checks at 1 s on half of them). Now the interval has a floor and a
 * container's checks a cap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CHECKS_PER_SECOND } from '../../src/model/check-budget.js';
import { BACKEND_IMAGE, docker, TestRun } from '../helpers/docker.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18190;
/** Long enough to hold two checks of every server once intervals are stretched (at most 15 s here). */
const WINDOW_MS = 30_000;
/** Generous for noise; well under what either container got before (hundreds, and 77 a second). */
const LIMIT = 2 * MAX_CHECKS_PER_SECOND;

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(',');
const route = (name: string, labels: Record<string, string>) =>
  Object.fromEntries(Object.entries(labels).map(([key, value]) => [`haproxy-companion.${name}.${key}`, value]));
const status = async () => (await (await fetch(`http://127.0.0.1:${port + 1000}/status`)).json()) as any;

/** A busybox httpd on 8080 answering / and /healthz. */
async function checkedBackend(prefix: string, labels: Record<string, string>): Promise<string> {
  const name = run.name(prefix);
  await docker(
    'run',
    '-d',
    '--name',
    name,
    '--label',
    run.label,
    '--expose',
    '8080',
    ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    BACKEND_IMAGE,
    'sh',
    '-c',
    `mkdir -p /www && echo ${prefix} > /www/index.html && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www`,
  );
  return name;
}

/** The connections `container` has been asked for so far: handshakes completed and those reset half-open. */
async function connections(container: string): Promise<number> {
  const [keys = '', values = ''] = (await docker('exec', container, 'grep', '^Tcp:', '/proc/net/snmp')).split('\n');
  const counters = Object.fromEntries(keys.split(/\s+/).map((key, i) => [key, Number(values.split(/\s+/)[i])]));
  return (counters.PassiveOpens ?? Number.NaN) + (counters.AttemptFails ?? Number.NaN);
}

const containers: Record<string, string> = {};

beforeAll(async () => {
  containers.fast = await checkedBackend('fast', route('f', { domain: 'fast', 'check.interval': '1ms' }));
  // 100 names (MAX_DOMAINS_PER_CONTAINER): half TCP checks at the default 2 s, half HTTP checks at 1 s.
  containers.many = await checkedBackend('many', {
    ...route('web', { domain: names('w', 50) }),
    ...route('api', { domain: names('a', 50), 'check.path': '/healthz', 'check.interval': '1s' }),
  });
  await run.companion({ port });
  await waitFor(async () => (await get(port, 'w49.example.com')).body === 'many', { what: 'the 100 names to be served' });
  await waitFor(async () => (await get(port, 'a49.example.com')).body === 'many', { what: 'the HTTP-checked names to be served' });
}, 120_000);

afterAll(async () => {
  await run.cleanup();
});

describe('health checks a container receives', () => {
  it(`stay within ${MAX_CHECKS_PER_SECOND} a second (with slack: ${LIMIT}), for check.interval=1ms and for 100 names`, async () => {
    const before = { fast: await connections(containers.fast!), many: await connections(containers.many!) };
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const seconds = (Date.now() - started) / 1000;
    const rate = {
      fast: ((await connections(containers.fast!)) - before.fast) / seconds,
      many: ((await connections(containers.many!)) - before.many) / seconds,
    };
    console.log(`health-check connections a second: ${JSON.stringify(rate)}`);
    expect(rate.fast).toBeLessThanOrEqual(LIMIT);
    expect(rate.many).toBeLessThanOrEqual(LIMIT);
    // Still checked: a container whose checks were stretched is not left unwatched.
    expect(rate.many).toBeGreaterThan(0);
  }, 90_000);

  it('refuses a route with check.interval below 1 s, naming the label', async () => {
    const skipped = (await status()).skipped.find((s: any) => s.containerName === containers.fast);
    expect(skipped?.reason).toMatch(/^label haproxy-companion\.f\.check\.interval="1ms" .*1s/);
  });
});
