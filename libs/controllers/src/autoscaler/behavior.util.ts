// autoscaling/v2 behavior, as Kubernetes' HPA applies it after the metrics have recommended a size
// (normalizeDesiredReplicasWithBehaviors):
//  1. stabilization: of the recommendations within each window, scale up only to the lowest of the
//     scale-up window and down only to the highest of the scale-down window, so a short spike or dip
//     does not move the count (defaults: up 0 s, down 300 s);
//  2. rate: each policy allows a change per periodSeconds counted from the replica count at the start
//     of that period (the scale events inside it are subtracted); selectPolicy Max takes the most
//     permissive policy, Min the least, Disabled forbids that direction (defaults: up max(+4 pods,
//     +100 %) per 15 s, down −100 % per 15 s);
//  3. minReplicas/maxReplicas, with the ScalingLimited reason saying which bound applied.
//
// Worked example (defaults, current 3, no scale events in the last 15 s, metrics recommend 20):
//   up limit = max(3 + 4, ceil(3 × 2)) = 7 → 7 (ScaleUpLimit). 10 s later, recommending 20 again,
//   with the +4 event inside both 15 s periods: period start = 7 − 4 = 3 → limit again 7 → stays 7;
//   after 15 s: period start 7 → limit max(11, 14) = 14.
// Recommendations and scale events live in the controller's memory, as in Kubernetes: a restarted
// controller starts its scale-down window from the current size (initialRecommendations).
import type { HpaScalingRules } from '@flotilla/api';

export interface TimedRecommendation {
  readonly replicas: number;
  readonly atMs: number;
}

export interface ScaleEvent {
  /** Always positive: replicas added (in scaleUp) or removed (in scaleDown). */
  readonly change: number;
  readonly atMs: number;
}

export interface BehaviorHistory {
  readonly recommendations: readonly TimedRecommendation[];
  readonly scaleUpEvents: readonly ScaleEvent[];
  readonly scaleDownEvents: readonly ScaleEvent[];
}

export interface ScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: 'Max' | 'Min' | 'Disabled';
  readonly policies: ReadonlyArray<{
    readonly type: 'Pods' | 'Percent';
    readonly value: number;
    readonly periodSeconds: number;
  }>;
}

export const DEFAULT_SCALE_UP: ScalingRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};

export const DEFAULT_SCALE_DOWN: ScalingRules = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/** Each unset field of a rule takes Kubernetes' default on its own (the apiserver does so too). */
export function scalingRulesOf(rules: HpaScalingRules | undefined, defaults: ScalingRules): ScalingRules {
  return {
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds,
    selectPolicy: rules?.selectPolicy ?? defaults.selectPolicy,
    policies: rules?.policies ?? defaults.policies,
  };
}

export interface NormalizeInput {
  readonly currentReplicas: number;
  /** What the metrics recommend, before any behavior. */
  readonly recommended: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly scaleUp: ScalingRules;
  readonly scaleDown: ScalingRules;
  readonly history: BehaviorHistory;
  readonly nowMs: number;
}

export interface Condition {
  readonly reason: string;
  readonly message: string;
}

export interface NormalizeResult {
  readonly desiredReplicas: number;
  /** After stabilization, before rate limits and bounds. */
  readonly stabilized: number;
  /** AbleToScale=True with this reason (ReadyForNewScale, ScaleUpStabilized, ScaleDownStabilized). */
  readonly ableToScale: Condition;
  /** ScalingLimited: True when `limited` (the rate or a bound changed the count). */
  readonly scalingLimited: Condition & { readonly limited: boolean };
  /** The history with this recommendation recorded (and samples older than both windows dropped). */
  readonly recommendations: readonly TimedRecommendation[];
}

/** After a (re)start: the current size counts as recommended now, so nothing scales down at once. */
export function initialRecommendations(currentReplicas: number, nowMs: number): TimedRecommendation[] {
  return [{ replicas: currentReplicas, atMs: nowMs }];
}

function changeWithin(events: readonly ScaleEvent[], periodSeconds: number, nowMs: number): number {
  const cutoff = nowMs - periodSeconds * 1000;
  return events.filter((event) => event.atMs > cutoff).reduce((sum, event) => sum + event.change, 0);
}

export interface RateLimitInput {
  readonly currentReplicas: number;
  readonly history: Pick<BehaviorHistory, 'scaleUpEvents' | 'scaleDownEvents'>;
  readonly rules: ScalingRules;
  readonly nowMs: number;
}

/** The most replicas the scale-up policies allow now (currentReplicas when Disabled). */
export function scaleUpLimit(input: RateLimitInput): number {
  const { currentReplicas, history, rules, nowMs } = input;
  if (rules.selectPolicy === 'Disabled' || rules.policies.length === 0) return currentReplicas;
  const proposals = rules.policies.map((policy) => {
    const periodStart =
      currentReplicas -
      changeWithin(history.scaleUpEvents, policy.periodSeconds, nowMs) +
      changeWithin(history.scaleDownEvents, policy.periodSeconds, nowMs);
    return policy.type === 'Pods'
      ? periodStart + policy.value
      : Math.ceil(periodStart * (1 + policy.value / 100));
  });
  return rules.selectPolicy === 'Min' ? Math.min(...proposals) : Math.max(...proposals);
}

/** The fewest replicas the scale-down policies allow now (currentReplicas when Disabled). */
export function scaleDownLimit(input: RateLimitInput): number {
  const { currentReplicas, history, rules, nowMs } = input;
  if (rules.selectPolicy === 'Disabled' || rules.policies.length === 0) return currentReplicas;
  const proposals = rules.policies.map((policy) => {
    const periodStart =
      currentReplicas -
      changeWithin(history.scaleUpEvents, policy.periodSeconds, nowMs) +
      changeWithin(history.scaleDownEvents, policy.periodSeconds, nowMs);
    return policy.type === 'Pods'
      ? periodStart - policy.value
      : Math.trunc(periodStart * (1 - policy.value / 100));
  });
  // Max picks the policy allowing the biggest change, i.e. the lowest count.
  return rules.selectPolicy === 'Min' ? Math.max(...proposals) : Math.min(...proposals);
}

function stabilize(input: NormalizeInput): { replicas: number; kept: TimedRecommendation[] } & Condition {
  const { nowMs, recommended } = input;
  const upCutoff = nowMs - input.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = nowMs - input.scaleDown.stabilizationWindowSeconds * 1000;
  let upRecommendation = recommended;
  let downRecommendation = recommended;
  const kept: TimedRecommendation[] = [];
  for (const sample of input.history.recommendations) {
    if (sample.atMs > upCutoff) upRecommendation = Math.min(upRecommendation, sample.replicas);
    if (sample.atMs > downCutoff) downRecommendation = Math.max(downRecommendation, sample.replicas);
    if (sample.atMs > upCutoff || sample.atMs > downCutoff) kept.push(sample);
  }
  kept.push({ replicas: recommended, atMs: nowMs });
  let replicas = input.currentReplicas;
  if (replicas < upRecommendation) replicas = upRecommendation;
  if (replicas > downRecommendation) replicas = downRecommendation;
  if (replicas === recommended) {
    return { replicas, kept, reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
  }
  return replicas < recommended
    ? {
        replicas,
        kept,
        reason: 'ScaleUpStabilized',
        message:
          'recent recommendations were lower than current one, applying the lowest recent recommendation',
      }
    : {
        replicas,
        kept,
        reason: 'ScaleDownStabilized',
        message:
          'recent recommendations were higher than current one, applying the highest recent recommendation',
      };
}

export function normalizeWithBehavior(input: NormalizeInput): NormalizeResult {
  const { currentReplicas, nowMs } = input;
  const stabilized = stabilize(input);
  const target = stabilized.replicas;
  const ableToScale = { reason: stabilized.reason, message: stabilized.message };
  const done = (desiredReplicas: number, condition: Condition): NormalizeResult => ({
    desiredReplicas,
    stabilized: target,
    ableToScale,
    scalingLimited: { ...condition, limited: desiredReplicas !== target },
    recommendations: stabilized.kept,
  });
  if (target > currentReplicas) {
    const limit = Math.max(
      currentReplicas,
      scaleUpLimit({ currentReplicas, history: input.history, rules: input.scaleUp, nowMs }),
    );
    const rateBound = limit < input.maxReplicas;
    const maximum = rateBound ? limit : input.maxReplicas;
    if (target > maximum) {
      return done(
        maximum,
        rateBound
          ? {
              reason: 'ScaleUpLimit',
              message: 'the desired replica count is increasing faster than the maximum scale rate',
            }
          : {
              reason: 'TooManyReplicas',
              message: 'the desired replica count is more than the maximum replica count',
            },
      );
    }
  } else if (target < currentReplicas) {
    const limit = Math.min(
      currentReplicas,
      scaleDownLimit({ currentReplicas, history: input.history, rules: input.scaleDown, nowMs }),
    );
    const rateBound = limit > input.minReplicas;
    const minimum = rateBound ? limit : input.minReplicas;
    if (target < minimum) {
      return done(
        minimum,
        rateBound
          ? {
              reason: 'ScaleDownLimit',
              message: 'the desired replica count is decreasing faster than the maximum scale rate',
            }
          : {
              reason: 'TooFewReplicas',
              message: 'the desired replica count is less than the minimum replica count',
            },
      );
    }
  }
  return done(target, {
    reason: 'DesiredWithinRange',
    message: 'the desired count is within the acceptable range',
  });
}

/** Records a scale from `from` to `to` at `nowMs`, dropping events older than every policy period. */
export function recordScaleEvent(
  history: Pick<BehaviorHistory, 'scaleUpEvents' | 'scaleDownEvents'>,
  options: { from: number; to: number; nowMs: number; scaleUp: ScalingRules; scaleDown: ScalingRules },
): Pick<BehaviorHistory, 'scaleUpEvents' | 'scaleDownEvents'> {
  const longest = (rules: ScalingRules): number =>
    Math.max(0, ...rules.policies.map((policy) => policy.periodSeconds)) * 1000;
  const fresh = (events: readonly ScaleEvent[], rules: ScalingRules): ScaleEvent[] =>
    events.filter((event) => event.atMs > options.nowMs - longest(rules));
  const scaleUpEvents = fresh(history.scaleUpEvents, options.scaleUp);
  const scaleDownEvents = fresh(history.scaleDownEvents, options.scaleDown);
  if (options.to > options.from)
    scaleUpEvents.push({ change: options.to - options.from, atMs: options.nowMs });
  if (options.to < options.from)
    scaleDownEvents.push({ change: options.from - options.to, atMs: options.nowMs });
  return { scaleUpEvents, scaleDownEvents };
}
