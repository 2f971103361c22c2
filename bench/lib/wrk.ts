/** Runs wrk with bench/wrk/hosts.lua and returns its counts and latency percentiles. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../wrk/hosts.lua');

export interface WrkResult {
  requests: number;
  durationS: number;
  rps: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number; total: number };
  non2xx: number;
  latencyMs: { mean: number; stdev: number; max: number; p50: number; p75: number; p90: number; p95: number; p99: number; 'p99.9': number };
  command: string;
}

/**
 * `durationS`: wrk's own -d. With `until`, wrk runs until that promise settles and is then stopped with
 * SIGINT, on which it still prints its summary (and runs the script's done()).
 */
export async function wrk(
  url: string,
  options: {
    hosts?: string[];
    durationS: number;
    until?: Promise<unknown>;
    threads?: number;
    connections?: number;
    timeout?: string;
    /** A new connection for every request (`Connection: close`), instead of keep-alive. */
    close?: boolean;
  },
): Promise<WrkResult> {
  const args = [
    '-t',
    String(options.threads ?? 2),
    '-c',
    String(options.connections ?? 50),
    '-d',
    `${options.durationS}s`,
    '--timeout',
    options.timeout ?? '10s',
    '-s',
    SCRIPT,
    url,
  ];
  const close = options.close ? 'WRK_CLOSE=1 ' : '';
  const command = `${close}WRK_HOSTS=${(options.hosts ?? []).join(',')} wrk ${args.join(' ')}`;
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, {
      env: { ...process.env, WRK_HOSTS: (options.hosts ?? []).join(','), ...(options.close ? { WRK_CLOSE: '1' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    void options.until?.finally(() => child.kill('SIGINT'));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
  const line = output.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk: no WRK_JSON line in:\n${output}`);
  const raw = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, any>;
  const us = raw.latency_us as Record<string, number>;
  const ms = (v: number | undefined) => Math.round((v ?? 0) / 10) / 100;
  const durationS = raw.duration_us / 1e6;
  const socketErrors = {
    connect: raw.connect,
    read: raw.read,
    write: raw.write,
    timeout: raw.timeout,
    total: raw.connect + raw.read + raw.write + raw.timeout,
  };
  return {
    requests: raw.requests,
    durationS,
    rps: raw.requests / durationS,
    socketErrors,
    non2xx: raw.status,
    latencyMs: {
      mean: ms(us.mean),
      stdev: ms(us.stdev),
      max: ms(us.max),
      p50: ms(us.p50),
      p75: ms(us.p75),
      p90: ms(us.p90),
      p95: ms(us.p95),
      p99: ms(us.p99),
      'p99.9': ms(us['p99.9']),
    },
    command,
  };
}
