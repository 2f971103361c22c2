/**
 * Which Strict-Transport-Security header a route's HTTPS answers carry. A browser that has seen it uses only
 * HTTPS for that host until max-age runs out: right for a route that sends plain HTTP to HTTPS anyway
 * (`https=redirect`, the default, and `only`), where it closes the window of the first plain request that a
 * network attacker could answer; wrong by default for `https=both`, whose plain HTTP is meant to be used.
 */
import type { RoutePolicy } from './route-labels.js';
import type { Service } from './services.js';

/**
 * The max-age in seconds, or null for no header: the route's `hsts` label, else `https.hstsMaxAge`
 * (HSTS_MAX_AGE; absent: none) unless the route serves plain HTTP as well (`https=both`); 0 is none.
 * `service` absent: a spare backend, which only ever takes a route without policy. Null without HTTPS
 * (`https` absent) and for a TCP route.
 */
export function hstsMaxAgeOf(service: Service | undefined, https: { hstsMaxAge?: number | undefined } | undefined): number | null {
  if (https === undefined || service?.kind === 'tcp') return null;
  const policy: RoutePolicy = service?.policy ?? {};
  const maxAge = policy.hstsMaxAge ?? (policy.https === 'both' ? 0 : (https.hstsMaxAge ?? 0));
  return maxAge > 0 ? maxAge : null;
}
