// Field paths and field sets for server-side apply, in Kubernetes' FieldsV1 vocabulary. A path is a
// list of segments: `f:name` (a field of a map), `k:{"name":"app"}` (the item of a keyed list, by its
// list-map keys), `v:"x"` (the member of a set list). Atomic lists and maps are single fields.
// A field set is a Set of encoded paths so set algebra stays cheap and exact.
import { hasOwn, isJsonObject, jsonEqual, type JsonObject, type JsonValue } from './json-value';
import { PatchError } from './patch-error';
import { fieldStrategy, type FieldStrategy } from './patch-strategies';

export type FieldSet = Set<string>;

/**
 * Which part of an object a write manages: the main resource owns everything but status; the status
 * subresource owns status alone. Kubernetes resets the other part on each write, so tracking it would
 * only record ownership of values the write could not change.
 */
export type FieldScope = 'main' | 'status';

/** Fields the server sets; no manager ever owns them (Kubernetes strips them the same way). */
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

/** What a path points at: a value owned whole, a granular map, or an item of a keyed list. */
export type FieldNodeKind = 'leaf' | 'map' | 'item';

export interface FieldNode {
  node: FieldNodeKind;
  value: JsonValue;
}

export function encodePath(segments: readonly string[]): string {
  return JSON.stringify(segments);
}

/** encodePath([]) without its closing bracket; see extendPath. */
const ROOT_OPEN = '[';
const METADATA_OPEN = '["f:metadata"';

/**
 * A path's encoding without its closing bracket, extended by one segment: extendPath('["f:a"',
 * 'f:b') + ']' is encodePath(['f:a', 'f:b']), without encoding every segment again.
 */
function extendPath(open: string, segment: string): string {
  return `${open === ROOT_OPEN ? ROOT_OPEN : `${open},`}${JSON.stringify(segment)}`;
}

/**
 * Decoded paths by their encoding. Objects of a kind share most of their paths (every pod's status
 * has the same conditions and container fields), so encoding a manager's FieldsV1 on each status
 * write would otherwise parse the same few hundred paths again and again. Bounded: cleared when full.
 */
const decodedPaths = new Map<string, readonly string[]>();
const DECODED_PATHS_LIMIT = 8192;

export function decodePath(path: string): readonly string[] {
  let segments = decodedPaths.get(path);
  if (segments === undefined) {
    segments = JSON.parse(path) as string[];
    if (decodedPaths.size >= DECODED_PATHS_LIMIT) decodedPaths.clear();
    decodedPaths.set(path, segments);
  }
  return segments;
}

/** Whether `path` lies strictly inside `ancestor`. */
export function isDescendant(path: string, ancestor: string): boolean {
  return path.length > ancestor.length && path.startsWith(`${ancestor.slice(0, -1)},`);
}

/** The identity of a keyed-list item as FieldsV1 writes it: its keys, sorted, defaults filled in. */
function itemIdentity(item: JsonObject, strategy: FieldStrategy): JsonObject | undefined {
  const identity: JsonObject = {};
  for (const key of [...(strategy.listMapKeys ?? [])].sort()) {
    const value = hasOwn(item, key) ? item[key] : strategy.keyDefaults?.[key];
    if (value === undefined || value === null) return undefined;
    identity[key] = value;
  }
  return identity;
}

function itemSegment(identity: JsonObject): string {
  return `k:${JSON.stringify(identity)}`;
}

export interface FlattenInput {
  kind: string;
  object: unknown;
  scope: FieldScope;
  /**
   * Refuse keyed-list items without their keys or with duplicate keys (an applied configuration must
   * be exact). Stored objects are read leniently: validation already vouched for them.
   */
  strict?: boolean;
}

/** Every path of `object` within `scope`, with what it points at. */
export function flattenFields({ kind, object, scope, strict = false }: FlattenInput): Map<string, FieldNode> {
  const nodes = new Map<string, FieldNode>();

  // A path is carried as its encoding without the closing bracket ("open"), so a child's path is
  // its parent's plus one encoded segment (the same text as encodePath of all its segments), and a
  // field's dotted name for fieldStrategy is carried the same way.
  const walkMap = (map: JsonObject, names: string, open: string): void => {
    for (const [key, child] of Object.entries(map)) {
      if (open === ROOT_OPEN) {
        if (key === 'apiVersion' || key === 'kind') continue;
        if ((key === 'status') !== (scope === 'status')) continue;
      }
      if (open === METADATA_OPEN && SERVER_METADATA.has(key)) continue;
      walkValue(child, names === '' ? key : `${names}.${key}`, extendPath(open, `f:${key}`));
    }
  };

  const walkValue = (value: JsonValue, names: string, open: string): void => {
    const path = `${open}]`;
    const strategy = fieldStrategy(kind, names);
    if (isJsonObject(value) && strategy.mapType !== 'atomic' && Object.keys(value).length > 0) {
      nodes.set(path, { node: 'map', value });
      walkMap(value, names, open);
      return;
    }
    if (Array.isArray(value) && value.length > 0 && strategy.listType === 'map') {
      walkKeyedList(value, strategy, names, open);
      return;
    }
    if (Array.isArray(value) && value.length > 0 && strategy.listType === 'set') {
      for (const member of value) {
        const memberPath = `${extendPath(open, `v:${JSON.stringify(member)}`)}]`;
        if (strict && nodes.has(memberPath)) {
          throw new PatchError(`${describePath(path)}: ${JSON.stringify(member)} is listed twice`);
        }
        nodes.set(memberPath, { node: 'leaf', value: member });
      }
      return;
    }
    nodes.set(path, { node: 'leaf', value });
  };

  const walkKeyedList = (list: JsonValue[], strategy: FieldStrategy, names: string, open: string): void => {
    const keys = (strategy.listMapKeys ?? []).join(', ');
    for (const item of list) {
      const identity = isJsonObject(item) ? itemIdentity(item, strategy) : undefined;
      if (!isJsonObject(item) || identity === undefined) {
        if (!strict) continue;
        throw new PatchError(
          `${describePath(`${open}]`)}: every item must be an object with ${keys} set ` +
            `(the list is keyed by ${keys}), got ${JSON.stringify(item)}`,
        );
      }
      const itemOpen = extendPath(open, itemSegment(identity));
      const itemPath = `${itemOpen}]`;
      if (strict && nodes.has(itemPath)) {
        throw new PatchError(`${describePath(itemPath)}: the item is listed twice (duplicate ${keys})`);
      }
      nodes.set(itemPath, { node: 'item', value: item });
      walkMap(item, names, itemOpen);
    }
  };

  if (isJsonObject(object)) walkMap(object, '', ROOT_OPEN);
  return nodes;
}

/**
 * The FieldsV1 a create records for its writer, built in one walk: what recordUpdate would derive by
 * flattening the new object and an empty old one, comparing them and encoding the added fields,
 * without the per-path JSON encoding, decoding and sorting in between. That is every field
 * flattenFields finds except the top-level maps (metadata, spec), which Kubernetes does not own
 * itself; an owned node with owned children carries ".". Undefined when nothing is owned.
 *
 * Example: a Pod with metadata {name, labels: {app: "web"}} and spec {containers: [{name: "c",
 * image: "i"}]} gives {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {
 * "f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}.
 */
export function createFieldsV1(input: Omit<FlattenInput, 'strict'>): JsonObject | undefined {
  const { kind, object, scope } = input;
  if (!isJsonObject(object)) return undefined;
  // Each value is encoded as it is walked, children collected in an array and sorted once: no tree of
  // Maps built first and encoded in a second pass. Only keyed-list items listed twice (the same keys)
  // must merge, which the tree does; that rare object is encoded by createFieldsV1Merging instead.
  let duplicateItems = false;

  const walkMap = (map: JsonObject, keys: string[], path: string, depth: number): FieldsEntry[] => {
    const entries: FieldsEntry[] = [];
    for (const key of keys) {
      if (depth === 0) {
        if (key === 'apiVersion' || key === 'kind') continue;
        if ((key === 'status') !== (scope === 'status')) continue;
      }
      if (depth === 1 && path === 'metadata' && SERVER_METADATA.has(key)) continue;
      const encoded = walkValue(map[key] ?? null, path === '' ? key : `${path}.${key}`, depth + 1);
      if (encoded !== undefined) entries.push([`f:${key}`, encoded]);
    }
    return entries;
  };

  /** The FieldsV1 of one value, undefined when it contributes nothing. */
  const walkValue = (value: JsonValue, path: string, depth: number): JsonObject | undefined => {
    const strategy = fieldStrategy(kind, path);
    if (isJsonObject(value) && strategy.mapType !== 'atomic') {
      const keys = Object.keys(value);
      if (keys.length > 0) {
        // A map below the top level is owned itself; the top-level ones (metadata, spec) are not.
        const owned = depth > 1;
        const entries = walkMap(value, keys, path, depth);
        return !owned && entries.length === 0 ? undefined : encodeEntries(owned, entries);
      }
    }
    if (Array.isArray(value) && value.length > 0 && strategy.listType === 'map') {
      const items: FieldsEntry[] = [];
      let seen: Set<string> | undefined;
      for (const item of value) {
        const identity = isJsonObject(item) ? itemIdentity(item, strategy) : undefined;
        if (!isJsonObject(item) || identity === undefined) continue;
        const segment = itemSegment(identity);
        if (items.length > 0) {
          seen ??= new Set(items.map(([first]) => first));
          if (seen.has(segment)) duplicateItems = true;
          seen.add(segment);
        }
        items.push([segment, encodeEntries(true, walkMap(item, Object.keys(item), path, depth))]);
      }
      return items.length === 0 ? undefined : encodeEntries(false, items);
    }
    if (Array.isArray(value) && value.length > 0 && strategy.listType === 'set') {
      // A member listed twice is one field: its second assignment below writes the same {}.
      return encodeEntries(
        false,
        value.map((member): FieldsEntry => [`v:${JSON.stringify(member)}`, {}]),
      );
    }
    return {};
  };

  const entries = walkMap(object, Object.keys(object), '', 0);
  if (duplicateItems) return createFieldsV1Merging(input);
  return entries.length === 0 ? undefined : encodeEntries(false, entries);
}

/** A FieldsV1 member: a path segment and the FieldsV1 below it. */
type FieldsEntry = [segment: string, fields: JsonObject];

/** FieldsV1 in Kubernetes' order ("." first, then sorted keys, as sortedTree writes it). */
function encodeEntries(owned: boolean, entries: FieldsEntry[]): JsonObject {
  const encoded: JsonObject = {};
  if (owned && entries.length > 0) encoded['.'] = {};
  if (entries.length > 1) entries.sort(bySegment);
  // Segments start with "f:", "k:" or "v:", so plain assignment never meets "__proto__".
  for (const [segment, fields] of entries) encoded[segment] = fields;
  return encoded;
}

function bySegment(a: FieldsEntry, b: FieldsEntry): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** createFieldsV1 through a tree of nodes, where keyed-list items with the same keys merge. */
function createFieldsV1Merging(input: Omit<FlattenInput, 'strict'>): JsonObject | undefined {
  const { kind, object, scope } = input;
  const walkMap = (map: JsonObject, path: string, depth: number, into: OwnershipNode): void => {
    for (const key of Object.keys(map)) {
      if (depth === 0) {
        if (key === 'apiVersion' || key === 'kind') continue;
        if ((key === 'status') !== (scope === 'status')) continue;
      }
      if (depth === 1 && path === 'metadata' && SERVER_METADATA.has(key)) continue;
      walkValue(map[key] ?? null, path === '' ? key : `${path}.${key}`, depth + 1, `f:${key}`, into);
    }
  };

  const walkValue = (
    value: JsonValue,
    path: string,
    depth: number,
    segment: string,
    into: OwnershipNode,
  ): void => {
    const strategy = fieldStrategy(kind, path);
    if (isJsonObject(value) && strategy.mapType !== 'atomic' && Object.keys(value).length > 0) {
      const node = childOf(into, segment);
      // A map below the top level is owned itself; the top-level ones (metadata, spec) are not.
      if (depth > 1) node.owned = true;
      walkMap(value, path, depth, node);
      if (!node.owned && node.children.size === 0) into.children.delete(segment);
      return;
    }
    if (Array.isArray(value) && value.length > 0 && strategy.listType === 'map') {
      const list = childOf(into, segment);
      for (const item of value) {
        const identity = isJsonObject(item) ? itemIdentity(item, strategy) : undefined;
        if (!isJsonObject(item) || identity === undefined) continue;
        const node = childOf(list, itemSegment(identity));
        node.owned = true;
        walkMap(item, path, depth, node);
      }
      if (list.children.size === 0) into.children.delete(segment);
      return;
    }
    if (Array.isArray(value) && value.length > 0 && strategy.listType === 'set') {
      const list = childOf(into, segment);
      for (const member of value) childOf(list, `v:${JSON.stringify(member)}`).owned = true;
      return;
    }
    childOf(into, segment).owned = true;
  };

  const root: OwnershipNode = { owned: false, children: new Map() };
  if (isJsonObject(object)) walkMap(object, '', 0, root);
  return root.children.size === 0 ? undefined : encodeOwnership(root);
}

interface OwnershipNode {
  owned: boolean;
  children: Map<string, OwnershipNode>;
}

function childOf(parent: OwnershipNode, segment: string): OwnershipNode {
  let node = parent.children.get(segment);
  if (!node) {
    node = { owned: false, children: new Map() };
    parent.children.set(segment, node);
  }
  return node;
}

/** FieldsV1 in Kubernetes' order ("." first, then sorted keys, as sortedTree writes it). */
function encodeOwnership(node: OwnershipNode): JsonObject {
  const encoded: JsonObject = {};
  if (node.owned && node.children.size > 0) encoded['.'] = {};
  // Segments start with "f:", "k:" or "v:", so plain assignment never meets "__proto__".
  const segments = node.children.size > 1 ? [...node.children.keys()].sort() : node.children.keys();
  for (const segment of segments) {
    const child = node.children.get(segment);
    if (child) encoded[segment] = encodeOwnership(child);
  }
  return encoded;
}

/** The fields a manager owns by writing `object` in full: values and list items, not the maps around them. */
export function fieldsOf(input: FlattenInput): FieldSet {
  const fields: FieldSet = new Set();
  for (const [path, { node }] of flattenFields(input)) if (node !== 'map') fields.add(path);
  return fields;
}

interface Location {
  parent: JsonObject | JsonValue[];
  /** The key in a map, or the index in a list. */
  at: string | number;
}

/** Finds the container holding the field at `path` in `object`, following list keys as FieldsV1 does. */
function locate(kind: string, object: JsonObject, path: string): Location | undefined {
  const segments = decodePath(path);
  let current: JsonValue = object;
  let names: string[] = [];
  let location: Location | undefined;
  for (const segment of segments) {
    if (segment.startsWith('f:')) {
      const field = segment.slice(2);
      if (!isJsonObject(current) || !hasOwn(current, field)) return undefined;
      location = { parent: current, at: field };
      names = [...names, field];
      current = current[field] ?? null;
      continue;
    }
    if (!Array.isArray(current)) return undefined;
    const list: JsonValue[] = current;
    const strategy = fieldStrategy(kind, names.join('.'));
    const wanted = JSON.parse(segment.slice(2)) as JsonValue;
    const index = segment.startsWith('k:')
      ? list.findIndex((item) => isJsonObject(item) && jsonEqual(itemIdentity(item, strategy), wanted))
      : list.findIndex((item) => jsonEqual(item, wanted));
    if (index < 0) return undefined;
    location = { parent: list, at: index };
    current = list[index] ?? null;
  }
  return location;
}

export function valueAt(kind: string, object: JsonObject, path: string): JsonValue | undefined {
  const location = locate(kind, object, path);
  if (!location) return undefined;
  const { parent, at } = location;
  return Array.isArray(parent) ? parent[at as number] : parent[at as string];
}

/** Removes the field at `path` from `object` in place; an absent path is left alone. */
export function removeField(kind: string, object: JsonObject, path: string): void {
  const location = locate(kind, object, path);
  if (!location) return;
  const { parent, at } = location;
  if (Array.isArray(parent)) parent.splice(at as number, 1);
  else delete parent[at as string];
}

function describeSegments(segments: readonly string[]): string {
  return segments
    .map((segment) => {
      if (segment.startsWith('f:')) return `.${segment.slice(2)}`;
      if (segment.startsWith('k:')) {
        const identity = JSON.parse(segment.slice(2)) as JsonObject;
        const keys = Object.entries(identity).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
        return `[${keys.join(',')}]`;
      }
      return `[=${segment.slice(2)}]`;
    })
    .join('');
}

/** A path as Kubernetes prints it in conflicts: `.spec.template.spec.containers[name="app"].image`. */
export function describePath(path: string): string {
  return describeSegments(decodePath(path));
}

/** FieldsV1: a tree of segments; "." marks a node that is owned itself and has owned children too. */
export function encodeFieldsV1(fields: FieldSet): JsonObject {
  const root: JsonObject = {};
  const owned: JsonObject[] = [];
  for (const path of fields) {
    let node = root;
    for (const segment of decodePath(path)) {
      const next = node[segment];
      const child: JsonObject = isJsonObject(next) ? next : {};
      node[segment] = child;
      node = child;
    }
    owned.push(node);
  }
  for (const node of owned) if (Object.keys(node).some((key) => key !== '.')) node['.'] = {};
  return sortedTree(root);
}

/** Kubernetes serialises "." first, then fields, keys and values in order: f: < k: < v: sorts them alike. */
function sortedTree(node: JsonObject): JsonObject {
  const sorted: JsonObject = {};
  for (const key of Object.keys(node).sort()) {
    const child = node[key];
    sorted[key] = isJsonObject(child) ? sortedTree(child) : {};
  }
  return sorted;
}

export function decodeFieldsV1(encoded: unknown): FieldSet {
  const fields: FieldSet = new Set();
  const walk = (node: unknown, open: string): void => {
    if (!isJsonObject(node)) return;
    const children = Object.keys(node).filter((key) => key !== '.');
    if (open !== ROOT_OPEN && (children.length === 0 || hasOwn(node, '.'))) fields.add(`${open}]`);
    for (const child of children) walk(node[child], extendPath(open, child));
  };
  walk(encoded, ROOT_OPEN);
  return fields;
}
