/**
 * EC2 Auto Scaling says an instance is being scaled in before it stops it: instance metadata's
 * `autoscaling/target-lifecycle-state` turns to `Terminated` (when the group has a termination lifecycle
 * hook, for as long as the hook holds the instance). The companion watches it, so that a host leaving the
 * fleet deregisters its DNS records first and keeps serving while cached answers expire: clients stop
 * being sent here before the instance goes. Outside an Auto Scaling group the path answers 404 and the
 * watch ends.
 */

import { plainHttp } from '../lib/plain-http.js';
import type { Logger } from '../log.js';

export interface LifecycleWatchOptions {
  /** e.g. http://169.254.169.254 (AWS_EC2_METADATA_SERVICE_ENDPOINT). */
  imdsEndpoint: string;
  intervalMs?: number;
  timeoutMs?: number;
  log: Logger;
  /** Called once, when Auto Scaling starts to terminate this instance. */
  onTerminating: () => void;
}

const PATH = '/latest/meta-data/autoscaling/target-lifecycle-state';

/** The states in which the instance is on its way out of the group. */
const LEAVING = new Set(['Terminated', 'Warmed:Terminated', 'Detached']);

export function watchLifecycle(options: LifecycleWatchOptions): { stop(): void } {
  const base = options.imdsEndpoint.replace(/\/$/, '');
  const timeoutMs = options.timeoutMs ?? 2_000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failures = 0;

  const read = async (): Promise<string | undefined> => {
    const token = await plainHttp(`${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' },
      timeoutMs,
    });
    if (token.status !== 200) throw new Error(`token: HTTP ${token.status}`);
    const res = await plainHttp(`${base}${PATH}`, { headers: { 'X-aws-ec2-metadata-token': token.body }, timeoutMs });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return res.body.trim();
  };

  const poll = async () => {
    if (stopped) return;
    try {
      const state = await read();
      failures = 0;
      if (state === undefined) {
        options.log.debug('not in an Auto Scaling group (no target-lifecycle-state): not watching it');
        return;
      }
      if (LEAVING.has(state)) {
        options.log.warn({ state }, 'Auto Scaling is taking this instance out of its group: leaving the fleet');
        options.onTerminating();
        return;
      }
    } catch (error) {
      // Instance metadata briefly away: look again, and say so once in a while.
      if (++failures % 12 === 1) options.log.warn({ err: error }, 'cannot read the Auto Scaling lifecycle state; will retry');
    }
    if (!stopped) {
      timer = setTimeout(() => void poll(), options.intervalMs ?? 5_000);
      timer.unref();
    }
  };
  void poll();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
