/** RSS and CPU time of host processes, from /proc (the benchmark runs on the Docker host, as root). */

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/**
 * Proportional set size: RSS with each shared page divided among the processes sharing it. HAProxy's master
 * and workers share most of their pages (fork), so the sum of their RSS counts those pages more than once;
 * the sum of PSS does not. 0 when the kernel has no smaps_rollup.
 */
export function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** utime and stime of `pids` summed, in seconds; undefined if one of them is gone (the sums would be wrong). */
export function cpuOf(pids: number[]): { userS: number; systemS: number } | undefined {
  try {
    return pids.map(cpuSplit).reduce((a, b) => ({ userS: a.userS + b.userS, systemS: a.systemS + b.systemS }), { userS: 0, systemS: 0 });
  } catch {
    return undefined;
  }
}

/** utime and stime in seconds, apart. */
export function cpuSplit(pid: number): { userS: number; systemS: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { userS: Number(fields[14 - 3]) / CLK_TCK, systemS: Number(fields[15 - 3]) / CLK_TCK };
}

/** utime + stime (+ waited-for children's, with `children`) in seconds. */
export function cpuSeconds(pid: number, children = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
  const n = (field: number) => Number(fields[field - 3]);
  return (n(14) + n(15) + (children ? n(16) + n(17) : 0)) / CLK_TCK;
}

/** CPU used by `pids` over `seconds`, as a percentage of one core. */
export async function cpuPercent(pids: number[], seconds: number, children = false): Promise<number> {
  const before = pids.map((p) => cpuSeconds(p, children));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = pids.map((p) => cpuSeconds(p, children));
  const used = after.reduce((sum, v, i) => sum + v - before[i]!, 0);
  return (used / seconds) * 100;
}

export function memInfoMb(): { totalMb: number; availableMb: number } {
  const text = readFileSync('/proc/meminfo', 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
  return { totalMb: Math.round(kb('MemTotal') / 1024), availableMb: Math.round(kb('MemAvailable') / 1024) };
}

/** Sockets in TIME_WAIT in the host's network namespace (/proc/net/sockstat). */
export function timeWaitCount(): number {
  return Number(/TCP:.* tw (\d+)/.exec(readFileSync('/proc/net/sockstat', 'utf8'))?.[1] ?? 0);
}

/**
 * Waits (at most `timeoutS`) until fewer than `below` sockets are in TIME_WAIT. busybox httpd closes every
 * connection, so each request leaves a TIME_WAIT socket behind on the host; tens of thousands of them
 * (from a previous wrk run) make every new connect() to the same backend slow, and that would be measured
 * as the next run's throughput. Returns the count it started from.
 */
export async function drainTimeWait(below: number, timeoutS: number): Promise<number> {
  const start = timeWaitCount();
  const deadline = Date.now() + timeoutS * 1000;
  while (timeWaitCount() >= below && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1_000));
  return start;
}

/** Reads a sysctl under /proc/sys (dotted name). */
export function sysctl(name: string): string {
  return readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim();
}

export function setSysctl(name: string, value: string): void {
  writeFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, value);
}
