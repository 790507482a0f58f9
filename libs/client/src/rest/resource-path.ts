// REST paths in Kubernetes' layout: /api/v1/namespaces/default/pods/web/status for the core group,
// /apis/apps/v1/... for the others; cluster-scoped types have no namespaces/<ns> segment.
import type { ResourceType, Subresource } from '@flotilla/api';

export interface ResourceLocation {
  /** For namespaced types; undefined lists across all namespaces. Ignored for cluster-scoped types. */
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: Subresource;
}

export function groupVersionPath(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
}

export function resourcePath(type: ResourceType, location: ResourceLocation = {}): string {
  const { namespace, name, subresource } = location;
  if (type.namespaced && name !== undefined && (namespace === undefined || namespace === '')) {
    throw new Error(`${type.plural} are namespaced: say which namespace "${name}" is in`);
  }
  if (subresource !== undefined && name === undefined) {
    throw new Error(`the ${subresource} subresource of ${type.plural} needs an object name`);
  }
  let path = groupVersionPath(type);
  if (type.namespaced && namespace !== undefined && namespace !== '') {
    path += `/namespaces/${encodeURIComponent(namespace)}`;
  }
  path += `/${type.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}

export type QueryValue = string | number | boolean | undefined;

/** Drops undefined values so optional parameters never reach the wire as "undefined". */
export function withQuery(path: string, query: Readonly<Record<string, QueryValue>> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}
