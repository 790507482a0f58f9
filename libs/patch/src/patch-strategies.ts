// How each list in the kinds we serve is merged, from Kubernetes' API definitions
// (x-kubernetes-patch-strategy / patch-merge-key for strategic merge patch, list-type / list-map-keys
// for server-side apply). Paths are field names from the object root with list levels skipped:
// "spec.containers.ports" is the ports list of every container.

export type ListStrategy = { type: 'map'; keys: readonly string[] } | { type: 'set' } | { type: 'atomic' };

const POD_SPEC: Record<string, ListStrategy> = {
  containers: { type: 'map', keys: ['name'] },
  initContainers: { type: 'map', keys: ['name'] },
  'containers.ports': { type: 'map', keys: ['containerPort', 'protocol'] },
  'initContainers.ports': { type: 'map', keys: ['containerPort', 'protocol'] },
  'containers.env': { type: 'map', keys: ['name'] },
  'initContainers.env': { type: 'map', keys: ['name'] },
  'containers.volumeMounts': { type: 'map', keys: ['mountPath'] },
  'initContainers.volumeMounts': { type: 'map', keys: ['mountPath'] },
  volumes: { type: 'map', keys: ['name'] },
  imagePullSecrets: { type: 'map', keys: ['name'] },
  hostAliases: { type: 'map', keys: ['ip'] },
};

const METADATA: Record<string, ListStrategy> = {
  'metadata.ownerReferences': { type: 'map', keys: ['uid'] },
  'metadata.finalizers': { type: 'set' },
};

function under(prefix: string, table: Record<string, ListStrategy>): Record<string, ListStrategy> {
  return Object.fromEntries(Object.entries(table).map(([path, strategy]) => [`${prefix}.${path}`, strategy]));
}

const CONDITIONS: ListStrategy = { type: 'map', keys: ['type'] };

const BY_KIND: Record<string, Record<string, ListStrategy>> = {
  Pod: {
    ...under('spec', POD_SPEC),
    'status.conditions': CONDITIONS,
    'status.containerStatuses': { type: 'atomic' },
  },
  Deployment: {
    ...under('spec.template.spec', POD_SPEC),
    ...under('spec.template', METADATA),
    'status.conditions': CONDITIONS,
  },
  ReplicaSet: {
    ...under('spec.template.spec', POD_SPEC),
    ...under('spec.template', METADATA),
    'status.conditions': CONDITIONS,
  },
  Service: { 'spec.ports': { type: 'map', keys: ['port', 'protocol'] } },
  Node: { 'status.conditions': CONDITIONS, 'status.addresses': { type: 'map', keys: ['type'] } },
  Namespace: { 'status.conditions': CONDITIONS },
  HorizontalPodAutoscaler: { 'status.conditions': CONDITIONS },
};

/** The strategy for the list at `path` (field names joined by "."), atomic when not listed. */
export function listStrategy(kind: string, path: string): ListStrategy {
  return BY_KIND[kind]?.[path] ?? METADATA[path] ?? { type: 'atomic' };
}

/** Strategic merge patch uses only the first key of a map list (its patchMergeKey). */
export function mergeKey(kind: string, path: string): string | undefined {
  const strategy = listStrategy(kind, path);
  return strategy.type === 'map' ? strategy.keys[0] : undefined;
}
