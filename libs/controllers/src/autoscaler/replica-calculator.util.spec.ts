import { combineRecommendations, resourceReplicas, type PodSample } from './replica-calculator.util';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const WINDOW = 15_000;
/** Started long ago: past the cpu initialization period. */
const COOL_START = NOW - 10 * 60_000;
/** Started a moment ago: within the cpu initialization period. */
const HOT_START = NOW - 60_000;

interface PodSpec {
  level?: number;
  request?: number;
  ready?: 'True' | 'False';
  phase?: string;
  deleting?: boolean;
  start?: number;
  /** When the pod last changed readiness. */
  readySince?: number;
}

function pods(specs: PodSpec[]): PodSample[] {
  return specs.map((spec, index) => ({
    name: `pod-${index}`,
    phase: spec.phase ?? 'Running',
    deleting: spec.deleting ?? false,
    ready: {
      status: spec.ready ?? 'True',
      lastTransitionMs: spec.readySince ?? (spec.start ?? COOL_START) + 5_000,
    },
    startTimeMs: spec.start ?? COOL_START,
    requestMilli: spec.request ?? 1000,
    ...(spec.level !== undefined
      ? { usage: { milli: spec.level, timestampMs: NOW - 1000, windowMs: WINDOW } }
      : {}),
  }));
}

const levels = (values: (number | undefined)[], extra: Partial<PodSpec>[] = []): PodSpec[] =>
  values.map((level, index) => ({ ...(level !== undefined ? { level } : {}), ...extra[index] }));

describe('resourceReplicas (Utilization), cases from Kubernetes replica_calculator_test.go', () => {
  it.each<[string, number, PodSpec[], number, number, number]>([
    // name, current, pods, target %, expected replicas, expected utilization
    ['ScaleUp', 3, levels([300, 500, 700]), 30, 5, 50],
    [
      'ScaleUpUnreadyLessScale',
      3,
      levels([300, 500, 700], [{ ready: 'False', start: HOT_START }]),
      30,
      4,
      60,
    ],
    [
      'ScaleUpHotCpuLessScale',
      3,
      levels([300, 500, 700], [{ start: HOT_START, readySince: NOW - 5_000 }]),
      30,
      4,
      60,
    ],
    ['ScaleDown', 5, levels([100, 300, 500, 250, 250]), 50, 3, 28],
    [
      'ScaleDownIncludeUnreadyPods',
      5,
      levels(
        [100, 300, 500, 250, 250],
        [{}, {}, {}, { ready: 'False', start: HOT_START }, { ready: 'False', start: HOT_START }],
      ),
      50,
      2,
      30,
    ],
    [
      'ScaleDownExcludeUnscheduledPods',
      5,
      levels(
        [100, undefined, undefined, undefined, undefined],
        [{}, { phase: 'Pending' }, { phase: 'Pending' }, { phase: 'Pending' }, { phase: 'Pending' }],
      ),
      50,
      1,
      10,
    ],
    [
      'ScaleDownIgnoreHotCpuPods',
      5,
      levels(
        [100, 300, 500, 250, 250],
        [
          {},
          {},
          {},
          { start: HOT_START, readySince: NOW - 5_000 },
          { start: HOT_START, readySince: NOW - 5_000 },
        ],
      ),
      50,
      2,
      30,
    ],
    [
      'ScaleDownIgnoresFailedPods',
      5,
      levels(
        [100, 300, 500, 250, 250, undefined, undefined],
        [{}, {}, {}, {}, {}, { phase: 'Failed' }, { phase: 'Failed' }],
      ),
      50,
      3,
      28,
    ],
    [
      'ScaleDownIgnoresDeletionPods',
      5,
      levels(
        [100, 300, 500, 250, 250, undefined, undefined],
        [{}, {}, {}, {}, {}, { deleting: true }, { deleting: true }],
      ),
      50,
      3,
      28,
    ],
    [
      'Tolerance',
      3,
      [
        { level: 1010, request: 900 },
        { level: 1030, request: 1000 },
        { level: 1020, request: 1100 },
      ],
      100,
      3,
      102,
    ],
    [
      'MissingMetrics (scale down: missing pods at 100 %)',
      4,
      levels([400, 95, undefined, undefined]),
      100,
      3,
      24,
    ],
    ['MissingMetricsNoChangeEq', 2, levels([1000, undefined]), 100, 2, 100],
    [
      'MissingMetricsNoChangeGt (scale up: missing pod at 0 % flips to within tolerance)',
      2,
      levels([1900, undefined]),
      100,
      2,
      190,
    ],
    ['MissingMetricsNoChangeLt (scale down: missing pod at 100 %)', 2, levels([600, undefined]), 100, 2, 60],
    [
      'MissingMetricsUnreadyChange',
      3,
      levels([100, 450, undefined], [{ ready: 'False', start: HOT_START }]),
      50,
      3,
      45,
    ],
    [
      'MissingMetricsHotCpuNoChange',
      3,
      levels([100, 450, undefined], [{ start: HOT_START, readySince: NOW - 5_000 }]),
      50,
      3,
      45,
    ],
    [
      'MissingMetricsUnreadyScaleUp',
      3,
      levels([100, 2000, undefined], [{ ready: 'False', start: HOT_START }]),
      50,
      4,
      200,
    ],
    [
      'MissingMetricsUnreadyScaleDown',
      4,
      levels([100, 100, 100, undefined], [{ ready: 'False', start: HOT_START }]),
      50,
      3,
      10,
    ],
  ])('%s', (_name, currentReplicas, specs, target, replicas, utilization) => {
    const result = resourceReplicas({
      resource: 'cpu',
      currentReplicas,
      pods: pods(specs),
      target: { type: 'Utilization', averageUtilization: target },
      nowMs: NOW,
    });
    expect(result).toMatchObject({ ok: true, replicas, utilization });
  });

  it('treats an unready pod as unready only for cpu: memory samples count as they are', () => {
    const specs = levels([300, 500, 700], [{ ready: 'False', start: HOT_START }]);
    const result = resourceReplicas({
      resource: 'memory',
      currentReplicas: 3,
      pods: pods(specs),
      target: { type: 'Utilization', averageUtilization: 30 },
      nowMs: NOW,
    });
    expect(result).toMatchObject({ ok: true, replicas: 5, utilization: 50 });
  });

  it.each<[string, PodSpec[], string]>([
    ['no pods', [], 'no pods returned by selector'],
    ['no metrics at all', levels([undefined, undefined]), 'did not receive metrics'],
    ['a pod without a request', [{ level: 200, request: 0 }], 'missing request for cpu in pod pod-0'],
  ])('fails with a reason: %s', (_name, specs, message) => {
    const result = resourceReplicas({
      resource: 'cpu',
      currentReplicas: 1,
      pods: pods(specs),
      target: { type: 'Utilization', averageUtilization: 100 },
      nowMs: NOW,
    });
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toContain(message);
  });
});

describe('resourceReplicas (AverageValue)', () => {
  it.each<[string, number, PodSpec[], number, number, number]>([
    // name, current, pods, target milli, expected replicas, expected average
    ['scale up: 3 pods at 600m against 200m', 3, levels([600, 600, 600]), 200, 9, 600],
    ['scale down: 5 pods at 100m against 250m', 5, levels([100, 100, 100, 100, 100]), 250, 2, 100],
    ['within tolerance', 4, levels([205, 210, 200, 195]), 200, 4, 202],
    [
      'missing pods count at the target when scaling down',
      4,
      levels([100, 100, undefined, undefined]),
      200,
      3,
      100,
    ],
  ])('%s', (_name, currentReplicas, specs, target, replicas, averageMilli) => {
    const result = resourceReplicas({
      resource: 'cpu',
      currentReplicas,
      pods: pods(specs),
      target: { type: 'AverageValue', averageValueMilli: target },
      nowMs: NOW,
    });
    expect(result).toMatchObject({ ok: true, replicas, averageMilli });
  });
});

describe('resourceReplicas during a rollout', () => {
  it.each<[string, number, PodSpec[], number]>([
    // 5 replicas, 2 surge pods all Ready, each at 64 % of a 100 % target: load = 4.5 pods → stay at 5.
    [
      'surge pods are capacity, not a reason to scale down',
      5,
      levels([640, 640, 640, 640, 640, 640, 640]),
      5,
    ],
    // Same pods under a load of 6.3 pods' worth: a real need.
    ['a real load still scales up', 5, levels([900, 900, 900, 900, 900, 900, 900]), 7],
    // Two new pods not Ready yet, three old ones at 150 %: Kubernetes fills the new pods in at 0 %
    // (then flips direction and stays); here they are not counted: load 4.5 of 5 → stay.
    [
      'unready new pods are neither load nor capacity',
      5,
      levels(
        [1500, 1500, 1500, undefined, undefined],
        [{}, {}, {}, { ready: 'False', start: HOT_START }, { ready: 'False', start: HOT_START }],
      ),
      5,
    ],
    ['never scales down mid-rollout', 5, levels([100, 100, 100, 100, 100]), 5],
  ])('%s', (_name, currentReplicas, specs, replicas) => {
    const result = resourceReplicas({
      resource: 'cpu',
      currentReplicas,
      pods: pods(specs),
      target: { type: 'Utilization', averageUtilization: 100 },
      nowMs: NOW,
      rollout: true,
    });
    expect(result).toMatchObject({ ok: true, replicas });
  });
});

describe('combineRecommendations', () => {
  const cpu = 'cpu resource utilization (percentage of request)';
  const memory = 'memory resource utilization (percentage of request)';
  const failed = { reason: 'FailedGetResourceMetric', message: 'no metrics for memory' };
  it.each<
    [string, Parameters<typeof combineRecommendations>[0], number, ReturnType<typeof combineRecommendations>]
  >([
    [
      'the largest wins',
      [
        { metricName: cpu, replicas: 5 },
        { metricName: memory, replicas: 7 },
      ],
      4,
      { ok: true, replicas: 7, metricName: memory },
    ],
    [
      'a failed metric does not block a scale-up',
      [
        { metricName: cpu, replicas: 5 },
        { metricName: memory, error: failed },
      ],
      4,
      { ok: true, replicas: 5, metricName: cpu },
    ],
    [
      'a failed metric blocks a scale-down',
      [
        { metricName: cpu, replicas: 3 },
        { metricName: memory, error: failed },
      ],
      4,
      { ok: false, ...failed },
    ],
    ['every metric failed', [{ metricName: memory, error: failed }], 4, { ok: false, ...failed }],
  ])('%s', (_name, recommendations, current, expected) => {
    expect(combineRecommendations(recommendations, current)).toEqual(expected);
  });
});
