// A Deployment's status, as Kubernetes computes it from its ReplicaSets, and its conditions:
//  - Available: True (MinimumReplicasAvailable) while at least replicas − maxUnavailable pods are available;
//  - Progressing: True with NewReplicaSetCreated / FoundNewReplicaSet / ReplicaSetUpdated while the
//    rollout moves, True NewReplicaSetAvailable once complete, False ProgressDeadlineExceeded when no
//    progress was seen for progressDeadlineSeconds, Unknown DeploymentPaused/DeploymentResumed.
// Progress is judged against the previous status: more updated, ready or available pods, or fewer old
// ones. lastUpdateTime moves with every progress, lastTransitionTime only when the status flips.
// Example: progressDeadlineSeconds 60, ReplicaSetUpdated last updated 10:00:00, nothing moved since:
// at 10:01:01 the condition becomes False ProgressDeadlineExceeded.
import { kubeTimestamp, type DeploymentStatus, type ReplicaSet, type WorkloadCondition } from '@flotilla/api';
import { maxUnavailableOf, type StrategyShape } from './rolling.util';

export const REASONS = {
  newReplicaSetCreated: 'NewReplicaSetCreated',
  foundNewReplicaSet: 'FoundNewReplicaSet',
  replicaSetUpdated: 'ReplicaSetUpdated',
  newReplicaSetAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minimumAvailable: 'MinimumReplicasAvailable',
  minimumUnavailable: 'MinimumReplicasUnavailable',
} as const;

export interface DeploymentShape {
  readonly name: string;
  readonly generation: number;
  readonly strategy: StrategyShape;
  /** Undefined: no deadline (Kubernetes' MaxInt32 too). */
  readonly progressDeadlineSeconds: number | undefined;
  readonly status: DeploymentStatus;
}

export function condition(
  conditions: readonly WorkloadCondition[] | undefined,
  type: string,
): WorkloadCondition | undefined {
  return conditions?.find((candidate) => candidate.type === type);
}

export function newCondition(
  type: string,
  status: WorkloadCondition['status'],
  reason: string,
  message: string,
  now: Date,
): WorkloadCondition {
  const time = kubeTimestamp(now);
  return { type, status, lastUpdateTime: time, lastTransitionTime: time, reason, message };
}

/**
 * Kubernetes' SetDeploymentCondition: the same status and reason leave the condition as it is; the
 * same status keeps its transition time.
 */
export function setCondition(
  conditions: readonly WorkloadCondition[] | undefined,
  next: WorkloadCondition,
): WorkloadCondition[] {
  const current = condition(conditions, next.type);
  if (current && current.status === next.status && current.reason === next.reason)
    return [...(conditions ?? [])];
  const merged =
    current && current.status === next.status
      ? { ...next, lastTransitionTime: current.lastTransitionTime }
      : next;
  return [...(conditions ?? []).filter((candidate) => candidate.type !== next.type), merged];
}

export function removeCondition(
  conditions: readonly WorkloadCondition[] | undefined,
  type: string,
): WorkloadCondition[] {
  return (conditions ?? []).filter((candidate) => candidate.type !== type);
}

export interface CalculateStatusInput {
  readonly deployment: DeploymentShape;
  readonly replicaSets: readonly ReplicaSet[];
  readonly newReplicaSet: ReplicaSet | undefined;
  readonly now: Date;
}

/** Counts summed over the ReplicaSets, observedGeneration, and the Available condition. */
export function calculateStatus(input: CalculateStatusInput): DeploymentStatus {
  const { deployment, replicaSets } = input;
  const sum = (read: (rs: ReplicaSet) => number | undefined): number =>
    replicaSets.reduce((total, rs) => total + (read(rs) ?? 0), 0);
  const availableReplicas = sum((rs) => rs.status?.availableReplicas);
  const specTotal = sum((rs) => rs.spec.replicas);
  const status: DeploymentStatus = {
    observedGeneration: deployment.generation,
    replicas: sum((rs) => rs.status?.replicas),
    updatedReplicas: input.newReplicaSet?.status?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.status?.readyReplicas),
    availableReplicas,
    // Against spec sizes: pods the ReplicaSets want but do not have yet count as unavailable.
    unavailableReplicas: Math.max(0, specTotal - availableReplicas),
    ...(deployment.status.collisionCount !== undefined
      ? { collisionCount: deployment.status.collisionCount }
      : {}),
  };
  const minAvailable = deployment.strategy.replicas - maxUnavailableOf(deployment.strategy);
  const available =
    availableReplicas >= minAvailable
      ? newCondition(
          'Available',
          'True',
          REASONS.minimumAvailable,
          'Deployment has minimum availability.',
          input.now,
        )
      : newCondition(
          'Available',
          'False',
          REASONS.minimumUnavailable,
          'Deployment does not have minimum availability.',
          input.now,
        );
  status.conditions = setCondition(deployment.status.conditions, available);
  return status;
}

/** Every replica updated, present and available, for the current generation. */
export function deploymentComplete(deployment: DeploymentShape, status: DeploymentStatus): boolean {
  const replicas = deployment.strategy.replicas;
  return (
    (status.updatedReplicas ?? 0) === replicas &&
    (status.replicas ?? 0) === replicas &&
    (status.availableReplicas ?? 0) === replicas &&
    (status.observedGeneration ?? 0) >= deployment.generation
  );
}

/** Whether anything moved since the previous status. */
export function deploymentProgressing(previous: DeploymentStatus, next: DeploymentStatus): boolean {
  const oldBefore = (previous.replicas ?? 0) - (previous.updatedReplicas ?? 0);
  const oldNow = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
  return (
    (next.updatedReplicas ?? 0) > (previous.updatedReplicas ?? 0) ||
    oldNow < oldBefore ||
    (next.readyReplicas ?? 0) > (previous.readyReplicas ?? 0) ||
    (next.availableReplicas ?? 0) > (previous.availableReplicas ?? 0)
  );
}

/** Whether the Progressing condition has gone unrefreshed past the deadline. */
export function deploymentTimedOut(
  deployment: DeploymentShape,
  status: DeploymentStatus,
  now: Date,
): boolean {
  if (deployment.progressDeadlineSeconds === undefined) return false;
  const progressing = condition(status.conditions, 'Progressing');
  if (!progressing) return false;
  if (progressing.reason === REASONS.newReplicaSetAvailable) return false;
  if (progressing.reason === REASONS.timedOut) return true;
  const since = Date.parse(progressing.lastUpdateTime ?? '');
  return Number.isFinite(since) && since + deployment.progressDeadlineSeconds * 1000 < now.getTime();
}

export interface RolloutStatusInput {
  readonly deployment: DeploymentShape;
  /** calculateStatus's answer (its conditions start from the Deployment's). */
  readonly next: DeploymentStatus;
  readonly newReplicaSetName: string | undefined;
  readonly now: Date;
}

/** The status with its Progressing condition judged (Kubernetes' syncRolloutStatus). */
export function withProgress(input: RolloutStatusInput): DeploymentStatus {
  const { deployment, next, now } = input;
  if (deployment.progressDeadlineSeconds === undefined) {
    return { ...next, conditions: removeCondition(next.conditions, 'Progressing') };
  }
  const current = condition(next.conditions, 'Progressing');
  const complete =
    next.replicas === next.updatedReplicas && current?.reason === REASONS.newReplicaSetAvailable;
  if (complete) return next;
  const subject = input.newReplicaSetName
    ? `ReplicaSet "${input.newReplicaSetName}"`
    : `Deployment "${deployment.name}"`;
  if (deploymentComplete(deployment, next)) {
    const done = newCondition(
      'Progressing',
      'True',
      REASONS.newReplicaSetAvailable,
      `${subject} has successfully progressed.`,
      now,
    );
    return { ...next, conditions: setCondition(next.conditions, done) };
  }
  if (deploymentProgressing(deployment.status, next)) {
    const moving = newCondition(
      'Progressing',
      'True',
      REASONS.replicaSetUpdated,
      `${subject} is progressing.`,
      now,
    );
    // Progress refreshes lastUpdateTime even under the same reason (SetCondition alone would not).
    const kept =
      current?.status === 'True' ? { ...moving, lastTransitionTime: current.lastTransitionTime } : moving;
    return { ...next, conditions: [...removeCondition(next.conditions, 'Progressing'), kept] };
  }
  if (deploymentTimedOut(deployment, next, now)) {
    const timedOut = newCondition(
      'Progressing',
      'False',
      REASONS.timedOut,
      `${subject} has timed out progressing.`,
      now,
    );
    return { ...next, conditions: setCondition(next.conditions, timedOut) };
  }
  return next;
}

/**
 * When to look again at a rollout that has not moved, so the deadline is noticed without an event:
 * undefined when there is nothing to wait for.
 */
export function progressCheckDelayMs(
  deployment: DeploymentShape,
  status: DeploymentStatus,
  now: Date,
): number | undefined {
  if (deployment.progressDeadlineSeconds === undefined) return undefined;
  const progressing = condition(status.conditions, 'Progressing');
  if (!progressing || deploymentComplete(deployment, status)) return undefined;
  if (progressing.reason === REASONS.timedOut || progressing.reason === REASONS.newReplicaSetAvailable)
    return undefined;
  const since = Date.parse(progressing.lastUpdateTime ?? '');
  if (!Number.isFinite(since)) return undefined;
  // Timestamps have second precision: a second more is always past the deadline.
  return Math.max(0, since + deployment.progressDeadlineSeconds * 1000 - now.getTime()) + 1000;
}

/** The Progressing condition for a pause or a resume, or undefined when it already says so. */
export function pausedCondition(
  deployment: DeploymentShape,
  paused: boolean,
  now: Date,
): WorkloadCondition | undefined {
  if (deployment.progressDeadlineSeconds === undefined) return undefined;
  const current = condition(deployment.status.conditions, 'Progressing');
  // A rollout that already failed stays failed until its template changes.
  if (current?.reason === REASONS.timedOut) return undefined;
  const pausedNow = current?.reason === REASONS.paused;
  if (paused && !pausedNow)
    return newCondition('Progressing', 'Unknown', REASONS.paused, 'Deployment is paused', now);
  if (!paused && pausedNow)
    return newCondition('Progressing', 'Unknown', REASONS.resumed, 'Deployment is resumed', now);
  return undefined;
}
