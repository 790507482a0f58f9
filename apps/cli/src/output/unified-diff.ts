// `diff -u` output for two texts, so `flotilla diff` needs no external diff program. Manifests are a
// few hundred lines, so the quadratic longest-common-subsequence table is cheap enough.

const CONTEXT_LINES = 3;
const MAX_CELLS = 25_000_000;

type Operation = { readonly kind: ' ' | '-' | '+'; readonly line: string };

export function unifiedDiff(options: {
  readonly oldText: string;
  readonly newText: string;
  readonly oldLabel: string;
  readonly newLabel: string;
}): string {
  const oldLines = splitLines(options.oldText);
  const newLines = splitLines(options.newText);
  const operations = diffLines(oldLines, newLines);
  if (operations.every((op) => op.kind === ' ')) return '';
  const hunks = toHunks(operations);
  return [`--- ${options.oldLabel}`, `+++ ${options.newLabel}`, ...hunks].join('\n') + '\n';
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function diffLines(a: readonly string[], b: readonly string[]): Operation[] {
  if (a.length * b.length > MAX_CELLS) {
    throw new Error(`the objects are too large to diff here (${a.length} and ${b.length} lines)`);
  }
  const width = b.length + 1;
  // lengths[i*width+j] = length of the LCS of a[i..] and b[j..].
  const lengths = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i * width + j] =
        a[i] === b[j]
          ? (lengths[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(lengths[(i + 1) * width + j] ?? 0, lengths[i * width + j + 1] ?? 0);
    }
  }
  const operations: Operation[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      operations.push({ kind: ' ', line: a[i] ?? '' });
      i++;
      j++;
    } else if ((lengths[(i + 1) * width + j] ?? 0) >= (lengths[i * width + j + 1] ?? 0)) {
      operations.push({ kind: '-', line: a[i++] ?? '' });
    } else {
      operations.push({ kind: '+', line: b[j++] ?? '' });
    }
  }
  while (i < a.length) operations.push({ kind: '-', line: a[i++] ?? '' });
  while (j < b.length) operations.push({ kind: '+', line: b[j++] ?? '' });
  return operations;
}

function toHunks(operations: readonly Operation[]): string[] {
  const output: string[] = [];
  const changed = operations
    .map((op, index) => (op.kind === ' ' ? -1 : index))
    .filter((index) => index !== -1);
  let start = 0;
  while (start < changed.length) {
    // Grow the hunk while the next change is close enough that their contexts would touch.
    let end = start;
    while (end + 1 < changed.length && (changed[end + 1] ?? 0) - (changed[end] ?? 0) <= 2 * CONTEXT_LINES + 1)
      end++;
    const from = Math.max(0, (changed[start] ?? 0) - CONTEXT_LINES);
    const to = Math.min(operations.length, (changed[end] ?? 0) + CONTEXT_LINES + 1);
    let oldStart = 1;
    let newStart = 1;
    for (const op of operations.slice(0, from)) {
      if (op.kind !== '+') oldStart++;
      if (op.kind !== '-') newStart++;
    }
    const body = operations.slice(from, to);
    const oldCount = body.filter((op) => op.kind !== '+').length;
    const newCount = body.filter((op) => op.kind !== '-').length;
    output.push(`@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@`);
    output.push(...body.map((op) => `${op.kind}${op.line}`));
    start = end + 1;
  }
  return output;
}

function range(start: number, count: number): string {
  // diff -u writes an empty range as the line before it, e.g. "-0,0" for an added file.
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}
