import {
  DEFAULT_SCALE_DOWN,
  DEFAULT_SCALE_UP,
  normalizeWithBehavior,
  recordScaleEvent,
  scaleDownLimit,
  scaleUpLimit,
  scalingRulesOf,
  type BehaviorHistory,
  type ScaleEvent,
  type ScalingRules,
} from './behavior.util';

const NOW = 1_000_000_000;
const ago = (seconds: number): number => NOW - seconds * 1000;
const EMPTY: BehaviorHistory = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };

describe('scaleUpLimit', () => {
  const pods = (value: number, periodSeconds = 60): ScalingRules['policies'][number] => ({
    type: 'Pods',
    value,
    periodSeconds,
  });
  const percent = (value: number, periodSeconds = 60): ScalingRules['policies'][number] => ({
    type: 'Percent',
    value,
    periodSeconds,
  });
  it.each<[string, number, ScaleEvent[], ScalingRules, number]>([
    ['defaults from 3: max(3+4, 3×2)', 3, [], DEFAULT_SCALE_UP, 7],
    ['defaults from 10: max(14, 20)', 10, [], DEFAULT_SCALE_UP, 20],
    [
      'defaults after +4 ten seconds ago: period starts at 3',
      7,
      [{ change: 4, atMs: ago(10) }],
      DEFAULT_SCALE_UP,
      7,
    ],
    [
      'defaults after +4 twenty seconds ago: period starts at 7',
      7,
      [{ change: 4, atMs: ago(20) }],
      DEFAULT_SCALE_UP,
      14,
    ],
    ['Min of the policies', 10, [], { ...DEFAULT_SCALE_UP, selectPolicy: 'Min' }, 14],
    [
      'Percent rounds up',
      3,
      [],
      { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [percent(10)] },
      4,
    ],
    ['Disabled', 5, [], { ...DEFAULT_SCALE_UP, selectPolicy: 'Disabled' }, 5],
    [
      'Pods per 60 s with two earlier scale-ups inside the period',
      9,
      [
        { change: 2, atMs: ago(30) },
        { change: 3, atMs: ago(50) },
      ],
      { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [pods(5)] },
      9,
    ],
  ])('%s', (_name, current, events, rules, expected) => {
    expect(
      scaleUpLimit({
        currentReplicas: current,
        history: { scaleUpEvents: events, scaleDownEvents: [] },
        rules,
        nowMs: NOW,
      }),
    ).toBe(expected);
  });
});

describe('scaleDownLimit', () => {
  it.each<[string, number, ScaleEvent[], ScalingRules, number]>([
    ['defaults: −100 % per 15 s', 8, [], DEFAULT_SCALE_DOWN, 0],
    [
      '−1 pod per 60 s after a removal 30 s ago',
      5,
      [{ change: 1, atMs: ago(30) }],
      {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
      },
      5,
    ],
    [
      '−50 % truncates: from 5 to 2',
      5,
      [],
      {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }],
      },
      2,
    ],
    [
      'Min takes the smaller change',
      10,
      [],
      {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Min',
        policies: [
          { type: 'Percent', value: 50, periodSeconds: 60 },
          { type: 'Pods', value: 2, periodSeconds: 60 },
        ],
      },
      8,
    ],
    ['Disabled', 5, [], { ...DEFAULT_SCALE_DOWN, selectPolicy: 'Disabled' }, 5],
  ])('%s', (_name, current, events, rules, expected) => {
    expect(
      scaleDownLimit({
        currentReplicas: current,
        history: { scaleUpEvents: [], scaleDownEvents: events },
        rules,
        nowMs: NOW,
      }),
    ).toBe(expected);
  });
});

describe('normalizeWithBehavior', () => {
  const base = {
    minReplicas: 1,
    maxReplicas: 10,
    scaleUp: DEFAULT_SCALE_UP,
    scaleDown: DEFAULT_SCALE_DOWN,
    history: EMPTY,
    nowMs: NOW,
  };
  it.each<
    [
      string,
      Partial<Parameters<typeof normalizeWithBehavior>[0]> & { currentReplicas: number; recommended: number },
      number,
      string,
      string,
      boolean,
    ]
  >([
    // name, input, desired, AbleToScale reason, ScalingLimited reason, limited
    ['no change', { currentReplicas: 3, recommended: 3 }, 3, 'ReadyForNewScale', 'DesiredWithinRange', false],
    [
      'scale up within the rate',
      { currentReplicas: 3, recommended: 6 },
      6,
      'ReadyForNewScale',
      'DesiredWithinRange',
      false,
    ],
    [
      'scale up faster than the rate',
      { currentReplicas: 3, recommended: 9 },
      7,
      'ReadyForNewScale',
      'ScaleUpLimit',
      true,
    ],
    [
      'scale up past maxReplicas',
      { currentReplicas: 8, recommended: 20 },
      10,
      'ReadyForNewScale',
      'TooManyReplicas',
      true,
    ],
    [
      'scale down held by the 300 s window',
      {
        currentReplicas: 6,
        recommended: 2,
        history: { ...EMPTY, recommendations: [{ replicas: 6, atMs: ago(100) }] },
      },
      6,
      'ScaleDownStabilized',
      'DesiredWithinRange',
      false,
    ],
    [
      'scale down to the highest recommendation in the window',
      {
        currentReplicas: 6,
        recommended: 2,
        history: {
          ...EMPTY,
          recommendations: [
            { replicas: 6, atMs: ago(400) },
            { replicas: 4, atMs: ago(200) },
          ],
        },
      },
      4,
      'ScaleDownStabilized',
      'DesiredWithinRange',
      false,
    ],
    [
      'scale down below minReplicas',
      { currentReplicas: 6, recommended: 1, minReplicas: 3 },
      3,
      'ReadyForNewScale',
      'TooFewReplicas',
      true,
    ],
    [
      'scale up held by an up window',
      {
        currentReplicas: 3,
        recommended: 8,
        scaleUp: { ...DEFAULT_SCALE_UP, stabilizationWindowSeconds: 60 },
        history: { ...EMPTY, recommendations: [{ replicas: 4, atMs: ago(30) }] },
      },
      4,
      'ScaleUpStabilized',
      'DesiredWithinRange',
      false,
    ],
    [
      'scale down limited by a Pods policy',
      {
        currentReplicas: 6,
        recommended: 2,
        scaleDown: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
        },
      },
      5,
      'ReadyForNewScale',
      'ScaleDownLimit',
      true,
    ],
  ])('%s', (_name, input, desired, ableReason, limitedReason, limited) => {
    const result = normalizeWithBehavior({ ...base, ...input });
    expect(result.desiredReplicas).toBe(desired);
    expect(result.ableToScale.reason).toBe(ableReason);
    expect(result.scalingLimited).toMatchObject({ reason: limitedReason, limited });
  });

  it('records the raw recommendation and forgets samples older than both windows', () => {
    const result = normalizeWithBehavior({
      ...base,
      currentReplicas: 4,
      recommended: 5,
      history: {
        ...EMPTY,
        recommendations: [
          { replicas: 9, atMs: ago(301) },
          { replicas: 4, atMs: ago(10) },
        ],
      },
    });
    expect(result.recommendations).toEqual([
      { replicas: 4, atMs: ago(10) },
      { replicas: 5, atMs: NOW },
    ]);
  });
});

describe('recordScaleEvent', () => {
  it('adds up and down events and drops those older than the longest period', () => {
    const history = recordScaleEvent(
      {
        scaleUpEvents: [
          { change: 2, atMs: ago(20) },
          { change: 1, atMs: ago(5) },
        ],
        scaleDownEvents: [],
      },
      { from: 4, to: 7, nowMs: NOW, scaleUp: DEFAULT_SCALE_UP, scaleDown: DEFAULT_SCALE_DOWN },
    );
    expect(history.scaleUpEvents).toEqual([
      { change: 1, atMs: ago(5) },
      { change: 3, atMs: NOW },
    ]);
    const down = recordScaleEvent(history, {
      from: 7,
      to: 5,
      nowMs: NOW,
      scaleUp: DEFAULT_SCALE_UP,
      scaleDown: DEFAULT_SCALE_DOWN,
    });
    expect(down.scaleDownEvents).toEqual([{ change: 2, atMs: NOW }]);
  });
});

describe('scalingRulesOf', () => {
  it('fills each unset field on its own', () => {
    expect(scalingRulesOf({ stabilizationWindowSeconds: 60 }, DEFAULT_SCALE_DOWN)).toEqual({
      ...DEFAULT_SCALE_DOWN,
      stabilizationWindowSeconds: 60,
    });
    expect(scalingRulesOf(undefined, DEFAULT_SCALE_UP)).toEqual(DEFAULT_SCALE_UP);
  });
});
