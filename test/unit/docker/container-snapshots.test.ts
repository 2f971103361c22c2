import { describe, expect, it } from 'vitest';
import {
  ContainerSnapshots,
  type ContainerSummary,
  type DockerApi,
  STOPPING_LIMIT_MS,
  summaryFingerprint,
} from '../../../src/docker/container-snapshots.js';

/** A Docker API stand-in that counts inspections. */
function fakeDocker(ids: string[]) {
  const state = { ids, inspected: [] as string[], failList: false, summary: {} as Record<string, Partial<ContainerSummary>> };
  const api: DockerApi = {
    listContainers: async () => {
      if (state.failList) throw new Error('daemon down');
      return state.ids.map((Id) => ({ Id, ...state.summary[Id] }));
    },
    getImage: () => ({ inspect: async () => ({}) }),
    getContainer: (id) => ({
      inspect: async () => {
        state.inspected.push(id);
        if (!state.ids.includes(id)) throw Object.assign(new Error('gone'), { statusCode: 404 });
        return { Id: id, Name: `/${id}`, State: { Running: true } };
      },
    }),
    getEvents: async () => {
      throw new Error('unused');
    },
  };
  return { api, state };
}

describe('ContainerSnapshots', () => {
  it('lists and inspects everything first, then inspects only the containers events named, without listing', async () => {
    const { api, state } = fakeDocker(['a', 'b', 'c']);
    const snapshots = new ContainerSnapshots(api);
    expect((await snapshots.snapshot()).map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(state.inspected.sort()).toEqual(['a', 'b', 'c']);
    expect(snapshots.lists).toBe(1);

    state.inspected = [];
    state.ids = ['a', 'c', 'd'];
    snapshots.markDirty('b'); // destroyed
    snapshots.markDirty('d'); // started
    expect((await snapshots.snapshot()).map((c) => c.id)).toEqual(['a', 'c', 'd']);
    expect(state.inspected.sort()).toEqual(['b', 'd']);
    expect(snapshots.lists).toBe(1);
  });

  it('says a container is stopping from its stop signal until it starts again, is gone, or the limit passes', async () => {
    const { api, state } = fakeDocker(['a', 'b']);
    const snapshots = new ContainerSnapshots(api);
    await snapshots.snapshot();
    state.inspected = [];
    snapshots.markStopping('a');
    const marked = await snapshots.snapshot();
    // Out of rotation from what was known: Docker is not asked (it is busy stopping the container).
    expect(state.inspected).toEqual([]);
    expect(marked.map((c) => [c.id, c.stopping === true])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    // The same object while nothing changes: the model judges it once.
    expect((await snapshots.snapshot())[0]).toBe(marked[0]);
    snapshots.clearStopping('a');
    expect((await snapshots.snapshot())[0]?.stopping).toBeUndefined();
    // Marked again, then it exits: no mark is kept for it.
    snapshots.markStopping('a');
    await snapshots.snapshot();
    state.ids = ['b'];
    snapshots.markDirty('a');
    expect((await snapshots.snapshot()).map((c) => c.id)).toEqual(['b']);
    state.ids = ['a', 'b'];
    snapshots.markDirty('a');
    expect((await snapshots.snapshot())[0]?.stopping).toBeUndefined();
    // An app that traps the signal and keeps running comes back after the limit.
    snapshots.markStopping('b', Date.now() - STOPPING_LIMIT_MS - 1);
    expect((await snapshots.snapshot())[1]?.stopping).toBeUndefined();
  });

  it('finds what no event named at the periodic list, inspecting only what is new', async () => {
    const { api, state } = fakeDocker(['a', 'b']);
    const snapshots = new ContainerSnapshots(api);
    await snapshots.snapshot();
    state.inspected = [];
    state.ids = ['a', 'e'];
    snapshots.markListDue();
    expect((await snapshots.snapshot()).map((c) => c.id)).toEqual(['a', 'e']);
    expect(state.inspected).toEqual(['e']);
    expect(snapshots.lists).toBe(2);
  });

  it('drops a container an event named that is no longer running, or that the label filter hides', async () => {
    const { api } = fakeDocker(['a', 'b']);
    const snapshots = new ContainerSnapshots(api, { labelFilter: 'env=prod' });
    api.listContainers = async () => [{ Id: 'a' }, { Id: 'b' }];
    api.getContainer = (id) => ({
      inspect: async () => ({
        Id: id,
        Name: `/${id}`,
        State: { Running: id !== 'a' },
        Config: { Labels: id === 'b' ? { env: 'prod' } : {} },
      }),
    });
    await snapshots.snapshot();
    snapshots.markDirty('a');
    snapshots.markDirty('c');
    expect((await snapshots.snapshot()).map((c) => c.id)).toEqual(['b']);
  });

  it('inspects everything again after markAllDirty', async () => {
    const { api, state } = fakeDocker(['a', 'b']);
    const snapshots = new ContainerSnapshots(api);
    await snapshots.snapshot();
    state.inspected = [];
    snapshots.markAllDirty();
    await snapshots.snapshot();
    expect(state.inspected.sort()).toEqual(['a', 'b']);
  });

  it('inspects again a container whose list entry changed, as when its event was missed, and only that one', async () => {
    const { api, state } = fakeDocker(['a', 'b']);
    state.summary = { a: { State: 'running', Status: 'Up 1 second (health: starting)' }, b: { State: 'running', Status: 'Up 1 second' } };
    const snapshots = new ContainerSnapshots(api);
    await snapshots.snapshot();
    state.inspected = [];
    // Uptime moves on: no change.
    state.summary = { a: { State: 'running', Status: 'Up 2 minutes (health: starting)' }, b: { State: 'running', Status: 'Up 2 minutes' } };
    snapshots.markListDue();
    await snapshots.snapshot();
    expect(state.inspected).toEqual([]);
    // a turned healthy, b got a new address on a network: both inspected again, nothing else.
    state.summary.a = { State: 'running', Status: 'Up 3 minutes (healthy)' };
    state.summary.b = { ...state.summary.b, NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.9' } } } };
    snapshots.markListDue();
    await snapshots.snapshot();
    expect(state.inspected.sort()).toEqual(['a', 'b']);
  });

  it("fingerprints what can change in a container's life, not its uptime", () => {
    const base: ContainerSummary = {
      Id: 'x',
      Names: ['/web'],
      State: 'running',
      Status: 'Up 5 seconds',
      Labels: { a: '1' },
      HostConfig: { NetworkMode: 'bridge' },
    };
    const same = summaryFingerprint(base);
    expect(summaryFingerprint({ ...base, Status: 'Up 3 hours' })).toBe(same);
    for (const changed of [
      { Names: ['/renamed'] },
      { State: 'paused' },
      { Status: 'Up 5 seconds (unhealthy)' },
      { Labels: { a: '2' } },
      { NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.2' } } } },
    ]) {
      expect(summaryFingerprint({ ...base, ...changed }), JSON.stringify(changed)).not.toBe(same);
    }
  });

  it('keeps what it had to inspect when a snapshot fails', async () => {
    const { api, state } = fakeDocker(['a']);
    const snapshots = new ContainerSnapshots(api);
    await snapshots.snapshot();
    snapshots.markDirty('a');
    snapshots.markListDue();
    state.failList = true;
    await expect(snapshots.snapshot()).rejects.toThrow('daemon down');
    state.failList = false;
    state.inspected = [];
    await snapshots.snapshot();
    expect(state.inspected).toEqual(['a']);
  });

  it('always includes its own container, even when a label filter hides it', async () => {
    const { api } = fakeDocker(['a', 'self']);
    api.listContainers = async () => [{ Id: 'a' }];
    const snapshots = new ContainerSnapshots(api, { selfId: 'self', labelFilter: 'x=y' });
    expect((await snapshots.snapshot()).map((c) => c.id)).toEqual(['a', 'self']);
  });
});
