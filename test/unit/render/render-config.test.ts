/**
 * Golden files for the built-in template: each case's services render to exactly the bytes in
 * golden/<case>.cfg, and their host map to golden/<case>.map. Set UPDATE_GOLDEN=1 to rewrite them after an intended template change, then
 * review the diff. The integration suite checks these same files with HAProxy 3's own `haproxy -c`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { TemplateError } from '../../../src/errors.js';
import { freshLayout, hostsMapText, pathsMapText } from '../../../src/model/backend-pool.js';
import { buildServices } from '../../../src/model/services.js';
import { loadTemplate, type Renderer, renderFiles } from '../../../src/render/render-config.js';
import { container } from '../../helpers/containers.js';
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

  it('fails on an undefined variable instead of rendering an empty string', async () => {
    const dir = await mkdtemp(`${tmpdir()}/hc-render-`);
    await writeFile(`${dir}/t.njk`, 'bind :{{ settings.nope }}\n');
    const renderer = await loadTemplate(`${dir}/t.njk`);
    expect(() => renderer.render(renderCases.empty!)).toThrow(/undefined|null/);
  });
});
