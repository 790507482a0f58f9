// What the scheduler reads from a Pod and a Node, computed once per object: requests as exact
// integers (millicores, bytes) from Kubernetes quantities, and the constraints plugins check.
import { Quantity, tryParseQuantity, type KubeObject } from '@flotilla/api';

export interface Resources {
  milliCpu: bigint;
  memoryBytes: bigint;
  pods: bigint;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface PodView {
  key: string;
  uid: string;
  labels: Readonly<Record<string, string>>;
  nodeName?: string;
  requests: Resources;
  nodeSelector: Readonly<Record<string, string>>;
  /** Terms are ORed; requirements within a term are ANDed. Undefined: no required affinity. */
  requiredNodeAffinity?: ReadonlyArray<{ matchExpressions?: NodeSelectorRequirement[] }>;
  tolerations: readonly Toleration[];
  /** The controller that owns the pod (a ReplicaSet), for spreading its replicas. */
  ownerUid?: string;
}

export interface NodeView {
  name: string;
  labels: Readonly<Record<string, string>>;
  unschedulable: boolean;
  ready: boolean;
  taints: readonly Taint[];
  allocatable: Resources;
}

export interface NodeInfo {
  readonly node: NodeView;
  /** Pods bound (or assumed) on the node, by `namespace/name`. */
  readonly pods: ReadonlyMap<string, PodView>;
  /** Sum of the requests of those pods. */
  readonly requested: Readonly<Resources>;
  /** How many of those pods each controlling owner (by uid) has, for spreading replicas. */
  readonly ownerCounts: ReadonlyMap<string, number>;
}

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(record) : [];
}

function quantity(value: unknown): Quantity {
  return tryParseQuantity(typeof value === 'number' ? String(value) : value) ?? Quantity.zero();
}

function containerRequests(container: Json): Resources {
  const requests = record(record(container['resources'])['requests']);
  return {
    milliCpu: quantity(requests['cpu']).milliValue(),
    memoryBytes: quantity(requests['memory']).value(),
    pods: 0n,
  };
}

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** Kubernetes: the larger of the sum over containers and the largest init container, plus one pod. */
export function podRequests(spec: Json): Resources {
  const sum: Resources = { milliCpu: 0n, memoryBytes: 0n, pods: 1n };
  for (const container of list(spec['containers'])) {
    const requests = containerRequests(container);
    sum.milliCpu += requests.milliCpu;
    sum.memoryBytes += requests.memoryBytes;
  }
  for (const container of list(spec['initContainers'])) {
    const requests = containerRequests(container);
    sum.milliCpu = max(sum.milliCpu, requests.milliCpu);
    sum.memoryBytes = max(sum.memoryBytes, requests.memoryBytes);
  }
  return sum;
}

export function podView(pod: KubeObject): PodView {
  const metadata = pod.metadata ?? {};
  const spec = record((pod as { spec?: unknown }).spec);
  const affinity = record(
    record(record(spec['affinity'])['nodeAffinity'])['requiredDuringSchedulingIgnoredDuringExecution'],
  );
  const owner = (metadata.ownerReferences ?? []).find((reference) => reference.controller);
  const view: PodView = {
    key: `${metadata.namespace ?? ''}/${metadata.name ?? ''}`,
    uid: metadata.uid ?? '',
    labels: metadata.labels ?? {},
    requests: podRequests(spec),
    nodeSelector: record(spec['nodeSelector']) as Record<string, string>,
    tolerations: list(spec['tolerations']) as Toleration[],
  };
  if (typeof spec['nodeName'] === 'string' && spec['nodeName'] !== '') view.nodeName = spec['nodeName'];
  if (affinity['nodeSelectorTerms'] !== undefined) {
    view.requiredNodeAffinity = list(affinity['nodeSelectorTerms']) as Array<{
      matchExpressions?: NodeSelectorRequirement[];
    }>;
  }
  if (owner?.uid) view.ownerUid = owner.uid;
  return view;
}

export function nodeView(node: KubeObject): NodeView {
  const spec = record((node as { spec?: unknown }).spec);
  const status = record((node as { status?: unknown }).status);
  const allocatable = record(status['allocatable']);
  const ready = list(status['conditions']).some(
    (condition) => condition['type'] === 'Ready' && condition['status'] === 'True',
  );
  return {
    name: node.metadata?.name ?? '',
    labels: node.metadata?.labels ?? {},
    unschedulable: spec['unschedulable'] === true,
    ready,
    taints: list(spec['taints']) as unknown as Taint[],
    allocatable: {
      milliCpu: quantity(allocatable['cpu']).milliValue(),
      memoryBytes: quantity(allocatable['memory']).value(),
      pods: quantity(allocatable['pods'] ?? '110').value(),
    },
  };
}
