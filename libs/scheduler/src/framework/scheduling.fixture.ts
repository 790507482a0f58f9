// Builders for plugin specs: nodes and pods with just the fields a case needs.
import type { NodeInfo, NodeView, PodView, Resources } from './scheduling-views';
import { buildNodeInfos } from '../cache/scheduler-cache';

const GI = 1024n * 1024n * 1024n;

export function resources(milliCpu: number, memoryGi: number, pods = 1): Resources {
  return {
    milliCpu: BigInt(milliCpu),
    memoryBytes: BigInt(Math.round(memoryGi * 1024)) * (GI / 1024n),
    pods: BigInt(pods),
  };
}

export function testNode(name: string, overrides: Partial<NodeView> = {}): NodeView {
  return {
    name,
    labels: {},
    unschedulable: false,
    ready: true,
    taints: [],
    allocatable: resources(2000, 4, 110),
    ...overrides,
  };
}

export function testPod(name: string, overrides: Partial<PodView> = {}): PodView {
  return {
    key: `default/${name}`,
    uid: `uid-${name}`,
    labels: {},
    requests: resources(100, 0.25),
    nodeSelector: {},
    tolerations: [],
    ...overrides,
  };
}

export function infoFor(node: NodeView, pods: PodView[] = []): NodeInfo {
  const [info] = buildNodeInfos(
    [node],
    pods.map((pod) => ({ ...pod, nodeName: node.name })),
  );
  if (!info) throw new Error('no node info');
  return info;
}
