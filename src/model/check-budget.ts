/**
 * How often HAProxy health-checks a container's servers. A container is a server in one backend for each
 * of its names (and path prefixes, and TCP routes), and each server is checked on its own: 100 names at
 * the default 2 s are 50 connections a second to one container, whatever its labels ask. So all the checks
 * of one container together are held to {@link MAX_CHECKS_PER_SECOND}, by stretching its intervals.
 *
 * Decided from the container's own routes alone (not from what other containers let it serve), so that its
 * intervals change only when the container does: a server whose line changes is taken out and added again
 * at run time, which would cut its requests if it happened to a container that is serving. Pure.
 */
import type { RouteSpec } from './route-labels.js';
import { routeKeys } from './service-key.js';

/** HAProxy's own default, and the built-in template's before the interval was decided here. */
export const DEFAULT_CHECK_INTERVAL_MS = 2000;
/**
 * No interval is stretched beyond a day, the longest a label may ask for: HAProxy counts time in 32-bit
 * milliseconds, and an operator's MAX_DOMAINS_PER_CONTAINER far above 100 could stretch further. A server
 * held there is checked once a day, which the cap can afford.
 */
const MAX_INTERVAL_MS = 24 * 3_600_000;

/**
 * At most this many health checks a second reach one container, over all its routes. 20 names at the
 * default 2 s, or 10 at the 1 s floor, fit as they ask; 100 names (MAX_DOMAINS_PER_CONTAINER) are checked
 * every 10 s each, so a server that dies is out within 20 s (fall 2). For a fleet of containers it bounds the
 * companion's connections, conntrack entries and the applications' logs by ten a second each.
 */
export const MAX_CHECKS_PER_SECOND = 10;

/**
 * The interval each route's servers are checked at, in the order of `routes`: the route's own (or the
 * default), all multiplied by one factor when the container's checks would otherwise exceed the cap, so
 * the routes keep their proportions. Rounded up to a whole millisecond; a redirect, which has no server,
 * counts for nothing. The sum runs in the routes' order, which declaredRoutes sorts by name: the same
 * labels always give the same intervals.
 */
export function checkIntervals(routes: readonly RouteSpec[]): number[] {
  const asked = routes.map((route) => route.policy.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS);
  let perSecond = 0;
  for (const [i, route] of routes.entries()) {
    if (route.policy.redirect === undefined) perSecond += (routeKeys(route).length * 1000) / (asked[i] ?? DEFAULT_CHECK_INTERVAL_MS);
  }
  if (perSecond <= MAX_CHECKS_PER_SECOND) return asked;
  const stretch = perSecond / MAX_CHECKS_PER_SECOND;
  return asked.map((ms) => Math.min(MAX_INTERVAL_MS, Math.ceil(ms * stretch)));
}

/** An interval as HAProxy's `inter` reads it: whole seconds as `<n>s`, anything else in `ms`. */
export function haproxyDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
