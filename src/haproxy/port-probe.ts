/**
 * Whether HAProxy could bind a TCP route's port: tried here, in the same network namespace, before a
 * configuration asks HAProxy for it. A port already in use would make the whole reload fail, and with it
 * every other change: a container must not be able to block the host's updates by asking for port 22.
 */
import net from 'node:net';

/**
 * The ports of `ports` that cannot be bound on all IPv4 addresses right now, nor, with `ipv6`, on all IPv6
 * ones (HAProxy binds `[::]:<port> v6only` then, and fails on a port taken there only).
 */
export async function busyPorts(ports: readonly number[], options: { ipv6?: boolean } = {}): Promise<Set<number>> {
  const busy = new Set<number>();
  await Promise.all(
    ports.map(async (port) => {
      if (!(await canBind(port, '0.0.0.0')) || (options.ipv6 && !(await canBind(port, '::')))) busy.add(port);
    }),
  );
  return busy;
}

function canBind(port: number, host: '0.0.0.0' | '::'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    // HAProxy's `bind :<port>` (every IPv4 address) and `bind [::]:<port> v6only`.
    server.listen({ port, host, ipv6Only: host === '::', exclusive: true }, () => server.close(() => resolve(true)));
  });
}
