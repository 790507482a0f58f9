// What the OpenAPI documents need beyond the DTOs' validation rules: the component name Kubernetes
// gives each structure (kubectl explain and client tooling look them up by name), and the list
// semantics strategic merge patch and server-side apply use, which validation never needs.
import {
  ConfigMapDto,
  EndpointsDto,
  EventDto,
  HorizontalPodAutoscalerDto,
  LeaseDto,
  NamespaceDto,
  NodeDto,
  SecretDto,
  ServiceDto,
} from '../validation/cluster.dto';
import { PodDto } from '../validation/pod.dto';
import { BindingDto, ScaleDto } from '../validation/subresource.dto';
import { DeploymentDto, ReplicaSetDto } from '../validation/workload.dto';
import type { DtoClass } from './dto-introspection';

export const META_V1 = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** The DTO validateObject checks each served kind with, by "group/version/kind" ("" for core). */
export const KIND_DTOS: ReadonlyMap<string, DtoClass> = new Map<string, DtoClass>([
  ['/v1/Namespace', NamespaceDto],
  ['/v1/Pod', PodDto],
  ['/v1/Service', ServiceDto],
  ['/v1/Endpoints', EndpointsDto],
  ['/v1/Node', NodeDto],
  ['/v1/ConfigMap', ConfigMapDto],
  ['/v1/Secret', SecretDto],
  ['/v1/Event', EventDto],
  ['apps/v1/Deployment', DeploymentDto],
  ['apps/v1/ReplicaSet', ReplicaSetDto],
  ['autoscaling/v2/HorizontalPodAutoscaler', HorizontalPodAutoscalerDto],
  ['coordination.k8s.io/v1/Lease', LeaseDto],
]);

export const SCALE_DTO: DtoClass = ScaleDto;
export const BINDING_DTO: DtoClass = BindingDto;

function named(prefix: string, names: string[], renames: Record<string, string> = {}): [string, string][] {
  return [
    ...names.map((name): [string, string] => [`${name}Dto`, `${prefix}.${name}`]),
    ...Object.entries(renames).map(([dto, name]): [string, string] => [dto, `${prefix}.${name}`]),
  ];
}

/** DTO class name → Kubernetes' component name. A DTO missing here is caught by the spec. */
const COMPONENT_NAMES = new Map<string, string>([
  ...named(META_V1, [
    'OwnerReference',
    'ManagedFieldsEntry',
    'ObjectMeta',
    'LabelSelectorRequirement',
    'LabelSelector',
  ]),
  ...named(
    'io.k8s.api.core.v1',
    [
      'Pod',
      'PodSpec',
      'PodTemplateSpec',
      'Container',
      'ContainerPort',
      'EnvVar',
      'EnvVarSource',
      'EnvFromSource',
      'ObjectFieldSelector',
      'ResourceFieldSelector',
      'ResourceRequirements',
      'VolumeMount',
      'Probe',
      'ExecAction',
      'LifecycleHandler',
      'Lifecycle',
      'SecurityContext',
      'KeyToPath',
      'ConfigMapVolumeSource',
      'SecretVolumeSource',
      'EmptyDirVolumeSource',
      'HostPathVolumeSource',
      'Volume',
      'Toleration',
      'NodeSelectorRequirement',
      'NodeSelectorTerm',
      'NodeSelector',
      'PreferredSchedulingTerm',
      'NodeAffinity',
      'Affinity',
      'LocalObjectReference',
      'Service',
      'ServiceSpec',
      'ServicePort',
      'Endpoints',
      'Namespace',
      'NamespaceSpec',
      'ConfigMap',
      'Secret',
      'Node',
      'NodeSpec',
      'Taint',
      'ObjectReference',
      'Event',
      'EventSource',
      'Binding',
    ],
    {
      // One DTO serves both ConfigMap and Secret references; Kubernetes' name for the first is used.
      KeySelectorDto: 'ConfigMapKeySelector',
      RefDto: 'ConfigMapEnvSource',
      HttpHeaderDto: 'HTTPHeader',
      HttpGetActionDto: 'HTTPGetAction',
      TcpSocketActionDto: 'TCPSocketAction',
    },
  ),
  ...named(
    'io.k8s.api.apps.v1',
    ['Deployment', 'DeploymentSpec', 'DeploymentStrategy', 'ReplicaSet', 'ReplicaSetSpec'],
    {
      RollingUpdateDto: 'RollingUpdateDeployment',
    },
  ),
  ...named('io.k8s.api.autoscaling.v1', ['Scale', 'ScaleSpec', 'ScaleStatus']),
  ...named(
    'io.k8s.api.autoscaling.v2',
    [
      'HorizontalPodAutoscaler',
      'CrossVersionObjectReference',
      'MetricTarget',
      'MetricIdentifier',
      'ResourceMetricSource',
      'PodsMetricSource',
      'MetricSpec',
    ],
    {
      HpaSpecDto: 'HorizontalPodAutoscalerSpec',
      HpaBehaviorDto: 'HorizontalPodAutoscalerBehavior',
      ScalingRulesDto: 'HPAScalingRules',
      ScalingPolicyDto: 'HPAScalingPolicy',
    },
  ),
  ...named('io.k8s.api.coordination.v1', ['Lease', 'LeaseSpec']),
]);

/** Kubernetes' component name for a DTO; undefined when the catalog lacks it. */
export function componentName(type: DtoClass): string | undefined {
  return COMPONENT_NAMES.get(type.name);
}

/** How a list (or map) field merges: the x-kubernetes-* keywords Kubernetes publishes for it. */
export interface ListSemantics {
  listType?: 'atomic' | 'set' | 'map';
  mapKeys?: string[];
  patchMergeKey?: string;
  patchStrategy?: 'merge' | 'retainKeys' | 'merge,retainKeys';
  mapType?: 'atomic' | 'granular';
}

const keyedList = (...keys: [string, ...string[]]): ListSemantics => ({
  listType: 'map',
  mapKeys: keys,
  patchMergeKey: keys[0],
  patchStrategy: 'merge',
});
const ATOMIC: ListSemantics = { listType: 'atomic' };

/** "<component>.<field>" → semantics, as Kubernetes 1.32 publishes them for the fields we have. */
export const LIST_SEMANTICS: ReadonlyMap<string, ListSemantics> = new Map<string, ListSemantics>([
  [`${META_V1}.ObjectMeta.ownerReferences`, keyedList('uid')],
  [`${META_V1}.ObjectMeta.finalizers`, { listType: 'set', patchStrategy: 'merge' }],
  [`${META_V1}.ObjectMeta.managedFields`, ATOMIC],
  [`${META_V1}.LabelSelector.matchExpressions`, ATOMIC],
  [`${META_V1}.LabelSelectorRequirement.values`, ATOMIC],
  ['io.k8s.api.core.v1.PodSpec.containers', keyedList('name')],
  ['io.k8s.api.core.v1.PodSpec.initContainers', keyedList('name')],
  ['io.k8s.api.core.v1.PodSpec.volumes', { ...keyedList('name'), patchStrategy: 'merge,retainKeys' }],
  ['io.k8s.api.core.v1.PodSpec.imagePullSecrets', keyedList('name')],
  ['io.k8s.api.core.v1.PodSpec.tolerations', ATOMIC],
  ['io.k8s.api.core.v1.PodSpec.nodeSelector', { mapType: 'atomic' }],
  ['io.k8s.api.core.v1.Container.ports', keyedList('containerPort', 'protocol')],
  ['io.k8s.api.core.v1.Container.env', keyedList('name')],
  ['io.k8s.api.core.v1.Container.volumeMounts', keyedList('mountPath')],
  ['io.k8s.api.core.v1.Container.envFrom', ATOMIC],
  ['io.k8s.api.core.v1.Container.command', ATOMIC],
  ['io.k8s.api.core.v1.Container.args', ATOMIC],
  ['io.k8s.api.core.v1.ExecAction.command', ATOMIC],
  ['io.k8s.api.core.v1.HTTPGetAction.httpHeaders', ATOMIC],
  ['io.k8s.api.core.v1.ConfigMapVolumeSource.items', ATOMIC],
  ['io.k8s.api.core.v1.SecretVolumeSource.items', ATOMIC],
  ['io.k8s.api.core.v1.NodeSelector.nodeSelectorTerms', ATOMIC],
  ['io.k8s.api.core.v1.NodeSelectorTerm.matchExpressions', ATOMIC],
  ['io.k8s.api.core.v1.NodeSelectorTerm.matchFields', ATOMIC],
  ['io.k8s.api.core.v1.NodeSelectorRequirement.values', ATOMIC],
  ['io.k8s.api.core.v1.NodeAffinity.preferredDuringSchedulingIgnoredDuringExecution', ATOMIC],
  ['io.k8s.api.core.v1.ServiceSpec.ports', keyedList('port', 'protocol')],
  ['io.k8s.api.core.v1.ServiceSpec.selector', { mapType: 'atomic' }],
  ['io.k8s.api.core.v1.ServiceSpec.clusterIPs', ATOMIC],
  ['io.k8s.api.core.v1.ServiceSpec.ipFamilies', ATOMIC],
  ['io.k8s.api.core.v1.NamespaceSpec.finalizers', ATOMIC],
  ['io.k8s.api.core.v1.NodeSpec.taints', ATOMIC],
  ['io.k8s.api.core.v1.NodeSpec.podCIDRs', { listType: 'set', patchStrategy: 'merge' }],
  ['io.k8s.api.apps.v1.DeploymentSpec.strategy', { patchStrategy: 'retainKeys' }],
  ['io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec.metrics', ATOMIC],
  ['io.k8s.api.autoscaling.v2.HPAScalingRules.policies', ATOMIC],
]);
