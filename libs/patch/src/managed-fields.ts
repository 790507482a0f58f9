// Field sets for server-side apply: which fields of an object a manager owns, in Kubernetes' FieldsV1
// encoding. A field path is a list of segments: `f:name` (a map field), `k:{"name":"app"}` (the item of
// a keyed list), `v:"x"` (the member of a set). Lists without keys are atomic: owned as one field.
import { cloneJson, isJsonObject, jsonEqual, type JsonObject, type JsonValue } from './patch-error';
import { listStrategy } from './patch-strategies';

export type FieldSet = Set<string>;

/** Fields the server owns; they never enter a manager's field set. */
const SERVER_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);
const TOP_LEVEL_SKIPPED = new Set(['apiVersion', 'kind', 'status']);

function encodePath(segments: readonly string[]): string {
  return JSON.stringify(segments);
}

export function decodePath(path: string): string[] {
  return JSON.parse(path) as string[];
}

function keySegment(item: JsonObject, keys: readonly string[]): string {
  const identity: JsonObject = {};
  for (const key of keys) if (item[key] !== undefined) identity[key] = item[key] ?? null;
  return `k:${JSON.stringify(identity)}`;
}

/** Every field path set in `object`, as a manager writing it would own them. */
export function fieldsOf(kind: string, object: unknown): FieldSet {
  const fields: FieldSet = new Set();
  const walk = (value: JsonValue, names: string[], segments: string[], topLevel: boolean): void => {
    if (isJsonObject(value)) {
      const entries = Object.entries(value);
      if (entries.length === 0 && segments.length > 0) fields.add(encodePath(segments));
      for (const [key, child] of entries) {
        if (topLevel && TOP_LEVEL_SKIPPED.has(key)) continue;
        if (names.length === 1 && names[0] === 'metadata' && SERVER_METADATA.has(key)) continue;
        walkChild(child, [...names, key], [...segments, `f:${key}`]);
      }
      return;
    }
    fields.add(encodePath(segments));
  };
  const walkChild = (value: JsonValue, names: string[], segments: string[]): void => {
    if (!Array.isArray(value)) return walk(value, names, segments, false);
    const strategy = listStrategy(kind, names.join('.'));
    if (strategy.type === 'atomic' || value.length === 0) {
      fields.add(encodePath(segments));
      return;
    }
    for (const item of value) {
      if (strategy.type === 'set') fields.add(encodePath([...segments, `v:${JSON.stringify(item)}`]));
      else if (isJsonObject(item)) {
        const itemSegments = [...segments, keySegment(item, strategy.keys)];
        fields.add(encodePath(itemSegments));
        walk(item, names, itemSegments, false);
      }
    }
  };
  if (isJsonObject(object)) walk(object, [], [], true);
  return fields;
}

function findItem(list: JsonValue[], segment: string): number {
  const identity = JSON.parse(segment.slice(2)) as JsonObject;
  return list.findIndex(
    (item) =>
      isJsonObject(item) && Object.entries(identity).every(([key, value]) => jsonEqual(item[key], value)),
  );
}

/** The value at a field path, or undefined when absent. */
export function valueAt(object: unknown, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = object as JsonValue;
  for (const segment of decodePath(path)) {
    if (current === undefined || current === null) return undefined;
    if (segment.startsWith('f:')) {
      current = isJsonObject(current) ? current[segment.slice(2)] : undefined;
    } else if (segment.startsWith('k:')) {
      if (!Array.isArray(current)) return undefined;
      const index = findItem(current, segment);
      current = index >= 0 ? current[index] : undefined;
    } else {
      const member = JSON.parse(segment.slice(2)) as JsonValue;
      return Array.isArray(current) && current.some((item) => jsonEqual(item, member)) ? member : undefined;
    }
  }
  return current;
}

/** Removes the field at `path` from `object` in place; absent paths are ignored. */
export function removeAt(object: JsonObject, path: string): void {
  const segments = decodePath(path);
  const last = segments[segments.length - 1];
  if (last === undefined) return;
  const parent = valueAt(object, encodePath(segments.slice(0, -1)));
  if (last.startsWith('f:')) {
    if (isJsonObject(parent)) delete parent[last.slice(2)];
  } else if (Array.isArray(parent)) {
    const index = last.startsWith('k:')
      ? findItem(parent, last)
      : parent.findIndex((item) => jsonEqual(item, JSON.parse(last.slice(2)) as JsonValue));
    if (index >= 0) parent.splice(index, 1);
  }
}

/** `.spec.template.spec.containers[name="app"].image`, as Kubernetes prints conflicting fields. */
export function describePath(path: string): string {
  return decodePath(path)
    .map((segment) => {
      if (segment.startsWith('f:')) return `.${segment.slice(2)}`;
      if (segment.startsWith('k:')) {
        const identity = JSON.parse(segment.slice(2)) as JsonObject;
        return `[${Object.entries(identity)
          .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
          .join(',')}]`;
      }
      return `[${segment.slice(2)}]`;
    })
    .join('');
}

/** FieldsV1: a tree of segments; "." marks a node that is owned itself and also has children. */
export function encodeFieldsV1(fields: FieldSet): JsonObject {
  const root: JsonObject = {};
  const paths = [...fields].map(decodePath);
  for (const segments of paths) {
    let node = root;
    for (const segment of segments) {
      const next = node[segment];
      node[segment] = isJsonObject(next) ? next : {};
      node = node[segment] as JsonObject;
    }
    if (Object.keys(node).length > 0) node['.'] = {};
  }
  // A path that gained children after it was written as a leaf needs its "." marker too.
  for (const segments of paths) {
    let node: JsonObject = root;
    for (const segment of segments) node = node[segment] as JsonObject;
    const children = Object.keys(node).filter((key) => key !== '.');
    if (children.length > 0) node['.'] = {};
  }
  return root;
}

export function decodeFieldsV1(encoded: unknown): FieldSet {
  const fields: FieldSet = new Set();
  const walk = (node: unknown, segments: string[]): void => {
    if (!isJsonObject(node)) return;
    const children = Object.keys(node).filter((key) => key !== '.');
    if (segments.length > 0 && (children.length === 0 || '.' in node)) fields.add(encodePath(segments));
    for (const child of children) walk(node[child], [...segments, child]);
  };
  walk(encoded, []);
  return fields;
}

export { cloneJson };
