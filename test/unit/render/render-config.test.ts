/**
 * Golden files for the built-in template: each case's services render to exactly the bytes in
 * golden/<case>.cfg, and their host map to golden/<case>.map. Set UPDATE_GOLDEN=1 to rewrite them after an intended template change, then
 * review the diff. The integration suite checks these same files with HAProxy 3's own `haproxy -c`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRenderer, renderFiles } from '../../../src/render/render-config.js';
import { freshLayout, hostsMapText } from '../../../src/model/backend-pool.js';
import { buildServices } from '../../../src/model/services.js';
import { TemplateError } from '../../../src/errors.js';
import { container } from '../../helpers/containers.js';
import { renderCases } from './cases.js';

const templatePath = fileURLToPath(new URL('../../../templates/haproxy.cfg.njk', import.meta.url));
const golden = (name: string, ext = 'cfg') => new URL(`./golden/${name}.${ext}`, import.meta.url);

describe('built-in template', () => {
  const renderer = createRenderer(templatePath);

  it.each(Object.entries(renderCases))('renders %s', async (name, context) => {
    const text = renderer.render(context);
    const map = hostsMapText(context.services);
    if (process.env.UPDATE_GOLDEN) await Promise.all([writeFile(golden(name), text), writeFile(golden(name, 'map'), map)]);
    expect(text).toBe(await readFile(golden(name), 'utf8'));
    expect(map).toBe(await readFile(golden(name, 'map'), 'utf8'));
  });

  it('renders the same bytes whatever order the containers come in', () => {
    const cs = [
      container({ name: 'b', env: { DOMAIN: 'web' } }),
      container({ name: 'a', env: { DOMAIN: 'web' } }),
      container({ name: 'c', env: { DOMAIN: 'api' } }),
    ];
    const render = (list: typeof cs) => {
      const { services } = buildServices(list, {}, { zone: 'example.com' });
      return renderFiles(renderer, services, freshLayout(services), { zone: 'example.com', httpPort: 80 }, { adminSocket: '/run/admin.sock', hostsMap: '/run/hosts.map' }).files;
    };
    expect(render(cs)).toEqual(render([...cs].reverse()));
  });
});

describe('createRenderer', () => {
  it('reports a missing template as a TemplateError naming the file', () => {
    const renderer = createRenderer('/nonexistent/dir/t.njk');
    expect(() => renderer.render(renderCases.empty!)).toThrow(TemplateError);
    expect(() => renderer.render(renderCases.empty!)).toThrow(/\/nonexistent\/dir\/t\.njk/);
  });

  it('fails on an undefined variable instead of rendering an empty string', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/hc-render-`);
    await writeFile(`${dir}/t.njk`, 'bind :{{ settings.nope }}\n');
    expect(() => createRenderer(`${dir}/t.njk`).render(renderCases.empty!)).toThrow(/undefined|null/);
  });
});
