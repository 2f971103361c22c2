import { describe, expect, it } from 'vitest';
import { modelOf } from '../../../src/model/services.js';
import { chooseCandidate, type RenderInLayout } from '../../../src/render/candidate.js';
import { type Renderer, renderFiles } from '../../../src/render/render-config.js';
import { container } from '../../helpers/containers.js';

/** One line per backend and per server; `extra` stands for any other line of a template. */
const renderer = (extra = ''): Renderer => ({
  render: ({ backends }) =>
    [extra, ...backends.flatMap((b) => [`backend ${b.name}`, ...b.servers.map((s) => `    server ${s.name} ${s.endpoint}`)])].join('\n'),
});
const render =
  (extra = ''): RenderInLayout =>
  (services, layout) =>
    renderFiles(
      renderer(extra),
      services,
      layout,
      { zone: 'example.com', httpPort: 80 },
      { adminSocket: '/a', hostsMap: '/m', pathsMap: '/p' },
    );
/** Containers are made once per name, so a name keeps its address from one call to the next. */
const made = new Map<string, ReturnType<typeof container>>();
const services = (...domains: string[]) => {
  const list = domains.map((d, i) => {
    const name = `${d}-${i}`;
    if (!made.has(name)) made.set(name, container({ name, env: { DOMAIN: d } }));
    return made.get(name)!;
  });
  return modelOf(list, { selfId: undefined, zone: 'example.com' }).services;
};

describe('chooseCandidate', () => {
  it('renders a fresh layout with no runtime plan when nothing runs', () => {
    const first = chooseCandidate(services('web'), undefined, render());
    expect(first.runtimePlan).toBeUndefined();
    expect(first.services.map((s) => s.backend)).toEqual(['be_web']);
    expect(first.layout.get('be_web')).toBe('web');
  });

  it('keeps the running layout and plans runtime changes when only servers and host names change', () => {
    const running = chooseCandidate(services('web'), undefined, render());
    const next = chooseCandidate(services('web', 'web', 'api'), running, render());
    expect(next.layout).not.toBe(running.layout);
    expect(next.services.map((s) => [s.domain, s.backend])).toEqual([
      ['api', 'spare_001'],
      ['web', 'be_web'],
    ]);
    expect(next.runtimePlan?.add.map((s) => `${s.backend}/${s.name}`)).toEqual(['be_web/web-1', 'spare_001/api-2']);
    expect(next.runtimePlan?.hosts.add.map(([host]) => host)).toEqual(['api', 'api.example.com']);
  });

  it('falls back to a fresh layout when anything else in the files changed (a new template)', () => {
    const running = chooseCandidate(services('web'), undefined, render());
    const next = chooseCandidate(services('web'), running, render('global changed'));
    expect(next.runtimePlan).toBeUndefined();
  });

  it('falls back to a fresh layout when the spares run out', () => {
    const running = chooseCandidate(services('web'), undefined, render());
    const many = Array.from({ length: 40 }, (_, i) => `d${i}`);
    const next = chooseCandidate(services('web', ...many), running, render());
    expect(next.runtimePlan).toBeUndefined();
    expect(next.services.every((s) => s.backend === `be_${s.domain}`)).toBe(true);
  });
});
