/**
 * Backends outlive their last container for a while. A service whose only container restarts (or
 * crash-loops) would otherwise add and remove a backend, and so reload HAProxy, on every cycle; an
 * empty backend kept for BACKEND_LINGER_S turns each cycle into runtime server changes instead.
 * While empty it answers 503, as an unknown host does. Pure: time comes in as `now`.
 */
import type { Service } from './services.js';

/** domain -> the empty service kept, and when it goes. */
export type Lingering = ReadonlyMap<string, { service: Service; until: number }>;

export function withLingering(
  services: Service[],
  previous: { rendered: Service[]; lingering: Lingering },
  now: number,
  lingerMs: number,
): { rendered: Service[]; lingering: Lingering; nextExpiry?: number } {
  const live = new Set(services.map((s) => s.domain));
  const lingering = new Map<string, { service: Service; until: number }>();
  for (const [domain, entry] of previous.lingering) {
    if (!live.has(domain) && entry.until > now) lingering.set(domain, entry);
  }
  for (const gone of previous.rendered) {
    // Only services that had containers start lingering; an expired lingering one is gone for good.
    if (!live.has(gone.domain) && !previous.lingering.has(gone.domain) && lingerMs > 0) {
      lingering.set(gone.domain, { service: { ...gone, servers: [] }, until: now + lingerMs });
    }
  }
  const rendered = [...services, ...[...lingering.values()].map((e) => e.service)].sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
  const expiries = [...lingering.values()].map((e) => e.until);
  return { rendered, lingering, ...(expiries.length > 0 ? { nextExpiry: Math.min(...expiries) } : {}) };
}
