// Reading objects as they arrive, before anything guarantees their shape. The cross-field rules use
// these helpers: where a part has the wrong shape the DTO checks have already said so, and the rules
// pass over it (an empty stand-in) instead of throwing.

export type Json = Record<string, unknown>;

/** A value as Kubernetes quotes it in "Invalid value: ..." messages, cut short when long. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'null';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown): Json {
  return isJson(value) ? value : {};
}

/** The entries of a list that are objects. */
export function objectList(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isJson) : [];
}

/** The entries of a map whose values are strings. */
export function stringRecord(value: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record(value)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

export function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** The value at a path of keys, or undefined when any step is missing or not an object. */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Json)[key];
  }
  return current;
}
