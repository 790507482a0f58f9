// metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics, the shapes metrics-server serves and `kubectl top`
// and the HPA read. They are not stored objects (no etcd key, no watch), so their resource types sit
// apart from RESOURCE_TYPES: clients use them for paths, the apiserver serves them from recent samples.
import type { ObjectMeta } from '../meta/object.types';
import type { ResourceType } from '../registry/resource-types';

/** CPU as a rate in cores ("250m", "1234567n") and memory as the working set ("64Mi"). */
export interface MetricsUsage {
  cpu: string;
  memory: string;
}

export interface NodeMetrics {
  apiVersion: 'metrics.k8s.io/v1beta1';
  kind: 'NodeMetrics';
  metadata: ObjectMeta;
  /** The end of the window the CPU rate was measured over (RFC 3339). */
  timestamp: string;
  /** The window's length, as a Go duration ("5s", "4.998s"). */
  window: string;
  usage: MetricsUsage;
  [field: string]: unknown;
}

export interface ContainerMetrics {
  name: string;
  usage: MetricsUsage;
}

export interface PodMetrics {
  apiVersion: 'metrics.k8s.io/v1beta1';
  kind: 'PodMetrics';
  metadata: ObjectMeta;
  timestamp: string;
  window: string;
  containers: ContainerMetrics[];
  [field: string]: unknown;
}

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';

export const NODE_METRICS_TYPE: ResourceType = {
  group: METRICS_GROUP,
  version: METRICS_VERSION,
  kind: 'NodeMetrics',
  listKind: 'NodeMetricsList',
  plural: 'nodes',
  singular: '',
  namespaced: false,
  shortNames: [],
  subresources: [],
  categories: [],
};

export const POD_METRICS_TYPE: ResourceType = {
  group: METRICS_GROUP,
  version: METRICS_VERSION,
  kind: 'PodMetrics',
  listKind: 'PodMetricsList',
  plural: 'pods',
  singular: '',
  namespaced: true,
  shortNames: [],
  subresources: [],
  categories: [],
};

export const METRICS_RESOURCE_TYPES: readonly ResourceType[] = [NODE_METRICS_TYPE, POD_METRICS_TYPE];
