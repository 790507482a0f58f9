// Which pods a ReplicaSet deletes first when it has too many: the least valuable, in Kubernetes' order
// (ActivePodsWithRanks):
//  1. not scheduled before scheduled;
//  2. Pending before Unknown before Running;
//  3. not ready before ready;
//  4. lower controller.kubernetes.io/pod-deletion-cost before higher;
//  5. more pods of the same workload on its node before fewer (spreads what remains);
//  6. ready for less time before longer;
//  7. more container restarts before fewer;
//  8. newer before older.
// Example: a Pending unscheduled pod, a Running ready pod with 3 restarts and a Running ready pod with
// none, scaling down by 2, delete the Pending one, then the one with 3 restarts.
import type { Pod } from '@flotilla/api';
import { isPodReady, readyCondition } from './pod-state.util';

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

interface Ranked<P extends Pod = Pod> {
  readonly pod: P;
  /** Pods of the same workload on this pod's node. */
  readonly colocated: number;
}

function deletionCost(pod: Pod): number {
  const value = Number(pod.metadata.annotations?.[POD_DELETION_COST_ANNOTATION] ?? '0');
  return Number.isInteger(value) ? value : 0;
}

function restarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((status) => status.restartCount));
}

/** Milliseconds since the epoch, or +Infinity for a missing time (which counts as the newest). */
function timeOf(value: string | null | undefined): number {
  const parsed = Date.parse(value ?? '');
  return Number.isFinite(parsed) ? parsed : Number.POSITIVE_INFINITY;
}

/** Negative when `a` should be deleted before `b`. */
function compare(a: Ranked, b: Ranked): number {
  const aScheduled = (a.pod.spec.nodeName ?? '') !== '';
  const bScheduled = (b.pod.spec.nodeName ?? '') !== '';
  if (aScheduled !== bScheduled) return aScheduled ? 1 : -1;
  const aPhase = PHASE_ORDER[a.pod.status?.phase ?? 'Pending'] ?? 0;
  const bPhase = PHASE_ORDER[b.pod.status?.phase ?? 'Pending'] ?? 0;
  if (aPhase !== bPhase) return aPhase - bPhase;
  const aReady = isPodReady(a.pod);
  const bReady = isPodReady(b.pod);
  if (aReady !== bReady) return aReady ? 1 : -1;
  const cost = deletionCost(a.pod) - deletionCost(b.pod);
  if (cost !== 0) return cost;
  if (a.colocated !== b.colocated) return b.colocated - a.colocated;
  if (aReady && bReady) {
    const readySince =
      timeOf(readyCondition(b.pod)?.lastTransitionTime) - timeOf(readyCondition(a.pod)?.lastTransitionTime);
    if (readySince !== 0 && Number.isFinite(readySince)) return readySince;
  }
  const restartDifference = restarts(b.pod) - restarts(a.pod);
  if (restartDifference !== 0) return restartDifference;
  const age = timeOf(b.pod.metadata.creationTimestamp) - timeOf(a.pod.metadata.creationTimestamp);
  return Number.isFinite(age) ? age : 0;
}

export interface PodsToDeleteInput<P extends Pod> {
  readonly pods: readonly P[];
  readonly count: number;
  /** Pods of the same workload (sibling ReplicaSets of one Deployment included), for rule 5. */
  readonly related?: readonly Pod[];
}

/** The `count` least valuable of `pods`, least valuable first. */
export function podsToDelete<P extends Pod>(input: PodsToDeleteInput<P>): P[] {
  const perNode = new Map<string, number>();
  for (const pod of input.related ?? input.pods) {
    const node = pod.spec.nodeName ?? '';
    if (node !== '') perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  return input.pods
    .map((pod) => ({ pod, colocated: perNode.get(pod.spec.nodeName ?? '') ?? 0 }))
    .sort(compare)
    .slice(0, Math.max(0, input.count))
    .map((ranked) => ranked.pod);
}
