// How Kubernetes merges each list and map of the kinds we serve, transcribed from its API definitions:
// `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key` drive strategic merge patch, and
// `x-kubernetes-list-type` / `x-kubernetes-list-map-keys` / `x-kubernetes-map-type` drive server-side
// apply. The two disagree in places on purpose (container ports merge by containerPort alone in a
// strategic merge patch but are keyed by containerPort and protocol in server-side apply), so both are
// recorded. Paths are field names from the object root joined by "." with list levels skipped:
// "spec.containers.ports" is the ports list inside every container. A list not in the table is atomic
// (replaced whole, owned as one field), as in Kubernetes; a map not in the table merges key by key.

export interface FieldStrategy {
  /** Strategic merge patch: "merge" merges a list by `mergeKey` (or as a set for primitives). */
  strategy?: 'merge' | 'retainKeys' | 'merge,retainKeys';
  /** Strategic merge patch: the field that identifies an item of a merged list of objects. */
  mergeKey?: string;
  /** Server-side apply: how a list is merged and owned. Absent means atomic. */
  listType?: 'map' | 'set' | 'atomic';
  /** Server-side apply: the fields that together identify an item of a `map` list. */
  listMapKeys?: readonly string[];
  /** Defaults of list-map keys: an applied port without protocol is the stored TCP port. */
  keyDefaults?: Readonly<Record<string, string>>;
  /** Server-side apply: an atomic map or struct is replaced whole and owned as one field. */
  mapType?: 'atomic';
}

export type FieldStrategyTable = Readonly<Record<string, FieldStrategy>>;

/** A list of objects both patch formats merge by one key field. */
function keyedBy(key: string): FieldStrategy {
  return { strategy: 'merge', mergeKey: key, listType: 'map', listMapKeys: [key] };
}

const ATOMIC_LIST: FieldStrategy = { listType: 'atomic' };
const ATOMIC_MAP: FieldStrategy = { mapType: 'atomic' };
const PRIMITIVE_SET: FieldStrategy = { strategy: 'merge', listType: 'set' };
const CONDITIONS = keyedBy('type');

const CONTAINER: FieldStrategyTable = {
  ports: {
    strategy: 'merge',
    mergeKey: 'containerPort',
    listType: 'map',
    listMapKeys: ['containerPort', 'protocol'],
    keyDefaults: { protocol: 'TCP' },
  },
  env: keyedBy('name'),
  envFrom: ATOMIC_LIST,
  volumeMounts: keyedBy('mountPath'),
  volumeDevices: keyedBy('devicePath'),
  resizePolicy: ATOMIC_LIST,
  'resources.claims': { listType: 'map', listMapKeys: ['name'] },
  command: ATOMIC_LIST,
  args: ATOMIC_LIST,
};

const POD_SPEC: FieldStrategyTable = {
  containers: keyedBy('name'),
  ...under('containers', CONTAINER),
  initContainers: keyedBy('name'),
  ...under('initContainers', CONTAINER),
  ephemeralContainers: keyedBy('name'),
  ...under('ephemeralContainers', CONTAINER),
  volumes: { ...keyedBy('name'), strategy: 'merge,retainKeys' },
  imagePullSecrets: keyedBy('name'),
  hostAliases: keyedBy('ip'),
  topologySpreadConstraints: {
    strategy: 'merge',
    mergeKey: 'topologyKey',
    listType: 'map',
    listMapKeys: ['topologyKey', 'whenUnsatisfiable'],
  },
  schedulingGates: keyedBy('name'),
  resourceClaims: { ...keyedBy('name'), strategy: 'merge,retainKeys' },
  tolerations: ATOMIC_LIST,
  readinessGates: ATOMIC_LIST,
  nodeSelector: ATOMIC_MAP,
};

const POD_STATUS: FieldStrategyTable = {
  conditions: CONDITIONS,
  podIPs: keyedBy('ip'),
  hostIPs: { strategy: 'merge', mergeKey: 'ip', listType: 'atomic' },
  containerStatuses: ATOMIC_LIST,
  initContainerStatuses: ATOMIC_LIST,
  ephemeralContainerStatuses: ATOMIC_LIST,
  resourceClaimStatuses: { ...keyedBy('name'), strategy: 'merge,retainKeys' },
};

/** ObjectMeta, at the root of every object and inside pod templates. */
const OBJECT_META: FieldStrategyTable = {
  ownerReferences: keyedBy('uid'),
  finalizers: PRIMITIVE_SET,
  managedFields: ATOMIC_LIST,
};

const POD_TEMPLATE: FieldStrategyTable = {
  ...under('metadata', OBJECT_META),
  ...under('spec', POD_SPEC),
};

function under(prefix: string, table: FieldStrategyTable): FieldStrategyTable {
  return Object.fromEntries(Object.entries(table).map(([path, strategy]) => [`${prefix}.${path}`, strategy]));
}

export const PATCH_STRATEGIES: Readonly<Record<string, FieldStrategyTable>> = {
  Pod: { ...under('spec', POD_SPEC), ...under('status', POD_STATUS) },
  Deployment: {
    // LabelSelector is a struct of type atomic: a new selector replaces the old one whole.
    'spec.selector': ATOMIC_MAP,
    'spec.strategy': { strategy: 'retainKeys' },
    ...under('spec.template', POD_TEMPLATE),
    'status.conditions': CONDITIONS,
  },
  ReplicaSet: {
    'spec.selector': ATOMIC_MAP,
    ...under('spec.template', POD_TEMPLATE),
    'status.conditions': CONDITIONS,
  },
  Service: {
    'spec.ports': {
      strategy: 'merge',
      mergeKey: 'port',
      listType: 'map',
      listMapKeys: ['port', 'protocol'],
      keyDefaults: { protocol: 'TCP' },
    },
    'spec.selector': ATOMIC_MAP,
    'spec.clusterIPs': ATOMIC_LIST,
    'spec.externalIPs': ATOMIC_LIST,
    'spec.ipFamilies': ATOMIC_LIST,
    'status.conditions': CONDITIONS,
  },
  // Subsets, their addresses and ports are all atomic: the endpoints controller rewrites them whole.
  Endpoints: { subsets: ATOMIC_LIST },
  Node: {
    'spec.podCIDRs': PRIMITIVE_SET,
    'spec.taints': ATOMIC_LIST,
    'status.conditions': CONDITIONS,
    'status.addresses': keyedBy('type'),
    'status.images': ATOMIC_LIST,
    'status.volumesInUse': ATOMIC_LIST,
  },
  Namespace: { 'spec.finalizers': ATOMIC_LIST, 'status.conditions': CONDITIONS },
  ConfigMap: {},
  Secret: {},
  Event: {},
  HorizontalPodAutoscaler: {
    'spec.metrics': ATOMIC_LIST,
    'spec.behavior.scaleUp.policies': ATOMIC_LIST,
    'spec.behavior.scaleDown.policies': ATOMIC_LIST,
    'status.currentMetrics': ATOMIC_LIST,
    'status.conditions': CONDITIONS,
  },
  Lease: {},
  // autoscaling/v1 Scale, the body of the scale subresource that `kubectl scale` and autoscalers patch.
  Scale: {},
};

const ROOT_META = under('metadata', OBJECT_META);

const EMPTY_STRATEGY: FieldStrategy = Object.freeze({});

// Each kind's table with the object metadata's under it, as one Map: a managed-fields walk asks for
// every field of every write, and this answers with one lookup and no allocation.
const ROOT_META_LOOKUP = new Map(Object.entries(ROOT_META));
const LOOKUP = new Map(
  Object.entries(PATCH_STRATEGIES).map(([kind, table]) => [
    kind,
    new Map(Object.entries({ ...ROOT_META, ...table })),
  ]),
);

/** The strategy of the field at `path` in `kind`; an empty strategy for fields Kubernetes merges by default. */
export function fieldStrategy(kind: string, path: string): FieldStrategy {
  return (LOOKUP.get(kind) ?? ROOT_META_LOOKUP).get(path) ?? EMPTY_STRATEGY;
}

/** Whether `kind` has a patch-strategy table, i.e. whether strategic merge patch is defined for it. */
export function hasPatchStrategies(kind: string): boolean {
  return Object.prototype.hasOwnProperty.call(PATCH_STRATEGIES, kind);
}
