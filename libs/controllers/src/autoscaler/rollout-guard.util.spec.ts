import { isRolloutInProgress, rolloutRecommendation, type RolloutState } from './rollout-guard.util';

describe('isRolloutInProgress', () => {
  it.each<[string, RolloutState, boolean]>([
    [
      'settled',
      { specReplicas: 5, generation: 2, observedGeneration: 2, statusReplicas: 5, updatedReplicas: 5 },
      false,
    ],
    [
      'new spec not yet observed',
      { specReplicas: 5, generation: 3, observedGeneration: 2, statusReplicas: 5, updatedReplicas: 5 },
      true,
    ],
    [
      'fewer updated pods than replicas',
      { specReplicas: 5, generation: 2, observedGeneration: 2, statusReplicas: 5, updatedReplicas: 3 },
      true,
    ],
    [
      'old pods still there (surge)',
      { specReplicas: 5, generation: 2, observedGeneration: 2, statusReplicas: 7, updatedReplicas: 5 },
      true,
    ],
    [
      'a plain scale-up is not a rollout once observed',
      { specReplicas: 8, generation: 3, observedGeneration: 3, statusReplicas: 8, updatedReplicas: 8 },
      false,
    ],
  ])('%s', (_name, state, expected) => {
    expect(isRolloutInProgress(state)).toBe(expected);
  });
});

describe('rolloutRecommendation', () => {
  it.each<[string, number, number, number, number]>([
    // name, current, usage ratio, ready pods, expected
    ['7 surge-inclusive pods at 64 %: load 4.5 of 5 → stay', 5, 0.64, 7, 5],
    ['7 pods at 90 %: load 6.3 → 7', 5, 0.9, 7, 7],
    ['3 ready pods at 150 %: load 4.5 → stay', 5, 1.5, 3, 5],
    ['3 ready pods at 250 %: load 7.5 → 8', 5, 2.5, 3, 8],
    ['low load never scales down', 5, 0.1, 5, 5],
  ])('%s', (_name, currentReplicas, usageRatio, readyPods, expected) => {
    expect(rolloutRecommendation({ currentReplicas, usageRatio, readyPods, tolerance: 0.1 })).toBe(expected);
  });
});
