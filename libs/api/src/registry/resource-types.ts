// The resources Flotilla serves, with the names discovery, the REST paths, the CLI and the store use.

export type Subresource = 'status' | 'scale' | 'binding' | 'log' | 'exec';

export interface ResourceType {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  /** The plural, lower-case resource name used in paths: "pods". */
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly subresources: readonly Subresource[];
  readonly categories: readonly string[];
}

function resource(
  spec: Omit<ResourceType, 'listKind' | 'singular' | 'shortNames' | 'subresources' | 'categories'> &
    Partial<Pick<ResourceType, 'shortNames' | 'subresources' | 'categories'>>,
): ResourceType {
  return {
    listKind: `${spec.kind}List`,
    singular: spec.kind.toLowerCase(),
    shortNames: [],
    subresources: [],
    categories: [],
    ...spec,
  };
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  resource({
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    shortNames: ['ns'],
    subresources: ['status'],
  }),
  resource({
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespaced: true,
    shortNames: ['po'],
    subresources: ['status', 'binding', 'log', 'exec'],
    categories: ['all'],
  }),
  resource({
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    namespaced: true,
    shortNames: ['svc'],
    subresources: ['status'],
    categories: ['all'],
  }),
  resource({
    group: '',
    version: 'v1',
    kind: 'Endpoints',
    plural: 'endpoints',
    namespaced: true,
    shortNames: ['ep'],
  }),
  resource({
    group: '',
    version: 'v1',
    kind: 'Node',
    plural: 'nodes',
    namespaced: false,
    shortNames: ['no'],
    subresources: ['status'],
  }),
  resource({
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    namespaced: true,
    shortNames: ['cm'],
  }),
  resource({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true }),
  resource({
    group: '',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    namespaced: true,
    shortNames: ['ev'],
  }),
  resource({
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    subresources: ['status', 'scale'],
    categories: ['all'],
  }),
  resource({
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    subresources: ['status', 'scale'],
    categories: ['all'],
  }),
  resource({
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    shortNames: ['hpa'],
    subresources: ['status'],
    categories: ['all'],
  }),
  resource({
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    namespaced: true,
  }),
];

export function apiVersionOf(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** Finds a type by kind and apiVersion ("apps/v1", "v1"). */
export function resourceTypeForKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}

/** Finds a type by group and plural, as in a REST path. */
export function resourceTypeForPath(
  group: string,
  version: string,
  plural: string,
): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/**
 * Resolves what a user types on the command line: "pods", "pod", "po", "Pod", "deployments.apps",
 * "deploy". Returns undefined when nothing matches.
 */
export function resolveResourceName(name: string): ResourceType | undefined {
  const lower = name.toLowerCase();
  const [base, ...groupParts] = lower.split('.');
  const group = groupParts.join('.');
  return RESOURCE_TYPES.find(
    (t) =>
      (group === '' || t.group === group) &&
      (t.plural === base ||
        t.singular === base ||
        t.shortNames.includes(base ?? '') ||
        t.kind.toLowerCase() === base),
  );
}

/**
 * The etcd key of an object, as DESIGN.md §2 lays it out: /registry/<group>/<resource>/<namespace>/<name>,
 * with "core" standing for the empty group and no namespace segment for cluster-scoped resources.
 */
export function storageKey(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${storagePrefix(type, namespace)}${name}`;
}

/** The key prefix that lists a resource in one namespace, or across all when namespace is undefined. */
export function storagePrefix(type: ResourceType, namespace: string | undefined): string {
  const base = `/registry/${type.group === '' ? 'core' : type.group}/${type.plural}/`;
  if (!type.namespaced) return base;
  return namespace === undefined ? base : `${base}${namespace}/`;
}
