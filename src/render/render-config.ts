/**
 * services -> haproxy.cfg, through a nunjucks template (the built-in one or the user's HAPROXY_TEMPLATE).
 * Pure apart from reading the template file, which is re-read on every render so edits apply at once.
 */
import path from 'node:path';
import nunjucks from 'nunjucks';
import type { Service } from '../model/services.js';
import { hostsMapText, placeServices, type Backend, type BackendLayout } from '../model/backend-pool.js';
import { TemplateError } from '../errors.js';

/** Everything a template can use. Documented in the README ("Custom templates"). */
export interface TemplateContext {
  /** Sorted by domain; `backend` is the backend the pool gave each (see model/backend-pool.ts). */
  services: Service[];
  /** Every backend section, spares included, sorted by name, each with its servers. */
  backends: Backend[];
  /** statsPort: HAProxy's own stats page and Prometheus exporter, null when off. */
  settings: { zone: string; httpPort: number; statsPort: number | null };
  /** hostsMap: the `<host name> <backend>` map the companion writes beside the config and edits at run time. */
  paths: { adminSocket: string; hostsMap: string };
}

/** The context for the services of one pass, placed in their backends. */
export function templateContext(
  placed: { services: Service[]; backends: Backend[] },
  settings: { zone: string; httpPort: number; haproxyStatsPort?: number },
  paths: { adminSocket: string; hostsMap: string },
): TemplateContext {
  return {
    services: placed.services,
    backends: placed.backends,
    settings: { zone: settings.zone, httpPort: settings.httpPort, statsPort: settings.haproxyStatsPort ?? null },
    paths: { adminSocket: paths.adminSocket, hostsMap: paths.hostsMap },
  };
}

export interface Renderer {
  render(context: TemplateContext): string;
}

/** What a pass installs: the config, and the host map beside it (`<host name> <backend>` lines). */
export interface RenderedFiles {
  config: string;
  hostsMap: string;
}

/** Renders `services` placed in the backends of `layout`: the files, and the services with their backends. */
export function renderFiles(
  renderer: Renderer,
  services: Service[],
  layout: BackendLayout,
  settings: { zone: string; httpPort: number; haproxyStatsPort?: number },
  paths: { adminSocket: string; hostsMap: string },
): { files: RenderedFiles; services: Service[] } {
  const placed = placeServices(services, layout);
  return { files: { config: renderer.render(templateContext(placed, settings, paths)), hostsMap: hostsMapText(placed.services) }, services: placed.services };
}

export function createRenderer(templatePath: string): Renderer {
  const loader = new nunjucks.FileSystemLoader(path.dirname(templatePath), { noCache: true });
  const env = new nunjucks.Environment(loader, {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  const name = path.basename(templatePath);
  return {
    render(context) {
      try {
        return env.render(name, context);
      } catch (error) {
        throw new TemplateError(`template ${templatePath} failed to render: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}
