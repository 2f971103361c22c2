/**
 * A bad configuration never replaces a running one: a custom template that fails to render, or
 * renders something HAProxy rejects, is reported (with HAProxy's own lines) while the last good
 * configuration keeps serving; fixing the template applies it without a restart.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Companion, TestRun } from '../helpers/docker.js';
import { bodiesOver, get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18102;
let companion: Companion;
let templateDir: string;
let original: string;

const template = (text: string) => writeFile(path.join(templateDir, 'haproxy.cfg.njk'), text);

beforeAll(async () => {
  templateDir = await mkdtemp(path.join(tmpdir(), 'hc-template-'));
  original = await readFile(new URL('../../templates/haproxy.cfg.njk', import.meta.url), 'utf8');
  await template(original);
  await run.backend({ domain: 'login', text: 'login-1' });
  companion = await run.companion({
    port,
    env: { HAPROXY_TEMPLATE: '/etc/haproxy-companion/haproxy.cfg.njk' },
    args: ['-v', `${templateDir}:/etc/haproxy-companion:ro`],
  });
  await waitFor(async () => (await get(port, 'login.example.com')).body === 'login-1', { what: 'login to be routed' });
});
afterAll(() => run.cleanup());

describe('custom template', () => {
  it('keeps serving when the template no longer renders', async () => {
    await template(original.replace('{% for backend in backends %}', '{% for backend in %}'));
    const line = await waitFor(async () =>
      (await companion.logs()).find((l) => l.msg === 'template failed to render; running configuration kept'),
    );
    expect(line.err?.message).toMatch(/haproxy\.cfg\.njk/);
    expect((await get(port, 'login.example.com')).body).toBe('login-1');
  });

  it('keeps serving when HAProxy rejects the rendered config, and logs HAProxy’s reason', async () => {
    await template(original.replace('    balance roundrobin', '    balance roundrobin\n    no-such-directive here'));
    const line = await waitFor(async () =>
      (await companion.logs()).find(
        (l) => l.msg === 'configuration rejected; running configuration kept' && /no-such-directive/.test(String(l.err?.message)),
      ),
    );
    expect((line.haproxy as string[]).join('\n')).toMatch(/ALERT.*no-such-directive/);
    expect((await get(port, 'login.example.com')).body).toBe('login-1');
    // A new container meanwhile cannot be applied either, but the old routes stay up.
    await run.backend({ domain: 'later', text: 'later-1' });
    expect((await get(port, 'login.example.com')).body).toBe('login-1');
  });

  it('applies a fixed template without a restart, including what changed meanwhile', async () => {
    await template(original.replace('No service is registered for this host.', 'Nobody home.'));
    await waitFor(async () => (await get(port, 'unknown.example.com')).body === 'Nobody home.', { what: 'the new 503 text' });
    await waitFor(async () => (await get(port, 'later.example.com')).body === 'later-1', { what: 'the container started meanwhile' });
    expect(await companion.count('haproxy started')).toBe(1);
  });

  it('falls back to a reload when the runtime API refuses a server line', async () => {
    const reloads = await companion.count('haproxy reloaded');
    // Only the server lines change, so the runtime API is tried first; `init-addr` is valid in a config
    // file but refused by `add server`, so the companion must reload instead.
    await template(
      original
        .replace('No service is registered for this host.', 'Nobody home.') // as the previous test left it
        .replace('fall 2 rise 2{% if p.maxconn %}', 'fall 2 rise 2 init-addr last,libc,none{% if p.maxconn %}'),
    );
    await waitFor(async () => (await companion.logs()).some((l) => l.msg === 'runtime update failed; reloading instead'), {
      what: 'the refusal',
    });
    await waitFor(async () => (await companion.count('haproxy reloaded')) > reloads, { what: 'the reload' });
    expect((await get(port, 'login.example.com')).body).toBe('login-1');
    // And containers joining later still get traffic.
    await run.backend({ domain: 'login', text: 'login-2' });
    await waitFor(async () => (await bodiesOver(port, 'login.example.com', 6)).size === 2, { what: 'both login servers' });
  });
});
