/**
 * Real Docker for integration tests: every container a test starts carries the run's label, so the
 * companion under test sees only them (CONTAINER_LABEL_FILTER) and teardown removes all of them.
 */
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';

export const IMAGE = process.env.COMPANION_IMAGE ?? 'haproxy-companion:latest';
export const BACKEND_IMAGE = process.env.BACKEND_IMAGE ?? 'busybox:latest';

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execa('docker', args);
  return stdout.trim();
}

export class TestRun {
  readonly id = randomBytes(4).toString('hex');
  readonly label = `hc-test=${this.id}`;
  private counter = 0;

  name(prefix: string): string {
    return `hc-${this.id}-${prefix}-${++this.counter}`;
  }

  /**
   * Starts a busybox httpd answering `text` (default: its own name) on port 8080 (`httpPort`: another, e.g.
   * for a host-network container). `image`: another tag of the busybox image, for another owner.
   */
  async backend(
    options: {
      domain?: string;
      text?: string;
      name?: string;
      args?: string[];
      labels?: Record<string, string>;
      setup?: string;
      image?: string;
      httpPort?: number;
    } = {},
  ): Promise<string> {
    const name = options.name ?? this.name('backend');
    const text = options.text ?? name;
    const httpPort = options.httpPort ?? 8080;
    const args = ['run', '-d', '--name', name, '--label', this.label, '--expose', String(httpPort)];
    if (options.domain !== undefined) args.push('-e', `DOMAIN=${options.domain}`);
    for (const [key, value] of Object.entries(options.labels ?? {})) args.push('--label', `${key}=${value}`);
    args.push(...(options.args ?? []));
    // `setup`: shell run before httpd starts, e.g. to add CGI scripts under /www/cgi-bin.
    args.push(
      options.image ?? BACKEND_IMAGE,
      'sh',
      '-c',
      `mkdir -p /www/cgi-bin && echo '${text}' > /www/index.html && ${options.setup ?? 'true'} && exec httpd -f -p ${httpPort} -h /www`,
    );
    await docker(...args);
    return name;
  }

  /** Starts the companion image in host network mode on `port`, watching only this run's containers. */
  /** `socket: false` leaves docker.sock unmounted (a socket proxy's test). */
  /**
   * `network`: on that Docker network at `ip` instead of the host's (a network namespace of its own, as
   * another host would be), its HTTP and status ports published on 127.0.0.1 at `published` and +1000.
   */
  async companion(options: {
    port: number;
    env?: Record<string, string>;
    args?: string[];
    socket?: boolean;
    network?: { name: string; ip: string; published: number };
  }): Promise<Companion> {
    const name = this.name('companion');
    // Status on port+1000, so companions of different tests never fight over the default 8404.
    const env = {
      DOMAIN_NAME: 'example.com',
      HTTP_PORT: String(options.port),
      STATUS_PORT: String(options.port + 1000),
      CONTAINER_LABEL_FILTER: this.label,
      RUNTIME_DIR: `/tmp/${name}`,
      ...options.env,
    };
    const { network } = options;
    const args = ['run', '-d', '--name', name, '--label', `${this.label}-companion`];
    if (network === undefined) args.push('--network', 'host');
    else {
      const status = options.port + 1000;
      args.push('--network', network.name, '--ip', network.ip, '-e', 'STATUS_ADDRESS=0.0.0.0');
      args.push('-p', `127.0.0.1:${network.published}:${options.port}`, '-p', `127.0.0.1:${network.published + 1000}:${status}`);
    }
    if (options.socket !== false) args.push('-v', '/var/run/docker.sock:/var/run/docker.sock:ro');
    for (const [key, value] of Object.entries(env)) args.push('-e', `${key}=${value}`);
    args.push(...(options.args ?? []), IMAGE);
    await docker(...args);
    return new Companion(name, network?.published ?? options.port);
  }

  async cleanup(): Promise<void> {
    for (const label of [this.label, `${this.label}-companion`]) {
      const ids = (await docker('ps', '-aq', '--filter', `label=${label}`)).split('\n').filter(Boolean);
      if (ids.length > 0) await docker('rm', '-f', '-v', ...ids);
    }
  }
}

export interface LogLine {
  level: string;
  msg: string;
  /** An error, as pino's serializer writes it (its causes included in the message and stack). */
  err?: { type: string; message: string; stack?: string };
  [key: string]: unknown;
}

export class Companion {
  // Plain fields, not parameter properties: the benchmark imports this file with Node's type stripping.
  readonly name: string;
  readonly port: number;

  constructor(name: string, port: number) {
    this.name = name;
    this.port = port;
  }

  async logs(): Promise<LogLine[]> {
    const { stdout, stderr } = await execa('docker', ['logs', this.name]);
    return `${stdout}\n${stderr}`
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  }

  async exec(script: string): Promise<string> {
    return docker('exec', this.name, 'sh', '-c', script);
  }

  /** One command on HAProxy's admin socket (or its master socket) inside the container (the image has node, not socat). */
  async cli(command: string, socket: 'admin.sock' | 'master.sock' = 'admin.sock'): Promise<string> {
    const script = `const s=require('net').createConnection(process.argv[1]);let o='';s.on('connect',()=>s.end(process.argv[2]+'\\n'));s.on('data',d=>o+=d);s.on('close',()=>process.stdout.write(o))`;
    return docker('exec', this.name, 'node', '-e', script, `/tmp/${this.name}/${socket}`, command);
  }

  /** Where the companion writes the host map, which is also the name HAProxy knows the map by. */
  get hostsMapPath(): string {
    return `/tmp/${this.name}/hosts.map`;
  }

  /** The haproxy.cfg the companion wrote. */
  async config(): Promise<string> {
    return this.exec(`cat /tmp/${this.name}/haproxy.cfg`);
  }

  /** The host map the companion wrote, as `host backend` lines, sorted. */
  async hostsMap(): Promise<string[]> {
    return (await this.exec(`cat ${this.hostsMapPath}`)).split('\n').filter(Boolean).sort();
  }

  /** The host map HAProxy runs with (`show map`), as `host backend` lines, sorted. */
  async runningHostsMap(): Promise<string[]> {
    const answer = await this.cli(`show map ${this.hostsMapPath}`);
    return answer
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ').slice(1).join(' '))
      .sort();
  }

  async count(msg: string): Promise<number> {
    return (await this.logs()).filter((line) => line.msg === msg).length;
  }
}
