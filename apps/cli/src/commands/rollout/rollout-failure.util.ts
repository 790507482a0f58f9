// Why `rollout status` can stop waiting before the progress deadline: a new pod whose container is in
// CrashLoopBackOff, cannot get its image (ErrImagePull, ImagePullBackOff, InvalidImageName), cannot be
// created (CreateContainerConfigError, CreateContainerError, RunContainerError), or has failed its
// readiness probe repeatedly (the kubelet's Unhealthy events, counted). None of these mends itself
// without a new template, so waiting out the deadline only delays the rollback.
// Example: pod web-7d9-x2k, container web waiting with ImagePullBackOff → fails at once, naming both.
import type { KubeObject, Pod } from '@flotilla/api';

export const FAILING_WAIT_REASONS: ReadonlySet<string> = new Set([
  'CrashLoopBackOff',
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export interface PodFailure {
  readonly pod: string;
  readonly container: string;
  readonly reason: string;
  readonly message: string;
}

export interface FailureInput {
  readonly pods: readonly Pod[];
  /** Events in the pods' namespace (Unhealthy ones are counted per pod). */
  readonly events: readonly KubeObject[];
  /** Failed readiness probes of one pod that count as failing (default 3). */
  readonly readinessFailures?: number;
}

export function firstPodFailure(input: FailureInput): PodFailure | undefined {
  const threshold = input.readinessFailures ?? 3;
  for (const pod of input.pods) {
    if (pod.metadata.deletionTimestamp !== undefined) continue;
    const name = pod.metadata.name ?? '';
    for (const status of [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ]) {
      const waiting = status.state?.waiting;
      if (waiting?.reason && FAILING_WAIT_REASONS.has(waiting.reason)) {
        return { pod: name, container: status.name, reason: waiting.reason, message: waiting.message ?? '' };
      }
    }
    const unready = input.events.filter((event) => {
      const involved = event['involvedObject'] as { kind?: string; name?: string; uid?: string } | undefined;
      return (
        event['reason'] === 'Unhealthy' &&
        involved?.kind === 'Pod' &&
        involved.name === name &&
        (involved.uid === undefined || involved.uid === pod.metadata.uid) &&
        String(event['message'] ?? '').startsWith('Readiness probe failed')
      );
    });
    const count = unready.reduce(
      (sum, event) => sum + (typeof event['count'] === 'number' ? event['count'] : 1),
      0,
    );
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    if (!ready && count >= threshold) {
      const latest = unready[unready.length - 1];
      const container =
        pod.status?.containerStatuses?.find((status) => !status.ready)?.name ??
        pod.spec.containers[0]?.name ??
        '';
      return {
        pod: name,
        container,
        reason: 'ReadinessProbeFailed',
        message: `${String(latest?.['message'] ?? 'Readiness probe failed')} (${count} times)`,
      };
    }
  }
  return undefined;
}

export function describeFailure(deployment: string, failure: PodFailure): string {
  const detail = failure.message ? `: ${failure.message}` : '';
  return `deployment "${deployment}" rollout failed: pod ${failure.pod} container ${failure.container} is ${failure.reason}${detail}`;
}
