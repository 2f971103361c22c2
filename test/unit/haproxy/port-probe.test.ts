import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { busyPorts } from '../../../src/haproxy/port-probe.js';

describe('busyPorts', () => {
  it('names the ports something already listens on, and leaves free ones free', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', resolve));
    const held = (holder.address() as net.AddressInfo).port;
    // A port just freed: bound and closed again, so nothing holds it now.
    const spare = net.createServer();
    await new Promise<void>((resolve) => spare.listen(0, '0.0.0.0', resolve));
    const free = (spare.address() as net.AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve));
    try {
      expect(await busyPorts([held, free])).toEqual(new Set([held]));
      // The probe let go of the free port: it can be bound again.
      expect(await busyPorts([free])).toEqual(new Set());
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('with IPv6 on, also names a port taken on IPv6 only, which HAProxy could not bind there', async (context) => {
    const holder = net.createServer();
    const listening = await new Promise<boolean>((resolve) => {
      holder.once('error', () => resolve(false));
      holder.listen({ port: 0, host: '::', ipv6Only: true }, () => resolve(true));
    });
    if (!listening) return context.skip('no IPv6 on this host');
    const held = (holder.address() as net.AddressInfo).port;
    try {
      expect(await busyPorts([held], { ipv6: true })).toEqual(new Set([held]));
      expect(await busyPorts([held])).toEqual(new Set());
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
