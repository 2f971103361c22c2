import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { watchLifecycle } from '../../../src/dns/lifecycle-watch.js';
import { type ImdsStub, startImdsStub } from '../../helpers/imds-stub.js';
import { waitFor } from '../../helpers/wait-for.js';

const log = pino({ level: 'silent' });
let imds: ImdsStub | undefined;
let stop: (() => void) | undefined;
afterEach(async () => {
  stop?.();
  await imds?.close();
});

const lifecycleReads = () => imds?.requests().filter((r) => r.path.endsWith('target-lifecycle-state')) ?? [];

describe('watchLifecycle (against a loopback IMDS)', () => {
  it('says so once when Auto Scaling takes the instance out, and not before', async () => {
    imds = await startImdsStub({ ip: '10.0.0.9', instanceId: 'i-asg', lifecycleState: 'InService' });
    let calls = 0;
    stop = watchLifecycle({ imdsEndpoint: imds.endpoint, intervalMs: 50, log, onTerminating: () => calls++ }).stop;
    await waitFor(() => lifecycleReads().length >= 3, { what: 'a few reads while in service' });
    expect(calls).toBe(0);
    imds.setLifecycleState('Terminated');
    await waitFor(() => calls === 1, { what: 'the termination seen' });
    const reads = lifecycleReads().length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls).toBe(1);
    expect(lifecycleReads().length).toBe(reads);
  });

  it('stops watching outside an Auto Scaling group (404)', async () => {
    imds = await startImdsStub({ ip: '10.0.0.9', instanceId: 'i-solo' });
    stop = watchLifecycle({ imdsEndpoint: imds.endpoint, intervalMs: 50, log, onTerminating: () => undefined }).stop;
    await waitFor(() => lifecycleReads().length === 1, { what: 'one read' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(lifecycleReads()).toEqual([{ method: 'GET', path: '/latest/meta-data/autoscaling/target-lifecycle-state', status: 404 }]);
  });
});
