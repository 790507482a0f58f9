// Kubernetes' strategic merge patch, as `kubectl apply` (client-side) and `kubectl patch` send it:
// maps merge key by key and null deletes; lists the API marks `patchStrategy: merge` merge item by item
// on their merge key (containers by name, container ports by containerPort...) or as a set of
// primitives (finalizers); every other list is replaced whole. The directives are honoured:
// `$patch: merge|replace|delete` on a map or a list item, `$retainKeys`, `$deleteFromPrimitiveList/<f>`
// and `$setElementOrder/<f>`. We only apply patches server-side; computing them is kubectl's job.
import {
  cloneJson,
  hasOwn,
  isJsonObject,
  jsonEqual,
  setOwn,
  type JsonObject,
  type JsonValue,
} from './json-value';
import { PatchError } from './patch-error';
import { fieldStrategy, hasPatchStrategies } from './patch-strategies';

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';
const SET_ELEMENT_ORDER = '$setElementOrder/';

export interface StrategicMergeInput {
  /** The kind of the target object; its patch-strategy table decides how lists merge. */
  kind: string;
  target: unknown;
  patch: unknown;
}

export function applyStrategicMergePatch({ kind, target, patch }: StrategicMergeInput): JsonValue {
  if (!hasPatchStrategies(kind)) {
    throw new PatchError(
      `strategic merge patch is not supported for kind ${kind}; send a JSON merge patch ` +
        '(application/merge-patch+json, kubectl patch --type merge) or a JSON patch instead',
    );
  }
  if (!isJsonObject(patch)) throw new PatchError('a strategic merge patch must be a JSON object');
  const base = isJsonObject(target) ? cloneJson(target) : {};
  return mergeMap({ kind, path: '', original: base, patch }) ?? {};
}

interface MergeContext<T> {
  kind: string;
  /** Field names from the root joined by ".", list levels skipped, as in the patch-strategy table. */
  path: string;
  original: T;
  patch: T;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function where(path: string): string {
  return path === '' ? 'the object' : path;
}

/** Merges a map; undefined means the patch deleted it (`$patch: delete`). */
function mergeMap({ kind, path, original, patch }: MergeContext<JsonObject>): JsonObject | undefined {
  const directive = patch[PATCH];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return withoutDirectives(kind, path, patch);
  if (directive !== undefined && directive !== 'merge') {
    throw new PatchError(
      `${where(path)}: unknown $patch directive ${JSON.stringify(directive)} (use merge, replace or delete)`,
    );
  }
  const result: JsonObject = { ...original };
  const retainKeys = patch[RETAIN_KEYS];
  if (retainKeys !== undefined) {
    if (!Array.isArray(retainKeys) || !retainKeys.every((key) => typeof key === 'string')) {
      throw new PatchError(`${where(path)}: $retainKeys must be a list of field names`);
    }
    for (const key of Object.keys(result)) if (!retainKeys.includes(key)) delete result[key];
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === PATCH || key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      deleteFromPrimitiveList(result, key.slice(DELETE_FROM_PRIMITIVE_LIST.length), value, path);
      continue;
    }
    if (key.startsWith('$')) {
      throw new PatchError(
        `${where(path)}: unknown directive "${key}" (known: $patch, $retainKeys, ` +
          '$deleteFromPrimitiveList/<field>, $setElementOrder/<field>)',
      );
    }
    mergeField(kind, join(path, key), result, key, value);
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const field = key.slice(SET_ELEMENT_ORDER.length);
    if (!Array.isArray(order)) throw new PatchError(`${where(path)}: ${key} must be a list`);
    const list = result[field];
    if (Array.isArray(list)) setOwn(result, field, orderList(kind, join(path, field), list, order));
  }
  return result;
}

function mergeField(kind: string, path: string, result: JsonObject, key: string, value: JsonValue): void {
  if (value === null) {
    delete result[key];
    return;
  }
  const current = hasOwn(result, key) ? result[key] : undefined;
  if (isJsonObject(value)) {
    const merged = mergeMap({ kind, path, original: isJsonObject(current) ? current : {}, patch: value });
    if (merged === undefined) delete result[key];
    else setOwn(result, key, merged);
  } else if (Array.isArray(value)) {
    setOwn(
      result,
      key,
      mergeList({ kind, path, original: Array.isArray(current) ? current : [], patch: value }),
    );
  } else {
    setOwn(result, key, value);
  }
}

function deleteFromPrimitiveList(result: JsonObject, field: string, doomed: JsonValue, path: string): void {
  if (!Array.isArray(doomed)) {
    throw new PatchError(`${where(path)}: $deleteFromPrimitiveList/${field} must be a list of values`);
  }
  const current = hasOwn(result, field) ? result[field] : undefined;
  if (Array.isArray(current)) {
    setOwn(
      result,
      field,
      current.filter((item) => !doomed.some((value) => jsonEqual(value, item))),
    );
  }
}

/** A replacement map still must not carry directives into the stored object. */
function withoutDirectives(kind: string, path: string, patch: JsonObject): JsonObject {
  const rest: JsonObject = {};
  for (const [key, value] of Object.entries(patch)) if (key !== PATCH) setOwn(rest, key, value);
  return mergeMap({ kind, path, original: {}, patch: rest }) ?? {};
}

function isReplaceMarker(item: JsonValue): boolean {
  return isJsonObject(item) && item[PATCH] === 'replace' && Object.keys(item).length === 1;
}

function mergeList({ kind, path, original, patch }: MergeContext<JsonValue[]>): JsonValue[] {
  const strategy = fieldStrategy(kind, path);
  const merges = strategy.strategy === 'merge' || strategy.strategy === 'merge,retainKeys';
  if (patch.some(isReplaceMarker)) {
    const items = patch.filter((item) => !isReplaceMarker(item));
    return mergeList({ kind, path, original: [], patch: items });
  }
  if (!merges) return cloneJson(patch);
  const key = strategy.mergeKey;
  if (key === undefined) {
    // A merged list of primitives is a set: the patch adds the members the list lacks.
    const result = [...original];
    for (const item of patch) {
      if (isJsonObject(item) || Array.isArray(item)) {
        throw new PatchError(`${path}: this list holds plain values, not ${JSON.stringify(item)}`);
      }
      if (!result.some((existing) => jsonEqual(existing, item))) result.push(item);
    }
    return result;
  }
  const result = original.map((item) => cloneJson(item));
  for (const item of patch) {
    if (!isJsonObject(item)) {
      throw new PatchError(
        `${path}: items must be objects identified by "${key}", not ${JSON.stringify(item)}`,
      );
    }
    const identity = item[key];
    if (identity === undefined || identity === null) {
      throw new PatchError(
        `${path}: an item lacks its merge key "${key}" (every item of this list must name its "${key}")`,
      );
    }
    const index = result.findIndex(
      (existing) => isJsonObject(existing) && jsonEqual(existing[key], identity),
    );
    const existing = index >= 0 ? result[index] : undefined;
    const merged = mergeMap({ kind, path, original: isJsonObject(existing) ? existing : {}, patch: item });
    if (merged === undefined) {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) result[index] = merged;
    else result.push(merged);
  }
  return result;
}

/**
 * `$setElementOrder/<field>` lists the patched list's items (their merge keys, or the values of a
 * primitive list) in the order the client wants. Items it names take that order; items only the
 * server knows keep their place relative to each other after them.
 */
function orderList(kind: string, path: string, list: JsonValue[], order: JsonValue[]): JsonValue[] {
  const key = fieldStrategy(kind, path).mergeKey;
  const identity = (item: JsonValue): JsonValue =>
    key !== undefined && isJsonObject(item) ? (item[key] ?? null) : item;
  const position = (item: JsonValue): number => {
    const found = order.findIndex((entry) => jsonEqual(identity(entry), identity(item)));
    return found < 0 ? order.length : found;
  };
  return list
    .map((item, index) => ({ item, index, rank: position(item) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map(({ item }) => item);
}
