import {
  maxSurgeOf,
  maxUnavailableOf,
  newReplicaSetReplicas,
  oldReplicaSetsScaleDown,
  proportionalSizes,
  resolveFenceposts,
  surgeCountOf,
  scaledValue,
  type RollingParameters,
} from './rolling.util';

const rolling = (replicas: number, maxSurge: number | string, maxUnavailable: number | string) => ({
  replicas,
  rollingUpdate: { maxSurge, maxUnavailable } as RollingParameters,
});

describe('scaledValue', () => {
  it.each([
    [3, 10, true, 3],
    ['3', 10, false, 3],
    ['25%', 10, true, 3],
    ['25%', 10, false, 2],
    ['0%', 10, true, 0],
    ['100%', 7, false, 7],
    ['33%', 3, true, 1],
    ['33%', 3, false, 0],
    [undefined, 10, true, 0],
  ] as const)('%p of %p (round up %p) → %p', (value, total, roundUp, expected) => {
    expect(scaledValue(value, total, roundUp)).toBe(expected);
  });

  it('refuses text that is not a count or a percentage', () => {
    expect(() => scaledValue('half', 10, true)).toThrow(/"half" is neither a whole number nor a percentage/);
  });
});

describe('resolveFenceposts', () => {
  it.each([
    ['25%', '25%', 10, 3, 2],
    ['25%', '25%', 4, 1, 1],
    ['25%', '25%', 1, 1, 0],
    ['25%', '25%', 0, 0, 1],
    [0, 0, 5, 0, 1],
    ['0%', '0%', 5, 0, 1],
    [2, 0, 5, 2, 0],
    [0, '50%', 5, 0, 2],
    ['100%', '100%', 3, 3, 3],
  ] as const)('surge %p, unavailable %p of %p → %p / %p', (surge, unavailable, desired, s, u) => {
    expect(resolveFenceposts({ maxSurge: surge, maxUnavailable: unavailable }, desired)).toEqual({
      maxSurge: s,
      maxUnavailable: u,
    });
  });

  it('gives Recreate no surge and no unavailability budget, and caps unavailable at replicas', () => {
    expect(maxSurgeOf({ replicas: 5, rollingUpdate: undefined })).toBe(0);
    expect(maxUnavailableOf({ replicas: 5, rollingUpdate: undefined })).toBe(0);
    expect(maxUnavailableOf(rolling(3, 0, 10))).toBe(3);
    expect(maxUnavailableOf(rolling(0, 0, 1))).toBe(0);
  });
});

describe('newReplicaSetReplicas', () => {
  it.each([
    // replicas, surge, unavailable, total now, new now → new target
    [10, '25%', '25%', 10, 0, 3],
    [10, '25%', '25%', 13, 3, 3],
    [10, '25%', '25%', 11, 3, 5],
    [10, '25%', '25%', 3, 3, 10],
    [3, 1, 0, 3, 0, 1],
    [3, 0, 1, 3, 0, 0],
    [3, 0, 1, 2, 0, 1],
    [5, 10, 0, 5, 0, 5],
  ])('%p replicas, surge %p, unavailable %p, %p pods, new at %p → %p', (replicas, s, u, total, now, to) => {
    expect(
      newReplicaSetReplicas({ strategy: rolling(replicas, s, u), currentTotal: total, newReplicas: now }),
    ).toBe(to);
  });

  it('scales the new ReplicaSet straight to replicas under Recreate', () => {
    expect(
      newReplicaSetReplicas({
        strategy: { replicas: 4, rollingUpdate: undefined },
        currentTotal: 0,
        newReplicas: 0,
      }),
    ).toBe(4);
  });
});

describe('surgeCountOf', () => {
  it.each([
    // spec, pods still there → counted
    [3, 4, 4], // scaled down, the pod not yet deleted
    [3, 3, 3],
    [4, 2, 4], // scaled up, pods not yet created
    [0, 0, 0],
  ])('spec %p with %p pods counts %p', (spec, status, counted) => {
    expect(surgeCountOf({ spec, status })).toBe(counted);
  });

  it('holds the new ReplicaSet back while an old pod is still being removed', () => {
    const strategy = rolling(4, 1, 1);
    const total = surgeCountOf({ spec: 3, status: 4 }) + surgeCountOf({ spec: 1, status: 1 });
    expect(newReplicaSetReplicas({ strategy, currentTotal: total, newReplicas: 1 })).toBe(1);
  });
});

describe('oldReplicaSetsScaleDown', () => {
  const old = (name: string, replicas: number, available: number, created: string) => ({
    name,
    replicas,
    available,
    created: `2026-11-23T10:00:${created}Z`,
  });

  it.each([
    {
      why: 'the worked example: 2 of 10 available old pods go',
      strategy: rolling(10, '25%', '25%'),
      fresh: { replicas: 3, available: 0 },
      olds: [old('a', 10, 10, '00')],
      expected: [{ name: 'a', from: 10, to: 8 }],
    },
    {
      why: 'nothing may go while the new pods are not available and the budget is spent',
      strategy: rolling(10, '25%', '25%'),
      fresh: { replicas: 5, available: 0 },
      olds: [old('a', 8, 8, '00')],
      expected: [],
    },
    {
      why: 'unavailable old pods go first, within the room the surge leaves',
      strategy: rolling(4, 1, 0),
      fresh: { replicas: 1, available: 1 },
      olds: [old('a', 4, 2, '00')],
      expected: [{ name: 'a', from: 4, to: 3 }],
    },
    {
      why: 'unavailable old pods go first, past what availability alone would allow',
      strategy: rolling(4, 2, 0),
      fresh: { replicas: 2, available: 2 },
      olds: [old('a', 4, 2, '00')],
      expected: [{ name: 'a', from: 4, to: 2 }],
    },
    {
      why: 'the oldest ReplicaSet is scaled down first',
      strategy: rolling(6, 0, 2),
      fresh: { replicas: 0, available: 0 },
      olds: [old('newer', 3, 3, '05'), old('older', 3, 3, '01')],
      expected: [{ name: 'older', from: 3, to: 1 }],
    },
    {
      why: 'a budget larger than the oldest spills into the next',
      strategy: rolling(4, 0, 3),
      fresh: { replicas: 0, available: 0 },
      olds: [old('b', 2, 2, '05'), old('a', 2, 2, '01')],
      expected: [
        { name: 'a', from: 2, to: 0 },
        { name: 'b', from: 2, to: 1 },
      ],
    },
    {
      why: 'maxUnavailable 0 keeps every old pod until a new one is available',
      strategy: rolling(3, 1, 0),
      fresh: { replicas: 1, available: 0 },
      olds: [old('a', 3, 3, '00')],
      expected: [],
    },
    {
      why: 'no old pods, nothing to do',
      strategy: rolling(3, 1, 0),
      fresh: { replicas: 3, available: 3 },
      olds: [old('a', 0, 0, '00')],
      expected: [],
    },
  ])('$why', ({ strategy, fresh, olds, expected }) => {
    expect(oldReplicaSetsScaleDown({ strategy, newReplicaSet: fresh, oldReplicaSets: olds })).toEqual(
      expected,
    );
  });

  it('keeps pods ≤ replicas + maxSurge and available ≥ replicas − maxUnavailable through a whole rollout', () => {
    for (const [replicas, surge, unavailable] of <Array<[number, number | string, number | string]>>[
      [9, '25%', '25%'],
      [3, 1, 0],
      [3, 0, 1],
      [10, '30%', '10%'],
      [1, 1, 0],
    ]) {
      const strategy = rolling(replicas, surge, unavailable);
      const maxPods = replicas + maxSurgeOf(strategy);
      const minAvailable = replicas - maxUnavailableOf(strategy);
      // Pods created in one step become available by the next (what a quick node gives).
      let oldSize = replicas;
      let newSize = 0;
      for (let step = 0; step < 100 && (newSize < replicas || oldSize > 0); step += 1) {
        const newAvailable = newSize;
        newSize = newReplicaSetReplicas({ strategy, currentTotal: oldSize + newSize, newReplicas: newSize });
        expect(oldSize + newSize).toBeLessThanOrEqual(maxPods);
        const targets = oldReplicaSetsScaleDown({
          strategy,
          newReplicaSet: { replicas: newSize, available: newAvailable },
          oldReplicaSets: [{ name: 'old', replicas: oldSize, available: oldSize, created: '' }],
        });
        oldSize = targets[0]?.to ?? oldSize;
        expect(oldSize + newAvailable).toBeGreaterThanOrEqual(minAvailable);
      }
      expect({ oldSize, newSize }).toEqual({ oldSize: 0, newSize: replicas });
    }
  });
});

describe('proportionalSizes', () => {
  const rs = (name: string, replicas: number, maxReplicas: number | undefined, created: string) => ({
    name,
    replicas,
    maxReplicas,
    created: `2026-11-23T10:00:${created}Z`,
  });

  it.each([
    {
      why: 'the worked example: 10 → 15 mid-rollout',
      strategy: rolling(15, '25%', '25%'),
      sets: [rs('old', 8, 13, '00'), rs('new', 5, 13, '10')],
      expected: { old: 12, new: 7 },
    },
    {
      why: 'scaling down takes from each in proportion',
      strategy: rolling(5, '25%', '25%'),
      sets: [rs('old', 8, 13, '00'), rs('new', 5, 13, '10')],
      expected: { old: 4, new: 3 },
    },
    {
      why: 'rounding leftovers go to the largest ReplicaSet',
      strategy: rolling(4, 0, 1),
      sets: [rs('a', 1, 3, '00'), rs('b', 1, 3, '05'), rs('c', 1, 3, '10')],
      expected: { a: 1, b: 1, c: 2 },
    },
    {
      why: 'scaling to zero empties every ReplicaSet',
      strategy: rolling(0, '25%', '25%'),
      sets: [rs('old', 3, 5, '00'), rs('new', 2, 5, '10')],
      expected: { old: 0, new: 0 },
    },
    {
      why: 'no annotation: the status total stands in for it',
      strategy: rolling(8, 0, 1),
      sets: [rs('old', 2, undefined, '00'), rs('new', 2, undefined, '10')],
      expected: { old: 4, new: 4 },
    },
  ])('$why', ({ strategy, sets, expected }) => {
    expect(Object.fromEntries(proportionalSizes({ strategy, statusReplicas: 4, replicaSets: sets }))).toEqual(
      expected,
    );
  });
});
