// Turns a REST path into what it addresses. Kubernetes' paths are regular but overlap in one place:
// /api/v1/namespaces/NAME/status is the Namespace's status subresource, while
// /api/v1/namespaces/NS/pods lists pods, so a namespaced segment is read as a resource only when
// the group-version serves a resource of that name.
import { RESOURCE_TYPES, type ResourceType, type Subresource } from '@flotilla/api';

export interface ResourceTarget {
  type: ResourceType;
  /** Set for namespaced requests; undefined means all namespaces (collections) or cluster scope. */
  namespace?: string;
  name?: string;
  subresource?: Subresource;
}

export type PathResolution =
  { kind: 'resource'; target: ResourceTarget } | { kind: 'not-found'; reason: string };

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function typesIn(group: string, version: string): ResourceType[] {
  return RESOURCE_TYPES.filter((type) => type.group === group && type.version === version);
}

/** `segments` are the path segments after /api/v1 or /apis/GROUP/VERSION, already URL-decoded. */
export function resolveResourcePath(
  group: string,
  version: string,
  segments: readonly string[],
): PathResolution {
  const types = typesIn(group, version);
  if (types.length === 0)
    return { kind: 'not-found', reason: `no API group-version ${group || 'core'}/${version}` };
  const byPlural = (plural: string | undefined): ResourceType | undefined =>
    types.find((type) => type.plural === plural);

  let namespace: string | undefined;
  let rest = segments;
  const [first, second, third] = segments;
  if (
    first === 'namespaces' &&
    second !== undefined &&
    third !== undefined &&
    !NAMESPACE_SUBRESOURCES.has(third)
  ) {
    namespace = second;
    rest = segments.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  const type = byPlural(plural);
  if (!type)
    return { kind: 'not-found', reason: `the server doesn't have a resource type "${plural ?? ''}"` };
  if (extra.length > 0) return { kind: 'not-found', reason: 'too many path segments' };
  if (namespace !== undefined && !type.namespaced) {
    return { kind: 'not-found', reason: `${type.plural} is not namespaced` };
  }
  if (name !== undefined && type.namespaced && namespace === undefined) {
    return {
      kind: 'not-found',
      reason: `${type.plural} is namespaced: use /namespaces/NAMESPACE/${type.plural}/${name}`,
    };
  }
  if (name === '') return { kind: 'not-found', reason: 'empty name' };
  const target: ResourceTarget = { type };
  if (namespace !== undefined) target.namespace = namespace;
  if (name !== undefined) target.name = name;
  if (subresource !== undefined) {
    const known = type.subresources.find((candidate) => candidate === subresource);
    const namespaceFinalize = type.kind === 'Namespace' && subresource === 'finalize';
    if (!known && !namespaceFinalize) {
      return { kind: 'not-found', reason: `${type.plural} has no subresource "${subresource}"` };
    }
    // finalize behaves as status does for our purposes: it writes the namespace's spec.finalizers.
    target.subresource = known ?? 'status';
  }
  return { kind: 'resource', target };
}
