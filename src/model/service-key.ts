/**
 * The key of what one owner holds and one backend serves (services.ts `Service.key`), in one place:
 * `<domain>` for a whole host, `<domain><path>` for a path prefix, `tcp:<port>` for a TCP route. Domains
 * hold no `/` or `:`, so the three forms never meet.
 */

const TCP = 'tcp:';

/** The key of a host name (or wildcard) and path prefix: `shop`, `shop/api`, `*.preview/x`. */
export function serviceKey(domain: string, path: string): string {
  return path === '/' ? domain : `${domain}${path}`;
}

function tcpKey(port: number): string {
  return `${TCP}${port}`;
}

/** The keys a route holds: one per name (with its path), or its TCP port. */
export function routeKeys(route: { domains: string[]; path: string; tcpPort?: number | undefined }): string[] {
  return route.tcpPort !== undefined ? [tcpKey(route.tcpPort)] : route.domains.map((domain) => serviceKey(domain, route.path));
}

/** The port of a `tcp:<port>` key; undefined for a host (and path) key. */
export function tcpPortOf(key: string): string | undefined {
  return key.startsWith(TCP) ? key.slice(TCP.length) : undefined;
}

/** The host name (or wildcard) and path prefix of an HTTP key (`shop/api` → `shop`, `/api`); undefined for a TCP key. */
export function hostAndPathOf(key: string): { host: string; path: string } | undefined {
  if (key.startsWith(TCP)) return undefined;
  const slash = key.indexOf('/');
  return slash < 0 ? { host: key, path: '/' } : { host: key.slice(0, slash), path: key.slice(slash) };
}

/**
 * The path prefixes that hold `path` (segment by segment, the longest first, `/` last), without `path`
 * itself: `/a/b/c` → `/a/b`, `/a`, `/`; `/` → none. Prefixes are whole segments, so `/api` holds `/api/v2`
 * and not `/apix`.
 */
export function shorterPrefixes(path: string): string[] {
  if (path === '/') return [];
  const prefixes: string[] = [];
  for (let end = path.lastIndexOf('/'); end > 0; end = path.lastIndexOf('/', end - 1)) prefixes.push(path.slice(0, end));
  prefixes.push('/');
  return prefixes;
}
