/**
 * Whether HAProxy listens on IPv6 as well (LISTEN_IPV6). HAProxy refuses to start when one `bind` fails,
 * and on a host without IPv6 (a kernel booted with ipv6.disable=1) no IPv6 socket can even be created: a
 * `bind [::]:80` there would take every route down. So `auto`, the default, asks the host first, as Go's
 * listeners do for Traefik and Caddy; a host where IPv6 is merely switched off on the interfaces (Docker's
 * default for containers) can still bind `[::]`, which is then harmless.
 */
import net from 'node:net';
import { ConfigError } from '../errors.js';

/** Whether this process can listen on `[::]` alone, as HAProxy's `bind [::]:<port> v6only` will. */
export function canListenOnIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '::', port: 0, ipv6Only: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * LISTEN_IPV6 for this host: `auto` follows what it can do; `true` on a host without IPv6 is refused here,
 * at startup, with the setting named, rather than left to a HAProxy that cannot start.
 */
export async function listenOnIpv6(setting: 'auto' | boolean, probe: () => Promise<boolean> = canListenOnIpv6): Promise<boolean> {
  if (setting === false) return false;
  const available = await probe();
  if (setting === true && !available) {
    throw new ConfigError([
      'LISTEN_IPV6: is true, but this host cannot open an IPv6 socket (IPv6 disabled in its kernel?); set auto or false',
    ]);
  }
  return available;
}
