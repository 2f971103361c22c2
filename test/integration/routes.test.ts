/**
 * Issue "Routes" against the real image and a real Docker engine: several routes per container, path
 * routing, each per-route policy, a TCP route, DEFAULT_SERVICE, a wildcard, and hostile route labels
 * skipped with reasons while everything else serves. Backends are busybox httpd (files under /www, CGI
 * under /www/cgi-bin) and, for TCP, busybox nc running cat (a line echo).
 */
import net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_IMAGE, docker, TestRun } from '../helpers/docker.js';
import { get, request, statusesOverH2c } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

const run = new TestRun();
const port = 18150;
const tcpPort = 18155;
/** `openssl passwd -6 -salt abcdefgh secret` */
const SECRET_HASH = '$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.';
const route = (name: string, labels: Record<string, string>) =>
  Object.fromEntries(Object.entries(labels).map(([key, value]) => [`haproxy-companion.${name}.${key}`, value]));

const names: Record<string, string> = {};
/** Compose's labels for a service of the project that serves the host `shop`. */
const shopProject = (service: string) => ({ 'com.docker.compose.project': `hc-${run.id}-shop`, 'com.docker.compose.service': service });
/** The same for the host `guarded`: an open `/` and two guarded prefixes. */
const guardedProject = (service: string) => ({
  'com.docker.compose.project': `hc-${run.id}-guarded`,
  'com.docker.compose.service': service,
});

const answers = (host: string, path: string, text: string) =>
  waitFor(async () => (await get(port, host, path)).body === text, { what: `${host}${path} to answer ${text}` });
const status = async () => (await (await fetch(`http://127.0.0.1:${port + 1000}/status`)).json()) as any;
const metric = async (name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${port + 1000}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
};

/** A file answering `text` at each of `paths` (e.g. `/x` or `/api/x`), /healthz too. */
const files = (paths: Record<string, string>) =>
  Object.entries(paths)
    .map(([p, text]) => `mkdir -p /www$(dirname ${p}) && echo '${text}' > /www${p}`)
    .join(' && ');

/** Other repositories of the busybox image: one owner each. */
const TAGS = ['api', 'v2', 'sticky', 'closed', 'open', 'auth', 'headers', 'moved', 'gzip', 'preview', 'hostile'];

beforeAll(async () => {
  for (const tag of TAGS) await docker('tag', BACKEND_IMAGE, `hc-${run.id}-${tag}`);
  // Two routes on two ports of one container: two httpd, 8080 and 9090.
  names.twoPorts = run.name('two-ports');
  await docker(
    'run',
    '-d',
    '--name',
    names.twoPorts,
    '--label',
    run.label,
    '--expose',
    '8080',
    '--expose',
    '9090',
    ...Object.entries({
      ...route('web', { domain: 'two', port: '8080' }),
      ...route('admin', { domain: 'two-admin', port: '9090' }),
    }).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    BACKEND_IMAGE,
    'sh',
    '-c',
    'mkdir -p /a /b && echo web-8080 > /a/index.html && echo admin-9090 > /b/index.html && httpd -p 9090 -h /b && exec httpd -f -p 8080 -h /a',
  );
  // One host, `/` to one service and `/api` (and `/api/v2`, longest wins) to others, with and without strip:
  // services of one compose project, which may split a host (another owner's path under it would be refused).
  names.site = await run.backend({
    domain: 'shop',
    text: 'site-root',
    labels: shopProject('site'),
    setup: files({ '/api/x': 'site-api-x' }),
  });
  names.api = await run.backend({
    text: 'api-root',
    image: `hc-${run.id}-api`,
    labels: { ...route('api', { domain: 'shop', path: '/api' }), ...shopProject('api') },
    setup: files({ '/api/x': 'api-unstripped-x' }),
  });
  names.v2 = await run.backend({
    text: 'v2-root',
    image: `hc-${run.id}-v2`,
    labels: { ...route('v2', { domain: 'shop', path: '/api/v2', 'strip-path': 'true' }), ...shopProject('v2') },
    setup: files({ '/x': 'v2-stripped-x' }),
  });
  // A host whose `/admin` is behind an allow list and `/Secret` (stored as /secret) behind a password, the
  // rest open: the spellings of those paths that an application reads as them must not reach the open `/`.
  // Files with a dot, a `%` and a non-ASCII letter in their names are the open route's, as before.
  await run.backend({
    domain: 'guarded',
    text: 'guarded-root',
    labels: guardedProject('root'),
    setup: files({
      '/files/a.txt': 'root-file-a',
      '/search/100%': 'root-100-percent',
      '/café': 'root-cafe',
      '/files/admin.txt': 'root-admin-txt',
    }),
  });
  await run.backend({
    text: 'guarded-admin',
    labels: { ...route('admin', { domain: 'guarded', path: '/admin', allow: '10.0.0.0/8' }), ...guardedProject('admin') },
  });
  await run.backend({
    text: 'guarded-secret',
    labels: {
      ...route('secret', { domain: 'guarded', path: '/Secret', 'auth.users': `alice:${SECRET_HASH}` }),
      ...guardedProject('secret'),
    },
    setup: files({ '/Secret/notes.txt': 'secret-notes' }),
  });
  // Policy: health check, allow lists, auth, headers, redirect, compression.
  names.checked = await run.backend({
    domain: undefined,
    text: 'checked',
    labels: route('c', { domain: 'checked', 'check.path': '/healthz', 'check.interval': '1s' }),
    setup: files({ '/healthz': 'ok' }),
  });
  for (const n of [1, 2, 3]) {
    names[`sticky${n}`] = await run.backend({
      text: `sticky-${n}`,
      image: `hc-${run.id}-sticky`,
      labels: route('s', { domain: 'sticky', sticky: 'cookie' }),
    });
  }
  await run.backend({ text: 'closed', image: `hc-${run.id}-closed`, labels: route('p', { domain: 'closed', allow: '10.0.0.0/8' }) });
  await run.backend({ text: 'open', image: `hc-${run.id}-open`, labels: route('p', { domain: 'open', allow: '10.0.0.0/8,127.0.0.1' }) });
  await run.backend({
    text: 'private',
    image: `hc-${run.id}-auth`,
    labels: route('p', { domain: 'private', 'auth.users': `alice:${SECRET_HASH}` }),
  });
  await run.backend({
    text: 'headers',
    image: `hc-${run.id}-headers`,
    labels: route('h', {
      domain: 'headers',
      'headers.request.X-Env': "it's ${HOME} %[src]",
      'headers.response.X-Frame-Options': 'DENY',
      'headers.response.Content-Security-Policy': "default-src 'self'",
      'headers.response.Last-Modified': '',
    }),
    // A CGI script that echoes the request header it received.
    setup:
      'printf \'#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho "$HTTP_X_ENV"\\n\' > /www/cgi-bin/env && chmod +x /www/cgi-bin/env',
  });
  await run.backend({
    text: 'moved',
    image: `hc-${run.id}-moved`,
    labels: route('m', { domain: 'moved', redirect: 'https://new.example.org/base' }),
  });
  await run.backend({
    text: 'squeeze',
    image: `hc-${run.id}-gzip`,
    labels: route('z', { domain: 'gzip', compress: 'true' }),
    setup: `echo '${'compress me '.repeat(200)}' > /www/big.html`,
  });
  // A TCP route: a line echo on 7000, on the host's tcpPort.
  names.echo = run.name('echo');
  await docker(
    'run',
    '-d',
    '--name',
    names.echo,
    '--label',
    run.label,
    '--expose',
    '7000',
    '--label',
    `haproxy-companion.echo.tcp-port=${tcpPort}`,
    BACKEND_IMAGE,
    'nc',
    '-ll',
    '-p',
    '7000',
    '-e',
    'cat',
  );
  // DEFAULT_SERVICE and a wildcard.
  await run.backend({ domain: 'fallback', text: 'fallback' });
  await run.backend({ text: 'fallback-private', labels: route('fp', { domain: 'fallback', path: '/private', allow: '10.0.0.0/8' }) });
  // The exact name first: another owner's, it would be refused under an older wildcard.
  await run.backend({ domain: 'exact.preview', text: 'exact-preview' });
  await run.backend({ text: 'any-preview', image: `hc-${run.id}-preview`, labels: route('pr', { domain: '*.preview' }) });
  // Hostile values: each route refused for its own label, the container's good route still served.
  names.hostile = await run.backend({
    text: 'hostile-good',
    image: `hc-${run.id}-hostile`,
    labels: {
      ...route('good', { domain: 'survivor' }),
      ...route('a', { domain: 'evil-a', 'headers.response.X-Evil': 'x\nbackend pwn' }),
      ...route('b', { domain: 'evil-b', path: '/../admin' }),
      ...route('c', { domain: 'evil-c', 'auth.users': 'root:hunter2' }),
      ...route('d', { domain: 'evil-d', redirect: 'javascript:alert(1)' }),
      ...route('e', { domain: 'evil-e', allow: '0.0.0.0/0 #' }),
      ...route('f', { domain: 'evil-f', 'timeout.server': '99999999h' }),
      ...route('g', { 'tcp-port': String(port) }),
      // A path under another owner's host, and an exact name under another owner's wildcard: phishing.
      ...route('h', { domain: 'shop', path: '/login' }),
      ...route('i', { domain: 'phish.preview' }),
    },
  });

  await run.companion({ port, env: { DEFAULT_SERVICE: 'fallback', TCP_PORTS: `${tcpPort}` } });
  await answers('survivor.example.com', '/', 'hostile-good');
}, 180_000);

afterAll(async () => {
  await run.cleanup();
  await docker('rmi', ...TAGS.map((t) => `hc-${run.id}-${t}`)).catch(() => undefined);
});

describe('routes', () => {
  it('serves two routes on two ports of one container', async () => {
    await answers('two.example.com', '/', 'web-8080');
    await answers('two-admin.example.com', '/', 'admin-9090');
  });

  it('sends a path prefix to its own service, the longest prefix winning, with and without strip', async () => {
    await answers('shop.example.com', '/', 'site-root');
    await answers('shop.example.com', '/api/x', 'api-unstripped-x');
    await answers('shop.example.com', '/api/v2/x', 'v2-stripped-x');
    // A prefix is a whole segment: /apix is the site's.
    expect((await get(port, 'shop.example.com', '/apix')).status).toBe(404);
    // As the application would read it: `//api/x` and `/%61pi/x` are /api's; a dot segment is refused.
    expect((await get(port, 'shop.example.com', '//api/x')).body).toBe('api-unstripped-x');
    expect((await get(port, 'shop.example.com', '/%61pi/x')).body).toBe('api-unstripped-x');
    expect((await get(port, 'shop.example.com', '/x/../api/x')).status).toBe(400);
    // A path that does not decode would be looked up as `/`: refused.
    expect((await get(port, 'shop.example.com', '/api/%zz')).status).toBe(400);
    // Prefixes compare case-insensitively; strip-path strips the request's own spelling.
    expect((await get(port, 'shop.example.com', '/API/V2/x')).body).toBe('v2-stripped-x');
  });

  it('routes every spelling an application may read as a guarded path to its route (or refuses it), never to `/`', async () => {
    await answers('guarded.example.com', '/', 'guarded-root');
    await waitFor(async () => (await request(port, 'guarded.example.com', '/Secret')).status === 401, { what: '/Secret to ask' });
    // Each as the client sends it, byte for byte: case (Express, ASP.NET), `;` parameters (Tomcat, Jetty,
    // Spring), `\` (IIS), percent-escapes of all of these, dot segments they hide, and a NUL.
    const admin = [
      '/admin',
      '//admin',
      '/%61dmin',
      '/ADMIN',
      '/Admin/x',
      '/%41dmin',
      '/admin;x=1',
      '/admin;/x',
      '/pub/..;/admin',
      '/admin%3bx',
      '/admin%3Bx/y',
      '/;x/admin',
      '/admin\\x',
      '/%5cadmin',
      '/pub/%2e%2e/admin',
      '/pub/%2E%2E;/admin',
      '/pub/.;/admin',
      '/admin%00',
      '/admin%00.html',
      '/ADMIN;jsessionid=0123/x',
      // Applications that decode twice (`%2561` is `%61`, then `a`; `%2500` a NUL).
      '/%2561dmin',
      '/admin%2500',
      '/pub/%252e%252e/admin',
      // IIS and Windows cut a segment's trailing dots and spaces.
      '/admin.',
      '/admin..',
      '/admin%2e',
      '/admin%20',
      '/admin%09',
      '/admin./x',
      // Applications that decode the whole URI before they split off the query or fragment.
      '/admin%3fx',
      '/admin%23x',
      '/admin%253fx',
      // Java's equalsIgnoreCase (`ı`, `İ` and Kelvin's `K` fold to ASCII letters), and overlong UTF-8 of `a`.
      '/adm%c4%b1n',
      '/adm%C4%B0n',
      '/%c1%a1dmin',
      '/%e0%81%a1dmin',
    ];
    const answered = async (paths: string[]) =>
      Object.fromEntries(await Promise.all(paths.map(async (p) => [p, (await get(port, 'guarded.example.com', p)).status] as const)));
    const refusedOrGuarded = (paths: string[], guarded: number) =>
      Object.fromEntries(paths.map((p) => [p, expect.toBeOneOf([guarded, 400])]));
    expect(await answered(admin)).toEqual(refusedOrGuarded(admin, 403));
    const secret = [
      '/secret',
      '/Secret',
      '/SECRET/x',
      '/Secret;v=1',
      '/%53ecret',
      '/sEcReT%3b',
      '/%c5%bfecret',
      '/secret.',
      '/%2553ecret%2520',
    ];
    expect(await answered(secret)).toEqual(refusedOrGuarded(secret, 401));
    // The same over HTTP/2 (cleartext, prior knowledge), which HAProxy routes by the same rules.
    expect(await statusesOverH2c(port, 'guarded.example.com', admin)).toEqual(refusedOrGuarded(admin, 403));
    expect(await statusesOverH2c(port, 'guarded.example.com', secret)).toEqual(refusedOrGuarded(secret, 401));
    // Legitimate names stay their route's: a dot, a literal `%`, a non-ASCII letter, a guarded route's file.
    const body = async (path: string) => (await get(port, 'guarded.example.com', path)).body;
    expect(await body('/files/a.txt')).toBe('root-file-a');
    expect(await body('/files/admin.txt')).toBe('root-admin-txt');
    expect(await body('/search/100%25')).toBe('root-100-percent');
    expect(await body('/caf%c3%a9')).toBe('root-cafe');
    expect((await get(port, 'guarded.example.com', '/admin/x.y')).status).toBe(403);
    // A file beside a prefix is the `/` route's (its app answers 404 here), not an ambiguous spelling.
    expect((await get(port, 'guarded.example.com', '/admin.html')).status).toBe(404);
    const alice = { Authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` };
    expect((await request(port, 'guarded.example.com', '/Secret/notes.txt', alice)).body.toString().trim()).toBe('secret-notes');
    // The rest stays the open route's, whatever its case.
    expect((await get(port, 'guarded.example.com', '/Index.html')).status).toBe(404);
    expect((await get(port, 'guarded.example.com', '/index.html')).body).toBe('guarded-root');
    expect((await get(port, 'guarded.example.com', '/adminx')).status).toBe(404);
  });

  it('takes a server out when its HTTP health check fails, and back when it recovers', async () => {
    await answers('checked.example.com', '/', 'checked');
    await docker('exec', names.checked as string, 'rm', '/www/healthz');
    await waitFor(async () => (await get(port, 'checked.example.com')).status === 503, { what: 'checked to be down' });
    await docker('exec', names.checked as string, 'sh', '-c', 'echo ok > /www/healthz');
    await answers('checked.example.com', '/', 'checked');
  });

  it('keeps a client on one server of three with the sticky cookie', async () => {
    await waitFor(async () => (await status()).services.find((s: any) => s.domain === 'sticky')?.servers.length === 3, {
      what: '3 sticky servers',
    });
    const first = await request(port, 'sticky.example.com');
    const cookie = String(first.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^hc_be_sticky=/);
    for (let i = 0; i < 6; i++) {
      const again = await request(port, 'sticky.example.com', '/', { Cookie: cookie });
      expect(again.body.toString().trim()).toBe(first.body.toString().trim());
    }
    // Without it, round robin reaches the others.
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await request(port, 'sticky.example.com')).body.toString().trim());
    expect(seen.size).toBe(3);
  });

  it('adds a fourth sticky server at run time, with its cookie, without a reload', async () => {
    const reloads = await metric('haproxy_companion_reloads_total');
    const fourth = await run.backend({
      text: 'sticky-4',
      image: `hc-${run.id}-sticky`,
      labels: route('s', { domain: 'sticky', sticky: 'cookie' }),
    });
    await waitFor(async () => (await status()).services.find((s: any) => s.domain === 'sticky')?.servers.length === 4, {
      what: '4 sticky servers',
    });
    // A client pinned to the new server by its cookie stays there.
    const pinned = `hc_be_sticky=${fourth}`;
    await waitFor(async () => (await request(port, 'sticky.example.com', '/', { Cookie: pinned })).body.toString().trim() === 'sticky-4', {
      what: 'the cookie to reach sticky-4',
    });
    for (let i = 0; i < 4; i++)
      expect((await request(port, 'sticky.example.com', '/', { Cookie: pinned })).body.toString().trim()).toBe('sticky-4');
    expect(await metric('haproxy_companion_reloads_total')).toBe(reloads);
  });

  it('answers 403 to a client outside the allow list', async () => {
    await waitFor(async () => (await get(port, 'closed.example.com')).status === 403, { what: 'closed to refuse' });
    await answers('open.example.com', '/', 'open');
  });

  it('asks for basic auth: 401 without, 401 with a wrong password, 200 with the right one', async () => {
    await waitFor(async () => (await request(port, 'private.example.com')).status === 401, { what: 'private to ask' });
    const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
    expect((await request(port, 'private.example.com', '/', basic('alice', 'wrong'))).status).toBe(401);
    const ok = await request(port, 'private.example.com', '/', basic('alice', 'secret'));
    expect(ok.status).toBe(200);
    expect(ok.body.toString().trim()).toBe('private');
  });

  it('sets and removes headers, with values taken literally', async () => {
    await answers('headers.example.com', '/', 'headers');
    const reply = await request(port, 'headers.example.com');
    expect(reply.headers['x-frame-options']).toBe('DENY');
    expect(reply.headers['content-security-policy']).toBe("default-src 'self'");
    expect(reply.headers['last-modified']).toBeUndefined();
    // Neither ${HOME} nor %[src] was expanded.
    expect((await get(port, 'headers.example.com', '/cgi-bin/env')).body).toBe("it's ${HOME} %[src]");
  });

  it('redirects with 301, keeping the path', async () => {
    await waitFor(async () => (await request(port, 'moved.example.com', '/a/b?q=1')).status === 301, { what: 'moved to redirect' });
    expect((await request(port, 'moved.example.com', '/a/b?q=1')).headers.location).toBe('https://new.example.org/base/a/b?q=1');
  });

  it('compresses when the client accepts it', async () => {
    await waitFor(async () => (await request(port, 'gzip.example.com', '/big.html')).status === 200, { what: 'gzip to serve' });
    const plain = await request(port, 'gzip.example.com', '/big.html');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const zipped = await request(port, 'gzip.example.com', '/big.html', { 'Accept-Encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
    expect(zipped.body.length).toBeLessThan(plain.body.length);
  });

  it('carries a TCP route to the container', async () => {
    const echoed = await waitFor(
      () =>
        new Promise<string | undefined>((resolve) => {
          const socket = net.connect(tcpPort, '127.0.0.1');
          let data = '';
          socket.setTimeout(2_000, () => socket.destroy());
          socket.on('connect', () => socket.write('hello tcp\n'));
          socket.on('data', (chunk) => {
            data += chunk;
            if (data.includes('\n')) socket.end();
          });
          socket.on('close', () => resolve(data.includes('hello tcp') ? data : undefined));
          socket.on('error', () => resolve(undefined));
        }),
      { what: `an echo on ${tcpPort}` },
    );
    expect(echoed).toBe('hello tcp\n');
  });

  it('sends unknown hosts to DEFAULT_SERVICE, and any single label under a wildcard to it, exact names first', async () => {
    await answers('nobody-claims-this.example.org', '/', 'fallback');
    await answers('pr-42.preview.example.com', '/', 'any-preview');
    await answers('exact.preview.example.com', '/', 'exact-preview');
    // One label only: deeper names are not the wildcard's.
    await answers('a.b.preview.example.com', '/', 'fallback');
    // The default service's path prefixes hold for unknown hosts too: its allow list is not walked around.
    await waitFor(async () => (await get(port, 'nobody-claims-this.example.org', '/private/x')).status === 403, {
      what: '403 for /private',
    });
    expect((await get(port, 'fallback.example.com', '/private/x')).status).toBe(403);
    // Read the stricter way too (the strict form follows the same hosts, wildcard and default service).
    for (const path of ['/private.', '/%2570rivate/x', '/private%3fx']) {
      expect([403, 400]).toContain((await get(port, 'nobody-claims-this.example.org', path)).status);
    }
    expect((await get(port, 'nobody-claims-this.example.org', '/index.html')).body).toBe('fallback');
    expect((await get(port, 'pr-42.preview.example.com', '/index.html')).body).toBe('any-preview');
  });

  it('skips each hostile route with a reason naming its label, and serves the rest', async () => {
    const skipped = await waitFor(
      async () => {
        const list = (await status()).skipped.filter((s: any) => s.containerName === names.hostile);
        return list.length === 9 ? list : undefined;
      },
      { what: 'nine skipped routes' },
    );
    expect(Object.fromEntries(skipped.map((s: any) => [s.route, s.reason]))).toEqual({
      a: expect.stringMatching(/^label haproxy-companion\.a\.headers\.response\.X-Evil may contain only printable/),
      b: expect.stringMatching(/^label haproxy-companion\.b\.path=/),
      c: expect.stringMatching(/^label haproxy-companion\.c\.auth\.users user "root": .*crypt/),
      d: expect.stringMatching(/^label haproxy-companion\.d\.redirect=/),
      e: expect.stringMatching(/^label haproxy-companion\.e\.allow=/),
      f: expect.stringMatching(/^label haproxy-companion\.f\.timeout\.server=/),
      g: expect.stringMatching(new RegExp(`TCP port ${port} is the companion's own`)),
      h: expect.stringMatching(/^host and path "shop\/login" is under domain "shop", which belongs to container /),
      i: expect.stringMatching(/^domain "phish\.preview" is under wildcard "\*\.preview", which belongs to container /),
    });
    // Their requests stay with the owners of the host and of the wildcard.
    expect((await get(port, 'shop.example.com', '/login')).body).not.toBe('hostile-good');
    expect((await get(port, 'phish.preview.example.com')).body).toBe('any-preview');
    // The plain-text password is nowhere in /status.
    expect(JSON.stringify(await status())).not.toContain('hunter2');
    await answers('survivor.example.com', '/', 'hostile-good');
    for (const evil of ['evil-a', 'evil-b', 'evil-c', 'evil-d', 'evil-e', 'evil-f']) {
      expect((await get(port, `${evil}.example.com`)).body).toBe('fallback');
    }
  });

  it('adds a path route without policy through the runtime API, without a reload', async () => {
    const reloads = await metric('haproxy_companion_reloads_total');
    await run.backend({
      text: 'late',
      image: `hc-${run.id}-api`,
      labels: { ...route('late', { domain: 'shop', path: '/late' }), ...shopProject('late') },
      setup: files({ '/late/index.html': 'late' }),
    });
    await waitFor(async () => (await get(port, 'shop.example.com', '/late/')).body === 'late', { what: '/late to answer' });
    expect(await metric('haproxy_companion_reloads_total')).toBe(reloads);
  });
});
