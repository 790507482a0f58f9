import { nextProbeCounters, type ProbeCounters, type ProbeResult } from './probe-result.util';

function replay(
  initial: ProbeResult,
  outcomes: boolean[],
  successThreshold: number,
  failureThreshold: number,
): ProbeResult[] {
  let counters: ProbeCounters = { result: initial, run: 0 };
  return outcomes.map((passed) => {
    counters = nextProbeCounters(counters, passed, { successThreshold, failureThreshold });
    return counters.result;
  });
}

describe('nextProbeCounters (kubelet thresholds)', () => {
  it.each<[string, ProbeResult, boolean[], number, number, ProbeResult[]]>([
    [
      'the worked example',
      'failure',
      [true, true, false, false, false],
      2,
      3,
      ['failure', 'success', 'success', 'success', 'failure'],
    ],
    ['readiness with defaults passes at once', 'failure', [true], 1, 3, ['success']],
    [
      'liveness fails after three in a row',
      'success',
      [false, false, true, false, false, false],
      1,
      3,
      ['success', 'success', 'success', 'success', 'success', 'failure'],
    ],
    [
      'startup stays unknown until it passes',
      'unknown',
      [false, false, true],
      1,
      30,
      ['unknown', 'unknown', 'success'],
    ],
    ['a failure threshold of one flips at once', 'success', [false], 1, 1, ['failure']],
  ])('%s', (_label, initial, outcomes, success, failure, expected) => {
    expect(replay(initial, outcomes, success, failure)).toEqual(expected);
  });
});
