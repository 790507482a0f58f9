// kubelet's probe worker arithmetic: the reported result changes only after successThreshold passes
// or failureThreshold failures in a row; until then it keeps its last (or initial) value.
//
// Worked example (readiness, success 2, failure 3, initial failure):
//   pass → run 1 of pass, still failure;  pass → run 2, now success;
//   fail, fail → still success;  fail → run 3 of fail, now failure.
export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeCounters {
  /** What the worker reports. */
  result: ProbeResult;
  /** The last attempt's outcome and how many times in a row it came. */
  last?: 'success' | 'failure';
  run: number;
}

export interface ProbeThresholds {
  successThreshold: number;
  failureThreshold: number;
}

export function nextProbeCounters(
  counters: ProbeCounters,
  passed: boolean,
  thresholds: ProbeThresholds,
): ProbeCounters {
  const outcome = passed ? 'success' : 'failure';
  const run = counters.last === outcome ? counters.run + 1 : 1;
  const needed = passed ? thresholds.successThreshold : thresholds.failureThreshold;
  return { result: run >= needed ? outcome : counters.result, last: outcome, run };
}
