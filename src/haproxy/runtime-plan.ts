/**
 * Changes that need no reload, planned. When two rendered configurations differ only in their `server`
 * lines and in the host map, the difference can be applied through the runtime API (runtime-executor.ts),
 * so a container joining or leaving a service, or a new domain taking a spare backend
 * (model/backend-pool.ts), costs no reload. The files stay the source of truth: the plan is derived from
 * them, so custom templates get the same treatment, and the files on disk always describe what runs.
 * Pure: two pairs of files in, a plan (or "reload needed") out.
 */
import type { RenderedFiles } from '../render/render-config.js';

export interface ServerLine {
  backend: string;
  name: string;
  /** Everything after the name: address and options, as `add server` takes them. */
  args: string;
}

export interface RuntimePlan {
  remove: ServerLine[];
  add: ServerLine[];
  /** Host map entries (host -> backend) to add, to point elsewhere, and to delete. */
  addHosts: [string, string][];
  changeHosts: [string, string][];
  deleteHosts: string[];
}

const SECTION = /^(global|defaults|frontend|backend|listen|peers|resolvers|userlist|program|http-errors|ring|cache|mailers)\b\s*(\S*)/;
const SERVER = /^\s+server\s+(\S+)\s+(.+?)\s*$/;

interface ParsedFiles {
  skeleton: string;
  servers: Map<string, ServerLine>;
  hosts: Map<string, string>;
}

/** The config without its server lines, and the server lines by `backend/name`. */
export function splitServers(text: string): { skeleton: string; servers: Map<string, ServerLine> } {
  const kept: string[] = [];
  const servers = new Map<string, ServerLine>();
  let backend: string | undefined;
  for (const line of text.split('\n')) {
    // Section keywords start a line; everything inside a section is indented (cheap tests first: 1,000s of lines).
    const indented = line.startsWith(' ') || line.startsWith('\t');
    if (!indented) {
      const section = SECTION.exec(line);
      if (section) backend = section[1] === 'backend' || section[1] === 'listen' ? section[2] : undefined;
    }
    const [, name, args] = (indented && backend !== undefined && line.includes('server') && SERVER.exec(line)) || [];
    if (backend !== undefined && name !== undefined && args !== undefined) {
      servers.set(`${backend}/${name}`, { backend, name, args });
    } else {
      kept.push(line);
    }
  }
  return { skeleton: kept.join('\n'), servers };
}

function parseHostsMap(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [host, backend] = line.trim().split(/\s+/);
    if (host && backend) entries.set(host, backend);
  }
  return entries;
}

/**
 * Rendered files never change once made, and what runs now was the next one a pass ago: parsing each once
 * halves a plan's cost (at 1,000 containers, most of a change's time under the image's interpreter-only node).
 */
const parsedFiles = new WeakMap<RenderedFiles, ParsedFiles>();

function parse(files: RenderedFiles): ParsedFiles {
  const known = parsedFiles.get(files);
  if (known) return known;
  const parsed = { ...splitServers(files.config), hosts: parseHostsMap(files.hostsMap) };
  parsedFiles.set(files, parsed);
  return parsed;
}

/** `undefined` when anything but server lines and map entries changed: that needs a reload. */
export function planRuntimeUpdate(running: RenderedFiles, next: RenderedFiles): RuntimePlan | undefined {
  const before = parse(running);
  const after = parse(next);
  if (before.skeleton !== after.skeleton) return undefined;
  const remove = [...before.servers.entries()].filter(([key, s]) => after.servers.get(key)?.args !== s.args).map(([, s]) => s);
  const add = [...after.servers.entries()].filter(([key, s]) => before.servers.get(key)?.args !== s.args).map(([, s]) => s);
  const hostsBefore = before.hosts;
  const hostsAfter = after.hosts;
  const addHosts = [...hostsAfter].filter(([host]) => !hostsBefore.has(host));
  const changeHosts = [...hostsAfter].filter(([host, backend]) => hostsBefore.has(host) && hostsBefore.get(host) !== backend);
  const deleteHosts = [...hostsBefore.keys()].filter((host) => !hostsAfter.has(host));
  return { remove, add, addHosts, changeHosts, deleteHosts };
}
