// Kubernetes' strategic merge patch, as kubectl apply and kubectl patch send it: maps merge,
// lists merge by their merge key (containers by name, ports by containerPort...) or as sets, other
// lists are replaced, and the $patch / $retainKeys / $deleteFromPrimitiveList / $setElementOrder
// directives are honoured.
import {
  PatchError,
  cloneJson,
  isJsonObject,
  jsonEqual,
  type JsonObject,
  type JsonValue,
} from './patch-error';
import { listStrategy, mergeKey } from './patch-strategies';

const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';
const SET_ELEMENT_ORDER = '$setElementOrder/';

export interface StrategicMergeInput {
  kind: string;
  target: unknown;
  patch: unknown;
}

export function applyStrategicMergePatch({ kind, target, patch }: StrategicMergeInput): JsonValue {
  if (!isJsonObject(patch)) throw new PatchError('a strategic merge patch must be a JSON object');
  const base = isJsonObject(target) ? cloneJson(target) : {};
  return mergeObject(kind, '', base, patch) ?? {};
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Returns undefined when the patch deletes the whole object ($patch: delete). */
function mergeObject(
  kind: string,
  path: string,
  original: JsonObject,
  patch: JsonObject,
): JsonObject | undefined {
  const directive = patch['$patch'];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch);
  if (directive !== undefined && directive !== 'merge') {
    throw new PatchError(
      `${path || 'object'}: unknown $patch directive "${String(directive)}" (use merge, replace or delete)`,
    );
  }
  const result: JsonObject = { ...original };
  const retainKeys = patch['$retainKeys'];
  if (Array.isArray(retainKeys)) {
    for (const key of Object.keys(result))
      if (!retainKeys.includes(key) && !(key in patch)) delete result[key];
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM_PRIMITIVE)) {
      const field = key.slice(DELETE_FROM_PRIMITIVE.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        result[field] = current.filter((item) => !value.some((doomed) => jsonEqual(doomed, item)));
      }
      continue;
    }
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const fieldPath = join(path, key);
    const current = result[key];
    if (isJsonObject(value)) {
      const merged = mergeObject(kind, fieldPath, isJsonObject(current) ? current : {}, value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeList(kind, fieldPath, Array.isArray(current) ? current : [], value);
    } else {
      result[key] = value;
    }
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER) || !Array.isArray(order)) continue;
    const field = key.slice(SET_ELEMENT_ORDER.length);
    const list = result[field];
    if (Array.isArray(list)) result[field] = applyOrder(kind, join(path, field), list, order);
  }
  return result;
}

function stripDirectives(value: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(value).filter(([key]) => !key.startsWith('$'))) as JsonObject;
}

function mergeList(kind: string, path: string, original: JsonValue[], patch: JsonValue[]): JsonValue[] {
  const strategy = listStrategy(kind, path);
  if (patch.some((item) => isJsonObject(item) && item['$patch'] === 'replace')) {
    return patch.filter((item) => !(isJsonObject(item) && item['$patch'] === 'replace'));
  }
  if (strategy.type === 'set') {
    const result = [...original];
    for (const item of patch) if (!result.some((existing) => jsonEqual(existing, item))) result.push(item);
    return result;
  }
  const key = mergeKey(kind, path);
  if (strategy.type !== 'map' || key === undefined) return cloneJson(patch);
  const result = original.map((item) => cloneJson(item));
  for (const item of patch) {
    if (!isJsonObject(item)) throw new PatchError(`${path}: items must be objects with a "${key}" field`);
    const identity = item[key];
    const index = result.findIndex(
      (existing) => isJsonObject(existing) && jsonEqual(existing[key], identity),
    );
    if (item['$patch'] === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (identity === undefined) throw new PatchError(`${path}: an item lacks its merge key "${key}"`);
    const existing = index >= 0 ? result[index] : undefined;
    const merged = mergeObject(kind, path, isJsonObject(existing) ? existing : {}, item);
    if (merged === undefined) continue;
    if (index >= 0) result[index] = merged;
    else result.push(merged);
  }
  return result;
}

function applyOrder(kind: string, path: string, list: JsonValue[], order: JsonValue[]): JsonValue[] {
  const key = mergeKey(kind, path);
  const identity = (item: JsonValue): JsonValue =>
    key !== undefined && isJsonObject(item) ? (item[key] ?? null) : item;
  const position = (item: JsonValue): number => {
    const found = order.findIndex((entry) => jsonEqual(identity(entry), identity(item)));
    return found < 0 ? Number.MAX_SAFE_INTEGER : found;
  };
  return [...list].sort((a, b) => position(a) - position(b));
}
