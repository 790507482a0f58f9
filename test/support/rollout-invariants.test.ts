import type { KubeObject, Pod } from '@flotilla/api';
import { podCensus, rolloutBounds, rolloutViolation, RolloutWatch } from './rollout-invariants';

type PodObject = Pod & KubeObject;

function pod(state: { ready?: boolean; deleting?: boolean; phase?: string }): PodObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p',
      namespace: 'default',
      ...(state.deleting ? { deletionTimestamp: '2026-11-23T15:00:00Z' } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'i' }] },
    status: {
      phase: state.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: state.ready ? 'True' : 'False' }],
    },
  } as PodObject;
}

describe('rolloutBounds', () => {
  it.each([
    // replicas, maxSurge, maxUnavailable → maxPods, minReady
    [9, '25%', '25%', 12, 7],
    [9, undefined, undefined, 12, 7],
    [10, '25%', '25%', 13, 8],
    [9, 1, 0, 10, 9],
    [9, 0, 0, 9, 8],
    // 10% of 9 rounds down to 0: both zero, so one may be unavailable.
    [9, '0%', '10%', 9, 8],
    [3, '50%', '50%', 5, 2],
    [1, '25%', '25%', 2, 1],
    [2, 0, 5, 2, 0],
    [0, '25%', '25%', 0, 0],
  ])(
    'replicas %s, surge %s, unavailable %s → at most %s pods, at least %s Ready',
    (replicas, maxSurge, maxUnavailable, maxPods, minReady) => {
      expect(
        rolloutBounds({
          replicas,
          ...(maxSurge !== undefined ? { maxSurge } : {}),
          ...(maxUnavailable !== undefined ? { maxUnavailable } : {}),
        }),
      ).toEqual({ maxPods, minReady });
    },
  );

  it('refuses a value that is neither a number nor a percentage', () => {
    expect(() => rolloutBounds({ replicas: 3, maxSurge: 'lots' })).toThrow(
      /neither a whole number nor a percentage/,
    );
  });
});

describe('podCensus and rolloutViolation', () => {
  const bounds = rolloutBounds({ replicas: 9, maxSurge: '25%', maxUnavailable: '25%' });
  const ready = (count: number): PodObject[] => Array.from({ length: count }, () => pod({ ready: true }));
  const notReady = (count: number): PodObject[] => Array.from({ length: count }, () => pod({ ready: false }));

  it.each([
    ['the worked example: 12 pods, 7 Ready', [...ready(7), ...notReady(5)], undefined],
    ['13 pods', [...ready(9), ...notReady(4)], '13 pods > 12 allowed'],
    ['6 Ready', [...ready(6), ...notReady(3)], '6 Ready < 7 required'],
    ['both', [...ready(6), ...notReady(7)], '13 pods > 12 allowed, 6 Ready < 7 required'],
    [
      'terminating and finished pods do not count',
      [
        ...ready(9),
        ...notReady(3),
        pod({ ready: true, deleting: true }),
        pod({ phase: 'Succeeded' }),
        pod({ phase: 'Failed' }),
      ],
      undefined,
    ],
    [
      'a terminating pod that is still Ready does not count as Ready',
      [...ready(6), pod({ ready: true, deleting: true })],
      '6 Ready < 7 required',
    ],
  ])('%s', (_what, pods, violation) => {
    expect(rolloutViolation(bounds, podCensus(pods))).toBe(violation);
  });

  it('counts terminating pods apart', () => {
    expect(podCensus([...ready(2), pod({ deleting: true }), pod({ phase: 'Failed' })])).toEqual({
      active: 2,
      ready: 2,
      terminating: 1,
    });
  });

  it('keeps the extremes and the violations of every observed state', () => {
    const watch = new RolloutWatch(bounds);
    watch.observe(ready(9), 'start');
    watch.observe([...ready(9), ...notReady(3), pod({ deleting: true })], 'surge');
    watch.observe([...ready(6), ...notReady(3)], 'dip');
    expect(watch.observations).toBe(3);
    expect(watch.peakActive).toBe(12);
    expect(watch.lowestReady).toBe(6);
    expect(watch.peakTerminating).toBe(1);
    expect(watch.violations).toEqual(['dip: 6 Ready < 7 required']);
  });
});
