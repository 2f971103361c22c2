/**
 * Golden files for the built-in template: each case's services render to exactly the bytes in
 * golden/<case>.cfg, and their host map to golden/<case>.map. Set UPDATE_GOLDEN=1 to rewrite them after an intended template change, then
 * review the diff. The integration suite checks these same files with HAProxy 3's own `haproxy -c`.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { TemplateError } from '../../../src/errors.js';
import { freshLayout, hostsMapText, pathsMapText } from '../../../src/model/backend-pool.js';
import { buildServices } from '../../../src/model/services.js';
import { loadTemplate, type Renderer, type RenderSettings, renderFiles, templateContext } from '../../../src/render/render-config.js';
import { container } from '../../helpers/containers.js';
import { makeFifo, releaseFifo } from '../../helpers/fifo.js';
import { renderCases } from './cases.js';

const templatePath = fileURLToPath(new URL('../../../templates/haproxy.cfg.njk', import.meta.url));
const golden = (name: string, ext = 'cfg') => new URL(`./golden/${name}.${ext}`, import.meta.url);

describe('built-in template', () => {
  let renderer: Renderer;
  beforeAll(async () => {
    renderer = await loadTemplate(templatePath);
  });

  it.each(Object.entries(renderCases))('renders %s', async (name, context) => {
    const text = renderer.render(context);
    const map = hostsMapText(context.services);
    const pathsMap = pathsMapText(context.services);
    if (process.env.UPDATE_GOLDEN) {
      await Promise.all([writeFile(golden(name), text), writeFile(golden(name, 'map'), map), writeFile(golden(name, 'paths'), pathsMap)]);
    }
    expect(text).toBe(await readFile(golden(name), 'utf8'));
    expect(map).toBe(await readFile(golden(name, 'map'), 'utf8'));
    expect(pathsMap).toBe(await readFile(golden(name, 'paths'), 'utf8'));
  });

  it('renders the same bytes whatever order the containers come in', () => {
    const cs = [
      container({ name: 'b', env: { DOMAIN: 'web' } }),
      container({ name: 'a', env: { DOMAIN: 'web' } }),
      container({ name: 'c', env: { DOMAIN: 'api' } }),
    ];
    const render = (list: typeof cs) => {
      const { services } = buildServices(list, {}, { zone: 'example.com' });
      return renderFiles(
        renderer,
        services,
        freshLayout(services),
        { zone: 'example.com', httpPort: 80 },
        { adminSocket: '/run/admin.sock', hostsMap: '/run/hosts.map', pathsMap: '/run/paths.map' },
      ).files;
    };
    expect(render(cs)).toEqual(render([...cs].reverse()));
  });
});

describe('loadTemplate', () => {
  it('reports a missing template as a TemplateError naming the file, which may be there next time', async () => {
    const error = await loadTemplate('/nonexistent/dir/t.njk').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).message).toMatch(/\/nonexistent\/dir\/t\.njk/);
    expect((error as TemplateError).retryable).toBe(true);
  });

  it('reports a syntax error when it loads, as one that only a change of the template fixes', async () => {
    const dir = await mkdtemp(`${tmpdir()}/hc-render-`);
    await writeFile(`${dir}/t.njk`, '{% for backend in %}\n');
    const error = await loadTemplate(`${dir}/t.njk`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).retryable).toBe(false);
  });

  it('renders from memory: a template deleted after loading still renders', async () => {
    const dir = await mkdtemp(`${tmpdir()}/hc-render-`);
    await writeFile(`${dir}/t.njk`, 'bind :{{ settings.httpPort }}\n');
    const renderer = await loadTemplate(`${dir}/t.njk`);
    await rm(dir, { recursive: true });
    expect(renderer.render(renderCases.empty!)).toBe('bind :80\n');
  });

  it('refuses a template that is a FIFO at once, naming it, as one that may pass once it is a file', { timeout: 10_000 }, async () => {
    const dir = await mkdtemp(`${tmpdir()}/hc-render-`);
    try {
      await makeFifo(`${dir}/t.njk`);
      const error = await loadTemplate(`${dir}/t.njk`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TemplateError);
      expect((error as TemplateError).message).toBe(`template ${dir}/t.njk cannot be read: ${dir}/t.njk is not a regular file (a FIFO)`);
      expect((error as TemplateError).retryable).toBe(true);
    } finally {
      releaseFifo(`${dir}/t.njk`);
      await rm(dir, { recursive: true });
    }
  });

  it('fails the render on an included template that is a FIFO, naming it, instead of blocking the process', {
    timeout: 10_000,
  }, async () => {
    const dir = await mkdtemp(`${tmpdir()}/hc-render-`);
    try {
      await writeFile(`${dir}/t.njk`, '{% include "part.njk" %}\n');
      await makeFifo(`${dir}/part.njk`);
      const renderer = await loadTemplate(`${dir}/t.njk`);
      expect(() => renderer.render(renderCases.empty!)).toThrow(/part\.njk is not a regular file \(a FIFO\)/);
    } finally {
      releaseFifo(`${dir}/part.njk`);
      await rm(dir, { recursive: true });
    }
  });

  it('still includes a template from its directory, and nothing outside it', async () => {
    const dir = await mkdtemp(`${tmpdir()}/hc-render-`);
    try {
      await mkdir(`${dir}/templates`);
      await writeFile(`${dir}/templates/t.njk`, '{% include "part.njk" %}\n');
      await writeFile(`${dir}/templates/part.njk`, 'bind :{{ settings.httpPort }}');
      expect((await loadTemplate(`${dir}/templates/t.njk`)).render(renderCases.empty!)).toBe('bind :80');
      await writeFile(`${dir}/outside.njk`, 'outside');
      await writeFile(`${dir}/templates/t.njk`, '{% include "../outside.njk" %}\n');
      const outside = await loadTemplate(`${dir}/templates/t.njk`);
      expect(() => outside.render(renderCases.empty!)).toThrow(/template not found/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('fails on an undefined variable instead of rendering an empty string', async () => {
    const dir = await mkdtemp(`${tmpdir()}/hc-render-`);
    await writeFile(`${dir}/t.njk`, 'bind :{{ settings.nope }}\n');
    const renderer = await loadTemplate(`${dir}/t.njk`);
    expect(() => renderer.render(renderCases.empty!)).toThrow(/undefined|null/);
  });
});

describe('edge settings in the template', () => {
  const paths = { adminSocket: '/run/admin.sock', hostsMap: '/run/hosts.map', pathsMap: '/run/paths.map' };

  it.each([
    // [the companion's settings, what the template sees]
    [{}, { proxyProtocol: false, ipv6: false, accessLog: null }],
    [
      { proxyProtocol: true, ipv6: true, accessLog: 'json' },
      { proxyProtocol: true, ipv6: true, accessLog: 'json' },
    ],
    [{ accessLog: 'off' }, { accessLog: null }],
  ] as [Partial<RenderSettings>, object][])('%j reaches the template as %j', (given, expected) => {
    const context = templateContext({ services: [], backends: [] }, { zone: 'example.com', httpPort: 80, ...given }, paths);
    expect(context.settings).toMatchObject(expected);
  });

  it('logs only the fields of its table: no header value but the host, no cookie, query string or body', async () => {
    const config = (await loadTemplate(templatePath)).render(renderCases['access-log']!);
    const formats = [...config.matchAll(/^ {4}((?:error-)?log-format) "(.*)"$/gm)].map((m) => ({ directive: m[1]!, format: m[2]! }));
    // Every item of a format: %{flags}o, %(name)alias or %(name)[sample expression].
    const items = formats.map(({ directive, format }) => ({
      directive,
      items: [...format.matchAll(/%(?:\{[^}]*\})?(?:\(([^)]*)\))?(\[[^\]]*\]|[A-Za-z]+)/g)].map((m) => ({ key: m[1], item: m[2]! })),
    }));
    const allowed = new Set(['o', 'ci', 'cp', 'HV', 'HM', 'HPO', 'ST', 'B', 'U', 'b', 's', 'fp', 'Tq', 'Tw', 'Tc', 'Tr', 'Ta', 'Tt', 'ts']);
    const allowedExpressions = [
      /^\[str\((http|tcp)\)\]$/,
      /^\[date\(0,ms\),ms_utime\('[^']*'\)\]$/,
      /^\[ssl_fc\]$/,
      // The host, as captured below.
      /^\[capture\.req\.hdr\(0\)\]$/,
      /^\[fc_err_str,regsub\(\^Success,\)\]$/,
    ];
    for (const { item } of items.flatMap((f) => f.items)) {
      expect(allowed.has(item) || allowedExpressions.some((re) => re.test(item)), item).toBe(true);
    }
    expect(items.map(({ directive, items: list }) => [directive, list.filter((i) => i.key).map((i) => i.key)])).toEqual([
      [
        'log-format',
        [
          'access_log',
          'time',
          'client_ip',
          'client_port',
          'tls:bool',
          'protocol',
          'method',
          'host',
          'path',
          'status',
          'bytes_sent',
          'bytes_received',
          'backend',
          'server',
          'request_ms',
          'queue_ms',
          'connect_ms',
          'response_ms',
          'total_ms',
          'termination',
        ],
      ],
      [
        'error-log-format',
        ['access_log', 'time', 'client_ip', 'client_port', 'tls:bool', 'status', 'bytes_received', 'termination', 'error'],
      ],
      [
        'log-format',
        [
          'access_log',
          'time',
          'client_ip',
          'client_port',
          'port',
          'bytes_sent',
          'bytes_received',
          'backend',
          'server',
          'queue_ms',
          'connect_ms',
          'total_ms',
          'termination',
        ],
      ],
    ]);
    // The only capture: the host, without its port, cut at the longest a DNS name can be.
    expect(config.match(/^.*capture.*$/gm)?.filter((line) => !line.includes('log-format'))).toEqual([
      '    http-request capture req.hdr(host),host_only,lower len 253',
    ]);
  });
});
