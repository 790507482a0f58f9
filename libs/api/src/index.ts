export { Quantity, QuantityError, tryParseQuantity } from './quantity';
export { parseGoDurationMs } from './go-duration.util';
export type { QuantityFormat } from './quantity';
export {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  DNS1123_LABEL_MAX_LENGTH,
  DNS1123_SUBDOMAIN_MAX_LENGTH,
} from './names';
export type {
  KubeList,
  KubeObject,
  ListMeta,
  ManagedFieldsEntry,
  ObjectMeta,
  OwnerReference,
  Status,
  StatusCause,
  StatusDetails,
  StatusReason,
  TypeMeta,
  WatchEvent,
  WatchEventType,
} from './meta/object.types';
export {
  RESOURCE_TYPES,
  apiVersionOf,
  resolveResourceName,
  resourceTypeForKind,
  resourceTypeForPath,
  storageKey,
  storagePrefix,
} from './registry/resource-types';
export type { ResourceType, Subresource } from './registry/resource-types';
export {
  LabelMatcher,
  SelectorError,
  labelSelectorMatcher,
  parseLabelSelector,
} from './selectors/label-selector';
export type {
  LabelRequirement,
  LabelSelector,
  LabelSelectorRequirement,
  SelectorOperator,
} from './selectors/label-selector';
export { FieldMatcher, fieldValue, parseFieldSelector } from './selectors/field-selector';
export type { FieldRequirement } from './selectors/field-selector';
export {
  pruneUnknownFields,
  validateObject,
  validateStatusUpdate,
  validateUpdate,
} from './validation/validate-object';
export type { FieldValidation, ObjectValidation, ValidateObjectOptions } from './validation/validate-object';
export { applyDefaults, defaultPullPolicy } from './defaults/apply-defaults';
export { openApiV3Document, openApiV3Paths } from './openapi/openapi-document';
export type {
  Affinity,
  Binding,
  Container,
  ContainerPort,
  ContainerStatus,
  EnvVar,
  IntOrString,
  NodeAffinity,
  ObjectReference,
  Pod,
  PodCondition,
  PodPhase,
  PodSpec,
  PodStatus,
  PodTemplateSpec,
  Probe,
  QuantityValue,
  ResourceList,
  ResourceRequirements,
  RestartPolicy,
  Toleration,
  Volume,
} from './kinds/pod.types';
export type {
  Deployment,
  DeploymentSpec,
  DeploymentStatus,
  DeploymentStrategy,
  ReplicaSet,
  ReplicaSetSpec,
  ReplicaSetStatus,
  Scale,
  WorkloadCondition,
} from './kinds/deployment.types';
export type {
  EndpointAddress,
  EndpointPort,
  Endpoints,
  EndpointSubset,
  Service,
  ServicePort,
  ServiceSpec,
} from './kinds/service.types';
export type { Node, NodeCondition, NodeSpec, NodeStatus, Taint } from './kinds/node.types';
export type { ConfigMap, Secret } from './kinds/config.types';
export type { Namespace, NamespaceSpec, NamespaceStatus } from './kinds/namespace.types';
export type { Event, EventSource } from './kinds/event.types';
export type { Lease, LeaseSpec } from './kinds/lease.types';
export type {
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerBehavior,
  HorizontalPodAutoscalerSpec,
  HorizontalPodAutoscalerStatus,
  HpaScalingPolicy,
  HpaScalingRules,
  MetricSpec,
  MetricTarget,
} from './kinds/hpa.types';
export {
  METRICS_GROUP,
  METRICS_RESOURCE_TYPES,
  METRICS_VERSION,
  NODE_METRICS_TYPE,
  POD_METRICS_TYPE,
} from './kinds/metrics.types';
export type { ContainerMetrics, MetricsUsage, NodeMetrics, PodMetrics } from './kinds/metrics.types';
export { kubeTimestamp } from './meta/timestamps';
export {
  CHANNEL_CLOSE,
  CHANNEL_ERROR,
  CHANNEL_RESIZE,
  CHANNEL_STDERR,
  CHANNEL_STDIN,
  CHANNEL_STDOUT,
  REMOTE_COMMAND_PROTOCOLS,
  REMOTE_COMMAND_V4,
  REMOTE_COMMAND_V5,
  decodeChannelFrame,
  decodeRemoteCommandStatus,
  decodeTerminalSize,
  encodeChannelFrame,
  encodeTerminalSize,
  errorStatus,
  exitCodeStatus,
  negotiateRemoteCommandProtocol,
} from './remote-command/remote-command.util';
export type {
  ChannelFrame,
  RemoteCommandResult,
  RemoteCommandStatus,
  TerminalSize,
} from './remote-command/remote-command.util';
