import type { Pod } from '@flotilla/api';
import { NodePodsError, type PodStatusReport } from '../pods/node-pods.types';
import { HollowNodePods } from './hollow-node-pods';

function pod(name: string, extra: { deleting?: boolean; init?: boolean; containers?: string[] } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      nodeName: 'hollow-1',
      containers: (extra.containers ?? ['web']).map((container) => ({
        name: container,
        image: 'flotilla/busybox:latest',
        resources: { requests: { cpu: '10m', memory: '16Mi' } },
      })),
      ...(extra.init ? { initContainers: [{ name: 'setup', image: 'flotilla/busybox:latest' }] } : {}),
    },
  } as Pod;
}

describe('HollowNodePods', () => {
  let pods: HollowNodePods;
  let reports: PodStatusReport[];

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-11-23T12:00:00Z') });
    pods = new HollowNodePods({
      nodeName: 'hollow-1',
      nodeIP: '10.200.0.1',
      podCidr: '10.244.3.0/24',
      startDelayMs: 10,
      stopDelayMs: 20,
    });
    reports = [];
    pods.onStatus((report) => reports.push(report));
  });

  afterEach(async () => {
    await pods.close();
    jest.useRealTimers();
  });

  const last = (name: string): PodStatusReport | undefined =>
    reports.filter((report) => report.name === name).at(-1);

  it('reports a desired pod ContainerCreating at once and Running after the start delay, as the engine does', () => {
    pods.upsertDesired(pod('web-1'));
    expect(last('web-1')?.status).toMatchObject({
      phase: 'Pending',
      hostIP: '10.200.0.1',
      containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ContainerCreating' } }, ready: false }],
    });
    expect(last('web-1')?.status.podIP).toBeUndefined();

    jest.advanceTimersByTime(10);
    const running = last('web-1');
    expect(running).toMatchObject({ namespace: 'shop', name: 'web-1', uid: 'uid-web-1', released: false });
    expect(running?.status).toMatchObject({
      phase: 'Running',
      podIP: '10.244.3.2',
      podIPs: [{ ip: '10.244.3.2' }],
      hostIP: '10.200.0.1',
      startTime: '2026-11-23T12:00:00Z',
      qosClass: 'Burstable',
      containerStatuses: [
        {
          name: 'web',
          state: { running: { startedAt: '2026-11-23T12:00:00Z' } },
          ready: true,
          started: true,
          restartCount: 0,
          image: 'flotilla/busybox:latest',
          containerID: 'hollow://uid-web-1/web',
        },
      ],
    });
    const conditions = Object.fromEntries(
      (running?.status.conditions ?? []).map((condition) => [condition.type, condition.status]),
    );
    expect(conditions).toEqual({
      Initialized: 'True',
      Ready: 'True',
      ContainersReady: 'True',
      PodScheduled: 'True',
    });
    expect(pods.currentStatuses()).toEqual([running]);
  });

  it('gives each running pod its own address and reuses the address of a released pod', () => {
    pods.upsertDesired(pod('a'));
    pods.upsertDesired(pod('b'));
    jest.advanceTimersByTime(10);
    expect([last('a')?.status.podIP, last('b')?.status.podIP]).toEqual(['10.244.3.2', '10.244.3.3']);
    pods.removeDesired('uid-a');
    jest.advanceTimersByTime(20);
    pods.upsertDesired(pod('c'));
    jest.advanceTimersByTime(10);
    expect(last('c')?.status.podIP).toBe('10.244.3.2');
  });

  it('completes init containers and runs every app container', () => {
    pods.upsertDesired(pod('multi', { init: true, containers: ['web', 'sidecar'] }));
    jest.advanceTimersByTime(10);
    const status = last('multi')?.status;
    expect(status?.phase).toBe('Running');
    expect(status?.initContainerStatuses).toEqual([
      expect.objectContaining({
        name: 'setup',
        ready: true,
        state: { terminated: expect.objectContaining({ exitCode: 0, reason: 'Completed' }) },
      }),
    ]);
    expect(status?.containerStatuses?.map((container) => [container.name, container.ready])).toEqual([
      ['web', true],
      ['sidecar', true],
    ]);
  });

  it('stops a pod that is being deleted and then releases it', () => {
    pods.upsertDesired(pod('web-1'));
    jest.advanceTimersByTime(10);
    pods.upsertDesired(pod('web-1', { deleting: true }));
    expect(last('web-1')?.status.phase).toBe('Running');
    jest.advanceTimersByTime(20);
    const [stopped, released] = reports.filter((report) => report.name === 'web-1').slice(-2);
    expect(stopped?.released).toBe(false);
    expect(stopped?.status.containerStatuses?.[0]?.state).toEqual({
      terminated: expect.objectContaining({ exitCode: 0, reason: 'Completed' }),
    });
    expect(released?.released).toBe(true);
    expect(pods.currentStatuses()).toEqual([]);
  });

  it('releases pods missing from a full desired set and keeps the others untouched', () => {
    pods.replaceDesired([pod('keep'), pod('drop')]);
    jest.advanceTimersByTime(10);
    const before = reports.length;
    pods.replaceDesired([pod('keep')]);
    jest.advanceTimersByTime(20);
    expect(reports.slice(before).map((report) => [report.name, report.released])).toEqual([
      ['drop', false],
      ['drop', true],
    ]);
    expect(pods.currentStatuses().map((report) => report.name)).toEqual(['keep']);
  });

  it('releases a pod deleted before it started without ever reporting it Running', () => {
    pods.upsertDesired(pod('brief'));
    pods.removeDesired('uid-brief');
    jest.advanceTimersByTime(50);
    expect(reports.map((report) => [report.status.phase, report.released])).toEqual([
      ['Pending', false],
      ['Pending', true],
    ]);
  });

  it('does not restart a pod that is stopping when it is upserted again', () => {
    pods.upsertDesired(pod('web-1'));
    jest.advanceTimersByTime(10);
    pods.removeDesired('uid-web-1');
    pods.upsertDesired(pod('web-1'));
    jest.advanceTimersByTime(50);
    expect(last('web-1')?.released).toBe(true);
    expect(pods.currentStatuses()).toEqual([]);
  });

  it('ignores a pod without a uid', () => {
    const nameless = pod('x');
    delete nameless.metadata.uid;
    pods.upsertDesired(nameless);
    jest.advanceTimersByTime(10);
    expect(reports).toEqual([]);
  });

  it('lists running pods with zero usage', async () => {
    pods.upsertDesired(pod('web-1'));
    pods.upsertDesired(pod('later'));
    jest.advanceTimersByTime(10);
    const usage = await pods.usage();
    expect(usage.pods.map((sample) => sample.name)).toEqual(['web-1', 'later']);
    expect(usage.pods[0]?.containers).toEqual([{ name: 'web', cpuUsageNanos: 0n, memoryWorkingSetBytes: 0 }]);
  });

  it('answers logs and exec with an error that says the node is hollow', async () => {
    await expect(pods.logs()).rejects.toThrow(NodePodsError);
    await expect(pods.exec()).rejects.toThrow(/hollow-1 is a hollow node.*use a real node agent for exec/);
  });

  it('reports nothing after close', async () => {
    pods.upsertDesired(pod('web-1'));
    await pods.close();
    jest.advanceTimersByTime(10);
    expect(reports.map((report) => report.status.phase)).toEqual(['Pending']);
  });
});
