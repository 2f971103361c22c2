/**
 * Changes that need no reload. When two rendered configurations differ only in their `server` lines
 * and in the host map, the difference is applied through the runtime API (add/enable, maint/del for
 * servers; add/set/del for map entries), so a container joining or leaving a service, or a new domain
 * taking a spare backend (model/backend-pool.ts), costs no reload. The files stay the source of truth:
 * the plan is derived from them, so custom templates get the same treatment, and the files on disk
 * always describe what runs.
 */
import { CompanionError } from '../errors.js';
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

/** The config without its server lines, and the server lines by `backend/name`. */
export function splitServers(text: string): { skeleton: string; servers: Map<string, ServerLine> } {
  const kept: string[] = [];
  const servers = new Map<string, ServerLine>();
  let backend: string | undefined;
  for (const line of text.split('\n')) {
    const section = SECTION.exec(line);
    if (section) backend = section[1] === 'backend' || section[1] === 'listen' ? section[2] : undefined;
    const server = backend !== undefined ? SERVER.exec(line) : null;
    if (server && backend !== undefined) {
      servers.set(`${backend}/${server[1]}`, { backend, name: server[1]!, args: server[2]! });
    } else {
      kept.push(line);
    }
  }
  return { skeleton: kept.join('\n'), servers };
}

export function parseHostsMap(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [host, backend] = line.trim().split(/\s+/);
    if (host && backend) entries.set(host, backend);
  }
  return entries;
}

/** `undefined` when anything but server lines and map entries changed: that needs a reload. */
export function planRuntimeUpdate(running: RenderedFiles, next: RenderedFiles): RuntimePlan | undefined {
  const before = splitServers(running.config);
  const after = splitServers(next.config);
  if (before.skeleton !== after.skeleton) return undefined;
  const remove = [...before.servers.entries()].filter(([key, s]) => after.servers.get(key)?.args !== s.args).map(([, s]) => s);
  const add = [...after.servers.entries()].filter(([key, s]) => before.servers.get(key)?.args !== s.args).map(([, s]) => s);
  const hostsBefore = parseHostsMap(running.hostsMap);
  const hostsAfter = parseHostsMap(next.hostsMap);
  const addHosts = [...hostsAfter].filter(([host]) => !hostsBefore.has(host));
  const changeHosts = [...hostsAfter].filter(([host, backend]) => hostsBefore.has(host) && hostsBefore.get(host) !== backend);
  const deleteHosts = [...hostsBefore.keys()].filter((host) => !hostsAfter.has(host));
  return { remove, add, addHosts, changeHosts, deleteHosts };
}

export type CliSender = (command: string) => Promise<string>;

/** How long a removed server may keep connections (in-flight requests, idle keep-alives) before they are cut. */
const DRAIN_LIMIT_MS = 30_000;
const SWEEP_INTERVAL_MS = 1_000;

/**
 * Applies plans on the admin socket of the running worker. Host names stop routing before their
 * servers go, and start routing once their servers are in. A removed server goes to maintenance at
 * once (no new requests) and is deleted once HAProxy lets it go: HAProxy refuses to delete a server
 * that still has connections, so until then it waits here, draining, and a sweep retries. A server
 * re-added while it drains (a container restarted under the same name) is simply made ready again.
 */
export class RuntimeUpdater {
  private draining = new Map<string, { server: ServerLine; since: number }>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: CliSender,
    /** The map's file name, as the config names it: the runtime API knows a map by it. */
    private readonly hostsMapPath: string,
    private readonly onSweepError: (error: Error) => void = () => undefined,
  ) {}

  /** After a reload or restart the new worker has none of the draining servers. */
  reset(): void {
    this.draining.clear();
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  get drainingServers(): string[] {
    return [...this.draining.keys()];
  }

  /** Throws on any refusal; the caller then reloads, which always works. */
  async apply(plan: RuntimePlan): Promise<void> {
    for (const host of plan.deleteHosts) await this.expect(`del map ${this.hostsMapPath} ${host}`, /^$/);
    for (const server of plan.remove) {
      const id = `${server.backend}/${server.name}`;
      await this.expect(`set server ${id} state maint`, /^$/);
      if (!(await this.tryDelete(id))) this.draining.set(id, { server, since: Date.now() });
    }
    for (const server of plan.add) {
      const id = `${server.backend}/${server.name}`;
      const drained = this.draining.get(id);
      if (drained?.server.args === server.args) {
        this.draining.delete(id);
        await this.expect(`set server ${id} state ready`, /^$/);
        continue;
      }
      if (drained) {
        await this.expect(`shutdown sessions server ${id}`, /^$/);
        if (!(await this.tryDelete(id))) throw new CompanionError(`runtime API: cannot delete ${id} to re-add it`);
        this.draining.delete(id);
      }
      await this.expect(`add server ${id} ${server.args}`, /^New server registered\.?$/);
      await this.expect(`enable server ${id}`, /^$/);
      if (/(^|\s)check(\s|$)/.test(server.args)) await this.expect(`enable health ${id}`, /^$/);
    }
    for (const [host, backend] of plan.changeHosts) await this.expect(`set map ${this.hostsMapPath} ${host} ${backend}`, /^$/);
    for (const [host, backend] of plan.addHosts) await this.expect(`add map ${this.hostsMapPath} ${host} ${backend}`, /^$/);
    if (this.draining.size > 0 && !this.sweeper) {
      this.sweeper = setInterval(() => void this.sweep().catch(this.onSweepError), SWEEP_INTERVAL_MS);
      this.sweeper.unref();
    }
  }

  /** Deletes what has drained; cuts what is still connected after {@link DRAIN_LIMIT_MS}. */
  private async sweep(): Promise<void> {
    for (const [id, { since }] of this.draining) {
      if (Date.now() - since > DRAIN_LIMIT_MS) await this.send(`shutdown sessions server ${id}`);
      if (await this.tryDelete(id)) this.draining.delete(id);
    }
    if (this.draining.size === 0) this.reset();
  }

  /** true when deleted (or already gone), false while connections remain. */
  private async tryDelete(id: string): Promise<boolean> {
    const answer = (await this.send(`del server ${id}`)).trim();
    if (/^Server deleted\.?$/.test(answer) || /^No such server/.test(answer)) return true;
    if (/connection|queue/i.test(answer)) return false;
    throw new CompanionError(`runtime API: "del server ${id}" answered "${answer.slice(0, 200)}"`);
  }

  private async expect(command: string, ok: RegExp): Promise<void> {
    const answer = (await this.send(command)).trim();
    if (!ok.test(answer)) throw new CompanionError(`runtime API: "${command}" answered "${answer.slice(0, 200)}"`);
  }
}
