/**
 * services -> haproxy.cfg, through a nunjucks template (the built-in one or the user's HAPROXY_TEMPLATE).
 * Pure apart from reading the template file, which is re-read on every render so edits apply at once.
 */
import path from 'node:path';
import nunjucks from 'nunjucks';
import type { Service } from '../model/services.js';
import { TemplateError } from '../errors.js';

/** Everything a template can use. Documented in the README ("Custom templates"). */
export interface TemplateContext {
  services: Service[];
  /** statsPort: HAProxy's own stats page and Prometheus exporter, null when off. */
  settings: { zone: string; httpPort: number; statsPort: number | null };
  paths: { adminSocket: string };
}

/** The context for the services of one pass. */
export function templateContext(services: Service[], settings: { zone: string; httpPort: number; haproxyStatsPort?: number }, adminSocket: string): TemplateContext {
  return { services, settings: { zone: settings.zone, httpPort: settings.httpPort, statsPort: settings.haproxyStatsPort ?? null }, paths: { adminSocket } };
}

export interface Renderer {
  render(context: TemplateContext): string;
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
