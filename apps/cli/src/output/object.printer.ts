// -o yaml|json|name: one object prints as itself, several as a v1 List, as kubectl does.
import { stringify } from 'yaml';
import type { KubeObject, ResourceType } from '@flotilla/api';
import { qualifiedName } from '@flotilla/printers';

export type ObjectFormat = 'yaml' | 'json' | 'name';

export interface TypedObject {
  readonly type: ResourceType;
  readonly object: KubeObject;
}

export function formatObjects(
  objects: readonly TypedObject[],
  format: ObjectFormat,
  options: { readonly asList: boolean },
): string {
  if (format === 'name')
    return objects.map(({ type, object }) => `${qualifiedName(type, object)}\n`).join('');
  const value = listOrObject(objects, options.asList);
  return formatValue(value, format);
}

/** One object as itself, or several (or a listing, even of one) as a v1 List, as kubectl prints them. */
export function listOrObject(objects: readonly TypedObject[], asList: boolean): unknown {
  const complete = objects.map(({ type, object }) => withTypeMeta(type, object));
  if (!asList && complete.length === 1) return complete[0];
  return { apiVersion: 'v1', kind: 'List', items: complete, metadata: { resourceVersion: '' } };
}

/** JSON keeps the server's field order; YAML sorts keys and does not indent lists, as kubectl prints them. */
export function formatValue(value: unknown, format: 'yaml' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(value, null, 4)}\n`;
  return stringify(value, {
    lineWidth: 0,
    aliasDuplicateObjects: false,
    indentSeq: false,
    sortMapEntries: true,
  });
}

/** List items come without kind and apiVersion; printed objects should be appliable as they are. */
export function withTypeMeta(type: ResourceType, object: KubeObject): KubeObject {
  const apiVersion = type.group === '' ? type.version : `${type.group}/${type.version}`;
  return { ...object, apiVersion: object.apiVersion || apiVersion, kind: object.kind || type.kind };
}
