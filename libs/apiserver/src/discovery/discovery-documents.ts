// Discovery documents in Kubernetes' shapes, generated from RESOURCE_TYPES so that what kubectl
// discovers is exactly what the server routes.
import {
  METRICS_RESOURCE_TYPES,
  RESOURCE_TYPES,
  apiVersionOf,
  type ResourceType,
  type Subresource,
} from '@flotilla/api';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-flotilla.0.1.0',
  gitCommit: 'flotilla',
  gitTreeState: 'clean',
  buildDate: '2026-11-23T00:00:00Z',
  goVersion: 'n/a (Node.js)',
  compiler: 'tsc',
  platform: 'linux/amd64',
};

const MAIN_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface ApiResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

function subresourceEntry(type: ResourceType, subresource: Subresource): ApiResource {
  const base = { name: `${type.plural}/${subresource}`, singularName: '', namespaced: type.namespaced };
  switch (subresource) {
    case 'status':
      return { ...base, kind: type.kind, verbs: ['get', 'patch', 'update'] };
    case 'scale':
      return {
        ...base,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: ['get', 'patch', 'update'],
      };
    case 'binding':
      return { ...base, kind: 'Binding', verbs: ['create'] };
    case 'log':
      return { ...base, kind: 'Pod', verbs: ['get'] };
    case 'exec':
      return { ...base, kind: 'PodExecOptions', verbs: ['create', 'get'] };
  }
}

/** metrics.k8s.io is read-only and served from recent samples, as metrics-server serves it. */
function metricsResourceList(group: string, version: string): object | undefined {
  const types = METRICS_RESOURCE_TYPES.filter((type) => type.group === group && type.version === version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources: types.map((type) => ({
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: ['get', 'list'],
    })),
  };
}

export function apiResourceList(group: string, version: string): object | undefined {
  const metrics = metricsResourceList(group, version);
  if (metrics) return metrics;
  const types = RESOURCE_TYPES.filter((type) => type.group === group && type.version === version);
  if (types.length === 0) return undefined;
  const resources: ApiResource[] = [];
  for (const type of types) {
    const entry: ApiResource = {
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: MAIN_VERBS,
    };
    if (type.shortNames.length > 0) entry.shortNames = [...type.shortNames];
    if (type.categories.length > 0) entry.categories = [...type.categories];
    resources.push(entry, ...type.subresources.map((subresource) => subresourceEntry(type, subresource)));
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources,
  };
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(): object {
  const groups = new Map<string, string[]>();
  for (const type of [...RESOURCE_TYPES, ...METRICS_RESOURCE_TYPES]) {
    if (type.group === '') continue;
    const versions = groups.get(type.group) ?? [];
    if (!versions.includes(type.version)) versions.push(type.version);
    groups.set(type.group, versions);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups.entries()].map(([name, versions]) => {
      const entries = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions: entries, preferredVersion: entries[0] };
    }),
  };
}

export function apiGroup(name: string): object | undefined {
  const list = apiGroupList() as { groups: Array<{ name: string }> };
  const group = list.groups.find((candidate) => candidate.name === name);
  return group ? { kind: 'APIGroup', apiVersion: 'v1', ...group } : undefined;
}
