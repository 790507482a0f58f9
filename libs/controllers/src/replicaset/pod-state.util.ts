// What a ReplicaSet counts about its pods, as Kubernetes does: a pod is active until it has finished
// or is being deleted; ready when its Ready condition is True; available once it has been ready for
// minReadySeconds. Example: minReadySeconds 10, Ready since 10:00:00 → available strictly after 10:00:10.
import type { Pod, PodCondition, ReplicaSetStatus } from '@flotilla/api';

export function readyCondition(pod: Pod): PodCondition | undefined {
  return pod.status?.conditions?.find((condition) => condition.type === 'Ready');
}

export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata.deletionTimestamp === undefined;
}

export function isPodReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === 'True';
}

export function isPodAvailable(pod: Pod, minReadySeconds: number, now: Date): boolean {
  const ready = readyCondition(pod);
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = Date.parse(ready.lastTransitionTime ?? '');
  return Number.isFinite(since) && since + minReadySeconds * 1000 < now.getTime();
}

/** When a ready pod becomes available; undefined if it is not ready or already available. */
export function availableAt(pod: Pod, minReadySeconds: number, now: Date): Date | undefined {
  const ready = readyCondition(pod);
  if (ready?.status !== 'True' || minReadySeconds <= 0) return undefined;
  const since = Date.parse(ready.lastTransitionTime ?? '');
  if (!Number.isFinite(since)) return undefined;
  const at = since + minReadySeconds * 1000;
  return at < now.getTime() ? undefined : new Date(at + 1);
}

export interface ReplicaCountsInput {
  /** The active pods the ReplicaSet owns. */
  readonly pods: readonly Pod[];
  readonly templateLabels: Readonly<Record<string, string>>;
  readonly minReadySeconds: number;
  readonly now: Date;
}

/** status.replicas, fullyLabeledReplicas, readyReplicas and availableReplicas of a ReplicaSet. */
export function replicaCounts(
  input: ReplicaCountsInput,
): Pick<ReplicaSetStatus, 'replicas' | 'fullyLabeledReplicas' | 'readyReplicas' | 'availableReplicas'> {
  const labels = Object.entries(input.templateLabels);
  let fullyLabeledReplicas = 0;
  let readyReplicas = 0;
  let availableReplicas = 0;
  for (const pod of input.pods) {
    if (labels.every(([key, value]) => pod.metadata.labels?.[key] === value)) fullyLabeledReplicas += 1;
    if (isPodReady(pod)) readyReplicas += 1;
    if (isPodAvailable(pod, input.minReadySeconds, input.now)) availableReplicas += 1;
  }
  return { replicas: input.pods.length, fullyLabeledReplicas, readyReplicas, availableReplicas };
}
