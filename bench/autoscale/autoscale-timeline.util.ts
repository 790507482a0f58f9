// The bench records when each step of a scale-up was first seen (performance.now() milliseconds);
// these turn those marks into seconds since the load step and into the span of each stage, so the
// printed JSON says where the time went. A stage whose end was never seen is null, not 0: a missing
// mark must not read as "instant".
//
// Worked example: load step at 1000 ms, metrics show the load at 6000, the HPA's event at 8500, the
// new pod bound at 8600, Running at 9400, Ready at 10400 →
//   sinceLoad: metrics 5 s, decision 7.5 s, bound 7.6 s, Running 8.4 s, Ready 9.4 s
//   stages: load → metrics 5 s, metrics → decision 2.5 s, decision → bound 0.1 s,
//           bound → Running 0.8 s, Running → Ready 1 s.

export interface TimelineMark {
  readonly name: string;
  /** performance.now() when first seen; undefined if it never happened. */
  readonly atMs: number | undefined;
}

/** Seconds from `originMs` to `atMs`, to the millisecond; null when the mark was never seen. */
export function secondsSince(originMs: number, atMs: number | undefined): number | null {
  if (atMs === undefined) return null;
  return Math.round(atMs - originMs) / 1000;
}

/**
 * The span of each consecutive pair of marks in seconds, keyed "from → to". Starts at the origin
 * (named `originName`). A span is null when either end is missing; a later mark seen before an
 * earlier one (an informer can deliver a pod's Running and Ready together) counts as 0.
 */
export function stageSeconds(options: {
  readonly originName: string;
  readonly originMs: number;
  readonly marks: readonly TimelineMark[];
}): Record<string, number | null> {
  const stages: Record<string, number | null> = {};
  let previous: TimelineMark = { name: options.originName, atMs: options.originMs };
  for (const mark of options.marks) {
    const key = `${previous.name} → ${mark.name}`;
    stages[key] =
      previous.atMs === undefined || mark.atMs === undefined
        ? null
        : Math.round(Math.max(0, mark.atMs - previous.atMs)) / 1000;
    previous = mark;
  }
  return stages;
}
