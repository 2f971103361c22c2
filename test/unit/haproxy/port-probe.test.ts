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
});
