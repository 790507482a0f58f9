// RFC 7386 JSON merge patch: objects merge recursively, null deletes, everything else (arrays
// included) replaces. What `kubectl patch --type merge` and `kubectl scale` send.
import { cloneJson, hasOwn, isJsonObject, setOwn, type JsonValue } from './json-value';

export function applyMergePatch(target: unknown, patch: unknown): JsonValue {
  if (!isJsonObject(patch)) return cloneJson(patch as JsonValue);
  const result: Record<string, JsonValue> = isJsonObject(target) ? cloneJson(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setOwn(result, key, applyMergePatch(hasOwn(result, key) ? result[key] : undefined, value));
  }
  return result;
}
