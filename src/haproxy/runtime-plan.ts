/**
 * Changes that need no reload, planned. When two rendered configurations differ only in their `server`
 * lines and in the entries of their maps (the host map, the paths map), the difference can be applied
 * through the runtime API (runtime-executor.ts), so a container joining or leaving a service, or a new
 * domain taking a spare backend (model/backend-pool.ts), costs no reload. The files stay the source of
 * truth: the plan is derived from them, so custom templates get the same treatment, and the files on
 * disk always describe what runs. Pure: two sets of files in, a plan (or "reload needed") out.
 */
import type { RenderedFiles } from '../render/render-config.js';
import type { TlsFiles } from '../tls/tls-files.js';

export interface ServerLine {
  backend: string;
  name: string;
  /** Everything after the name: address and options, as `add server` takes them. */
  args: string;
}

/** The entries of one map (key -> backend) to add, to point elsewhere, and to delete. */
export interface MapChanges {
  add: [string, string][];
  change: [string, string][];
  delete: string[];
}

/** Certificates (their files) to add to the crt-list, to replace in place, and to remove from it. */
export interface CertificateChanges {
  add: [string, string][];
  change: [string, string][];
  delete: string[];
}

export interface RuntimePlan {
  remove: ServerLine[];
  add: ServerLine[];
  /** The host map: host name -> backend. */
  hosts: MapChanges;
  /** The paths map: host name and path prefix -> backend. */
  paths: MapChanges;
  /** Absent: HTTPS is off, or no certificate changed. */
  certificates?: CertificateChanges;
}

const SECTION = /^(global|defaults|frontend|backend|listen|peers|resolvers|userlist|program|http-errors|ring|cache|mailers)\b\s*(\S*)/;
const SERVER = /^\s+server\s+(\S+)\s+(.+?)\s*$/;
/** `track <backend>/<server>` in a server line's arguments. */
const TRACK = /(?:^|\s)track\s+(\S+)(?:\s|$)/;

interface ParsedFiles {
  skeleton: string;
  servers: Map<string, ServerLine>;
  hosts: Map<string, string>;
  paths: Map<string, string>;
}

/**
 * The config without its server lines, and the server lines by `backend/name`. A server that another one
 * tracks (`track <backend>/<server>`, the template's FLEET_FALLBACK health checks) stays in the skeleton:
 * HAProxy refuses to track a server added at run time, so such a server changes by a reload.
 */
export function splitServers(text: string): { skeleton: string; servers: Map<string, ServerLine> } {
  const kept: string[] = [];
  const servers = new Map<string, ServerLine>();
  let backend: string | undefined;
  for (const line of text.split('\n')) {
    // Section keywords start a line; everything inside a section is indented.
    if (!line.startsWith(' ') && !line.startsWith('\t')) {
      const section = SECTION.exec(line);
      if (section) backend = section[1] === 'backend' || section[1] === 'listen' ? section[2] : undefined;
      kept.push(line);
      continue;
    }
    const server = backend === undefined ? undefined : serverLine(backend, line);
    if (server) servers.set(`${backend}/${server.name}`, server);
    else kept.push(line);
  }
  const tracked = new Set<string>();
  for (const server of servers.values()) {
    const track = TRACK.exec(server.args);
    if (track) tracked.add(track[1] as string);
  }
  const trackedLines: string[] = [];
  for (const key of [...tracked].sort()) {
    const server = servers.get(key);
    if (server === undefined) continue;
    servers.delete(key);
    trackedLines.push(`tracked server ${key} ${server.args}`);
  }
  return { skeleton: [...kept, ...trackedLines].join('\n'), servers };
}

/** `line` as a server line of `backend`, if it is one. */
function serverLine(backend: string, line: string): ServerLine | undefined {
  // A cheap test first (1,000s of lines, few of them servers); SERVER decides.
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent mutants, the test only saves time
  const match = line.includes('server') ? SERVER.exec(line) : null;
  return match ? { backend, name: match[1] as string, args: match[2] as string } : undefined;
}

/** `<key> <backend>` lines, the format of both maps. */
function parseMap(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [key, backend] = line.trim().split(/\s+/);
    if (key && backend) entries.set(key, backend);
  }
  return entries;
}

function diffMap(before: Map<string, string>, after: Map<string, string>): MapChanges {
  return {
    add: [...after].filter(([key]) => !before.has(key)),
    change: [...after].filter(([key, backend]) => before.has(key) && before.get(key) !== backend),
    delete: [...before.keys()].filter((key) => !after.has(key)),
  };
}

/**
 * Rendered files never change once made, and what runs now was the next one a pass ago: parsing each once
 * halves a plan's cost (at 1,000 containers, most of a change's time under the image's interpreter-only node).
 */
const parsedFiles = new WeakMap<RenderedFiles, ParsedFiles>();

function parse(files: RenderedFiles): ParsedFiles {
  const known = parsedFiles.get(files);
  if (known) return known;
  const parsed = { ...splitServers(files.config), hosts: parseMap(files.hostsMap), paths: parseMap(files.pathsMap) };
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
  const plan: RuntimePlan = { remove, add, hosts: diffMap(before.hosts, after.hosts), paths: diffMap(before.paths, after.paths) };
  const certificates = diffCertificates(running.tls, next.tls);
  if (certificates === null) return undefined;
  return certificates ? { ...plan, certificates } : plan;
}

/**
 * The certificates' difference, undefined when none, null when only a reload makes it (HTTPS turned on or
 * off, another default certificate: both change the config too, so this is a second line of defence).
 */
function diffCertificates(running: TlsFiles | undefined, next: TlsFiles | undefined): CertificateChanges | undefined | null {
  if (running === undefined || next === undefined) return running === next ? undefined : null;
  if (running.defaultPath !== next.defaultPath) return null;
  const changes: CertificateChanges = {
    add: [...next.pems].filter(([file]) => !running.pems.has(file)),
    change: [...next.pems].filter(([file, pem]) => running.pems.has(file) && running.pems.get(file) !== pem),
    delete: [...running.pems.keys()].filter((file) => !next.pems.has(file)),
  };
  return changes.add.length + changes.change.length + changes.delete.length > 0 ? changes : undefined;
}
