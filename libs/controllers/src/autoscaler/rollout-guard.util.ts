// How the autoscaler reads load while its target Deployment is in a rolling update, so that it never
// fights the rollout. Kubernetes' HPA reads the pods as if they were the steady-state replica set,
// so during a rollout surge pods add to the count it multiplies by, cold new pods are filled in as
// 0 % (pulling the ratio down) and old pods being replaced as 100 %; the result can be a scale-up
// spike (surge pods counted as replicas) or a scale-down the rollout then has to undo.
//
// The rule here:
//  - only Ready pods with metrics count; unready and metric-less pods (new pods starting, old ones
//    going) are neither load nor capacity, so nothing is filled in for them;
//  - the load is expressed as a number of pods at target: usageRatio × readyPods (for equal
//    requests that is total usage / per-pod target, whatever the number of surge pods);
//  - that is compared with the current replica count (spec.replicas, not the pods that exist),
//    with the usual tolerance;
//  - a rollout never scales down: a lower recommendation waits until the rollout is over (the
//    stabilization window keeps it), since shrinking mid-rollout only makes the rollout longer.
//
// Worked example: 5 replicas, maxSurge 2, 7 Ready pods sharing a load of 4.5 pods' worth at target:
//   each pod is at 4.5/7 = 64 % of target. Kubernetes: ratio 0.64 → ceil(0.64 × 7) = 5, or with
//   fewer samples a scale-down to 4 mid-rollout. Here: load 0.64 × 7 = 4.5 pods, |4.5/5 − 1| = 0.1
//   → within tolerance → 5. With a load of 6.3 pods: ceil(6.3) = 7, a real need, not surge.

export interface RolloutState {
  readonly specReplicas: number;
  readonly generation?: number;
  readonly observedGeneration?: number;
  /** status.replicas: every pod of every ReplicaSet of the Deployment. */
  readonly statusReplicas?: number;
  readonly updatedReplicas?: number;
}

/** A rolling update is under way: the controller has not seen the latest spec, or old pods remain. */
export function isRolloutInProgress(state: RolloutState): boolean {
  if (
    state.generation !== undefined &&
    (state.observedGeneration === undefined || state.observedGeneration < state.generation)
  ) {
    return true;
  }
  const updated = state.updatedReplicas ?? 0;
  return updated < state.specReplicas || (state.statusReplicas ?? 0) > updated;
}

export interface RolloutRecommendationInput {
  readonly currentReplicas: number;
  /** usage / target over the Ready pods with metrics. */
  readonly usageRatio: number;
  readonly readyPods: number;
  readonly tolerance: number;
}

export function rolloutRecommendation(input: RolloutRecommendationInput): number {
  const { currentReplicas } = input;
  const loadPods = input.usageRatio * input.readyPods;
  if (currentReplicas > 0 && Math.abs(loadPods / currentReplicas - 1) <= input.tolerance)
    return currentReplicas;
  return Math.max(currentReplicas, Math.ceil(loadPods));
}
