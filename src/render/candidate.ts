/**
 * What a pass would have HAProxy run, chosen purely from the services, what runs now and a renderer:
 * rendered in the running backends when they have room and only servers and map entries change,
 * so the runtime API can apply it; else in a fresh layout, for a reload (or the first start).
 */

import { planRuntimeUpdate, type RuntimePlan } from '../haproxy/runtime-plan.js';
import { type BackendLayout, freshLayout, keepLayout, type PlacedService } from '../model/backend-pool.js';
import type { Service } from '../model/services.js';
import { sameTlsFiles } from '../tls/tls-files.js';
import type { RenderedFiles } from './render-config.js';

export interface Candidate {
  files: RenderedFiles;
  /** The backend layout the files were rendered with. */
  layout: BackendLayout;
  /** The services, each with the backend the layout gives it. */
  services: PlacedService[];
  /** How the running configuration becomes this one without a reload; absent: it takes a reload. */
  runtimePlan?: RuntimePlan;
}

/** Renders `services` in `layout`; throws a TemplateError when the template fails. */
export type RenderInLayout = (services: Service[], layout: BackendLayout) => { files: RenderedFiles; services: PlacedService[] };

/**
 * @param running what HAProxy runs now; `undefined` when it does not run, so the next start takes a fresh layout.
 */
export function chooseCandidate(services: Service[], running: Candidate | undefined, render: RenderInLayout): Candidate {
  const kept = running ? keepLayout(services, running.layout) : undefined;
  if (running && kept) {
    const candidate = { ...render(services, kept), layout: kept };
    const runtimePlan = planRuntimeUpdate(running.files, candidate.files);
    if (runtimePlan) return { ...candidate, runtimePlan };
  }
  const layout = freshLayout(services);
  return { ...render(services, layout), layout };
}

export function sameFiles(a: RenderedFiles | undefined, b: RenderedFiles): boolean {
  return a !== undefined && a.config === b.config && a.hostsMap === b.hostsMap && a.pathsMap === b.pathsMap && sameTlsFiles(a.tls, b.tls);
}
