// Kubernetes' replica calculation for a resource metric (GetResourceReplicas for Utilization,
// GetRawResourceReplicas for AverageValue), on plain numbers so it can be tested without a cluster.
//
// Pods fall in four groups first: ignored (being deleted or Failed: they count for nothing), unready
// (Pending, or for cpu: not Ready or still warming up, see isUnreadyForCpu), missing (no metrics yet)
// and ready (with metrics). The ratio of usage to target is computed over the ready pods; unready and
// missing pods only ever hold the HPA back:
//  - missing pods count as 100 % of the target when scaling down, 0 % when scaling up;
//  - unready pods count as 0 %, and only when scaling up;
//  - if filling them in flips the direction, or the change is within the tolerance, nothing changes.
//
// Worked example (Utilization, target 50 %, 4 replicas, requests 500m each):
//   ready pods use 400m, 400m, 300m → utilization (1100 × 100 / 1500) = 73 %, ratio 73/50 = 1.46;
//   the fourth pod has no metrics yet. Scaling up, so it counts as 0m: ratio over all four
//   = int(1100 × 100 / 2000) = 55 % / 50 = 1.1 → |1 − 1.1| ≤ 0.1 → stay at 4.
//   Without the fourth pod: ceil(1.46 × 3) = 5.
//
// During a rolling update (`rollout`) the pod set is not the replica count: surge pods add capacity,
// new pods start cold. rollout-guard.util.ts says how the numbers are read then.
import { rolloutRecommendation } from './rollout-guard.util';

export const DEFAULT_TOLERANCE = 0.1;
/** kube-controller-manager's --horizontal-pod-autoscaler-cpu-initialization-period. */
export const DEFAULT_CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** kube-controller-manager's --horizontal-pod-autoscaler-initial-readiness-delay. */
export const DEFAULT_INITIAL_READINESS_DELAY_MS = 30_000;

export interface PodUsage {
  /** Usage in milli-units (millicores, milli-bytes), summed over the pod's containers. */
  readonly milli: number;
  /** When the sample was taken, and over how long a window (ms). */
  readonly timestampMs: number;
  readonly windowMs: number;
}

export interface PodSample {
  readonly name: string;
  readonly phase?: string;
  readonly deleting: boolean;
  /** The pod's Ready condition, if it has one. */
  readonly ready?: { readonly status: string; readonly lastTransitionMs: number };
  readonly startTimeMs?: number;
  /** Sum of the containers' requests for the resource (milli); undefined when a container has none. */
  readonly requestMilli?: number;
  readonly usage?: PodUsage;
}

export type ResourceTarget =
  | { readonly type: 'Utilization'; readonly averageUtilization: number }
  | { readonly type: 'AverageValue'; readonly averageValueMilli: number };

export interface ResourceReplicasInput {
  readonly resource: string;
  readonly currentReplicas: number;
  readonly pods: readonly PodSample[];
  readonly target: ResourceTarget;
  readonly nowMs: number;
  readonly tolerance?: number;
  readonly cpuInitializationPeriodMs?: number;
  readonly initialReadinessDelayMs?: number;
  /** The target is in a rolling update (see rollout-guard.util.ts). */
  readonly rollout?: boolean;
}

export type ResourceReplicas =
  | {
      readonly ok: true;
      readonly replicas: number;
      /** Average utilization in percent of requests (Utilization targets only), truncated as Kubernetes does. */
      readonly utilization?: number;
      /** Average usage per pod with metrics, milli-units. */
      readonly averageMilli: number;
      /** Pods whose metrics went into the ratio before any filling in. */
      readonly readyPods: number;
    }
  | { readonly ok: false; readonly message: string };

interface Groups {
  readonly ready: PodSample[];
  readonly unready: PodSample[];
  readonly missing: PodSample[];
  /** Every pod not ignored (their requests form the denominator when filling in). */
  readonly counted: PodSample[];
}

/**
 * A cpu sample says nothing about load while a pod warms up: within the initialization period a pod
 * is unready if it is not Ready or its sample began before it became Ready; after it, only if it
 * never became Ready within the initial readiness delay of its start.
 */
export function isUnreadyForCpu(
  pod: PodSample,
  usage: PodUsage,
  options: { nowMs: number; cpuInitializationPeriodMs: number; initialReadinessDelayMs: number },
): boolean {
  if (!pod.ready || pod.startTimeMs === undefined) return true;
  if (pod.startTimeMs + options.cpuInitializationPeriodMs > options.nowMs) {
    return pod.ready.status === 'False' || usage.timestampMs < pod.ready.lastTransitionMs + usage.windowMs;
  }
  return (
    pod.ready.status === 'False' &&
    pod.startTimeMs + options.initialReadinessDelayMs > pod.ready.lastTransitionMs
  );
}

function groupPods(input: ResourceReplicasInput): Groups {
  const groups: Groups = { ready: [], unready: [], missing: [], counted: [] };
  for (const pod of input.pods) {
    if (pod.deleting || pod.phase === 'Failed' || pod.phase === 'Succeeded') continue;
    groups.counted.push(pod);
    if (pod.phase === 'Pending' || pod.phase === undefined) {
      groups.unready.push(pod);
      continue;
    }
    if (!pod.usage) {
      groups.missing.push(pod);
      continue;
    }
    if (
      input.resource === 'cpu' &&
      isUnreadyForCpu(pod, pod.usage, {
        nowMs: input.nowMs,
        cpuInitializationPeriodMs: input.cpuInitializationPeriodMs ?? DEFAULT_CPU_INITIALIZATION_PERIOD_MS,
        initialReadinessDelayMs: input.initialReadinessDelayMs ?? DEFAULT_INITIAL_READINESS_DELAY_MS,
      })
    ) {
      groups.unready.push(pod);
      continue;
    }
    groups.ready.push(pod);
  }
  return groups;
}

interface Ratio {
  readonly ratio: number;
  readonly utilization?: number;
  readonly averageMilli: number;
}

/** usage/target over samples (pod, milli); Utilization truncates to a whole percent first, as Kubernetes. */
function usageRatio(
  samples: ReadonlyArray<readonly [PodSample, number]>,
  target: ResourceTarget,
  resource: string,
): Ratio | string {
  let usage = 0;
  let requests = 0;
  for (const [pod, milli] of samples) {
    usage += milli;
    if (target.type === 'Utilization') {
      if (pod.requestMilli === undefined || pod.requestMilli <= 0) {
        return `missing request for ${resource} in pod ${pod.name}: set resources.requests.${resource} on every container of the target's pod template`;
      }
      requests += pod.requestMilli;
    }
  }
  const averageMilli = Math.trunc(usage / samples.length);
  if (target.type === 'Utilization') {
    const utilization = Math.trunc((usage * 100) / requests);
    return { ratio: utilization / target.averageUtilization, utilization, averageMilli };
  }
  return { ratio: averageMilli / target.averageValueMilli, averageMilli };
}

export function resourceReplicas(input: ResourceReplicasInput): ResourceReplicas {
  const tolerance = input.tolerance ?? DEFAULT_TOLERANCE;
  const { currentReplicas, target, resource } = input;
  if (input.pods.length === 0) {
    return { ok: false, message: 'no pods returned by selector while calculating replica count' };
  }
  const groups = groupPods(input);
  if (groups.ready.length === 0) {
    return { ok: false, message: 'did not receive metrics for targeted pods (pods might be unready)' };
  }
  const samples = groups.ready.map((pod): [PodSample, number] => [pod, pod.usage?.milli ?? 0]);
  const first = usageRatio(samples, target, resource);
  if (typeof first === 'string') return { ok: false, message: first };
  const result = (replicas: number): ResourceReplicas => ({
    ok: true,
    replicas,
    ...(first.utilization !== undefined ? { utilization: first.utilization } : {}),
    averageMilli: first.averageMilli,
    readyPods: groups.ready.length,
  });

  if (input.rollout) {
    return result(
      rolloutRecommendation({
        currentReplicas,
        usageRatio: first.ratio,
        readyPods: groups.ready.length,
        tolerance,
      }),
    );
  }

  const rebalanceUnready = groups.unready.length > 0 && first.ratio > 1;
  if (!rebalanceUnready && groups.missing.length === 0) {
    if (Math.abs(1 - first.ratio) <= tolerance) return result(currentReplicas);
    return result(Math.ceil(first.ratio * groups.ready.length));
  }

  const filled = [...samples];
  if (groups.missing.length > 0) {
    // Scaling down, a pod without metrics might be busy: assume it is exactly at target
    // (100 % of its request). Scaling up, assume it is idle.
    const atTarget = (pod: PodSample): number =>
      target.type === 'Utilization' ? (pod.requestMilli ?? 0) : target.averageValueMilli;
    if (first.ratio < 1) for (const pod of groups.missing) filled.push([pod, atTarget(pod)]);
    else if (first.ratio > 1) for (const pod of groups.missing) filled.push([pod, 0]);
  }
  if (rebalanceUnready) for (const pod of groups.unready) filled.push([pod, 0]);

  const second = usageRatio(filled, target, resource);
  if (typeof second === 'string') return { ok: false, message: second };
  const flipped = (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1);
  if (Math.abs(1 - second.ratio) <= tolerance || flipped) return result(currentReplicas);
  const replicas = Math.ceil(second.ratio * filled.length);
  // More pods in the sum must not turn a scale-down into an increase, or the reverse.
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas)) {
    return result(currentReplicas);
  }
  return result(replicas);
}

export interface MetricRecommendation {
  /** How Kubernetes names the metric in events and conditions, e.g. "cpu resource utilization (percentage of request)". */
  readonly metricName: string;
  readonly replicas?: number;
  /** Why no recommendation came from this metric. */
  readonly error?: { readonly reason: string; readonly message: string };
}

export type CombinedRecommendation =
  | { readonly ok: true; readonly replicas: number; readonly metricName: string }
  | { readonly ok: false; readonly reason: string; readonly message: string };

/**
 * Several metrics: the largest recommendation wins. If every metric failed, or some failed and the
 * rest would scale down, nothing is decided (a metric we cannot read might be the one under load).
 * Example: cpu says 5, memory failed, current 4 → 5; cpu says 3, memory failed, current 4 → no decision.
 */
export function combineRecommendations(
  recommendations: readonly MetricRecommendation[],
  currentReplicas: number,
): CombinedRecommendation {
  let best: { replicas: number; metricName: string } | undefined;
  let firstError: { reason: string; message: string } | undefined;
  let invalid = 0;
  for (const recommendation of recommendations) {
    if (recommendation.error || recommendation.replicas === undefined) {
      invalid += 1;
      firstError ??= recommendation.error ?? {
        reason: 'FailedGetResourceMetric',
        message: 'no recommendation',
      };
      continue;
    }
    if (!best || recommendation.replicas > best.replicas) {
      best = { replicas: recommendation.replicas, metricName: recommendation.metricName };
    }
  }
  if (!best || (invalid > 0 && best.replicas < currentReplicas)) {
    return {
      ok: false,
      reason: firstError?.reason ?? 'FailedGetResourceMetric',
      message: firstError?.message ?? 'the HPA has no metrics to scale on',
    };
  }
  return { ok: true, ...best };
}
