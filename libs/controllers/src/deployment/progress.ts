// Rollout progress (Kubernetes' progress.go): status with the Progressing condition judged against
// the deadline, a timer for rollouts that stopped moving so the deadline is seen without an event,
// and the paused/resumed condition.
import type { KubeObject } from '@flotilla/api';
import type { ReplicaSetObject } from '../replicaset/kube-objects';
import { shapeOf, writeStatus, type DeploymentContext } from './deployment-context';
import {
  REASONS,
  calculateStatus,
  condition,
  pausedCondition,
  progressCheckDelayMs,
  setCondition,
  withProgress,
} from './deployment-status.util';

export async function syncRolloutStatus(
  context: DeploymentContext,
  newReplicaSet: ReplicaSetObject | undefined,
): Promise<void> {
  const shape = shapeOf(context.deployment);
  const now = context.now();
  const current = newReplicaSet
    ? context.replicaSets.find((rs) => rs.metadata.uid === newReplicaSet.metadata.uid)
    : undefined;
  const calculated = calculateStatus({
    deployment: shape,
    replicaSets: context.replicaSets,
    newReplicaSet: current,
    now,
  });
  const status = withProgress({
    deployment: shape,
    next: calculated,
    newReplicaSetName: current?.metadata.name,
    now,
  });
  const before = condition(shape.status.conditions, 'Progressing')?.reason;
  const after = condition(status.conditions, 'Progressing');
  await writeStatus(context, status);
  if (after?.reason === REASONS.timedOut && before !== REASONS.timedOut) {
    void context.events.record(
      context.deployment as KubeObject,
      'Warning',
      REASONS.timedOut,
      after.message ?? 'the rollout has timed out progressing',
    );
  }
  const delay = progressCheckDelayMs(shapeOf(context.deployment), status, now);
  if (delay !== undefined) context.requeueAfter(delay);
}

/** Sets Progressing to DeploymentPaused / DeploymentResumed when spec.paused changed. */
export async function checkPausedConditions(context: DeploymentContext): Promise<void> {
  const shape = shapeOf(context.deployment);
  const next = pausedCondition(shape, context.deployment.spec.paused === true, context.now());
  if (!next) return;
  await writeStatus(context, { ...shape.status, conditions: setCondition(shape.status.conditions, next) });
}
