// Server-side apply and the field ownership behind it, as Kubernetes does it. Every manager owns the
// fields it set, recorded in metadata.managedFields. An apply merges the manager's configuration into
// the live object and makes exactly the configuration's fields the manager's; fields it applied before
// and leaves out now are removed unless another manager owns them too. Changing a field another manager
// owns is a conflict unless the apply is forced, which takes the field over. Ordinary writes (create,
// update, JSON/merge/strategic patches) are recorded by recordUpdate: the writer takes the fields it
// changed, so an autoscaler that set spec.replicas owns it, a manifest re-applied without replicas
// leaves it alone, and one that sets replicas again conflicts with the autoscaler.
import { kubeTimestamp, type KubeObject, type ManagedFieldsEntry } from '@flotilla/api';
import {
  cloneJson,
  hasOwn,
  isJsonObject,
  jsonEqual,
  setOwn,
  type JsonObject,
  type JsonValue,
} from './json-value';
import {
  createFieldsV1,
  decodeFieldsV1,
  decodePath,
  describePath,
  encodeFieldsV1,
  encodePath,
  fieldsOf,
  flattenFields,
  isDescendant,
  removeField,
  valueAt,
  type FieldNode,
  type FieldScope,
  type FieldSet,
} from './managed-fields';
import { PatchError } from './patch-error';
import { fieldStrategy } from './patch-strategies';

export interface ApplyConflict {
  /** The manager that owns the field. */
  manager: string;
  operation: 'Apply' | 'Update';
  /** The API version the owner wrote with (part of how Kubernetes names Update managers). */
  apiVersion: string;
  /** Kubernetes' field notation, e.g. `.spec.replicas`. */
  field: string;
}

export interface ApplyInput {
  live: KubeObject | undefined;
  /** The configuration the manager applies (the body of `PATCH application/apply-patch+yaml`). */
  applied: KubeObject;
  manager: string;
  /** Take conflicting fields over instead of failing (`--force-conflicts`). */
  force: boolean;
  now: Date;
  /** Defaults to the applied configuration's kind. */
  kind?: string;
  /** Defaults to the applied configuration's apiVersion. */
  apiVersion?: string;
  /** "status" applies to the status subresource; anything else applies to the main resource. */
  subresource?: string;
}

export interface ApplyResult {
  /** The object to store; the live object unchanged when there are conflicts and force is off. */
  object: KubeObject;
  conflicts: ApplyConflict[];
}

export interface RecordUpdateInput {
  /** Undefined for a create. */
  old: KubeObject | undefined;
  updated: KubeObject;
  manager: string;
  now: Date;
  /** Defaults to the updated object's kind. */
  kind?: string;
  /** Defaults to the updated object's apiVersion. */
  apiVersion?: string;
  /** "status" or "scale" when the write went through that subresource. */
  subresource?: string;
}

/** A failed apply, worded and itemised as kube-apiserver does for its 409 Conflict. */
export class ApplyConflictError extends Error {
  readonly conflicts: readonly ApplyConflict[];

  constructor(conflicts: readonly ApplyConflict[]) {
    super(describeConflicts(conflicts));
    this.name = 'ApplyConflictError';
    this.conflicts = conflicts;
  }

  /** The Status causes Kubernetes attaches, one per conflicting field. */
  causes(): Array<{ reason: 'FieldManagerConflict'; message: string; field: string }> {
    return this.conflicts.map((conflict) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${describeManager(conflict)}`,
      field: conflict.field,
    }));
  }
}

/** `"kubectl"` for an applier; `"hpa" using apps/v1` for an updater, whose identity includes the version. */
export function describeManager(
  conflict: Pick<ApplyConflict, 'manager' | 'operation' | 'apiVersion'>,
): string {
  const name = JSON.stringify(conflict.manager);
  return conflict.operation === 'Update' ? `${name} using ${conflict.apiVersion}` : name;
}

/**
 * Kubernetes' message for a failed apply, e.g.
 * `Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas`.
 * Each conflict carries its owner's apiVersion; the second parameter is accepted only so that callers
 * written when it was needed keep compiling.
 */
export function describeConflicts(conflicts: readonly ApplyConflict[], _apiVersion?: string): string {
  const [only] = conflicts;
  if (conflicts.length === 1 && only) {
    return `Apply failed with 1 conflict: conflict with ${describeManager(only)}: ${only.field}`;
  }
  const byManager = new Map<string, string[]>();
  for (const conflict of conflicts) {
    const manager = describeManager(conflict);
    byManager.set(manager, [...(byManager.get(manager) ?? []), conflict.field]);
  }
  const lines = [...byManager.keys()]
    .sort()
    .flatMap((manager) => [
      `conflicts with ${manager}:`,
      ...(byManager.get(manager) ?? []).map((f) => `- ${f}`),
    ]);
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

interface Ownership {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  subresource?: string;
  fields: FieldSet;
  /**
   * Set by readScopedOwnership: none of the owner's fields lie in the written scope, so a write can
   * neither take nor remove any of them; `fields` is left empty (not decoded) and the stored entry
   * is written back as it was.
   */
  outOfScope?: boolean;
}

function scopeOf(subresource: string | undefined): FieldScope {
  return subresource === 'status' ? 'status' : 'main';
}

function readOwnership(object: KubeObject | undefined): Ownership[] {
  return (object?.metadata?.managedFields ?? []).map((entry) => ({
    manager: entry.manager,
    operation: entry.operation === 'Apply' ? 'Apply' : 'Update',
    apiVersion: entry.apiVersion,
    ...(entry.time ? { time: entry.time } : {}),
    ...(entry.subresource ? { subresource: entry.subresource } : {}),
    fields: decodeFieldsV1(entry.fieldsV1),
  }));
}

/**
 * readOwnership for a write within `scope`. A status write can only take or remove paths under
 * status, so an entry without f:status (the creator's spec fields, usually most of them) is not
 * decoded: the write keeps it as it is. An entry that decodes to nothing is decoded as before, so
 * that it is dropped as before.
 */
function readScopedOwnership(object: KubeObject, scope: FieldScope): Ownership[] {
  const entries = object.metadata?.managedFields ?? [];
  if (scope !== 'status') return readOwnership(object);
  return entries.map((entry) => {
    const fieldsV1: unknown = entry.fieldsV1;
    const outOfScope =
      isJsonObject(fieldsV1) &&
      !hasOwn(fieldsV1, 'f:status') &&
      Object.keys(fieldsV1).some((key) => key !== '.');
    return {
      manager: entry.manager,
      operation: entry.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: entry.apiVersion,
      ...(entry.time ? { time: entry.time } : {}),
      ...(entry.subresource ? { subresource: entry.subresource } : {}),
      fields: outOfScope ? new Set<string>() : decodeFieldsV1(fieldsV1),
      ...(outOfScope ? { outOfScope: true } : {}),
    };
  });
}

/** An owner's fields, decoding them now if readScopedOwnership left them out. */
function decodedFields(owner: Ownership, entry: ManagedFieldsEntry['fieldsV1'] | undefined): FieldSet {
  if (owner.outOfScope === true) {
    owner.fields = decodeFieldsV1(entry);
    delete owner.outOfScope;
  }
  return owner.fields;
}

/**
 * `stored`: owners whose fields did not change since they were read, with the FieldsV1 they were
 * read from, written back as they were instead of encoded again.
 */
function writeOwnership(
  object: KubeObject,
  owners: Ownership[],
  stored?: ReadonlyMap<Ownership, ManagedFieldsEntry['fieldsV1']>,
): KubeObject {
  const managedFields: ManagedFieldsEntry[] = owners
    .filter((owner) => owner.outOfScope === true || owner.fields.size > 0)
    .map((owner) => ({
      manager: owner.manager,
      operation: owner.operation,
      apiVersion: owner.apiVersion,
      ...(owner.time ? { time: owner.time } : {}),
      fieldsType: 'FieldsV1',
      fieldsV1: stored?.get(owner) ?? encodeFieldsV1(owner.fields),
      ...(owner.subresource ? { subresource: owner.subresource } : {}),
    }));
  const metadata = { ...(object.metadata ?? {}) };
  if (managedFields.length > 0) metadata.managedFields = managedFields;
  else delete metadata.managedFields;
  return { ...object, metadata };
}

/** The manager's entry for this operation and subresource, created when it has none yet. */
function entryFor(owners: Ownership[], identity: Omit<Ownership, 'fields'>): Ownership {
  let entry = owners.find(
    (owner) =>
      owner.manager === identity.manager &&
      owner.operation === identity.operation &&
      owner.subresource === identity.subresource,
  );
  if (!entry) {
    entry = { ...identity, fields: new Set() };
    owners.push(entry);
  }
  entry.apiVersion = identity.apiVersion;
  if (identity.time) entry.time = identity.time;
  return entry;
}

interface Comparison {
  added: string[];
  modified: string[];
  removed: string[];
}

function compareFields(before: Map<string, FieldNode>, after: Map<string, FieldNode>): Comparison {
  const comparison: Comparison = { added: [], modified: [], removed: [] };
  for (const [path, node] of after) {
    const old = before.get(path);
    if (!old) comparison.added.push(path);
    else if ((node.node === 'leaf' || old.node === 'leaf') && !jsonEqual(old.value, node.value)) {
      comparison.modified.push(path);
    }
  }
  for (const path of before.keys()) if (!after.has(path)) comparison.removed.push(path);
  return comparison;
}

function ownsWithin(owner: Ownership, path: string): boolean {
  if (owner.fields.has(path)) return true;
  for (const field of owner.fields) if (isDescendant(field, path)) return true;
  return false;
}

/** Nulls in an applied configuration mean "not specified", as an omitted field would. */
function withoutNulls(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isJsonObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, child] of Object.entries(value))
    if (child !== null) setOwn(result, key, withoutNulls(child));
  return result;
}

function checkApplied(kind: string, live: KubeObject | undefined, applied: unknown): JsonObject {
  if (!isJsonObject(applied)) throw new PatchError('an applied configuration must be a YAML or JSON object');
  if (!kind) throw new PatchError('an applied configuration must set apiVersion and kind');
  const metadata = applied['metadata'];
  if (isJsonObject(metadata) && metadata['managedFields'] !== undefined) {
    throw new PatchError('metadata.managedFields must be nil: remove it from the applied configuration');
  }
  const appliedKind = applied['kind'];
  if (typeof appliedKind === 'string' && appliedKind !== kind) {
    throw new PatchError(`the applied configuration is a ${appliedKind}, but the object is a ${kind}`);
  }
  if (live?.kind !== undefined && live.kind !== kind) {
    throw new PatchError(`the live object is a ${live.kind}, but the apply is for a ${kind}`);
  }
  return withoutNulls(applied) as JsonObject;
}

export function apply(input: ApplyInput): ApplyResult {
  const { live, manager, force, now } = input;
  const kind = input.kind ?? input.applied.kind;
  const apiVersion = input.apiVersion ?? input.applied.apiVersion;
  const scope = scopeOf(input.subresource);
  const applied = checkApplied(kind, live, input.applied);
  const appliedFields = fieldsOf({ kind, object: applied, scope, strict: true });

  const base = (live ? cloneJson(live) : {}) as unknown as JsonObject;
  const merged = mergeApplied({ kind, names: [], live: base, applied: scoped(applied, scope) }) as JsonObject;

  const owners = readOwnership(live);
  const subresource = scope === 'status' ? { subresource: 'status' } : {};
  const lastTime = owners.find(
    (owner) =>
      owner.manager === manager &&
      owner.operation === 'Apply' &&
      owner.subresource === subresource.subresource,
  )?.time;
  const mine = entryFor(owners, {
    manager,
    operation: 'Apply',
    apiVersion,
    time: kubeTimestamp(now),
    ...subresource,
  });
  const others = owners.filter((owner) => owner !== mine);

  const liveNodes = flattenFields({ kind, object: live, scope });
  const change = compareFields(liveNodes, flattenFields({ kind, object: merged, scope }));
  const changed = [...change.added, ...change.modified, ...change.removed];
  const conflicts: ApplyConflict[] = [];
  for (const owner of others) {
    for (const path of changed) {
      if (!owner.fields.has(path)) continue;
      conflicts.push({
        manager: owner.manager,
        operation: owner.operation,
        apiVersion: owner.apiVersion,
        field: describePath(path),
      });
      if (force) owner.fields.delete(path);
    }
  }
  if (conflicts.length > 0 && !force) return { object: live ?? input.applied, conflicts };

  const previous = mine.fields;
  mine.fields = appliedFields;
  pruneOmitted({ kind, object: merged, omitted: [...previous].filter((p) => !appliedFields.has(p)), owners });

  // Whatever the merge or the pruning took away is no longer anyone's.
  const gone = compareFields(liveNodes, flattenFields({ kind, object: merged, scope })).removed;
  for (const owner of others) for (const path of gone) owner.fields.delete(path);
  if (live && lastTime !== undefined && sameFields(previous, appliedFields) && sameContent(live, merged)) {
    // Re-applying the same configuration is a no-op, as in Kubernetes: not even the time moves, so
    // the apiserver can tell that nothing changed and skip the write.
    mine.time = lastTime;
  }
  return { object: writeOwnership(merged as unknown as KubeObject, owners), conflicts };
}

function sameFields(a: FieldSet, b: FieldSet): boolean {
  return a.size === b.size && [...a].every((path) => b.has(path));
}

function sameContent(live: KubeObject, merged: JsonObject): boolean {
  const withoutOwnership = (object: unknown): unknown => {
    const copy = cloneJson(object) as { metadata?: { managedFields?: unknown } };
    if (copy.metadata) delete copy.metadata.managedFields;
    return copy;
  };
  return jsonEqual(withoutOwnership(live), withoutOwnership(merged));
}

/** The server-side-apply entry point under the name the apiserver already uses. */
export const serverSideApply = apply;

/** The main resource never takes status from an apply, and the status subresource takes only status. */
function scoped(applied: JsonObject, scope: FieldScope): JsonObject {
  if (scope === 'status') return applied['status'] === undefined ? {} : { status: applied['status'] };
  const { status: _ignored, ...rest } = applied;
  return rest;
}

interface MergeInput {
  kind: string;
  names: string[];
  live: JsonValue | undefined;
  applied: JsonValue;
}

/** Merges an applied configuration into the live object: maps by key, keyed lists by item, sets by member. */
function mergeApplied({ kind, names, live, applied }: MergeInput): JsonValue {
  const strategy = fieldStrategy(kind, names.join('.'));
  if (isJsonObject(applied) && strategy.mapType !== 'atomic') {
    const result: JsonObject = isJsonObject(live) ? { ...live } : {};
    for (const [key, value] of Object.entries(applied)) {
      const current = hasOwn(result, key) ? result[key] : undefined;
      setOwn(result, key, mergeApplied({ kind, names: [...names, key], live: current, applied: value }));
    }
    return result;
  }
  if (!Array.isArray(applied) || !Array.isArray(live)) return cloneJson(applied);
  if (strategy.listType === 'set') {
    const result = [...live];
    for (const item of applied) if (!result.some((existing) => jsonEqual(existing, item))) result.push(item);
    return result;
  }
  if (strategy.listType !== 'map') return cloneJson(applied);
  const keys = strategy.listMapKeys ?? [];
  const keyOf = (item: JsonValue, key: string): JsonValue | undefined =>
    isJsonObject(item) ? (item[key] ?? strategy.keyDefaults?.[key]) : undefined;
  const result = [...live];
  for (const item of applied) {
    const index = result.findIndex((existing) =>
      keys.every((key) => jsonEqual(keyOf(existing, key), keyOf(item, key))),
    );
    if (index >= 0) result[index] = mergeApplied({ kind, names, live: result[index], applied: item });
    else result.push(cloneJson(item));
  }
  return result;
}

interface PruneInput {
  kind: string;
  object: JsonObject;
  /** Fields the manager applied last time and leaves out now. */
  omitted: string[];
  owners: Ownership[];
}

/**
 * Removes the omitted fields no other manager holds (itself or anything inside it), then the maps and
 * lists that removal left empty, unless someone owns those.
 */
function pruneOmitted({ kind, object, omitted, owners }: PruneInput): void {
  const heldByAnyone = (path: string): boolean => owners.some((owner) => ownsWithin(owner, path));
  // Shallowest first: a container removed whole takes its fields with it.
  const shallowestFirst = [...omitted].sort((a, b) => decodePath(a).length - decodePath(b).length);
  for (const path of shallowestFirst) {
    if (heldByAnyone(path) || isItemKey(path)) continue;
    removeField(kind, object, path);
    let parent = decodePath(path).slice(0, -1);
    while (parent.length > 0) {
      const parentPath = encodePath(parent);
      const value = valueAt(kind, object, parentPath);
      const empty =
        (Array.isArray(value) && value.length === 0) ||
        (isJsonObject(value) && Object.keys(value).length === 0);
      if (!empty || owners.some((owner) => owner.fields.has(parentPath))) break;
      removeField(kind, object, parentPath);
      parent = parent.slice(0, -1);
    }
  }
}

/** A key field of a list item (a container's name) goes only with its item, never on its own. */
function isItemKey(path: string): boolean {
  const segments = decodePath(path);
  const parent = segments[segments.length - 2];
  const field = segments[segments.length - 1];
  if (parent === undefined || field === undefined || !parent.startsWith('k:') || !field.startsWith('f:'))
    return false;
  const identity = JSON.parse(parent.slice(2)) as JsonObject;
  return hasOwn(identity, field.slice(2));
}

/**
 * Records an ordinary write. The writer takes the fields it added or changed (from whoever owned
 * them), fields that went away are no one's, and nothing else changes hands.
 */
export function recordUpdate(input: RecordUpdateInput): KubeObject {
  const { old, updated, manager, now } = input;
  const kind = input.kind ?? updated.kind;
  const apiVersion = input.apiVersion ?? updated.apiVersion;
  const scope = scopeOf(input.subresource);
  // A write may carry ownership it worked out itself, as a create by apply does with its Apply entry,
  // or as a client may deliberately set it (Kubernetes allows that); such ownership stands as given.
  const given = updated.metadata?.managedFields;
  // A write built in-process from the object it read (a status or binding write) carries the very
  // same entries: that is the same ownership without decoding both sides to compare them.
  const carried = given !== undefined && given === old?.metadata?.managedFields;
  if (given !== undefined && given.length > 0 && !carried) {
    if (!sameOwnership(readOwnership(updated), readOwnership(old))) return updated;
  }
  if (old === undefined) return recordCreate({ ...input, kind, apiVersion, scope });
  const owners = readScopedOwnership(old, scope);
  const stored = new Map(
    (old.metadata?.managedFields ?? []).map((entry, index) => [owners[index] as Ownership, entry.fieldsV1]),
  );
  const after = flattenFields({ kind, object: updated, scope });
  const change = compareFields(flattenFields({ kind, object: old, scope }), after);
  const taken = [
    ...change.modified,
    // A new top-level map (spec, metadata) is not owned itself, as in Kubernetes; the fields inside it are.
    ...change.added.filter((path) => after.get(path)?.node !== 'map' || decodePath(path).length > 1),
  ];
  const entry =
    taken.length > 0
      ? entryFor(owners, {
          manager,
          operation: 'Update',
          apiVersion,
          time: kubeTimestamp(now),
          ...(input.subresource ? { subresource: input.subresource } : {}),
        })
      : undefined;
  // The writer takes what it changed from everyone else; its own entry keeps its stored FieldsV1
  // (only the time moves) when it already held all of it, as a node's repeated status writes do.
  for (const owner of owners) {
    // Every path of change lies in the scope, where an out-of-scope owner has none.
    if (owner.outOfScope === true) continue;
    for (const path of change.removed) if (owner.fields.delete(path)) stored.delete(owner);
    if (owner === entry) continue;
    for (const path of taken) if (owner.fields.delete(path)) stored.delete(owner);
  }
  if (entry) {
    for (const path of taken) {
      if (entry.fields.has(path)) continue;
      entry.fields.add(path);
      stored.delete(entry);
    }
  }
  return writeOwnership(updated, capUpdaters(owners, stored), stored);
}

/**
 * A create: no one owned anything before, so the writer owns every field it wrote. Built directly
 * (createFieldsV1) instead of through the general comparison; the result is the same.
 */
function recordCreate(
  input: RecordUpdateInput & { kind: string; apiVersion: string; scope: FieldScope },
): KubeObject {
  const fieldsV1 = createFieldsV1({ kind: input.kind, object: input.updated, scope: input.scope });
  const metadata = { ...(input.updated.metadata ?? {}) };
  if (fieldsV1 === undefined) delete metadata.managedFields;
  else {
    metadata.managedFields = [
      {
        manager: input.manager,
        operation: 'Update',
        apiVersion: input.apiVersion,
        time: kubeTimestamp(input.now),
        fieldsType: 'FieldsV1',
        fieldsV1,
        ...(input.subresource ? { subresource: input.subresource } : {}),
      },
    ];
  }
  return { ...input.updated, metadata };
}

/** Same managers with the same fields; times are compared by neither format nor value (clients reformat them). */
function sameOwnership(a: Ownership[], b: Ownership[]): boolean {
  const identity = (owner: Ownership): string =>
    JSON.stringify([
      owner.manager,
      owner.operation,
      owner.subresource ?? '',
      owner.apiVersion,
      [...owner.fields].sort(),
    ]);
  const left = a.map(identity).sort();
  const right = b.map(identity).sort();
  return left.length === right.length && left.every((entry, index) => entry === right[index]);
}

/** Kubernetes keeps at most this many Update entries; older ones fold into one. */
const MAX_UPDATE_MANAGERS = 10;
const ANCIENT_CHANGES = 'ancient-changes';

/**
 * Many one-off writers (scripts with their own manager names) would otherwise grow managedFields
 * without bound; like kube-apiserver, fold the oldest Update entries into "ancient-changes".
 */
function capUpdaters(
  owners: Ownership[],
  stored?: ReadonlyMap<Ownership, ManagedFieldsEntry['fieldsV1']>,
): Ownership[] {
  const updaters = owners.filter(
    (owner) => owner.operation === 'Update' && (owner.outOfScope === true || owner.fields.size > 0),
  );
  if (updaters.length <= MAX_UPDATE_MANAGERS) return owners;
  const oldestFirst = [...updaters].sort((a, b) => (a.time ?? '').localeCompare(b.time ?? ''));
  const folded = new Set(oldestFirst.slice(0, updaters.length - MAX_UPDATE_MANAGERS + 1));
  // One fold, however many rounds: an earlier "ancient-changes" joins the new one.
  for (const owner of updaters) if (owner.manager === ANCIENT_CHANGES) folded.add(owner);
  const newest = [...folded].sort((a, b) => (a.time ?? '').localeCompare(b.time ?? '')).at(-1);
  const ancient: Ownership = {
    manager: ANCIENT_CHANGES,
    operation: 'Update',
    apiVersion: newest?.apiVersion ?? '',
    ...(newest?.time ? { time: newest.time } : {}),
    fields: new Set([...folded].flatMap((owner) => [...decodedFields(owner, stored?.get(owner))])),
  };
  const kept = owners.filter((owner) => !folded.has(owner));
  const position = owners.findIndex((owner) => folded.has(owner));
  return [...kept.slice(0, position), ancient, ...kept.slice(position)];
}
