import { nodeMetricsOf, podMetricsOf } from './metrics-shapes.util';
import type { ContainerSample, PodSample } from './usage-samples.store';

const now = new Date('2026-11-23T10:00:06.123Z');
const pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1', labels: { app: 'web' } } };
const MiB = 1024n * 1024n;

function podSample(time: string, containers: ContainerSample[], uid = 'u1'): PodSample {
  return { namespace: 'default', name: 'web', uid, nodeName: 'node-a', time, containers };
}

describe('podMetricsOf', () => {
  it('serves the worked example in metrics-server shape', () => {
    const metrics = podMetricsOf({
      pod,
      now,
      window: {
        previous: podSample('2026-11-23T10:00:00.000Z', [
          { name: 'main', cpuNanos: 1_000_000_000n, memoryWorkingSetBytes: 60n * MiB },
        ]),
        latest: podSample('2026-11-23T10:00:05.000Z', [
          { name: 'main', cpuNanos: 2_250_000_000n, memoryWorkingSetBytes: 64n * MiB },
        ]),
      },
    });
    expect(metrics).toEqual({
      apiVersion: 'metrics.k8s.io/v1beta1',
      kind: 'PodMetrics',
      metadata: {
        name: 'web',
        namespace: 'default',
        creationTimestamp: '2026-11-23T10:00:06Z',
        labels: { app: 'web' },
      },
      timestamp: '2026-11-23T10:00:05.000Z',
      window: '5s',
      containers: [{ name: 'main', usage: { cpu: '250m', memory: '64Mi' } }],
    });
  });

  const t0 = '2026-11-23T10:00:00.000Z';
  const t1 = '2026-11-23T10:00:05.000Z';
  const main = (cpuNanos: bigint): ContainerSample => ({
    name: 'main',
    cpuNanos,
    memoryWorkingSetBytes: MiB,
  });
  const side = (cpuNanos: bigint): ContainerSample => ({
    name: 'side',
    cpuNanos,
    memoryWorkingSetBytes: MiB,
  });

  it.each([
    { name: 'only one sample so far', previous: undefined, latest: podSample(t1, [main(1n)]) },
    {
      name: 'the pod was recreated under its name',
      previous: podSample(t0, [main(1n)], 'u0'),
      latest: podSample(t1, [main(2n)]),
    },
    {
      name: 'the samples belong to another pod of that name',
      previous: podSample(t0, [main(1n)], 'u9'),
      latest: podSample(t1, [main(2n)], 'u9'),
    },
    {
      name: 'a container restarted (its counter went back)',
      previous: podSample(t0, [main(10n)]),
      latest: podSample(t1, [main(1n)]),
    },
    {
      name: 'a container has no earlier sample',
      previous: podSample(t0, [main(1n)]),
      latest: podSample(t1, [main(2n), side(1n)]),
    },
    { name: 'no container runs', previous: podSample(t0, []), latest: podSample(t1, []) },
  ])('leaves the pod out when $name', ({ previous, latest }) => {
    expect(podMetricsOf({ pod, now, window: previous ? { previous, latest } : { latest } })).toBeUndefined();
  });

  it('reports every container of a multi-container pod over the same window', () => {
    const metrics = podMetricsOf({
      pod: { metadata: { name: 'web', namespace: 'default' } },
      now,
      window: {
        previous: podSample('2026-11-23T10:00:00.000Z', [main(0n), side(0n)]),
        latest: podSample('2026-11-23T10:00:02.500Z', [main(2_500_000_000n), side(2_500_000n)]),
      },
    });
    expect(metrics?.window).toBe('2.5s');
    expect(metrics?.metadata.labels).toBeUndefined();
    expect(metrics?.containers).toEqual([
      { name: 'main', usage: { cpu: '1', memory: '1Mi' } },
      { name: 'side', usage: { cpu: '1m', memory: '1Mi' } },
    ]);
  });
});

describe('nodeMetricsOf', () => {
  const node = { metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a' } } };
  const sample = (time: string, cpuNanos: bigint, memoryWorkingSetBytes: bigint) => ({
    nodeName: 'node-a',
    time,
    cpuNanos,
    memoryWorkingSetBytes,
  });

  it('reports the CPU rate and working set of the latest sample', () => {
    expect(
      nodeMetricsOf({
        node,
        now,
        window: {
          previous: sample('2026-11-23T10:00:00.000Z', 10_000_000_000n, 100n * MiB),
          latest: sample('2026-11-23T10:00:05.000Z', 17_500_000_000n, 512n * MiB),
        },
      }),
    ).toEqual({
      apiVersion: 'metrics.k8s.io/v1beta1',
      kind: 'NodeMetrics',
      metadata: {
        name: 'node-a',
        creationTimestamp: '2026-11-23T10:00:06Z',
        labels: { 'kubernetes.io/hostname': 'node-a' },
      },
      timestamp: '2026-11-23T10:00:05.000Z',
      window: '5s',
      usage: { cpu: '1500m', memory: '512Mi' },
    });
  });

  it.each([
    { name: 'one sample', window: { latest: sample('2026-11-23T10:00:05.000Z', 1n, 1n) } },
    {
      name: 'a counter that went back (the agent restarted in a new cgroup)',
      window: {
        previous: sample('2026-11-23T10:00:00.000Z', 5n, 1n),
        latest: sample('2026-11-23T10:00:05.000Z', 1n, 1n),
      },
    },
  ])('has no metrics with $name', ({ window }) => {
    expect(nodeMetricsOf({ node, now, window })).toBeUndefined();
  });
});
