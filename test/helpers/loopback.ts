import type http from 'node:http';
import type net from 'node:net';

/**
 * Listens on a free 127.0.0.1 port. `close()` also ends open connections (SDK keep-alives, requests
 * a stub leaves hanging), so it never waits on a client.
 */
export async function listenOnLoopback(server: http.Server): Promise<{ endpoint: string; close(): Promise<void> }> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
