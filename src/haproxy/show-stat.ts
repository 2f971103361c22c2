/**
 * HAProxy's `show stat` CSV, read for /status: each server's state, and each backend's traffic (requests
 * a second, 5xx answers, response time), so an operator sees which service on this host is in trouble.
 * Pure: the CSV in, two maps out.
 */

export interface BackendTraffic {
  /** Requests (streams) in the last second. */
  requestsPerSecond: number;
  /** 5xx answers since HAProxy started (this worker). */
  responses5xx: number;
  /** Requests since HAProxy started (this worker). */
  requestsTotal: number;
  /** Average response time over the last 1,024 requests, in ms. */
  responseTimeMs: number;
}

export interface HaproxyStats {
  /** `backend/server` -> HAProxy's status of it (UP, DOWN, MAINT…). */
  servers: Map<string, string>;
  /** Backend -> its traffic. */
  backends: Map<string, BackendTraffic>;
}

export function parseShowStat(csv: string): HaproxyStats {
  const stats: HaproxyStats = { servers: new Map(), backends: new Map() };
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const header = (lines.shift() ?? '').replace(/^# /, '').split(',');
  const column = (name: string) => header.indexOf(name);
  const [px, sv, status] = [column('pxname'), column('svname'), column('status')];
  if (px < 0 || sv < 0 || status < 0) return stats;
  const number = (fields: string[], name: string) => Number(fields[column(name)] ?? '') || 0;
  for (const line of lines) {
    const fields = line.split(',');
    const [proxy, server] = [fields[px] ?? '', fields[sv] ?? ''];
    if (server === 'BACKEND') {
      stats.backends.set(proxy, {
        requestsPerSecond: number(fields, 'rate'),
        responses5xx: number(fields, 'hrsp_5xx'),
        requestsTotal: number(fields, 'req_tot'),
        responseTimeMs: number(fields, 'rtime'),
      });
    } else if (server && server !== 'FRONTEND') {
      stats.servers.set(`${proxy}/${server}`, fields[status] ?? '');
    }
  }
  return stats;
}
