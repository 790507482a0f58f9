// RFC 6902 JSON patch, as `kubectl patch --type json` sends it. Operations apply in order to a copy;
// any failure aborts the whole patch with the operation's index and path in the message.
import { cloneJson, hasOwn, isJsonObject, jsonEqual, setOwn, type JsonValue } from './json-value';
import { PatchError } from './patch-error';

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

function parsePointer(pointer: string, where: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw new PatchError(`${where}: "${pointer}" is not a JSON pointer (it must start with "/")`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean, where: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`${where}: "${token}" is not an array index`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) {
    throw new PatchError(`${where}: index ${index} is out of range (the array has ${length} items)`);
  }
  return index;
}

type Container = JsonValue[] | Record<string, JsonValue>;

/** The parent container of the pointer's target, and the last token. */
function locate(document: JsonValue, tokens: string[], where: string): { parent: Container; key: string } {
  let current: JsonValue = document;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[arrayIndex(token, current.length, false, where)] ?? null;
    else if (isJsonObject(current) && hasOwn(current, token)) current = current[token] ?? null;
    else throw new PatchError(`${where}: path does not exist (missing "${token}")`);
  }
  if (!Array.isArray(current) && !isJsonObject(current))
    throw new PatchError(`${where}: parent is not an object or array`);
  const key = tokens[tokens.length - 1];
  if (key === undefined) throw new PatchError(`${where}: cannot address the document root here`);
  return { parent: current, key };
}

function getAt(document: JsonValue, tokens: string[], where: string): JsonValue {
  if (tokens.length === 0) return document;
  const { parent, key } = locate(document, tokens, where);
  if (Array.isArray(parent)) return parent[arrayIndex(key, parent.length, false, where)] ?? null;
  if (!hasOwn(parent, key)) throw new PatchError(`${where}: path does not exist`);
  return parent[key] ?? null;
}

function removeAt(document: JsonValue, tokens: string[], where: string): JsonValue {
  const { parent, key } = locate(document, tokens, where);
  if (Array.isArray(parent)) {
    const [removed] = parent.splice(arrayIndex(key, parent.length, false, where), 1);
    return removed ?? null;
  }
  if (!hasOwn(parent, key)) throw new PatchError(`${where}: path does not exist`);
  const removed = parent[key] ?? null;
  delete parent[key];
  return removed;
}

function addAt(document: JsonValue, tokens: string[], value: JsonValue, where: string): JsonValue {
  if (tokens.length === 0) return value;
  const { parent, key } = locate(document, tokens, where);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, true, where), 0, value);
  else setOwn(parent, key, value);
  return document;
}

export function applyJsonPatch(target: unknown, operations: unknown): JsonValue {
  if (!Array.isArray(operations)) throw new PatchError('a JSON patch must be an array of operations');
  let document = cloneJson(target as JsonValue);
  operations.forEach((raw: unknown, index) => {
    if (!isJsonObject(raw)) throw new PatchError(`operation ${index}: must be an object`);
    const operation = raw as unknown as JsonPatchOperation;
    const where = `operation ${index} (${String(operation.op)} ${String(operation.path)})`;
    if (typeof operation.path !== 'string') throw new PatchError(`${where}: "path" is required`);
    const tokens = parsePointer(operation.path, where);
    const value = (): JsonValue => {
      if (!('value' in raw)) throw new PatchError(`${where}: "value" is required`);
      return cloneJson(operation.value as JsonValue);
    };
    const from = (): string[] => {
      if (typeof operation.from !== 'string') throw new PatchError(`${where}: "from" is required`);
      return parsePointer(operation.from, where);
    };
    switch (operation.op) {
      case 'add':
        document = addAt(document, tokens, value(), where);
        break;
      case 'remove':
        if (tokens.length === 0) throw new PatchError(`${where}: cannot remove the whole document`);
        removeAt(document, tokens, where);
        break;
      case 'replace':
        getAt(document, tokens, where);
        if (tokens.length === 0) document = value();
        else {
          removeAt(document, tokens, where);
          document = addAt(document, tokens, value(), where);
        }
        break;
      case 'move': {
        const source = from();
        if (operation.path.startsWith(`${String(operation.from)}/`)) {
          throw new PatchError(`${where}: cannot move a value into one of its own children`);
        }
        const moved = removeAt(document, source, where);
        document = addAt(document, tokens, moved, where);
        break;
      }
      case 'copy':
        document = addAt(document, tokens, cloneJson(getAt(document, from(), where)), where);
        break;
      case 'test':
        if (!jsonEqual(getAt(document, tokens, where), operation.value)) {
          throw new PatchError(`${where}: test failed: the value differs`);
        }
        break;
      default:
        throw new PatchError(
          `${where}: unknown op "${String(operation.op)}" (use add, remove, replace, move, copy or test)`,
        );
    }
  });
  return document;
}
