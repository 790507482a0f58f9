export { startGarbageCollector } from './garbage-collector/garbage-collector.controller';
export type {
  GarbageCollectorOptions,
  RunningGarbageCollector,
} from './garbage-collector/garbage-collector.controller';
export {
  FOREGROUND_FINALIZER,
  ORPHAN_FINALIZER,
  dependentAction,
  ownerAction,
} from './garbage-collector/ownership.util';
export type { DependentAction, OwnerAction } from './garbage-collector/ownership.util';
export {
  NODE_LEASE_NAMESPACE,
  startNodeLifecycleController,
} from './node-lifecycle/node-lifecycle.controller';
export type { NodeLifecycleOptions, RunningNodeLifecycle } from './node-lifecycle/node-lifecycle.controller';
export { UNREACHABLE_TAINT, nodeHealth } from './node-lifecycle/node-health.util';
export type { NodeHealth, NodeHeartbeat } from './node-lifecycle/node-health.util';
export { startReplicaSetController } from './replicaset/replicaset.controller';
export type {
  ReplicaSetControllerOptions,
  RunningReplicaSetController,
} from './replicaset/replicaset.controller';
export { podsToDelete, POD_DELETION_COST_ANNOTATION } from './replicaset/pod-ranking.util';
export { startDeploymentController } from './deployment/deployment.controller';
export type {
  DeploymentControllerOptions,
  RunningDeploymentController,
} from './deployment/deployment.controller';
export {
  CHANGE_CAUSE_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
} from './deployment/revision.util';
export { maxSurgeOf, maxUnavailableOf, resolveFenceposts } from './deployment/rolling.util';
export type { Fenceposts, RollingParameters, StrategyShape } from './deployment/rolling.util';
export { startEndpointsController } from './endpoints/endpoints.controller';
export type {
  EndpointsControllerOptions,
  RunningEndpointsController,
} from './endpoints/endpoints.controller';
export { endpointSubsets, resolveTargetPort } from './endpoints/endpoints.util';
export { DEFAULT_HPA_SYNC_PERIOD_MS, startHpaController } from './autoscaler/hpa.controller';
export type { HpaControllerOptions, RunningHpaController } from './autoscaler/hpa.controller';
export { metricsApiPodMetricsSource } from './autoscaler/pod-metrics.source';
export type { PodMetricsItem, PodMetricsSource } from './autoscaler/pod-metrics.source';
