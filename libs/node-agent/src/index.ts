// The node agent: the connection to the apiserver and the pod engine behind the NodePods seam.
export { NodePodsError } from './pods/node-pods.types';
export type {
  ContainerUsageSample,
  NodePods,
  NodePodsErrorCode,
  NodeUsageSample,
  PodExecRequest,
  PodExecSession,
  PodLogsRequest,
  PodStatusReport,
  PodUsageSample,
} from './pods/node-pods.types';
