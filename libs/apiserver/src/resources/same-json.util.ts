// The no-op check of an update: Kubernetes skips a write whose serialised object equals the stored
// one. Serialising both objects for that cost two JSON.stringify of a whole pod per status write;
// this walks them instead, and a subtree both share (a status write keeps the stored spec and
// metadata objects) is equal at once.

/**
 * Whether JSON.stringify(a) === JSON.stringify(b), for plain JSON data: the same keys in the same
 * order (a key whose value is undefined is left out, as JSON.stringify leaves it out; in an array
 * it counts as null) and equal values.
 */
export function sameJsonText(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let index = 0; index < a.length; index++) {
      if (!sameJsonText(a[index] ?? null, b[index] ?? null)) return false;
    }
    return true;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const leftKeys = Object.keys(left).filter((key) => left[key] !== undefined);
  const rightKeys = Object.keys(right).filter((key) => right[key] !== undefined);
  if (leftKeys.length !== rightKeys.length) return false;
  for (let index = 0; index < leftKeys.length; index++) {
    const key = leftKeys[index] ?? '';
    if (key !== rightKeys[index] || !sameJsonText(left[key], right[key])) return false;
  }
  return true;
}
