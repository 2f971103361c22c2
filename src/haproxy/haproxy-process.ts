/**
 * The HAProxy master process: started in master-worker mode with a master socket, its output
 * forwarded to our logs, its exit reported so the controller can restore service.
 */
import { execa, type ResultPromise } from 'execa';
import { ReloadFailedError } from '../errors.js';
import type { Logger } from '../log.js';
import { sendCliCommand } from './cli-socket.js';
import { haproxyMessages } from './config-files.js';

/** What the controller needs of the master: the port its unit tests fake. */
export interface HaproxyMaster {
  readonly running: boolean;
  /** Starts the master; `onExit` is called once if it exits without {@link stop} being asked. */
  start(onExit: (code: number | undefined) => void): void;
  reload(): Promise<void>;
  stop(graceMs: number): Promise<void>;
}

export interface HaproxyPaths {
  configPath: string;
  masterSocket: string;
}

export interface HaproxyOutput {
  /**
   * A descriptor of ours that becomes HAProxy's stdout (1: the container's, for the access log), instead of
   * a pipe whose lines are logged. HAProxy's workers then write their log lines to it directly, a writev()
   * each, without costing this process anything per request; they make it non-blocking and drop a line
   * rather than wait (pino's synchronous writes on the same pipe retry on EAGAIN). stderr, where HAProxy's
   * alerts and warnings go, is still read and logged with their severity.
   */
  stdoutFd?: number;
}

export class HaproxyProcess implements HaproxyMaster {
  private child: ResultPromise | undefined;
  private stopping = false;

  constructor(
    private readonly bin: string,
    private readonly paths: HaproxyPaths,
    private readonly log: Logger,
    private readonly output: HaproxyOutput = {},
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the master; `onExit` is called once if it exits without {@link stop} being asked. */
  start(onExit: (code: number | undefined) => void): void {
    const args = ['-W', '-S', `${this.paths.masterSocket},mode,600`, '-f', this.paths.configPath];
    this.log.info({ bin: this.bin, args }, 'starting haproxy');
    // execa's types list descriptors 1-9 only; like child_process.spawn, it takes any.
    const stdout = (this.output.stdoutFd ?? 'pipe') as 1 | 'pipe';
    const child = execa(this.bin, args, { reject: false, stdin: 'ignore', stdout, buffer: false, cleanup: true });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      let pending = '';
      stream?.on('data', (text: string) => {
        const lines = (pending + text).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') this.log[levelOf(line)]({ source: 'haproxy' }, line.trim());
      });
    }
    void child.then((result) => {
      this.child = undefined;
      if (this.stopping) return;
      this.log.error({ exitCode: result.exitCode, signal: result.signal }, 'haproxy exited');
      onExit(result.exitCode);
    });
  }

  /** Asks the master to reload; HAProxy answers synchronously with `Success=1` or the parser's errors. */
  async reload(): Promise<void> {
    const answer = await sendCliCommand(this.paths.masterSocket, 'reload');
    if (!/^Success=1/m.test(answer)) {
      const messages = haproxyMessages(answer);
      throw new ReloadFailedError(messages.length > 0 ? messages : [answer.trim().slice(0, 500) || 'empty answer']);
    }
  }

  /**
   * Soft stop: SIGUSR1 makes the master tell workers to stop listening and finish in-flight requests.
   * After `graceMs` the master is killed.
   */
  async stop(graceMs: number): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    child.kill('SIGUSR1');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await child;
    clearTimeout(timer);
  }
}

/** HAProxy tags its own lines; keep its severity in ours. */
function levelOf(line: string): 'error' | 'warn' | 'info' {
  if (line.includes('[ALERT]')) return 'error';
  if (line.includes('[WARNING]')) return 'warn';
  return 'info';
}
