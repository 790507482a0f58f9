import type { KubeObject } from '@flotilla/api';
import { buildNodeInfos } from '../cache/scheduler-cache';
import { nodeView, podView } from './scheduling-views';

describe('scheduling views', () => {
  it('reads requests exactly, with init containers as Kubernetes counts them', () => {
    const pod = podView({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        namespace: 'web',
        uid: 'u',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-1', controller: true },
        ],
      },
      spec: {
        nodeSelector: { zone: 'a' },
        initContainers: [{ name: 'init', image: 'x', resources: { requests: { cpu: '1', memory: '16Mi' } } }],
        containers: [
          { name: 'a', image: 'x', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
          { name: 'b', image: 'x', resources: { requests: { cpu: '0.25', memory: '1e6' } } },
        ],
      },
    } as KubeObject);
    expect(pod.key).toBe('web/p');
    expect(pod.requests).toEqual({
      milliCpu: 1000n,
      memoryBytes: 64n * 1024n * 1024n + 1_000_000n,
      pods: 1n,
    });
    expect(pod.ownerUid).toBe('rs-1');
    expect(pod.nodeSelector).toEqual({ zone: 'a' });
  });

  it('reads a node’s allocatable, readiness and taints, and sums what is bound to it', () => {
    const node = nodeView({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', labels: { zone: 'a' } },
      spec: { taints: [{ key: 'gpu', effect: 'NoSchedule' }] },
      status: {
        allocatable: { cpu: '1500m', memory: '2Gi', pods: '10' },
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    } as KubeObject);
    expect(node).toMatchObject({
      name: 'n1',
      ready: true,
      unschedulable: false,
      taints: [{ key: 'gpu', effect: 'NoSchedule' }],
    });
    expect(node.allocatable).toEqual({ milliCpu: 1500n, memoryBytes: 2n * 1024n ** 3n, pods: 10n });
    const pod = podView({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        nodeName: 'n1',
        containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '200m' } } }],
      },
    } as KubeObject);
    const [info] = buildNodeInfos([node], [pod]);
    expect(info?.requested).toEqual({ milliCpu: 200n, memoryBytes: 0n, pods: 1n });
  });
});
