/**
 * Shutdown as operators rely on it: SIGTERM lets in-flight requests finish and exits 0; a second
 * signal exits at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, TestRun } from '../helpers/docker.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18106;
// A CGI answer that takes `seconds`: the in-flight request shutdown must not cut.
const slowCgi = (seconds: number) =>
  `printf '#!/bin/sh\\nsleep ${seconds}\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nslow done\\\\n"\\n' > /www/cgi-bin/slow && chmod +x /www/cgi-bin/slow`;

beforeAll(async () => {
  await run.backend({ domain: 'slow', text: 'fast', setup: slowCgi(3) });
  await run.backend({ domain: 'slower', text: 'fast', setup: slowCgi(30) });
});
afterAll(() => run.cleanup());

const exitOf = async (name: string) => ({
  status: await docker('inspect', '-f', '{{.State.Status}}', name),
  code: Number(await docker('inspect', '-f', '{{.State.ExitCode}}', name)),
});

describe('graceful shutdown', () => {
  it('lets an in-flight request finish on SIGTERM, then exits 0', async () => {
    const companion = await run.companion({ port });
    await waitFor(async () => (await get(port, 'slow.example.com')).body === 'fast', { what: 'slow routed' });
    const inFlight = get(port, 'slow.example.com', '/cgi-bin/slow');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stopping = docker('stop', '-t', '20', companion.name);
    await expect(inFlight).resolves.toEqual({ status: 200, body: 'slow done' });
    await stopping;
    expect(await exitOf(companion.name)).toEqual({ status: 'exited', code: 0 });
    const logs = await companion.logs();
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  });

  it('exits at once on a second signal', async () => {
    const companion = await run.companion({ port, env: { SHUTDOWN_GRACE_S: '60' } });
    await waitFor(async () => (await get(port, 'slower.example.com')).body === 'fast', { what: 'slower routed' });
    const inFlight = get(port, 'slower.example.com', '/cgi-bin/slow').catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await docker('kill', '-s', 'TERM', companion.name);
    await waitFor(async () => (await companion.logs()).some((l) => l.msg === 'shutting down'), { what: 'the first signal' });
    const started = Date.now();
    await docker('kill', '-s', 'TERM', companion.name);
    await waitFor(async () => (await exitOf(companion.name)).status === 'exited', { timeoutMs: 10_000, what: 'the exit' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await exitOf(companion.name)).code).toBe(1);
    expect((await companion.logs()).some((l) => l.msg === 'second signal; exiting now')).toBe(true);
    await inFlight;
  });
});
