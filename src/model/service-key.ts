/**
 * The key of what one owner holds and one backend serves (services.ts `Service.key`), in one place:
 * `<domain>` for a whole host, `<domain><path>` for a path prefix, `tcp:<port>` for a TCP route. Domains
 * hold no `/` or `:`, so the three forms never meet.
 */

const TCP = 'tcp:';

function serviceKey(domain: string, path: string): string {
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
