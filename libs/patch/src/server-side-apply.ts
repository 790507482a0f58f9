// Server-side apply and the field ownership that goes with it, as Kubernetes does it: every manager
// owns the fields it set; applying a configuration sets its fields, takes ownership of them, and
// removes fields the manager applied before but left out now (unless someone else owns them too);
// a field another manager owns with a different value is a conflict unless the apply is forced.
// Ordinary writes (create, update, merge patch) are recorded too, so the autoscaler that changed
// spec.replicas owns it and a later apply of the manifest without replicas leaves it alone.
import type { KubeObject, ManagedFieldsEntry } from '@flotilla/api';
import {
  cloneJson,
  decodeFieldsV1,
  describePath,
  encodeFieldsV1,
  fieldsOf,
  removeAt,
  valueAt,
  type FieldSet,
} from './managed-fields';
import { isJsonObject, jsonEqual, type JsonObject, type JsonValue } from './patch-error';
import { listStrategy } from './patch-strategies';

export interface ApplyConflict {
  manager: string;
  /** Kubernetes' field notation, e.g. `.spec.replicas`. */
  field: string;
}

export interface ApplyInput {
  kind: string;
  apiVersion: string;
  live: KubeObject | undefined;
  applied: KubeObject;
  manager: string;
  force: boolean;
  now: Date;
}

export interface ApplyResult {
  object: KubeObject;
  conflicts: ApplyConflict[];
}

interface Ownership {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fields: FieldSet;
  subresource?: string;
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function readOwnership(object: KubeObject | undefined): Ownership[] {
  return (object?.metadata?.managedFields ?? []).map((entry) => ({
    manager: entry.manager ?? '',
    operation: entry.operation === 'Apply' ? 'Apply' : 'Update',
    apiVersion: entry.apiVersion ?? '',
    time: entry.time ?? '',
    fields: decodeFieldsV1(entry.fieldsV1),
    ...(entry.subresource ? { subresource: entry.subresource } : {}),
  }));
}

function writeOwnership(object: KubeObject, owners: Ownership[]): KubeObject {
  const managedFields: ManagedFieldsEntry[] = owners
    .filter((owner) => owner.fields.size > 0)
    .map((owner) => ({
      manager: owner.manager,
      operation: owner.operation,
      apiVersion: owner.apiVersion,
      time: owner.time,
      fieldsType: 'FieldsV1',
      fieldsV1: encodeFieldsV1(owner.fields),
      ...(owner.subresource ? { subresource: owner.subresource } : {}),
    }));
  const metadata = { ...(object.metadata ?? {}) };
  if (managedFields.length > 0) metadata.managedFields = managedFields;
  else delete metadata.managedFields;
  return { ...object, metadata };
}

function ownerEntry(
  owners: Ownership[],
  manager: string,
  operation: 'Apply' | 'Update',
  template: Omit<Ownership, 'fields'>,
): Ownership {
  let entry = owners.find((owner) => owner.manager === manager && owner.operation === operation);
  if (!entry) {
    entry = { ...template, fields: new Set() };
    owners.push(entry);
  }
  entry.apiVersion = template.apiVersion;
  entry.time = template.time;
  return entry;
}

/** Merges an applied configuration into the live object: maps merge, keyed lists merge by key, sets union. */
function mergeApplied(
  kind: string,
  names: string[],
  live: JsonValue | undefined,
  applied: JsonValue,
): JsonValue {
  if (isJsonObject(applied)) {
    const result: JsonObject = isJsonObject(live) ? { ...live } : {};
    for (const [key, value] of Object.entries(applied)) {
      result[key] = mergeApplied(kind, [...names, key], result[key], value);
    }
    return result;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const strategy = listStrategy(kind, names.join('.'));
    if (strategy.type === 'set') {
      const result = [...live];
      for (const item of applied)
        if (!result.some((existing) => jsonEqual(existing, item))) result.push(item);
      return result;
    }
    if (strategy.type === 'map') {
      const result = [...live];
      for (const item of applied) {
        if (!isJsonObject(item)) continue;
        const index = result.findIndex(
          (existing) =>
            isJsonObject(existing) && strategy.keys.every((key) => jsonEqual(existing[key], item[key])),
        );
        if (index >= 0) result[index] = mergeApplied(kind, names, result[index], item);
        else result.push(item);
      }
      return result;
    }
  }
  return cloneJson(applied);
}

export function serverSideApply(input: ApplyInput): ApplyResult {
  const { kind, live, applied, manager, force, now } = input;
  const appliedFields = fieldsOf(kind, applied);
  const owners = readOwnership(live);
  const conflicts: ApplyConflict[] = [];
  const conflicting = new Set<string>();
  if (live) {
    for (const owner of owners) {
      if (owner.manager === manager) continue;
      for (const path of appliedFields) {
        if (!owner.fields.has(path)) continue;
        if (!jsonEqual(valueAt(live, path), valueAt(applied, path))) {
          conflicts.push({ manager: owner.manager, field: describePath(path) });
          conflicting.add(path);
        }
      }
    }
  }
  if (conflicts.length > 0 && !force) return { object: live ?? applied, conflicts };

  const mine = owners.find((owner) => owner.manager === manager && owner.operation === 'Apply');
  const previous = mine ? new Set(mine.fields) : new Set<string>();
  const base: JsonObject = live ? (cloneJson(live) as unknown as JsonObject) : {};
  const merged = mergeApplied(kind, [], base, applied as unknown as JsonValue) as JsonObject;
  // Fields this manager applied before and left out now go, unless another manager holds them.
  const heldByOthers = (path: string): boolean =>
    owners.some((owner) => owner !== mine && owner.fields.has(path) && !conflicting.has(path));
  const removals = [...previous]
    .filter((path) => !appliedFields.has(path) && !heldByOthers(path))
    .sort((a, b) => b.length - a.length);
  for (const path of removals) removeAt(merged, path);

  for (const owner of owners) {
    if (owner === mine) continue;
    for (const path of conflicting) owner.fields.delete(path);
  }
  const entry = ownerEntry(owners, manager, 'Apply', {
    manager,
    operation: 'Apply',
    apiVersion: input.apiVersion,
    time: timestamp(now),
  });
  entry.fields = appliedFields;
  return { object: writeOwnership(merged as unknown as KubeObject, owners), conflicts };
}

export interface RecordUpdateInput {
  kind: string;
  apiVersion: string;
  old: KubeObject | undefined;
  updated: KubeObject;
  manager: string;
  now: Date;
  subresource?: string;
}

/** Records an ordinary write: the writer takes the fields it changed; fields that went are no one's. */
export function recordUpdate(input: RecordUpdateInput): KubeObject {
  const { kind, old, updated, manager, now } = input;
  const owners = readOwnership(old);
  const before = fieldsOf(kind, old);
  const after = fieldsOf(kind, updated);
  const changed = [...after].filter(
    (path) => !before.has(path) || !jsonEqual(valueAt(old, path), valueAt(updated, path)),
  );
  const removed = [...before].filter((path) => !after.has(path));
  for (const owner of owners) {
    for (const path of [...changed, ...removed]) owner.fields.delete(path);
    // Keep only fields that still exist (an item removed takes its fields with it).
    for (const path of [...owner.fields]) if (!after.has(path)) owner.fields.delete(path);
  }
  if (changed.length > 0) {
    const entry = ownerEntry(owners, manager, 'Update', {
      manager,
      operation: 'Update',
      apiVersion: input.apiVersion,
      time: timestamp(now),
      ...(input.subresource ? { subresource: input.subresource } : {}),
    });
    for (const path of changed) entry.fields.add(path);
  }
  return writeOwnership(updated, owners);
}

/** Kubernetes' wording for a failed apply. */
export function describeConflicts(conflicts: ApplyConflict[], apiVersion: string): string {
  const lines = conflicts.map(
    (conflict) => `conflict with "${conflict.manager}" using ${apiVersion}: ${conflict.field}`,
  );
  const head = `Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'}: `;
  return conflicts.length === 1 ? head + (lines[0] ?? '') : `${head}\n- ${lines.join('\n- ')}`;
}
